"""Every kind of tool the catalog rules allow: one per connector, identity mode, data and access.

Tests that must hold "for every tool the catalog can produce" run over this catalog as well as the
real one, so a rule that only today's six tools happen to satisfy does not pass.
"""

from __future__ import annotations

from typing import Any

from agent_obo.catalog import ACCESS, APP_ONLY, DATA, PER_USER, Catalog, parse_catalog
from agent_obo.connectors import CONNECTORS
from agent_obo.write_guard import needs_guard

GUARD = {"choices": {
    "target": {"description": "Where the update goes, from the allow-list.",
               "values": {"alpha": "Alpha system", "beta": "Beta system"}},
    "state": {"description": "What the update says, from the allow-list.",
              "values": {"up": "Working normally", "down": "Not working"}},
}}


def entry(connector: str, identity: str, data: str, access: str) -> dict[str, Any]:
    name = f"{access}_{data}_{connector}_{identity.replace('-', '')}"
    wording = "as the signed-in user" if identity == PER_USER else "as the app"
    tool: dict[str, Any] = {
        "name": name,
        "description": f"A {access} of {data} data through {connector}, {wording}.",
        "connector": connector,
        "identity": identity,
        "data": data,
        "access": access,
        "operation": {"method": "get" if access == "read" else "post", "path": f"/{name}",
                      "queries": {"top": "@agentParameters('count')"}},
        "arguments": {"type": "object", "required": ["count"], "properties": {
            "count": {"type": "integer", "minimum": 1, "maximum": 10, "description": "How many."}}},
    }
    if identity == PER_USER:
        tool["scopes"] = ["User.Read"]
    if access == "write":
        tool["requires_confirmation"] = True
    if (identity == APP_ONLY and data == "user" and access == "read") or (identity == PER_USER and access == "write"):
        tool["justification"] = "An exception the reviewers accepted, for the test."
    if needs_guard(identity, access):
        tool["write_guard"] = GUARD
        tool.pop("arguments")
        tool["operation"] = {"method": "post", "path": f"/{name}",
                             "body": {"text": "{choice:target} is {choice:state}; asked by {requester}"}}
    if identity == APP_ONLY and CONNECTORS[connector].reads_blob_containers:
        # A container of the runtime storage account, reached with the site's identity as the tool accesses it.
        tool["storage"] = {"container": f"{data}-data", "access": access}
        tool["operation"]["path"] = f"/v2/datasets/@{{parameters('{data}DataStorageAccount')}}/{name}"
    return tool


def every_tool_document() -> dict[str, Any]:
    tools = [entry(api, identity, data, access)
             for api, connector in sorted(CONNECTORS.items())
             for identity in ((PER_USER, APP_ONLY) if connector.per_user_capable else (APP_ONLY,))
             for data in DATA for access in ACCESS]
    return {"tools": tools}


def every_tool_catalog() -> Catalog:
    return parse_catalog(every_tool_document(), source="every-tool.yaml")
