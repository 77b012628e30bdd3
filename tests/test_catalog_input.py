"""The tool catalog refuses every malformed field with a message naming the tool, the field and the
value, and never crashes: generated values of every YAML type in every field (hypothesis)."""

from __future__ import annotations

import copy
import datetime
import json

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent_obo.catalog import CATALOG_PATH, FIELDS, load_catalog, parse_catalog
from agent_obo.errors import SettingsError
from agent_obo.yaml_files import read_mapping
from tests.helpers import assert_catalog_refused, run_with_catalog, tool_entry

DOCUMENT = read_mapping(CATALOG_PATH, "the tool catalog")
TOOLS = [tool["name"] for tool in DOCUMENT["tools"]]

# Everything YAML's safe loader can produce, nested: JSON values plus dates, timestamps, binary,
# non-finite floats and non-text keys.
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.dates(), st.datetimes(), st.binary(max_size=8),
    st.sampled_from(["per-user", "app-only", "read", "write", "user", "shared", "office365", "teams", "get",
                     "/path", "Calendars.Read", "x\n", " per-user", "operationsTeamId", "location"]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.text(max_size=10), st.integers(), st.booleans()), inner, max_size=4)),
    max_leaves=12)
FIELD_NAMES = [*sorted(FIELDS), "operation.method", "operation.path", "operation.queries", "operation.body",
               "arguments.properties", "arguments.required", "write_guard.choices", "storage.container",
               "storage.access", "settings.operationsTeamId", "settings.operationsTeamId.pattern",
               "settings.operationsTeamId.example", "settings.operationsTeamId.required", "unknown"]


def _with(tool: str, field: str, value) -> dict:
    document = copy.deepcopy(DOCUMENT)
    entry = tool_entry(document, tool)
    target = entry
    parts = field.split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {}) if isinstance(target.get(part), dict) else target
    target[parts[-1]] = value
    return document


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(tool=st.sampled_from(TOOLS), field=st.sampled_from(FIELD_NAMES), value=VALUES)
def test_any_value_in_any_field_is_refused_cleanly_or_accepted(tool, field, value):
    try:
        parse_catalog(_with(tool, field, value))
    except SettingsError as error:
        assert error.problems, error
        assert all(isinstance(problem, str) and problem for problem in error.problems)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(tool=st.sampled_from(TOOLS), field=st.sampled_from(["name", "identity", "access", "data", "connector"]),
       edge=st.sampled_from(["\n", " ", "\t", "\r\n", "\u2028"]))
def test_a_text_field_with_whitespace_at_the_end_is_refused(tool, field, edge):
    entry = tool_entry(DOCUMENT, tool)
    assert_catalog_refused(_with(tool, field, entry[field] + edge), [f".{field} = "])


