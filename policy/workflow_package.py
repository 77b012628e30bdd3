"""The workflow package: the agent reaches its connections only through the catalog's tools.

The package blob's inputs carry the zip the site runs (WEBSITE_RUN_FROM_PACKAGE). Its tools and its
connections.json are derived from the catalog by agent_obo; the hand-written rest (the trigger, the
instructions) may not reach a connection, call out over HTTP or run code. So an edit of a workflow.json or
connections.json cannot give a tool another identity, add a tool that no catalog entry declares, or send the
conversation anywhere. Sources: learn.microsoft.com/azure/logic-apps/create-conversational-agent-workflows
(the Agent trigger and action, tools), learn.microsoft.com/azure/logic-apps/logic-apps-securing-a-logic-app
(secure inputs and outputs in run history), learn.microsoft.com/azure/app-service/deploy-run-package.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

from pulumi_policy import ResourceValidationArgs

from agent_obo.app_settings import (
    EXTENSION_BUNDLE_ID,
    EXTENSION_BUNDLE_VERSION,
    MODEL_ENDPOINT_SETTING,
    MODEL_RESOURCE_ID_SETTING,
)
from agent_obo.health_workflow import HEALTH_WORKFLOW, HOST_SETTING, health_workflow
from agent_obo.tool_inputs import parameters_json
from agent_obo.workflow_references import has_expression, strings
from agent_obo.workflow_tools import SECURED, workflow_tools
from policy.checks import Check
from policy.declared import Declared
from policy.define import resource_policy
from policy.inventory import DYNAMIC_RESOURCE
from policy.props import lookup, plain

URL = "https://learn.microsoft.com/azure/logic-apps/create-conversational-agent-workflows"
PROJECT_FILES = frozenset({"host.json", "connections.json", "parameters.json"})
CONNECTION_SECTIONS = frozenset({"agentConnections", "managedApiConnections"})
# host.json as the project writes it: the host's version, the workflows extension bundle the app settings name, and
# these workflow settings. The host reads any other key too (logging levels and sampling, timeouts, run-history
# retention, another bundle), case-insensitively, so each new one is a reviewed change of the pack.
HOST_WORKFLOW_SETTINGS = ("Runtime.ApplicationInsightTelemetryVersion", HOST_SETTING)
# The model connection as connections.json declares it: the endpoint and account from the app settings (which
# site-settings-bound ties to the stack's model), the site's managed identity.
MODEL_CONNECTION = {"type": "model", "endpoint": f"@appsetting('{MODEL_ENDPOINT_SETTING}')",
                    "resourceId": f"@appsetting('{MODEL_RESOURCE_ID_SETTING}')",
                    "authentication": {"type": "ManagedServiceIdentity"}}


def validate_workflow_package(args: ResourceValidationArgs, check: Check) -> None:
    """The workflow package the site runs holds exactly the tools and managed connections the catalog derives, each tool
    on the connection of its declared identity, model connections on the site's managed identity, one chat trigger
    and one Agent action and nothing else that could reach a service, the conversation secured in run history as
    declared, and the health workflow exactly as derived."""
    props = plain(args.props)
    content = lookup(props, "content_base64")
    if check.known(content, "the workflow package"):
        stack = check.declared()
        if stack is not None:
            files = _unzip(check, content)
            if files is not None:
                _check_package(check, files, stack)


def _unzip(check: Check, content: Any) -> dict[str, Any] | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(str(content), validate=True)))
        return {name: json.loads(archive.read(name)) for name in archive.namelist()}
    except (binascii.Error, ValueError, zipfile.BadZipFile, UnicodeDecodeError) as error:
        check.fail(f"The workflow package cannot be read as a zip of JSON files ({error}).",
                   "build the package with agent_obo.package.")
        return None


def _check_package(check: Check, files: dict[str, Any], stack: Declared) -> None:
    workflows = {name: doc for name, doc in files.items() if name.count("/") == 1 and name.endswith("/workflow.json")}
    extra = sorted(set(files) - PROJECT_FILES - set(workflows))
    if extra:
        check.fail(f"The workflow package carries files the project does not declare: {extra}.",
                   "ship only host.json, connections.json, parameters.json and workflow.json files.")
    _check_connections(check, files.get("connections.json"), stack)
    _check_parameters(check, files.get("parameters.json"), stack)
    _check_host(check, files.get("host.json"))
    health = workflows.pop(f"{HEALTH_WORKFLOW}/workflow.json", None)
    _check_health(check, health, files.get("host.json"))
    tools = workflow_tools(stack.catalog)
    secure = stack.settings.audit.secure_agent_run_history
    for name, workflow in sorted(workflows.items()):
        _check_workflow(check, name, workflow, tools, secure)


def _check_health(check: Check, workflow: Any, host: Any) -> None:
    """The health workflow the site's health check pings is exactly agent_obo's (a Request answered with 200), and
    host.json lets the platform's ping into it and into nothing else."""
    if workflow != health_workflow():
        state = "missing" if workflow is None else "not the one the program derives"
        check.fail(f"The package's {HEALTH_WORKFLOW} workflow is {state}: the site's health check pings it, and it may "
                   "answer and reach nothing else.", "let agent_obo render it (agent_obo/health_workflow.py).")
    settings = lookup(host, "extensions.workflow")
    named = [value for key, section in (settings.items() if isinstance(settings, dict) else ())
             if key.lower() == "settings" and isinstance(section, dict)
             for name, value in section.items() if name.lower() == HOST_SETTING.lower()]
    if named != [HEALTH_WORKFLOW]:
        check.fail(f"host.json's {HOST_SETTING} is {named or 'not set'}, not [{HEALTH_WORKFLOW!r}]: the platform's "
                   "health check ping is let into another workflow, or into none.",
                   "let agent_obo render host.json's setting (agent_obo/workflow_files.py).")


