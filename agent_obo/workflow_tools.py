"""The Agent action's `tools`, generated from the catalog.

Each tool is the catalog's description, its argument schema, and two actions:
- `Audit_<tool>`: a Compose that records, as tracked properties, which tool ran under which identity
  mode and connection for which signed-in user, and nothing the user or the model supplied;
- the tool's ApiConnection action, bound to its labelled connection, with secure inputs and
  outputs so that no payload (mail, events, files, profiles, posted text) lands in run history or
  Log Analytics, and an exponential retry policy so that rate limits (429) back off instead of
  failing the turn (the module's troubleshooting table).

The connector action runs last because the final action's outputs are the tool's result
(Azure/logicapps-labs, docs/logicapps-ai-course/04_agent_functionality/02-extend-tools-with-patterns.md).
The two cannot be one action: "you can't add tracked properties to [a secured] trigger or action"
(learn.microsoft.com/azure/logic-apps/logic-apps-securing-a-logic-app, "Secure data in run history").
"""

from __future__ import annotations

from typing import Any

from agent_obo.catalog import Catalog, Tool

# Workflow definition language retry policy, inside the action's inputs
# (learn.microsoft.com/azure/logic-apps/error-exception-handling#retry-policies).
RETRY_POLICY = {"type": "exponential", "count": 4, "interval": "PT10S",
                "minimumInterval": "PT5S", "maximumInterval": "PT1M"}
CONFIRMATION_NOTE = ("Only call this after the user has explicitly confirmed, in this chat, the exact text "
                     "and destination.")
# `runtimeConfiguration.secureData.properties` (Learn, "Secure inputs and outputs in code view"); every
# managed connector supports both.
SECURED = ("inputs", "outputs")


def secure_data() -> dict[str, Any]:
    return {"secureData": {"properties": list(SECURED)}}

# Easy Auth's user object id header, which clients cannot set; read inside agent tools with
# currentRequest() (agent_obo/write_guard.py cites both). Empty when Easy Auth is off.
REQUESTING_USER_EXPRESSION = "@{currentRequest()?['headers']?['X-MS-CLIENT-PRINCIPAL-ID']}"
# The audit record: these names are the tracked properties, and the KQL in monitoring/queries reads them.
TRACKED_PROPERTIES = ("toolName", "identityMode", "connection", "requestingUserObjectId")
AUDIT_PREFIX = "Audit_"


def action_name(tool: Tool) -> str:
    return tool.name[0].upper() + tool.name[1:]


def audit_action_name(tool: Tool) -> str:
    return AUDIT_PREFIX + tool.name


def audit_action(tool: Tool) -> dict[str, Any]:
    """Tracked properties may only read their own action's inputs and outputs (Learn, "Monitor and
    collect diagnostic data for workflows", tracked properties), so the Compose carries the values."""
    record = {"toolName": tool.name, "identityMode": tool.identity, "connection": tool.connection_reference,
              "requestingUserObjectId": REQUESTING_USER_EXPRESSION}
    return {
        "type": "Compose",
        "inputs": record,
        "trackedProperties": {name: f"@action()?['inputs']?['{name}']" for name in TRACKED_PROPERTIES},
        "runAfter": {},
    }


def connector_action(tool: Tool) -> dict[str, Any]:
    operation = tool.operation
    render = tool.write_guard.render if tool.write_guard else (lambda value: value)
    inputs: dict[str, Any] = {
        "host": {"connection": {"referenceName": tool.connection_reference}},
        "method": operation.method,
        "path": render(operation.path),
    }
    if operation.queries:
        inputs["queries"] = render(dict(operation.queries))
    if operation.body is not None:
        inputs["body"] = render(operation.body)
    inputs["retryPolicy"] = dict(RETRY_POLICY)
    return {
        "type": "ApiConnection",
        "inputs": inputs,
        "runtimeConfiguration": secure_data(),
        "runAfter": {audit_action_name(tool): ["Succeeded"]},
    }


def tool_definition(tool: Tool) -> dict[str, Any]:
    description = tool.description
    if tool.requires_confirmation:
        description = f"{description} {CONFIRMATION_NOTE}"
    return {
        "description": description,
        "agentParameterSchema": dict(tool.arguments),
        "actions": {audit_action_name(tool): audit_action(tool), action_name(tool): connector_action(tool)},
    }


def workflow_tools(catalog: Catalog) -> dict[str, Any]:
    return {tool.name: tool_definition(tool) for tool in catalog.tools}
