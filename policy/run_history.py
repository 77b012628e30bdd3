"""What the deployed workflow package keeps out of run history, and the audit record of every tool.

The policy reads the package the stack uploads (the workflow project zip) and checks every tool of
every conversational agent in it: its connector actions secure inputs and outputs, so no user's
mail, events, files or profile land in run history or Log Analytics (learn.microsoft.com/azure/
logic-apps/logic-apps-securing-a-logic-app, "Secure data in run history"); each tool first runs an
`Audit_<tool>` record whose tracked properties say which tool ran under which identity for whom, and
carry no payload; the chat trigger and the Agent action are secured unless the stack declares
`secureAgentRunHistory: false` (docs/audit-and-troubleshooting.md).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import zipfile
from typing import Any

from pulumi_policy import (
    ResourceValidationArgs,
)

from agent_obo.workflow_tools import AUDIT_PREFIX, SECURED, TRACKED_PROPERTIES
from policy.checks import Check
from policy.declared import stack_declaration
from policy.define import resource_policy
from policy.props import UNKNOWN, lookup, not_yet_checked, plain

PACKAGE_TYPE = "pulumi-python:dynamic:Resource"
SECURE_AGENT_KEY = "secureAgentRunHistory"
# Actions that call out with a user's data or an app's identity; built-ins like Compose only shape data.
CALLING_TYPES = frozenset({"ApiConnection", "ApiConnectionWebhook", "Http", "HttpWebhook", "Workflow", "Function"})


def _secured(part: dict[str, Any]) -> bool:
    properties = ((part.get("runtimeConfiguration") or {}).get("secureData") or {}).get("properties") or []
    return set(SECURED) <= set(properties)


def _workflows(content: bytes) -> dict[str, dict[str, Any]]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: json.loads(archive.read(name)) for name in archive.namelist() if name.endswith("/workflow.json")}


def _check_tool(workflow: str, tool_name: str, tool: dict[str, Any], check: Check) -> None:
    actions = tool.get("actions") or {}
    where = f"{workflow} tool {tool_name!r}"
    for name, action in actions.items():
        if action.get("type") in CALLING_TYPES and not _secured(action):
            check.fail(
                f"{where}: action {name!r} ({action.get('type')}) does not secure its inputs and outputs; the "
                "user's data it carries lands in run history and Log Analytics.",
                "generate tools with agent_obo/workflow_tools.py (runtimeConfiguration.secureData "
                "inputs and outputs).")
        if action.get("type") in CALLING_TYPES and action.get("trackedProperties"):
            check.fail(
                f"{where}: action {name!r} carries tracked properties; a secured action cannot, and they would "
                "copy what it reads into Log Analytics.",
                "record the call in the tool's Audit_ action instead.")
    audit = actions.get(AUDIT_PREFIX + tool_name)
    tracked = (audit or {}).get("trackedProperties") or {}
    if not audit or audit.get("type") != "Compose" or set(tracked) != set(TRACKED_PROPERTIES):
        check.fail(
            f"{where}: no {AUDIT_PREFIX}{tool_name} record with the tracked properties "
            f"{', '.join(TRACKED_PROPERTIES)}; nobody could tell who ran it under which identity.",
            "generate tools with agent_obo/workflow_tools.py.")
    elif "agentParameters" in json.dumps(audit):
        check.fail(
            f"{where}: its audit record reads the model's arguments; the audit trail carries no payload.",
            "record only tool, identity mode, connection and the requesting user's object id.")


def validate_tool_run_history(args: ResourceValidationArgs, check: Check) -> None:
    """Every agent tool secures what it reads and writes in run history and records who ran it under which identity,
    without a payload (module 05, 'sensitive data' and 'auditing and logging')."""
    encoded = lookup(plain(args.props), "content_base64")
    if encoded is UNKNOWN:
        not_yet_checked(args.name, ["content_base64 (the workflow package)"])
    if not isinstance(encoded, str):
        return  # not the workflow package
    try:
        workflows = _workflows(base64.b64decode(encoded, validate=True))
    except (binascii.Error, zipfile.BadZipFile, json.JSONDecodeError, KeyError) as error:
        check.fail(f"The workflow package cannot be read: {error}.",
                                   "build it with agent_obo/package.py.")
        return
    secure_conversation = stack_declaration(SECURE_AGENT_KEY) is not False  # the strictest when undeclared
    for path, workflow in sorted(workflows.items()):
        if workflow.get("kind") != "Agent":
            continue
        definition = workflow.get("definition") or {}
        agents = [(n, a) for n, a in (definition.get("actions") or {}).items() if a.get("type") == "Agent"]
        for name, agent in agents:
            for tool_name, tool in sorted((agent.get("tools") or {}).items()):
                _check_tool(path, tool_name, tool, check)
            if secure_conversation and not _secured(agent):
                check.fail(
                    f"{path}: the Agent action {name!r} does not secure its inputs and outputs; the whole "
                    "conversation, tool results included, is readable in run history.",
                    "keep agent-obo:secureAgentRunHistory on, or declare it off for the stack.")
        for name, trigger in (definition.get("triggers") or {}).items():
            if trigger.get("kind") == "Agent" and secure_conversation and not _secured(trigger):
                check.fail(
                    f"{path}: the chat trigger {name!r} does not secure its inputs and outputs.",
                    "keep agent-obo:secureAgentRunHistory on, or declare it off for the stack.")


TOOL_RUN_HISTORY = resource_policy(
    "tool-run-history", validate_tool_run_history, judges=(PACKAGE_TYPE,),
    url="https://learn.microsoft.com/azure/logic-apps/logic-apps-securing-a-logic-app",
    remediation="Generate the workflow's tools with agent_obo/workflow_tools.py.",
)
