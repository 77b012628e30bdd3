"""The hand-written workflow project (workflows/) is refused, naming the file, the place and the value, unless it
has the shape the program reads: nothing in it can add a call, a connection or a tool outside the catalog."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from agent_obo.errors import SettingsError
from agent_obo.workflow_files import AGENT_WORKFLOW, WORKFLOWS, read_project
from agent_obo.workflow_shape import check_project_shape
from offline.project_copy import project_copy
from offline.runner import run_stack
from tests.helpers import run_with_catalog, tool_entry

PROJECT = read_project()
WORKFLOW = f"{AGENT_WORKFLOW}/workflow.json"


def _agent(documents: dict) -> dict:
    return documents[WORKFLOW]["definition"]["actions"]["Workplace_assistant"]


def _definition(documents: dict) -> dict:
    return documents[WORKFLOW]["definition"]


# name -> (edit of the parsed project, words the refusal says)
BAD_PROJECTS: dict[str, tuple[Callable[[dict], object], str]] = {
    "a workflow without definition": (lambda d: d[WORKFLOW].pop("definition"),
                                      "workflow.json definition: missing"),
    "a definition that is a list": (lambda d: d[WORKFLOW].update(definition=[]), "workflow.json definition = []"),
    "actions that are a list": (lambda d: _definition(d).update(actions=[]), "definition.actions = []: allowed: "
                                                                             "exactly one action, the Agent"),
    "a second Agent action": (lambda d: _definition(d)["actions"].update(Second=copy.deepcopy(_agent(d))),
                              "allowed: exactly one action"),
    "an HTTP action beside the agent": (
        lambda d: _definition(d)["actions"].update(Leak={"type": "Http", "inputs": {"uri": "https://x.example"},
                                                         "runAfter": {"Workplace_assistant": ["Succeeded"]}}),
        "definition.actions.Leak.type = \"Http\": allowed: only 'Agent'"),
    "an action on an app-only connection": (
        lambda d: _definition(d)["actions"].update(Read={"type": "ApiConnection", "inputs": {
            "host": {"connection": {"referenceName": "office365-apponly"}}, "method": "get", "path": "/v3/Mail"}}),
        "definition.actions.Read.type = \"ApiConnection\""),
    "the Agent type in lower case": (lambda d: _agent(d).update(type="agent"),
                                     "type = \"agent\": allowed: only 'Agent'"),
    "agent parameters as a list": (lambda d: _agent(d)["inputs"].update(parameters=[]), "inputs.parameters = []"),
    "a hand-written tool the catalog has": (lambda d: _agent(d).update(tools={"get_my_profile": {"actions": {}}}),
                                            "tools = {\"get_my_profile\""),
    "tools as null": (lambda d: _agent(d).update(tools=None), "tools = null: allowed: {} (generated from catalog"),
    "a model configuration naming another connection": (
        lambda d: _agent(d)["inputs"]["modelConfigurations"]["model1"].update(referenceName="agent2"),
        "modelConfigurations.model1.referenceName = \"agent2\": allowed: only 'agent'"),
    "kind missing": (lambda d: d[WORKFLOW].pop("kind"), "workflow.json kind: missing; allowed: only 'Agent'"),
    "a trigger of another kind": (lambda d: _definition(d)["triggers"]["When_a_new_chat_session_starts"].update(
        kind="Http"), "When_a_new_chat_session_starts.kind = \"Http\""),
    "a workflow that is a list": (lambda d: d.update({WORKFLOW: [d[WORKFLOW]]}), "workflow.json = [{"),
    "the system message reading the request": (
        lambda d: _agent(d)["inputs"]["parameters"]["messages"][0].update(content="@{currentRequest()['headers']}"),
        "messages[0].content = \"@{currentRequest()['headers']}\": calls currentrequest()"),
    "a hand-written managed connection": (
        lambda d: d["connections.json"]["managedApiConnections"].update({"office365-apponly": {"api": {"id": "x"}}}),
        "connections.json managedApiConnections = {\"office365-apponly\""),
    "a model connection with a key": (
        lambda d: d["connections.json"]["agentConnections"]["agent"].update(
            authentication={"type": "Raw", "value": "sk-1"}),
        "authentication.type = \"Raw\": allowed: only 'ManagedServiceIdentity'"),
    "a service provider connection string": (
        lambda d: d["connections.json"].update(serviceProviderConnections={"sb": {"parameterValues": {}}}),
        "connections.json serviceProviderConnections = "),
    "connections as a list": (lambda d: d.update({"connections.json": []}), "connections.json = []"),
    "a parameter without type": (lambda d: d.update({"parameters.json": {"x": {"value": "a"}}}),
                                 "parameters.json x.type: missing; allowed values: String"),
    "a secure parameter whose value sits in the repository": (
        lambda d: d.update({"parameters.json": {"x": {"type": "SecureString", "value": "hunter2"}}}),
        "x.type = \"SecureString\""),
    "a parameter named $connections": (lambda d: d.update({"parameters.json": {"$connections": {
        "type": "Object", "value": {}}}}), "key \"$connections\" not allowed"),
    "parameters as a list": (lambda d: d.update({"parameters.json": [1]}), "parameters.json = [1]"),
    "host settings as a list": (lambda d: d["host.json"]["extensions"]["workflow"].update(Settings=[]),
                                "extensions.workflow.Settings = []"),
    "host.json as a list": (lambda d: d.update({"host.json": []}), "host.json = []"),
    "the Functions bundle instead of the workflow bundle": (
        lambda d: d["host.json"]["extensionBundle"].update(id="Microsoft.Azure.Functions.ExtensionBundle"),
        "extensionBundle.id = \"Microsoft.Azure.Functions.ExtensionBundle\""),
    "another workflow": (lambda d: d.update({"evil/workflow.json": {"definition": {}, "kind": "Stateful"}}),
                         "workflows/evil/workflow.json: a workflow the program does not know"),
    # the runtime reads names without regard to case: an open mapping would take "Type" for "type"
    "the Agent action's type in capitals": (lambda d: _agent(d).update(Type="Http", Inputs={"uri": "x"}),
                                            "Workplace_assistant.Type = \"Http\": not allowed here"),
    "hand-written tools in capitals": (lambda d: [_agent(d).pop("tools"), _agent(d).update(Tools={"t": {}})],
                                       "Workplace_assistant.Tools = {\"t\": {}}: not allowed here"),
    "actions nested in the Agent action": (lambda d: _agent(d).update(actions={"h": {"type": "Http"}}),
                                           "Workplace_assistant.actions = "),
    "the trigger's kind in capitals": (lambda d: next(iter(_definition(d)["triggers"].values())).update(Kind="Http"),
                                       "Kind = \"Http\": not allowed here"),
    "tools in the Agent's inputs": (lambda d: _agent(d)["inputs"].update(tools={"t": {}}), "inputs.tools = "),
    "an expression as a name": (lambda d: _agent(d)["inputs"]["parameters"].update({"@{body('x')}": 1}),
                                "key \"@{body('x')}\": a workflow expression as a name"),
}


@pytest.mark.parametrize("edit, words", BAD_PROJECTS.values(), ids=list(BAD_PROJECTS))
def test_a_misshapen_workflow_project_is_refused_naming_file_place_and_value(edit, words):
    documents = copy.deepcopy(PROJECT)
    edit(documents)
    with pytest.raises(SettingsError) as raised:
        check_project_shape(documents, AGENT_WORKFLOW, derived=("health",))
    assert words in str(raised.value), str(raised.value)


@pytest.mark.parametrize("text", ['{"type": "Agent", "Type": "Http"}', '{"a": {"tools": {}, "TOOLS": {}}}',
                                  '{"\\u017fchema": 1, "Schema": 2}'])
def test_json_keys_equal_but_for_letter_case_are_refused(text):
    from agent_obo.json_files import parse_json
    with pytest.raises(SettingsError, match="are one key set twice"):
        parse_json(text, "workflows/x.json", "a workflow file")


def test_the_project_as_written_has_its_shape():
    check_project_shape(PROJECT, AGENT_WORKFLOW)


@pytest.mark.parametrize("changes, words", [
    ({f"{WORKFLOWS}/{WORKFLOW}": None}, f"{WORKFLOWS}/{WORKFLOW}: no such file"),
    ({f"{WORKFLOWS}/{WORKFLOW}": json.dumps({"kind": "Agent", "definition": {"actions": []}})},
     "definition.actions = []"),
    ({f"{WORKFLOWS}/parameters.json": json.dumps({"operationsteamid": {"type": "String", "value": "x"}})},
     "workflows/parameters.json 'operationsteamid': also derived from a setting"),
], ids=["the agent workflow missing", "actions as a list", "a parameter a tool declares, in other case"])
def test_the_program_stops_before_any_resource(tmp_path: Path, changes, words):
    result = run_stack("dev", project_dir=project_copy(tmp_path, changes))
    assert isinstance(result.error, SettingsError), result.error
    assert words in str(result.error)
    assert result.plan.registrations == []


# --- names: a tool may not take a name the workflow already has, in any case ---------------------------------

@pytest.mark.parametrize("name, words", [
    ("workplace_assistant", "which workflows/obo-agent/workflow.json also has as 'Workplace_assistant'"),
    ("when_a_new_chat_session_starts",
     "which workflows/obo-agent/workflow.json also has as 'When_a_new_chat_session_starts'"),
    ("audit_get_my_profile", "which tool 'get_my_profile' of catalog/tools.yaml also has as 'Audit_get_my_profile'"),
])
def test_a_tool_named_like_another_part_of_the_workflow_is_refused(tmp_path: Path, name, words):
    def add(document: dict) -> None:
        tool = copy.deepcopy(tool_entry(document, "get_my_profile"))
        tool["name"] = name
        document["tools"].append(tool)

    result = run_with_catalog(add, tmp_path)
    assert isinstance(result.error, SettingsError), result.error
    assert f"tool {name!r} of catalog/tools.yaml: gives the workflow {name!r}, {words}" in str(result.error)
    assert result.plan.registrations == []
