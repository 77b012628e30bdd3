"""The audit queries, the workbook and the alerts: one source (monitoring/queries), in both stacks' plans."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from agent_obo import monitoring_queries
from agent_obo.errors import SettingsError
from agent_obo.monitoring_queries import TROUBLESHOOTING, load_queries
from agent_obo.workflow_tools import AUDIT_PREFIX, TRACKED_PROPERTIES, action_name
from offline.project_copy import project_copy
from offline.runner import PROJECT_DIR, run_stack
from tests.helpers import run_with, settings_of

QUERIES = load_queries()
KQL_CHECK = PROJECT_DIR / "monitoring" / "kql-check"
DOC = PROJECT_DIR / "docs" / "audit-and-troubleshooting.md"
WORKBOOK = "azure-native:applicationinsights:Workbook"
ALERT = "azure-native:monitor:ScheduledQueryRule"
ACTION_GROUP = "azure-native:monitor:ActionGroup"
DIAGNOSTICS = "azure-native:monitor:DiagnosticSetting"
WORKSPACE = "azure-native:operationalinsights:Workspace"

# The tables the queries read, column for column as Azure Monitor's table reference lists them
# (learn.microsoft.com/azure/azure-monitor/reference/tables/logicappworkflowruntime and
# .../tables/appserviceauthenticationlogs).
TABLES = {
    "LogicAppWorkflowRuntime": (
        "(ActionName:string, ActionTrackingId:string, ClientKeywords:string, ClientTrackingId:string, "
        "Code:string, EndTime:datetime, Error:string, Location:string, OperationName:string, "
        "OriginRunId:string, RetryHistory:string, RunId:string, SourceSystem:string, StartTime:datetime, "
        "Status:string, Tags:string, TenantId:string, TimeGenerated:datetime, TrackedProperties:string, "
        "TriggerName:string, Type:string, WorkflowId:string, WorkflowName:string, _ResourceId:string, "
        "_SubscriptionId:string)"),
    "AppServiceAuthenticationLogs": (
        "(CorrelationId:string, Details:string, HostName:string, Level:string, Message:string, "
        "ModuleRuntimeVersion:string, OperationName:string, _ResourceId:string, SiteName:string, "
        "SourceSystem:string, StatusCode:int, _SubscriptionId:string, SubStatusCode:int, TaskName:string, "
        "TenantId:string, TimeGenerated:datetime, Type:string)"),
}


def kusto_diagnostics(queries: dict[str, str]) -> dict[str, list[str]]:
    """Microsoft's Kusto language service, run once over all the queries (monitoring/kql-check)."""
    if not (KQL_CHECK / "node_modules" / ".installed").exists() or shutil.which("node") is None:
        pytest.fail("the KQL checker is not installed: run `make kql-check` (or `make test`), which needs Node.js")
    completed = subprocess.run(["node", str(KQL_CHECK / "check.js")], input=json.dumps(
        {"tables": TABLES, "queries": queries}), capture_output=True, text=True, timeout=120, check=True)
    return json.loads(completed.stdout)


# Two queries that must fail, checked in the same run (loading the language service takes seconds).
PROBES = {"probe:column": "LogicAppWorkflowRuntime | where Stauts == 'Failed'",
          "probe:syntax": "LogicAppWorkflowRuntime | where"}


@pytest.fixture(scope="session")
def diagnostics() -> dict[str, list[str]]:
    return kusto_diagnostics({**{query.name: query.text for query in QUERIES}, **PROBES})


# --- the queries --------------------------------------------------------------------------------------

@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.name)
def test_each_query_parses_against_the_documented_tables(query, diagnostics):
    assert diagnostics[query.name] == [], query.name


def test_the_checker_catches_a_wrong_column_and_a_syntax_error(diagnostics):
    assert any("Stauts" in d for d in diagnostics["probe:column"]) and diagnostics["probe:syntax"]


def test_each_troubleshooting_row_maps_to_exactly_one_query():
    answered = {q.troubleshooting: q.name for q in QUERIES if q.troubleshooting}
    assert set(answered) == set(TROUBLESHOOTING)
    assert {"unauthorized", "consent-scope", "token-audience", "rate-limits", "mixed-identity"} == set(TROUBLESHOOTING)


def test_the_issue_s_queries_exist():
    names = {q.name for q in QUERIES}
    assert {"who-ran-which-tool", "tool-failures-by-status", "first-use-sign-ins"} <= names