def _folded(mapping: Any) -> dict[str, Any] | None:
    """A mapping read as the host reads host.json, without regard to case; None when it is not one, or names a
    key twice in different cases (which of the two the host takes is not documented)."""
    if not isinstance(mapping, dict):
        return None
    folded = {str(key).lower(): value for key, value in mapping.items()}
    return folded if len(folded) == len(mapping) else None


def _check_host(check: Check, host: Any) -> None:
    """host.json sets the host's version, the declared extension bundle and the declared workflow settings only."""
    problems = []
    top = _folded(host)
    if top is None:
        problems.append("it is not one mapping of distinct keys")
        top = {}
    problems += [f"it sets {key!r}" for key in sorted(set(top) - {"version", "extensionbundle", "extensions"})]
    if top.get("version") != "2.0":
        problems.append(f"version is {top.get('version')!r}, not '2.0'")
    if _folded(top.get("extensionbundle")) != {"id": EXTENSION_BUNDLE_ID, "version": EXTENSION_BUNDLE_VERSION}:
        problems.append(f"extensionBundle is {top.get('extensionbundle')!r}, not {EXTENSION_BUNDLE_ID} "
                        f"{EXTENSION_BUNDLE_VERSION}")
    extensions = _folded(top.get("extensions", {})) or {"": "not a mapping of distinct keys"}
    problems += [f"it sets extensions.{key}" for key in sorted(set(extensions) - {"workflow"})]
    workflow = _folded(extensions.get("workflow", {})) or {"": "not a mapping of distinct keys"}
    problems += [f"it sets extensions.workflow.{key}" for key in sorted(set(workflow) - {"settings"})]
    settings = _folded(workflow.get("settings", {})) or {"": "not a mapping of distinct keys"}
    allowed = {name.lower() for name in HOST_WORKFLOW_SETTINGS}
    problems += [f"it sets extensions.workflow.Settings.{key}" for key in sorted(set(settings) - allowed)]
    if problems:
        check.fail(f"host.json is not the project's: {'; '.join(problems)}. The host reads every key of it (logging, "
                   "timeouts, run-history retention, the bundle the runtime loads).",
                   "keep host.json to its version, the declared extension bundle and "
                   f"{', '.join(HOST_WORKFLOW_SETTINGS)}; a new setting is a reviewed change of "
                   "policy/workflow_package.py.")


def _check_parameters(check: Check, parameters: Any, stack: Declared) -> None:
    """The tools' parameters read exactly the app settings the catalog derives; any other parameter is a literal."""
    if not isinstance(parameters, dict):
        check.fail("The workflow package has no parameters.json mapping.", "ship the rendered parameters.json.")
        return
    derived = parameters_json(stack.catalog)
    differing = sorted(name for name in derived if parameters.get(name) != derived[name])
    computed = sorted(name for name, parameter in parameters.items() if name not in derived
                      and any(has_expression(text) for text in strings(parameter)))
    if differing or computed:
        check.fail("parameters.json differs from what the catalog derives ("
                   + "; ".join(([f"the tools' parameters {differing} read other values"] if differing else [])
                               + ([f"{computed} read expressions"] if computed else [])) + "): a tool would post to, "
                   "or read from, what nobody declared.",
                   "let agent_obo render the tools' parameters from catalog/tools.yaml; hand-written parameters hold "
                   "literals only.")