BAD_FIELDS = {
    "scope ending in a newline": ("get_my_profile", "scopes", ["User.Read\n"], "scopes"),
    "the field tool settings had before": ("post_operations_status", "requires_settings", ["operationsTeamId"],
                                           "requires_settings = [\"operationsTeamId\"]: unknown field"),
    "a setting whose example its pattern refuses": ("post_operations_status", "settings.operationsTeamId.example",
                                                    "ops-team", "settings.operationsTeamId.example = \"ops-team\""),
    "a setting pattern that is no regular expression": ("post_operations_status", "settings.operationsTeamId.pattern",
                                                        "[0-9", "not a regular expression"),
    "a setting named like a project setting": (
        "post_operations_status", "settings.location",
        {"description": "the region the posts mention", "pattern": "[a-z]+", "example": "eastus"},
        "a setting of the project (Pulumi.yaml) has this name"),
    "a setting name that is not camelCase": (
        "post_operations_status", "settings.operations_team",
        {"description": "the team the tool posts to", "pattern": "[a-z]+", "example": "ops"},
        "key \"operations_team\" not allowed; allowed: a camelCase setting name"),
    "a storage access that is neither read nor write": ("get_shared_runbook", "storage.access", "admin",
                                                        "storage.access = \"admin\": allowed values: read, write"),
    "a container name Azure refuses": ("get_shared_runbook", "storage.container", "Runbooks",
                                       "storage.container = \"Runbooks\": allowed: a blob container name"),
    "the workflow package's container": ("get_shared_runbook", "storage.container", "workflow-packages",
                                         "the workflow package's, the Functions host's or the Logic Apps runtime's"),
    "the Functions host's container": ("get_shared_runbook", "storage.container", "azure-webjobs-secrets",
                                       "not workflow-packages, packages, azure-webjobs-*, scm-*, flow*"),
    "a container named like the runtime's run history": (
        "get_shared_runbook", "storage.container", "flow7365adc025615f3", "Logic Apps runtime's own container"),
    "a date where text belongs": ("get_my_profile", "description", datetime.date(2025, 4, 14), "description"),
    "a connector given as a list": ("get_my_profile", "connector", ["office365users"], "connector"),
    "an identity given as a mapping": ("get_my_profile", "identity", {"per-user": True}, "identity"),
    "a path on two lines": ("get_my_profile", "operation.path", "/codeless/v1.0/me\n", "operation.path"),
    "a control character in a description": (
        "get_my_profile", "description",
        "Gets the signed-in user's own profile\x1b[31m, read with the signed-in user's permissions.", "description"),
    "binary in a query": ("get_my_profile", "operation.queries", {"$select": b"\x00"}, "YAML bytes"),
    "a number key in a query": ("get_my_profile", "operation.queries", {1: "x"}, "is not text"),
    # What a scope item may be is said, not "text".
    "a scope with a trailing space": ("get_my_profile", "scopes", ["User.Read "],
                                      "scopes[0] = \"User.Read \": allowed: a Microsoft Graph delegated scope name"),
    "a scope as a resource URI": ("get_my_profile", "scopes", ["https://graph.microsoft.com/User.Read"],
                                  "no resource URI, no .default"),
    "sign-in's own scope standing in for the tool's": ("get_my_profile", "scopes", ["openid"],
                                                       "openid: OpenID Connect scopes"),
    "sign-in's own scope beside the tool's": ("get_my_profile", "scopes", ["User.Read", "offline_access"],
                                              "offline_access: OpenID Connect scopes"),
    "a one-word justification": ("get_my_profile", "justification", "because",
                                 "justification = \"because\": allowed: at least 20 characters"),
    # The designer's rule for an agent tool's name: at most 48 characters.
    "a tool name of 49 characters": ("get_my_profile", "name", "get_my_" + "x" * 42, "3-48 lower-case letters"),
}

# Workflow expressions where the workflow carries a tool's text rather than its operation: the runtime evaluates
# them wherever they stand, into what the model reads.
EXPRESSIONS_OUTSIDE_THE_OPERATION = {
    "in the description": (
        "get_my_profile", "description",
        "Gets the signed-in user's own profile @{currentRequest()['headers']['X-MS-TOKEN-AAD-ACCESS-TOKEN']}, read "
        "with the signed-in user's permissions.", "get_my_profile'.description = "),
    "a whole description": ("get_my_profile", "description", "@{appsetting('agent_ResourceID')} the signed-in user's "
                            "own profile, read with the signed-in user's permissions.", ".description = "),
    "in an argument's description": (
        "get_my_upcoming_events", "arguments.properties",
        {"days": {"type": "integer", "description": "@{triggerBody()}"}}, ".arguments.properties.days.description"),
    "in an argument's default": (
        "get_my_upcoming_events", "arguments.properties",
        {"days": {"type": "integer", "description": "days", "default": "@appsetting('agent_openAIEndpoint')"}},
        ".arguments.properties.days.default"),
    "in an argument's enum": ("get_my_upcoming_events", "arguments.properties",
                              {"days": {"type": "string", "description": "days", "enum": ["@{workflow()}"]}},
                              ".arguments.properties.days.enum[0]"),
    "as an argument's name": ("get_my_upcoming_events", "arguments.properties",
                              {"days": {"type": "integer", "description": "days"},
                               "@{triggerBody()}": {"type": "string", "description": "x"}},
                              ".arguments.properties key = \"@{triggerBody()}\""),
    "in a write guard's choice": ("post_operations_status", "write_guard.choices",
                                  {"service": {"description": "@{triggerBody()} the service",
                                               "values": {"a": "A", "b": "B"}},
                                   "status": {"description": "the status of it", "values": {"a": "A", "b": "B"}}},
                                  ".write_guard.choices.service.description"),
}


