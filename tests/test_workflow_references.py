"""Every parameters('x') / appsetting('x') in the workflow project names a parameter of parameters.json
or an app setting the program sets; a typo stops the program before any resource."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent_obo import app_settings
from agent_obo.errors import SettingsError
from agent_obo.workflow_references import check_references, expressions, references
from offline.project_copy import project_copy
from offline.runner import run_stack
from tests.helpers import run_with_catalog, tool_entry

EXPRESSIONS = {
    "@parameters('a')": ["parameters('a')"],
    "@@parameters('a')": [],
    "text @{parameters('a')} and @{appsetting('B')}": ["parameters('a')", "appsetting('B')"],
    "text @@{parameters('a')}": [],
    "@{json('{\"k\":\"}\"}')[parameters('a')]}": ["json('{\"k\":\"}\"}')[parameters('a')]"],
    "plain text": [],
}


@pytest.mark.parametrize("text, expected", EXPRESSIONS.items())
def test_expressions_are_found_as_the_workflow_language_reads_them(text, expected):
    assert list(expressions(text)) == expected


REFERENCES = {
    "parameters('a')": [("parameters", "a")],
    "Parameters( 'a' )": [("parameters", "a")],
    "APPSETTING('B')": [("appsetting", "B")],
    "agentParameters('a')": [],
    "body('x').parameters('y')": [],
    "concat('parameters(x)', appsetting('B'))": [("appsetting", "B")],
    "parameters(concat('a', 'b'))": [("parameters", None)],
    "parameters(variables('x'))": [("parameters", None)],
    "encodeURIComponent(parameters('it''s'))": [("parameters", "it's")],
}


@pytest.mark.parametrize("expression, expected", REFERENCES.items())
def test_references_are_read_from_calls_outside_quotes(expression, expected):
    assert list(references(expression)) == expected


def _files(**documents) -> dict[str, bytes]:
    return {path.replace("__", "/"): json.dumps(document).encode() for path, document in documents.items()}


def test_a_workflow_definition_may_use_its_own_parameters():
    files = _files(**{"parameters.json": {"p": {"type": "String", "value": "x"}},
                      "wf__workflow.json": {"definition": {"parameters": {"own": {}}, "actions": {
                          "A": {"inputs": {"a": "@parameters('own')", "b": "@parameters('p')"}}}}}})
    check_references(files, frozenset())


def test_unknown_names_are_all_reported_with_suggestions():
    files = _files(**{"parameters.json": {"operationsTeamId": {"value": "@appsetting('OPERATIONS_TEAM_ID')"}},
                      "wf__workflow.json": {"definition": {"actions": {"Post": {"inputs": {
                          "team": "@parameters('operationsTeamID')",
                          "text": "for @{appsetting('OPERATIONS_TEAM')}",
                          "computed": "@parameters(concat('operations', 'TeamId'))"}}}}}})
    with pytest.raises(SettingsError) as raised:
        check_references(files, frozenset({"OPERATIONS_TEAM_ID"}))
    problems = raised.value.problems
    assert len(problems) == 3, problems
    assert any("parameters('operationsTeamID')" in p and "did you mean 'operationsTeamId'?" in p for p in problems)
    assert any("appsetting('OPERATIONS_TEAM')" in p and "did you mean 'OPERATIONS_TEAM_ID'?" in p for p in problems)
    assert any("computed at run time" in p for p in problems)
    assert all("workflows/wf/workflow.json definition.actions.Post.inputs" in p for p in problems)


# --- through the real program --------------------------------------------------------------------------

def _assert_refused(result, *fragments):
    assert isinstance(result.error, SettingsError), result.error
    message = str(result.error)
    for fragment in fragments:
        assert fragment in message, message
    assert result.plan.registrations == []


def test_a_typo_in_a_catalog_tool_names_the_tool(tmp_path):
    def typo(document):
        body = tool_entry(document, "post_operations_status")["operation"]["body"]
        body["recipient"]["groupId"] = "@parameters('operationsTeamID')"

    _assert_refused(run_with_catalog(typo, tmp_path), "tool 'post_operations_status'.operation",
                    "parameters('operationsTeamID')", "did you mean 'operationsTeamId'?")


def test_a_typo_in_a_catalog_tool_path_is_refused(tmp_path):
    def typo(document):
        operation = tool_entry(document, "get_shared_runbook")["operation"]
        operation["path"] = operation["path"].replace("runbooksStorageAccount", "runbookStorageAccount")

    _assert_refused(run_with_catalog(typo, tmp_path), "tool 'get_shared_runbook'",
                    "parameters('runbookStorageAccount')")


def _run_with_workflows(edit, tmp_path: Path):
    """dev with a copy of workflows/ that `edit` changes."""
    project = project_copy(tmp_path, copies=["workflows"])
    edit(project / "workflows")
    return run_stack("dev", project_dir=project)


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), "utf-8")


def test_a_typo_in_parameters_json_is_refused(tmp_path):
    def edit(directory: Path):
        (directory / "parameters.json").write_text(json.dumps(
            {"region": {"type": "String", "value": "@appsetting('WORKFLOWS_LOCATON_NAME')"}}), "utf-8")

    _assert_refused(_run_with_workflows(edit, tmp_path), "workflows/parameters.json",
                    "appsetting('WORKFLOWS_LOCATON_NAME')", "did you mean 'WORKFLOWS_LOCATION_NAME'?")


def test_a_hand_written_parameter_may_not_shadow_a_tools(tmp_path):
    def edit(directory: Path):
        (directory / "parameters.json").write_text(json.dumps(
            {"operationsTeamId": {"type": "String", "value": "@appsetting('WORKFLOWS_LOCATION_NAME')"}}), "utf-8")

    _assert_refused(_run_with_workflows(edit, tmp_path), "workflows/parameters.json 'operationsTeamId'",
                    "declare it in one place (the tool)")


def test_a_typo_in_connections_json_is_refused(tmp_path):
    result = _run_with_workflows(lambda d: _replace(d / "connections.json", app_settings.MODEL_ENDPOINT_SETTING,
                                                    "agent_openAIEndpont"), tmp_path)
    _assert_refused(result, "workflows/connections.json", "appsetting('agent_openAIEndpont')")


def test_a_typo_in_a_workflow_action_is_refused(tmp_path):
    def edit(directory: Path):
        path = directory / "obo-agent" / "workflow.json"
        document = json.loads(path.read_text("utf-8"))
        document["definition"]["actions"]["Log_team"] = {
            "type": "Compose", "inputs": "team @{parameters('operationTeamId')}", "runAfter": {}}
        path.write_text(json.dumps(document), "utf-8")

    _assert_refused(_run_with_workflows(edit, tmp_path), "workflows/obo-agent/workflow.json",
                    "parameters('operationTeamId')")


def test_app_settings_table_refuses_missing_and_unused_values():
    table = app_settings.AppSettings({"A": "literal", "B": app_settings.PACKAGE_URL})
    assert table.resolve({app_settings.PACKAGE_URL: "https://x"}) == {"A": "literal", "B": "https://x"}
    with pytest.raises(ValueError, match="no value for"):
        table.resolve({})
    with pytest.raises(ValueError, match="values no setting uses"):
        table.resolve({app_settings.PACKAGE_URL: "https://x", app_settings.MODEL_ENDPOINT: "https://m"})
    # The storage account's name is offered whether or not an enabled tool declares a container.
    assert table.resolve({app_settings.PACKAGE_URL: "https://x", app_settings.STORAGE_ACCOUNT_NAME: "st"}) == {
        "A": "literal", "B": "https://x"}


def test_the_site_gets_exactly_the_settings_of_the_table(plan):
    from tests.helpers import app_settings as site_settings

    names = list(site_settings(plan))
    assert {"WORKFLOWS_SUBSCRIPTION_ID", app_settings.FIC_CLIENT_ID_SETTING, "TOOL_OPERATIONS_TEAM_ID",
            app_settings.MODEL_ENDPOINT_SETTING} <= set(names)