def test_the_shared_definitions_read_what_the_tools_record():
    prelude = QUERIES[0].prelude
    for name in TRACKED_PROPERTIES:
        assert f"Tracked.{name}" in prelude
    assert f'startswith "{AUDIT_PREFIX}"' in prelude
    # The connector action is the tool's name with its first letter upper-case, in KQL as in Python.
    assert "strcat(toupper(substring(Tool, 0, 1)), substring(Tool, 1))" in prelude
    assert action_name(type("T", (), {"name": "get_my_profile"})()) == "Get_my_profile"


def test_the_alerts_are_for_authorization_failures_and_throttling():
    alerts = {q.name: q.alert for q in QUERIES if q.alert}
    assert set(alerts) == {"authorization-failures", "throttling"}
    assert alerts["authorization-failures"].severity < alerts["throttling"].severity


BAD_QUERY_FILES = {
    "no title": ("// shows: table\nToolRuns\n", ["needs a `// title: ...` line first"]),
    "unknown visualization": ("// title: x\n// shows: piechart\nToolRuns\n", ["shows = 'piechart'"]),
    "unknown troubleshooting row": ("// title: x\n// troubleshooting: dns\nToolRuns\n",
                                    ["troubleshooting = 'dns'", "allowed values: unauthorized"]),
    "alert missing a field": ("// title: x\n// alert: severity=2; threshold=5\nToolRuns\n", ["alert = "]),
    "alert window shorter than frequency": (
        "// title: x\n// alert: severity=2; threshold=5; frequency=PT15M; window=PT5M\nToolRuns\n",
        ["window PT5M is shorter than its frequency PT15M"]),
    "alert severity out of range": (
        "// title: x\n// alert: severity=7; threshold=5; frequency=PT5M; window=PT5M\nToolRuns\n",
        ["alert severity = '7'"]),
    "header only": ("// title: x\n", ["has no query after its header"]),
    "a right-to-left override in a comment": ("// title: x\nToolRuns // \u202e | where false\n",
                                              ["line 2, column 13: character U+202E"]),
    "a line separator that splits a header for Python only": ("// title: x\u2028// shows: piechart\nToolRuns\n",
                                                              ["line 1, column 12: character U+2028"]),
}


@pytest.mark.parametrize("text, fragments", BAD_QUERY_FILES.values(), ids=list(BAD_QUERY_FILES))
def test_bad_query_files_are_refused_naming_the_file(tmp_path, text, fragments):
    shutil.copytree(monitoring_queries.QUERIES_DIR, tmp_path, dirs_exist_ok=True)
    (tmp_path / "bad-query.kql").write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError) as raised:
        load_queries(tmp_path)
    for fragment in ["monitoring/queries/bad-query.kql", *fragments]:
        assert fragment in str(raised.value)


def test_hidden_characters_in_the_shared_definitions_and_bytes_that_are_not_utf8_are_refused(tmp_path):
    shutil.copytree(monitoring_queries.QUERIES_DIR, tmp_path, dirs_exist_ok=True)
    (tmp_path / "_tool_runs.kql").write_text("let x = 1; // \u2066\n", encoding="utf-8")
    (tmp_path / "throttling.kql").write_bytes(b"// title: x\nToolRuns // \xff\n")
    with pytest.raises(SettingsError) as raised:
        load_queries(tmp_path)
    assert "monitoring/queries/_tool_runs.kql line 1, column 15: character U+2066" in str(raised.value)
    assert "monitoring/queries/throttling.kql: byte 0xff is not UTF-8" in str(raised.value)


def test_a_troubleshooting_row_without_a_query_is_refused(tmp_path):
    shutil.copytree(monitoring_queries.QUERIES_DIR, tmp_path, dirs_exist_ok=True)
    (tmp_path / "throttling.kql").unlink()
    with pytest.raises(SettingsError, match="troubleshooting row 'rate-limits'"):
        load_queries(tmp_path)


def test_a_bad_query_file_stops_the_program_before_any_resource(tmp_path):
    project = project_copy(tmp_path, {"monitoring/queries/throttling.kql": "// shows: table\nToolCalls\n"})
    result = run_stack("dev", project_dir=project)
    assert isinstance(result.error, SettingsError) and "throttling.kql" in str(result.error)
    assert result.plan.registrations == []