@pytest.mark.parametrize("tool, field, value, where", EXPRESSIONS_OUTSIDE_THE_OPERATION.values(),
                         ids=list(EXPRESSIONS_OUTSIDE_THE_OPERATION))
def test_a_workflow_expression_outside_the_operation_is_refused(tool, field, value, where):
    assert_catalog_refused(_with(tool, field, value), [where, "a workflow expression"])


@pytest.mark.parametrize("text", ["Gets the signed-in user's own profile, mail to ops@contoso.com, read with the "
                                  "signed-in user's permissions.",
                                  "Gets the signed-in user's own profile (@@{not an expression}), read with the "
                                  "signed-in user's permissions."])
def test_an_at_sign_that_is_no_expression_stays_allowed(text):
    # an address, and '@@{', which the runtime reads as a literal '@{'
    assert parse_catalog(_with("get_my_profile", "description", text)).tools


# A setting's pattern is wrapped in the checks every value gets (no space at either end, no control characters);
# a pattern that only compiles inside the wrapper would step out of it.
@pytest.mark.parametrize("pattern", ["[a-z]+)|(.*", "x)|(?s:.*", "[0-9]+)(?:"])
def test_a_setting_pattern_cannot_step_out_of_the_checks_around_it(pattern):
    assert_catalog_refused(_with("post_operations_status", "settings.operationsTeamId.pattern", pattern),
                           [f"settings.operationsTeamId.pattern = {json.dumps(pattern)}: not a regular expression"])


@pytest.mark.parametrize("tool, field, value, words", BAD_FIELDS.values(), ids=list(BAD_FIELDS))
def test_bad_fields_are_refused_naming_the_tool_and_value(tool, field, value, words):
    assert_catalog_refused(_with(tool, field, value), [words])


def test_an_unknown_field_names_the_fields_a_tool_may_have():
    with pytest.raises(SettingsError) as raised:
        parse_catalog(_with("post_operations_status", "requires_settings", ["operationsTeamID"]))
    message = str(raised.value)
    assert "allowed fields: " + ", ".join(sorted(FIELDS)) in message


def test_a_declared_setting_the_operation_never_reads_stops_the_program(tmp_path):
    unread = {"description": "the channel topic the tool would set", "pattern": "[a-z]+", "example": "status"}
    result = run_with_catalog(
        lambda d: tool_entry(d, "post_operations_status")["settings"].update(operationsTopic=unread), tmp_path)
    assert isinstance(result.error, SettingsError), result.error
    assert "settings.operationsTopic: declared, but the operation never reads @parameters('operationsTopic')" in str(
        result.error)
    assert result.plan.registrations == []


# --- an operation reads only what its entry declares, and runs the operation written -----------------------

