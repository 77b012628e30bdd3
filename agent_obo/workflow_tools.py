"""The Agent action's `tools`, generated from the catalog.

Each tool is the catalog's description, its argument schema, and one ApiConnection action bound to
its labelled connection, with an exponential retry policy so that rate limits (429) back off
instead of failing the turn (the module's troubleshooting table).
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


def action_name(tool: Tool) -> str:
    return tool.name[0].upper() + tool.name[1:]


def tool_definition(tool: Tool) -> dict[str, Any]:
    inputs: dict[str, Any] = {
        "host": {"connection": {"referenceName": tool.connection_reference}},
        "method": tool.operation.method,
        "path": tool.operation.path,
    }
    if tool.operation.queries:
        inputs["queries"] = dict(tool.operation.queries)
    if tool.operation.body is not None:
        inputs["body"] = tool.operation.body
    inputs["retryPolicy"] = dict(RETRY_POLICY)
    description = tool.description
    if tool.requires_confirmation:
        description = f"{description} {CONFIRMATION_NOTE}"
    return {
        "description": description,
        "agentParameterSchema": dict(tool.arguments),
        "actions": {action_name(tool): {"type": "ApiConnection", "inputs": inputs}},
    }


def workflow_tools(catalog: Catalog) -> dict[str, Any]:
    return {tool.name: tool_definition(tool) for tool in catalog.tools}
