"""Secure data in run history and the audit trail, for every tool the catalog can produce."""

from __future__ import annotations

import json

import pytest

from agent_obo.catalog import APP_ONLY, PER_USER, load_catalog
from agent_obo.connectors import CONNECTORS
from agent_obo.workflow_tools import (
    AUDIT_PREFIX,
    REQUESTING_USER_EXPRESSION,
    TRACKED_PROPERTIES,
    action_name,
    audit_action_name,
    workflow_tools,
)
from tests.conftest import run_with
from tests.every_tool import every_tool_catalog
from tests.test_tools import workflow

SECURED = {"secureData": {"properties": ["inputs", "outputs"]}}
EVERY_TOOL = every_tool_catalog()
ALL_TOOLS = [*load_catalog().tools, *EVERY_TOOL.tools]


def test_the_generated_catalog_covers_every_connector_identity_data_and_access():
    kinds = {(t.connector.api_name, t.identity, t.data, t.access) for t in EVERY_TOOL.tools}
    expected = {(api, identity, data, access)
                for api, connector in CONNECTORS.items()
                for identity in ((PER_USER, APP_ONLY) if connector.per_user_capable else (APP_ONLY,))
                for data in ("user", "shared") for access in ("read", "write")}
    assert kinds == expected


@pytest.mark.parametrize("tool", ALL_TOOLS, ids=lambda t: t.name)
def test_every_tool_action_is_secured_and_runs_last_after_its_audit_record(tool):
    definition = workflow_tools(type(EVERY_TOOL)((tool,)))[tool.name]
    actions = definition["actions"]
    assert list(actions) == [audit_action_name(tool), action_name(tool)]
    connector = actions[action_name(tool)]
    assert connector["type"] == "ApiConnection"
    assert connector["runtimeConfiguration"] == SECURED
    # Learn: a secured action can carry no tracked properties; the final action is the tool's result.
    assert "trackedProperties" not in connector
    assert connector["runAfter"] == {audit_action_name(tool): ["Succeeded"]}
    assert actions[audit_action_name(tool)]["runAfter"] == {}


@pytest.mark.parametrize("tool", ALL_TOOLS, ids=lambda t: t.name)
def test_every_tool_records_who_ran_it_under_which_identity_and_never_a_payload(tool):
    audit = workflow_tools(type(EVERY_TOOL)((tool,)))[tool.name]["actions"][audit_action_name(tool)]
    assert audit["type"] == "Compose" and "runtimeConfiguration" not in audit
    assert audit["inputs"] == {"toolName": tool.name, "identityMode": tool.identity,
                               "connection": tool.connection_reference,
                               "requestingUserObjectId": REQUESTING_USER_EXPRESSION}
    assert audit["trackedProperties"] == {name: f"@action()?['inputs']?['{name}']" for name in TRACKED_PROPERTIES}
    text = json.dumps(audit)
    for payload in ("agentParameters", "body(", "outputs(", "triggerBody", "X-MS-CLIENT-PRINCIPAL-NAME"):
        assert payload not in text, payload


def test_the_requesting_user_is_the_object_id_easy_auth_sets():
    assert REQUESTING_USER_EXPRESSION == "@{currentRequest()?['headers']?['X-MS-CLIENT-PRINCIPAL-ID']}"


def test_audit_action_names_are_unique_and_cannot_collide_with_tool_actions():
    names = [name for tool in ALL_TOOLS for name in (audit_action_name(tool), action_name(tool))]
    assert len(names) == len(set(names))
    assert all(not action_name(tool).startswith(AUDIT_PREFIX) for tool in ALL_TOOLS)


# --- the packaged workflow ---------------------------------------------------------------------------

def agent_and_trigger(document: dict) -> tuple[dict, dict]:
    (agent,) = [a for a in document["definition"]["actions"].values() if a["type"] == "Agent"]
    (trigger,) = document["definition"]["triggers"].values()
    return agent, trigger


def test_both_stacks_secure_the_conversation_and_every_tool(plan):
    document = workflow(plan)
    agent, trigger = agent_and_trigger(document)
    assert agent["runtimeConfiguration"] == SECURED and trigger["runtimeConfiguration"] == SECURED
    assert "trackedProperties" not in agent
    for tool in agent["tools"].values():
        (connector,) = [a for a in tool["actions"].values() if a["type"] == "ApiConnection"]
        assert connector["runtimeConfiguration"] == SECURED


def test_a_stack_can_leave_the_conversation_readable_but_never_the_tools():
    result = run_with({"agent-obo:secureAgentRunHistory": False})
    from tests.test_package import package_files

    document = json.loads(package_files(result.ok())["obo-agent/workflow.json"])
    agent, trigger = agent_and_trigger(document)
    assert "runtimeConfiguration" not in agent and "runtimeConfiguration" not in trigger
    for tool in agent["tools"].values():
        (connector,) = [a for a in tool["actions"].values() if a["type"] == "ApiConnection"]
        assert connector["runtimeConfiguration"] == SECURED
