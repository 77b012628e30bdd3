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
from tests.helpers import every_tool_catalog, run_with, workflow

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

    document = workflow(result.ok())
    agent, trigger = agent_and_trigger(document)
    assert "runtimeConfiguration" not in agent and "runtimeConfiguration" not in trigger
    for tool in agent["tools"].values():
        (connector,) = [a for a in tool["actions"].values() if a["type"] == "ApiConnection"]
        assert connector["runtimeConfiguration"] == SECURED


# --- the policy pack reads the package itself --------------------------------------------------------

def repackaged(plan, change):
    """The plan with its workflow package rebuilt after `change(workflow document)`."""
    import base64

    from agent_obo.package import build_package
    from tests.helpers import package_files
    from tests.policy_mutations import replaced

    files = package_files(plan)
    document = json.loads(files["obo-agent/workflow.json"])
    change(document)
    files["obo-agent/workflow.json"] = json.dumps(document).encode()
    content = base64.b64encode(build_package(files).content).decode()
    name = plan.one("pulumi-python:dynamic:Resource").name
    return replaced(plan, name, lambda inputs: inputs.update(content_base64=content))


def tool(document, name):
    agent, _ = agent_and_trigger(document)
    return agent["tools"][name]["actions"]


BREAKS = {
    "a tool action without secure outputs": (
        lambda d: tool(d, "get_my_recent_mail")["Get_my_recent_mail"]["runtimeConfiguration"]["secureData"].update(
            properties=["inputs"]), "'Get_my_recent_mail' (ApiConnection) does not secure"),
    "tracked properties on the secured action": (
        lambda d: tool(d, "get_my_profile")["Get_my_profile"].update(trackedProperties={"body": "@body()"}),
        "carries tracked properties"),
    "no audit record": (lambda d: tool(d, "list_my_files").pop("Audit_list_my_files"), "no Audit_list_my_files"),
    "a payload in the audit record": (
        lambda d: tool(d, "get_my_recent_mail")["Audit_get_my_recent_mail"]["inputs"].update(
            count="@agentParameters('count')"), "reads the model's arguments"),
    "an unsecured Agent action": (
        lambda d: agent_and_trigger(d)[0].pop("runtimeConfiguration"), "the Agent action"),
    "an unsecured chat trigger": (
        lambda d: agent_and_trigger(d)[1].pop("runtimeConfiguration"), "the chat trigger"),
}


@pytest.mark.parametrize("change, fragment", BREAKS.values(), ids=list(BREAKS))
def test_the_pack_refuses_a_package_that_leaks_or_forgets_the_audit(plans, change, fragment):
    from tests.policy_mutations import messages

    assert messages(plans["dev"], "tool-run-history") == []
    found = messages(repackaged(plans["dev"], change), "tool-run-history")
    assert len(found) == 1 and fragment in found[0], found


def test_a_stack_that_declares_the_conversation_readable_passes_without_it(plans):
    from tests.policy_mutations import messages

    def unsecure(document):
        for part in agent_and_trigger(document):
            part.pop("runtimeConfiguration")

    # The stack's own declaration, as the engine hands the pack its config (policy/declared.py).
    from tests.policy_mutations import configured

    readable = configured(secureAgentRunHistory="false")(plans["dev"])
    assert messages(repackaged(readable, unsecure), "tool-run-history") == []