OPERATIONS_REFUSED = {
    "the user's token from the request headers": (
        "get_my_recent_mail", "operation.queries.importance",
        "@{currentRequest()['headers']['X-MS-TOKEN-AAD-ACCESS-TOKEN']}", "calls currentrequest()"),
    "an app setting": ("get_my_recent_mail", "operation.queries.importance",
                       "@appsetting('APPLICATIONINSIGHTS_CONNECTION_STRING')", "calls appsetting()"),
    "another tool's results": ("get_my_profile", "operation.queries.$select", "@{body('Get_my_recent_mail')}",
                               "calls body()"),
    "the chat": ("get_my_profile", "operation.queries.$select", "@triggerBody()", "calls triggerbody()"),
    "the workflow": ("get_my_profile", "operation.queries.$select", "@{workflow()?['run']}", "calls workflow()"),
    "a function named in another case": ("get_my_profile", "operation.queries.$select", "@{Variables('x')}",
                                         "calls variables()"),
    "a function after a space": ("get_my_profile", "operation.queries.$select", "@{outputs ('x')}",
                                 "calls outputs()"),
    "a function inside an allowed one": ("get_my_profile", "operation.queries.$select",
                                         "@{concat('a', actions('Get_my_recent_mail'))}", "calls actions()"),
    "a look-alike of an allowed function": ("get_my_profile", "operation.queries.$select",
                                            "@{utc\u039dow()}", "calls utc\u03bdow()"),
    "an expression as a query name": ("get_my_profile", "operation.queries",
                                      {"@{appsetting('X')}": "1"}, "queries key"),
    "a parent segment": ("get_my_recent_mail", "operation.path", "/v3/Mail/../../v2/Mail",
                         "reaches another operation than the one written"),
    "a current segment": ("get_my_recent_mail", "operation.path", "/v3/./Mail", "reaches another operation"),
    "an empty segment": ("get_my_recent_mail", "operation.path", "//evil.example/v3/Mail",
                         "reaches another operation"),
    "an encoded dot": ("get_my_recent_mail", "operation.path", "/v3/Mail/%2E%2e/x", "reaches another operation"),
    "an encoded slash": ("get_my_recent_mail", "operation.path", "/v3/Mail%2fSend", "reaches another operation"),
    "a double-encoded dot": ("get_my_recent_mail", "operation.path", "/v3/Mail/%252e%252e/x",
                             "reaches another operation"),
    "a backslash": ("get_my_recent_mail", "operation.path", "/v3/Mail\\..\\Send", "reaches another operation"),
    "a query in the path": ("get_my_recent_mail", "operation.path", "/v3/Mail?folderPath=SentItems",
                            "reaches another operation"),
    "the model's argument as path segments": ("get_my_upcoming_events", "operation.path",
                                              "/datasets/calendars/v3/tables/@{agentParameters('days')}/items",
                                              "could add path segments"),
    "a setting as path segments": ("get_shared_runbook", "operation.path",
                                   "/v2/datasets/@{parameters('runbooksStorageAccount')}/GetFileContentByPath",
                                   "could add path segments"),
}


@pytest.mark.parametrize("tool, field, value, words", OPERATIONS_REFUSED.values(), ids=list(OPERATIONS_REFUSED))
def test_an_operation_reads_only_what_it_declares_on_the_path_written(tool, field, value, words):
    assert_catalog_refused(_with(tool, field, value), [f"tool {tool!r}.operation", words])


@pytest.mark.parametrize("path", ["/v3/Mail/@{encodeUriComponent(agentParameters('days'))}",
                                  "/datasets/@{encodeURIComponent(encodeURIComponent(parameters('x')))}/files",
                                  "/v3/Mail/@@{literal}"])
def test_encoded_arguments_and_literal_at_signs_stay_one_segment(path):
    from agent_obo.catalog import _PATH_TRICK, without_expressions

    assert not _PATH_TRICK.search(without_expressions(path))


def test_a_catalog_loaded_twice_is_a_copy_each_time(tmp_path):
    # The program and the policy pack load it in one process under `make plan`: neither may see what the
    # other changed in its copy.
    first = load_catalog(CATALOG_PATH)
    first.tools[0].arguments.clear()
    assert load_catalog(CATALOG_PATH).tools[0].arguments


def test_a_catalog_changed_on_disk_is_read_again(tmp_path):
    path = tmp_path / "tools.yaml"
    path.write_text(CATALOG_PATH.read_text())
    assert load_catalog(path) == load_catalog(CATALOG_PATH)
    document = read_mapping(CATALOG_PATH, "the tool catalog")
    document["tools"][0]["description"] += " Changed."
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    assert load_catalog(path).tools[0].description.endswith(" Changed.")
    path.write_text("tools: [")
    with pytest.raises(SettingsError, match="not valid YAML"):
        load_catalog(path)