# --- the plan ------------------------------------------------------------------------------------------

def test_both_stacks_deploy_the_workbook_with_every_query(plan):
    workbook = plan.one(WORKBOOK)
    workspace_id = plan.one(WORKSPACE).resource_id
    assert workbook.input("kind") == "shared" and workbook.input("category") == "workbook"
    assert workbook.input("sourceId") == workspace_id
    content = json.loads(workbook.input("serializedData"))
    assert content["version"] == "Notebook/1.0" and content["fallbackResourceIds"] == [workspace_id]
    shown = {item["name"]: item["content"] for item in content["items"] if item["type"] == 3}
    assert list(shown) == [q.name for q in QUERIES]
    for query in QUERIES:
        assert shown[query.name]["query"] == query.text
        assert shown[query.name]["timeContextFromParameter"] == "TimeRange"
        if query.troubleshooting:
            assert TROUBLESHOOTING[query.troubleshooting] in shown[query.name]["title"]


def test_both_stacks_alert_on_authorization_failures_and_throttling(plan):
    alerts = {r.input("ruleName"): r for r in plan.all(ALERT)}
    env = plan.stack
    assert set(alerts) == {f"alert-agentobo-{env}-authorization-failures", f"alert-agentobo-{env}-throttling"}
    action_group = plan.one(ACTION_GROUP)
    diagnostics = plan.one(DIAGNOSTICS)
    for query in (q for q in QUERIES if q.alert):
        rule = alerts[f"alert-agentobo-{env}-{query.name}"]
        (condition,) = rule.input("criteria")["allOf"]
        assert rule.input("kind") == "LogAlert" and rule.input("enabled") is True
        assert rule.input("scopes") == [plan.one(WORKSPACE).resource_id]
        assert condition["query"] == query.text
        assert condition["timeAggregation"] == "Count" and condition["operator"] == "GreaterThan"
        assert condition["threshold"] == query.alert.threshold
        assert rule.input("severity") == query.alert.severity
        assert rule.input("evaluationFrequency") == query.alert.frequency
        assert rule.input("windowSize") == query.alert.window
        assert rule.input("actions")["actionGroups"] == [action_group.resource_id]
        assert diagnostics.urn in rule.dependencies


def test_the_action_group_reaches_the_stack_s_receivers(plan):
    group = plan.one(ACTION_GROUP)
    receivers = settings_of(plan.stack).audit.alert_email_receivers
    assert [r["emailAddress"] for r in group.input("emailReceivers")] == list(receivers)
    assert all(r["useCommonAlertSchema"] is True for r in group.input("emailReceivers"))
    assert len(group.input("groupShortName")) <= 12 and group.input("location") == "global"


def test_the_site_sends_run_history_and_easy_auth_errors_to_the_workspace(plan):
    logs = {entry["category"]: entry["enabled"] for entry in plan.one(DIAGNOSTICS).input("logs")}
    assert logs == {"WorkflowRuntime": True, "AppServiceAuthenticationLogs": True}


@pytest.mark.parametrize("receivers, fragment", [
    ([], "alerts would reach nobody"),
    (["not-an-address"], "'not-an-address' not allowed"),
    (["ops@contoso.com", "ops@contoso.com"], "lists an item twice"),
])
def test_bad_receivers_stop_the_program_before_any_resource(receivers, fragment):
    result = run_with({"agent-obo:alertEmailReceivers": receivers})
    assert isinstance(result.error, SettingsError)
    assert "agent-obo:alertEmailReceivers" in str(result.error) and fragment in str(result.error)
    assert result.plan.registrations == []


# --- the docs -----------------------------------------------------------------------------------------

def test_the_docs_page_maps_each_troubleshooting_row_to_its_query():
    text = DOC.read_text()
    for row, problem in TROUBLESHOOTING.items():
        (query,) = [q for q in QUERIES if q.troubleshooting == row]
        section = text.split(f"### {problem}", 1)
        assert len(section) == 2, problem
        body = section[1].split("\n### ", 1)[0]
        assert f"monitoring/queries/{query.name}.kql" in body, problem
        assert "**Fix**" in body, problem


def test_the_docs_page_names_every_query_file():
    text = DOC.read_text()
    for path in sorted(Path(monitoring_queries.QUERIES_DIR).glob("[!_]*.kql")):
        assert f"monitoring/queries/{path.name}" in text