def _check_connections(check: Check, connections: Any, stack: Declared) -> None:
    if not isinstance(connections, dict):
        check.fail("The workflow package has no connections.json.", "ship the rendered connections.json.")
        return
    extra = sorted(set(connections) - CONNECTION_SECTIONS)
    if extra:
        check.fail(f"connections.json declares {extra}: connections the catalog does not derive (and may hold "
                   "connection strings).", "keep only agentConnections and managedApiConnections.")
    expected = {spec.reference: spec.connections_json_entry() for spec in stack.connections}
    managed = connections.get("managedApiConnections")
    if managed != expected:
        differing = sorted(set(expected) ^ set(managed or {}) |
                           {k for k in expected if isinstance(managed, dict) and managed.get(k) != expected[k]})
        check.fail(f"connections.json managedApiConnections differ from what the catalog derives ({differing}): a tool "
                   "would reach a connection, or act as an identity, nobody declared.",
                   "let agent_obo render connections.json from catalog/tools.yaml; never edit it by hand.")
    for name, model in (connections.get("agentConnections") or {}).items():
        if lookup(model, "authentication.type") != "ManagedServiceIdentity":
            check.fail(f"Model connection {name!r} authenticates with {lookup(model, 'authentication')!r}, not the "
                       "site's managed identity: a key would have to be kept.",
                       "authenticate model connections with ManagedServiceIdentity.")
        elif {key: value for key, value in model.items() if key != "displayName"} != MODEL_CONNECTION:
            check.fail(f"Model connection {name!r} is {model!r}, not the stack's model ({MODEL_CONNECTION!r}): every "
                       "conversation, tool results included, would go to another endpoint with the site's token.",
                       "reach the model through the app settings the program sets (workflows/connections.json).")


def _actions(actions: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every action of a definition with its path, through scopes, conditions, loops and switches, but not
    into an Agent's tools (those are compared whole)."""
    if not isinstance(actions, dict):
        return
    for name, action in actions.items():
        if not isinstance(action, dict):
            continue
        here = f"{path}/{name}"
        yield here, action
        yield from _actions(action.get("actions"), here)
        yield from _actions(lookup(action, "else.actions"), f"{here}/else")
        for case_name, case in (action.get("cases") or {}).items():
            yield from _actions(lookup(case, "actions"), f"{here}/{case_name}")
        yield from _actions(lookup(action, "default.actions"), f"{here}/default")


def _check_workflow(check: Check, name: str, workflow: Any, tools: dict[str, Any], secure: bool) -> None:
    if lookup(workflow, "kind") != "Agent":
        check.fail(f"{name} is not a conversational agent workflow (kind {lookup(workflow, 'kind')!r}).",
                   "ship only the agent workflow.")
        return
    triggers = lookup(workflow, "definition.triggers")
    trigger_list = list(triggers.values()) if isinstance(triggers, dict) else []
    if len(trigger_list) != 1 or lookup(trigger_list[0], "type") != "Request" or \
            lookup(trigger_list[0], "kind") != "Agent":
        check.fail(f"{name} starts otherwise than by one chat session trigger (Request, kind Agent).",
                   "keep the one When_a_new_chat_session_starts trigger.")
    agents = 0
    for where, action in _actions(lookup(workflow, "definition.actions"), name):
        kind = action.get("type")
        if kind != "Agent":
            check.fail(f"{where} is a {kind!r} action outside the agent's tools: it reaches data or services as no "
                       "catalog tool declares.", "do everything through catalog tools; the workflow holds only the "
                       "Agent action.")
            continue
        agents += 1
        if action.get("tools") != tools:
            declared, found = set(tools), set(action.get("tools") or {})
            detail = f"not declared {sorted(found - declared)}; " if found - declared else ""
            detail += f"missing {sorted(declared - found)}; " if declared - found else ""
            detail += "" if detail else "same names, other identity, connection, operation or audit"
            check.fail(f"{where}'s tools differ from what the catalog derives ({detail.rstrip('; ')}).",
                       "let agent_obo render the tools from catalog/tools.yaml; never edit them in workflow.json.")
        _check_secured(check, where, action, secure)
    for trigger_name, trigger in (triggers or {}).items() if isinstance(triggers, dict) else ():
        _check_secured(check, f"{name}/{trigger_name}", trigger, secure)
    if agents != 1:
        check.fail(f"{name} has {agents} Agent actions; the project declares one.", "keep one Agent action.")


def _check_secured(check: Check, where: str, part: Any, secure: bool) -> None:
    properties = lookup(part, "runtimeConfiguration.secureData.properties")
    secured = set(properties) if isinstance(properties, list) else set()
    if secure and not set(SECURED) <= secured:
        check.fail(f"{where} keeps the conversation in run history (secure inputs/outputs off), although the stack "
                   "declares secureAgentRunHistory.", "secure its inputs and outputs (agent_obo/workflow_files.py).")


WORKFLOW_PACKAGE = resource_policy(
    "workflow-package", validate_workflow_package, judges=(DYNAMIC_RESOURCE,),
    url=URL,
    remediation="Edit tools in catalog/tools.yaml; agent_obo renders the package from it.",
)