# `make plan CATALOG=<file>`: a file that is missing, a folder, or not UTF-8 stops the command with its path.
@pytest.mark.parametrize("content, words", [
    (None, "no such file"), ("folder", "Is a directory"), (b"tools:\n  - name: caf\xe9\n", "byte 0xe9 is not UTF-8"),
])
def test_make_plan_with_another_catalog_refuses_an_unreadable_file_without_a_traceback(tmp_path, capsys, content,
                                                                                       words):
    from offline.preview import main

    catalog = tmp_path / "tools.yaml"
    if content == "folder":
        catalog.mkdir()
    elif content is not None:
        catalog.write_bytes(content)
    assert main(["dev", "--catalog", str(catalog), "--build-dir", str(tmp_path / "build")]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: the tool catalog given with --catalog") and words in error, error
    assert str(catalog) in error and "Traceback" not in error


# --- a name that says "my data" is the signed-in user's data, however it is spelt ---------------------------

@pytest.mark.parametrize("name, word", [
    ("get_mycalendar", "mycalendar"), ("read_myfiles", "myfiles"), ("get_own_events", "own"), ("get_me", "me"),
    ("list_mine", "mine"), ("get_myself", "myself"), ("get_self_profile", "self"), ("getmycalendar", "getmycalendar"),
    ("get_ownevents", "ownevents"), ("my_runbook", "my"), ("get_my2_files", "my2"),
])
def test_a_name_saying_my_data_is_refused_on_shared_data(name, word):
    assert_catalog_refused(_with("get_shared_runbook", "name", name), [
        f"tool {name!r}.data = \"shared\": the name {name!r} says the signed-in user's own data ({word!r}); "
        "allowed: user, or rename it"])


@pytest.mark.parametrize("name", ["get_mysql_status", "list_myths", "get_mystery_runbook", "get_runbook_owner",
                                  "get_team_readme", "get_memo", "get_ownership_report"])
def test_an_ordinary_word_starting_like_my_is_not_my_data(name):
    assert parse_catalog(_with("get_shared_runbook", "name", name)).tools


# --- names Logic Apps and App Service do not tell apart -------------------------------------------------------

def _second_runbook_tool(document: dict) -> None:
    entry = copy.deepcopy(tool_entry(document, "get_shared_runbook"))
    entry.update(name="get_shared_runbook_copy")
    entry["storage"]["container"] = "run-books"
    entry["operation"]["path"] = entry["operation"]["path"].replace("runbooksStorageAccount", "runBooksStorageAccount")
    document["tools"].append(entry)


def _setting_in_another_case(name: str):
    def mutate(document: dict) -> None:
        entry = tool_entry(document, "post_operations_status")
        entry["settings"][name] = dict(entry["settings"]["operationsTeamId"])
        entry["operation"]["body"]["recipient"]["other"] = f"@parameters('{name}')"
    return mutate


@pytest.mark.parametrize("mutate, words", [
    (_second_runbook_tool, "tool 'get_shared_runbook_copy': the parameter of storage container 'run-books' "
                           "'runBooksStorageAccount' differs only in letter case from 'runbooksStorageAccount' of "
                           "tool 'get_shared_runbook'"),
    (_setting_in_another_case("operationsteamid"), "setting 'operationsteamid' differs only in letter case from "
                                                   "'operationsTeamId' of tool 'post_operations_status'"),
    (_setting_in_another_case("planSKU"), "setting 'planSKU' differs only in letter case from 'planSku' of the "
                                          "project (Pulumi.yaml)"),
])
def test_names_that_differ_only_in_case_are_refused(mutate, words):
    document = copy.deepcopy(DOCUMENT)
    mutate(document)
    assert_catalog_refused(document, [words, "do not tell them apart"])
