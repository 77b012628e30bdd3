"""Tools and labelled connections: one catalog decides per-user or app-only; the rest is derived."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from agent_obo.catalog import APP_ONLY, PER_USER, load_catalog, parse_catalog
from agent_obo.errors import SettingsError
from agent_obo.identity_matrix import DOC_PATH, identity_matrix
from agent_obo.identity_matrix import main as identity_matrix_main
from agent_obo.tool_connections import connection_specs
from agent_obo.workflow_tools import CONFIRMATION_NOTE
from offline.mocks import TENANT_ID
from offline.project_copy import project_copy
from offline.runner import PROJECT_DIR, RunResult, run_stack
from tests.helpers import (
    CONNECTION,
    SITE,
    agent_tools,
    app_settings,
    assert_catalog_refused,
    catalog_document,
    documented_sign_in_scopes,
    make_dry_run,
    package_files,
    run_with,
    run_with_catalog,
    settings_of,
    tool_entry,
    workflow,
)

CATALOG = load_catalog()


def documented_retry_policy() -> dict[str, object]:
    """The retry policy docs/audit-and-troubleshooting.md promises ("4 retries, 10 s growing to 1 min"),
    as the workflow language writes it: a change to either side fails until both say the same."""
    text = " ".join((PROJECT_DIR / "docs" / "audit-and-troubleshooting.md").read_text().split())
    found = re.search(r"exponential backoff \((\d+) retries, (\d+) s growing to (\d+) min\)", text)
    assert found, "docs/audit-and-troubleshooting.md no longer states the tools' retry policy"
    count, interval, maximum = map(int, found.groups())
    return {"type": "exponential", "count": count, "interval": f"PT{interval}S", "minimumInterval": "PT5S",
            "maximumInterval": f"PT{maximum}M"}


DOCUMENTED_RETRY_POLICY = documented_retry_policy()


def connections(plan) -> dict[str, object]:
    return {r.name: r for r in plan.all(CONNECTION) if r.input("resourceType") == "connections"}


def access_policies(plan) -> list:
    return [r for r in plan.all(CONNECTION) if r.input("resourceType") == "accessPolicies"]


def connections_json(plan) -> dict:
    return json.loads(package_files(plan)["connections.json"])


def enabled(plan):
    return CATALOG.without(settings_of(plan.stack).disabled_tools)


# --- the catalog -----------------------------------------------------------------------------------

def test_catalog_is_realistic():
    user_reads = [t for t in CATALOG.tools if t.identity == PER_USER and t.data == "user" and t.access == "read"]
    app_only = [t for t in CATALOG.tools if t.identity == APP_ONLY]
    assert len(user_reads) >= 3
    assert any(t.connector.managed_identity for t in app_only)
    assert any(t.access == "write" and t.data == "shared" and t.requires_confirmation for t in app_only)


def test_every_user_data_read_runs_per_user_and_every_write_app_only_with_confirmation():
    for tool in CATALOG.tools:
        if tool.justification:
            continue
        if tool.data == "user" and tool.access == "read":
            assert tool.identity == PER_USER, tool.name
        if tool.access == "write":
            assert tool.identity == APP_ONLY and tool.requires_confirmation, tool.name


# --- connections ----------------------------------------------------------------------------------

def test_one_connection_per_connector_and_identity(plan):
    expected = {f"{t.connector.api_name}-{t.identity.replace('-', '')}" for t in enabled(plan).tools}
    assert set(connections(plan)) == expected


def test_per_user_connections_are_dynamic_v2_connections(plan):
    for spec in connection_specs(enabled(plan)):
        connection = connections(plan)[spec.reference]
        assert connection.input("kind") == "V2"
        assert connection.input("resourceProviderNamespace") == "Microsoft.Web"
        assert connection.input("properties.api.id").endswith(f"/managedApis/{spec.connector.api_name}")
        if spec.per_user:
            assert connection.input("apiVersion") == "2018-07-01-preview"
            assert connection.input("properties.features") == "DynamicUserInvoked"
            assert spec.connector.per_user_capable
        else:
            assert connection.input("properties.features") is None


def test_app_only_connections_use_the_managed_identity_or_are_flagged_for_authorization(plan):
    flagged = []
    for spec in connection_specs(enabled(plan)):
        connection = connections(plan)[spec.reference]
        value_set = connection.input("properties.parameterValueSet")
        if spec.per_user:
            flagged.append(spec.reference)  # validated and consented once by an operator
        elif spec.connector.managed_identity:
            assert value_set == {"name": "managedIdentityAuth", "values": {}}
            # Learn's Standard multi-authentication example: a V2 connection on 2018-07-01-preview.
            assert (connection.input("apiVersion"), connection.input("kind")) == ("2018-07-01-preview", "V2")
        else:
            assert value_set is None
            assert connection.input("apiVersion") == "2016-06-01"  # the connection API's stable version
            flagged.append(spec.reference)
            assert connection.input("tags.authentication") == "service account (OAuth)"
    listed = plan.stack_outputs["connectionsNeedingAuthorization"]
    assert [entry["connection"] for entry in listed] == flagged
    assert flagged == ["office365-peruser", "onedriveforbusiness-peruser", "office365users-peruser", "teams-apponly"]


def test_connections_needing_authorization_say_what_the_operator_needs(plan):
    """The Azure name and id come from the resource (a per-user name ends in its generation id)."""
    for entry in plan.stack_outputs["connectionsNeedingAuthorization"]:
        connection = connections(plan)[entry["connection"]]
        assert entry["azureName"] == connection.input("resourceName") == connection.outputs["name"]
        assert entry["resourceId"] == connection.resource_id
        assert entry["resourceId"].endswith(f"/providers/Microsoft.Web/connections/{entry['azureName']}")
        assert connection.input("properties.api.id").endswith(f"/managedApis/{entry['connector']}")
        assert entry["identityMode"] == connection.input("tags.identity-mode")
        assert entry["authentication"] == connection.input("tags.authentication")
        if entry["identityMode"] == PER_USER:
            assert re.fullmatch(rf"{entry['connection']}-[0-9a-f]{{8}}", entry["azureName"])
            assert "each chat user then signs in at first use" in entry["signsIn"]
        else:
            assert entry["azureName"] == entry["connection"]
            assert entry["signsIn"].startswith("the service account")


def test_every_connection_is_labelled_three_ways_that_agree(plan):
    for name, connection in connections(plan).items():
        mode = connection.input("tags.identity-mode")
        suffix = {PER_USER: "-peruser", APP_ONLY: "-apponly"}[mode]
        label = {PER_USER: "[per-user] ", APP_ONLY: "[app-only] "}[mode]
        assert name.endswith(suffix)
        assert connection.input("resourceName").startswith(name)
        assert connection.input("properties.displayName").startswith(label)
        other = "[app-only]" if mode == PER_USER else "[per-user]"
        assert other not in connection.input("properties.displayName")
        tools = connection.input("tags.tools").split()
        assert tools and all(CATALOG.tools[CATALOG.names().index(t)].identity == mode for t in tools)


def test_per_user_connections_are_named_by_a_generation_renewed_with_their_scopes(plan):
    generations = {r.name: r for r in plan.all("random:index/randomId:RandomId")}
    for spec in connection_specs(enabled(plan)):
        connection = connections(plan)[spec.reference]
        assert connection.input("tags.scope-fingerprint") == spec.fingerprint
        if spec.per_user:
            generation = generations[f"{spec.reference}-generation"]
            assert generation.input("keepers") == {"scope-fingerprint": spec.fingerprint}
            assert generation.parent == connection.parent
            assert connection.input("resourceName") == f"{spec.reference}-{generation.outputs['hex']}"
            assert generation.urn in connection.dependencies
            assert connection.input("tags.scopes") == " ".join(spec.scopes)
        else:
            assert connection.input("resourceName") == spec.reference
    assert len(generations) == len([s for s in connection_specs(enabled(plan)) if s.per_user])


def test_every_connection_has_an_access_policy_for_the_sites_system_identity(plan):
    principal = plan.one(SITE).outputs["identity"]["principalId"]
    policies = {p.input("parentResourcePath"): p for p in access_policies(plan)}
    assert len(policies) == len(connections(plan))
    for _name, connection in connections(plan).items():
        policy = policies[f"connections/{connection.input('resourceName')}"]
        assert policy.input("resourceName") == principal
        assert policy.input("properties") == {"principal": {"type": "ActiveDirectory", "identity": {
            "tenantId": TENANT_ID, "objectId": principal}}}
        assert connection.urn in policy.dependencies
        # Under the connection's Azure name: a renamed (new) connection gets a new policy.
        generations = [urn for urn in connection.dependencies if "randomId:RandomId" in urn]
        assert policy.property_dependencies.get("parentResourcePath", []) == generations


def test_the_app_only_blob_tool_may_read_the_runbooks_container_only(plan):
    reader = [r for r in plan.all("azure-native:authorization:RoleAssignment")
              if r.input("roleDefinitionId").endswith("2a2b9908-6ea1-4ae2-8e65-a410df84e7d1")]
    if "get_shared_runbook" in settings_of(plan.stack).disabled_tools:
        assert reader == []  # prod: a private runtime storage account (agent_obo.prepare)
        return
    (grant,) = reader
    assert grant.input("principalId") == plan.one(SITE).outputs["identity"]["principalId"]
    runbooks = plan.one("azure-native:storage:BlobContainer", "runtime-storage-runbooks")
    assert grant.input("scope") == runbooks.resource_id


# --- connections.json, app settings and the workflow ---------------------------------------------

def test_connections_json_has_one_entry_per_connection_and_marks_per_user_ones_dynamic(plan):
    entries = connections_json(plan)["managedApiConnections"]
    assert set(entries) == set(connections(plan))
    for spec in connection_specs(enabled(plan)):
        entry = entries[spec.reference]
        assert entry["authentication"] == {"type": "ManagedServiceIdentity"}
        proxy = f"@appsetting('{spec.reference}_dynamicConnectionProxyUrl')"
        # Each Microsoft reader's view (agent_obo/tool_connections.py): the portal designer's nested
        # form, the VS Code extension's and the standalone designer's top level.
        for view in (entry.get("connectionProperties") or {}, entry):
            assert (view.get("runtimeSource") == "Dynamic") is spec.per_user
            assert view.get("dynamicConnectionProxyUrl") == (proxy if spec.per_user else None)


def test_connection_app_settings_carry_the_connections_runtime_values(plan):
    settings = app_settings(plan)
    for name, connection in connections(plan).items():
        assert settings[f"{name}_connectionId"] == connection.resource_id
        assert settings[f"{name}_connectionRuntimeUrl"] == connection.outputs["properties"]["connectionRuntimeUrl"]
        proxy = connection.outputs["properties"].get("dynamicConnectionProxyUrl")
        assert settings.get(f"{name}_dynamicConnectionProxyUrl") == proxy


def test_every_app_setting_and_parameter_the_package_reads_exists(plan):
    files = {path: content.decode() for path, content in package_files(plan).items()}
    settings = app_settings(plan)
    read = set()
    for content in files.values():
        read |= set(re.findall(r"appsetting\('([^']+)'\)", content))
    assert read and read <= set(settings), sorted(read - set(settings))
    declared = set(json.loads(files["parameters.json"]))
    used = set(re.findall(r"parameters\('([^']+)'\)", files["obo-agent/workflow.json"]))
    assert used <= declared, sorted(used - declared)


def test_workflow_tools_are_the_enabled_catalog(plan):
    tools = agent_tools(plan)
    assert list(tools) == enabled(plan).names()
    for tool in enabled(plan).tools:
        definition = tools[tool.name]
        assert definition["description"].startswith(tool.description)
        assert definition["agentParameterSchema"] == tool.arguments
        audit, action = definition["actions"].values()
        assert audit["type"] == "Compose" and action["type"] == "ApiConnection"
        assert action["inputs"]["host"]["connection"]["referenceName"] == tool.connection_reference
        assert action["inputs"]["method"] == tool.operation.method
        assert action["inputs"]["path"] == tool.operation.path  # no guard placeholder in today's paths
        assert action["inputs"]["retryPolicy"] == DOCUMENTED_RETRY_POLICY
        assert (CONFIRMATION_NOTE in definition["description"]) is tool.requires_confirmation


def test_every_api_connection_uses_a_connection_with_exactly_one_identity_mode(plan):
    declared = connections_json(plan)["managedApiConnections"]
    modes = {name: c.input("tags.identity-mode") for name, c in connections(plan).items()}
    for tool_name, definition in agent_tools(plan).items():
        for action in definition["actions"].values():
            if action["type"] != "ApiConnection":
                continue
            reference = action["inputs"]["host"]["connection"]["referenceName"]
            assert reference in declared, (tool_name, reference)
            suffix_modes = [mode for mode, suffix in ((PER_USER, "-peruser"), (APP_ONLY, "-apponly"))
                            if reference.endswith(suffix)]
            assert suffix_modes == [modes[reference]], (tool_name, reference)
            tool = CATALOG.tools[CATALOG.names().index(tool_name)]
            assert modes[reference] == tool.identity


def test_graph_scopes_are_the_sign_in_scopes_and_the_tools_keep_theirs_in_the_matrix(plan):

    union = {s for t in enabled(plan).tools if t.identity == PER_USER for s in t.scopes}
    assert plan.stack_outputs["graphScopes"] == sorted(documented_sign_in_scopes())
    listed = {s for row in plan.stack_outputs["identityMatrix"] for s in row["scopes"].split() if s != "-"}
    assert listed == union


def test_the_identity_matrix_is_an_output(plan):
    assert plan.stack_outputs["identityMatrix"] == identity_matrix(enabled(plan), connection_specs(enabled(plan)))


def test_the_identity_matrix_doc_is_what_make_docs_writes(tmp_path):
    regenerated = tmp_path / "identity-matrix.md"
    assert identity_matrix_main(["--output", str(regenerated)]) == 0  # what `make docs` runs
    assert regenerated.read_bytes() == (PROJECT_DIR / DOC_PATH).read_bytes(), "stale: run `make docs`"
    assert any(line.endswith("-m agent_obo.identity_matrix") for line in make_dry_run("docs"))


def test_generation_is_deterministic(plans):
    again = run_with({}).ok()
    assert package_files(again) == package_files(plans["dev"])
    assert again.one("pulumi-python:dynamic:Resource").input("sha256") == \
        plans["dev"].one("pulumi-python:dynamic:Resource").input("sha256")


# --- environments switch tools off ---------------------------------------------------------------

@pytest.fixture(scope="module")
def without_mail_and_posting():
    return run_with({"agent-obo:disabledTools": ["get_my_recent_mail", "post_operations_status"]}).ok()


def test_a_disabled_tool_leaves_the_workflow_its_connection_and_its_scopes(plans, without_mail_and_posting):
    plan = without_mail_and_posting
    assert "get_my_recent_mail" not in agent_tools(plan) and "post_operations_status" not in agent_tools(plan)
    assert "teams-apponly" not in connections(plan)
    assert "Mail.Read" not in {s for row in plan.stack_outputs["identityMatrix"] for s in row["scopes"].split()}
    assert "teams-apponly" not in [e["connection"] for e in plan.stack_outputs["connectionsNeedingAuthorization"]]
    # Fewer scopes on the Outlook connection: a new per-user connection replaces the old one.
    before = connections(plans["dev"])["office365-peruser"].input("resourceName")
    assert connections(plan)["office365-peruser"].input("resourceName") != before


# --- scope changes replace only the per-user connection ---------------------------------------------

def test_a_scope_change_replaces_that_per_user_connection_and_its_policy_only(plans, rescoped):
    before, after = plans["dev"], rescoped
    old, new = connections(before), connections(after)
    assert new["office365-peruser"].urn == old["office365-peruser"].urn  # same logical resource...
    assert new["office365-peruser"].input("resourceName") != old["office365-peruser"].input("resourceName")
    generation = "office365-peruser-generation"
    assert after.one("random:index/randomId:RandomId", generation).input("keepers") != \
        before.one("random:index/randomId:RandomId", generation).input("keepers")  # a new random name
    assert new["office365-peruser"].delete_before_replace is False  # ...new one first, then the old one
    for name in old:
        if name != "office365-peruser":
            assert new[name].inputs == old[name].inputs, name
    old_policies = {p.name: p for p in access_policies(before)}
    for policy in access_policies(after):
        changed = policy.inputs != old_policies[policy.name].inputs
        assert changed is (policy.name == "office365-peruser-site-access"), policy.name
    for type_, name in (("azuread:index/application:Application", "chat-app-app"),
                        ("azure-native:storage:StorageAccount", None)):
        assert after.one(type_, name).urn == before.one(type_, name).urn
    assert before.one(SITE).inputs == after.one(SITE).inputs  # the site itself is untouched...
    old_settings, new_settings = app_settings(before), app_settings(after)
    assert {k for k in old_settings if old_settings[k] != new_settings[k]} == {  # ...only its settings change
        "office365-peruser_connectionId", "office365-peruser_connectionRuntimeUrl",
        "office365-peruser_dynamicConnectionProxyUrl"}


# --- the catalog's rules, enforced before anything is registered ------------------------------------

def mutated(change) -> dict:
    document = catalog_document()
    change(document)
    return document


BAD_CATALOGS = {
    "per-user on a connector without delegated connections": (
        lambda d: tool_entry(d, "get_shared_runbook").update(
            identity="per-user", connector="salesforce", scopes=["User.Read"], description=(
                "Reads the signed-in user's own Salesforce cases, as the signed-in user.")),
        ["tool 'get_shared_runbook'.identity", "connector 'salesforce' (Salesforce)",
         "does not support per-user"]),
    "user data read as the app without justification": (
        lambda d: tool_entry(d, "get_my_profile").update(
            identity="app-only", scopes=[], description="Gets the user's profile, as the app."),
        ["tool 'get_my_profile'.identity", "reads of the signed-in user's own data run per-user"]),
    "per-user write without justification": (
        lambda d: tool_entry(d, "post_operations_status").update(
            identity="per-user", scopes=["ChannelMessage.Send"],
            description="Posts a status update to the operations channel as the signed-in user."),
        ["tool 'post_operations_status'.identity", "writes run app-only after confirmation"]),
    "write without confirmation": (
        lambda d: tool_entry(d, "post_operations_status").update(requires_confirmation=False),
        ["tool 'post_operations_status'.requires_confirmation", "explicit confirmation"]),
    "duplicate tool names": (
        lambda d: d["tools"].append(dict(tool_entry(d, "get_my_profile"))),
        ["tool 'get_my_profile': name used by 2 tools"]),
    "unknown connector": (
        lambda d: tool_entry(d, "get_my_profile").update(connector="office365userz"),
        ["tool 'get_my_profile'.connector = \"office365userz\"", "allowed values:"]),
    "argument the schema does not define": (
        lambda d: tool_entry(d, "get_my_recent_mail")["arguments"]["properties"].pop("count"),
        ["uses agentParameters('count')", "arguments do not define"]),
    "description that hides the identity": (
        lambda d: tool_entry(d, "get_my_recent_mail").update(description="Gets the newest messages in an Inbox."),
        ["tool 'get_my_recent_mail'.description", "'signed-in user'"]),
    "per-user tool without scopes": (
        lambda d: tool_entry(d, "list_my_files").update(scopes=[]),
        ["tool 'list_my_files'.scopes", "must list the delegated scopes"]),
    # A read tool's consent stays read-only: each user consents to the connector for exactly these scopes.
    "a read tool asking to write": (
        lambda d: tool_entry(d, "get_my_upcoming_events").update(scopes=["Calendars.Read", "Calendars.ReadWrite"]),
        ["tool 'get_my_upcoming_events'.scopes", "Calendars.ReadWrite is not a permission that only reads"]),
    "a read tool asking to send": (
        lambda d: tool_entry(d, "get_my_recent_mail").update(scopes=["Mail.Read", "Mail.Send"]),
        ["tool 'get_my_recent_mail'.scopes", "Mail.Send is not"]),
    "a read tool acting as the user everywhere": (
        lambda d: tool_entry(d, "get_my_profile").update(scopes=["Directory.AccessAsUser.All"]),
        ["Directory.AccessAsUser.All is not"]),
    "a read tool whose scope differs in case": (
        lambda d: tool_entry(d, "list_my_files").update(scopes=["files.read"]),
        ["tool 'list_my_files'.scopes", "files.read is not"]),
    # What the tool is about cannot be relabelled in one word: its name and description say whose data it is.
    "a my-data tool relabelled shared and run as the app": (
        lambda d: tool_entry(d, "get_my_recent_mail").update(
            identity="app-only", data="shared", scopes=[],
            description="Gets the newest messages in the shared Inbox (sender, subject, preview), as the app."),
        ["tool 'get_my_recent_mail'.data = \"shared\"", "says the signed-in user's own data"]),
    "shared data described as the user's own": (
        lambda d: tool_entry(d, "get_my_recent_mail").update(data="shared"),
        ["tool 'get_my_recent_mail'.description", "a tool of shared data may not say \"signed-in user's own\""]),
    "user data not described as the user's own": (
        lambda d: tool_entry(d, "get_shared_runbook").update(
            data="user", justification="Runbooks hold nothing personal; the app reads them for everyone."),
        ["tool 'get_shared_runbook'.description", "a tool of user data must say \"signed-in user's own\""]),
    "a per-user tool described as running as the app": (
        lambda d: tool_entry(d, "get_my_profile").update(description=(
            "Gets the signed-in user's own profile as the app, read with the signed-in user's permissions.")),
        ["tool 'get_my_profile'.description", "may not say 'as the app'"]),
}


@pytest.mark.parametrize("change, fragments", BAD_CATALOGS.values(), ids=list(BAD_CATALOGS))
def test_bad_catalog_entries_are_refused_naming_tool_and_rule(change, fragments):
    assert_catalog_refused(mutated(change), fragments)


def test_an_exception_with_justification_is_allowed():
    document = mutated(lambda d: tool_entry(d, "get_my_profile").update(
        identity="app-only", scopes=[], description="Gets the signed-in user's own profile card, as the app.",
        justification="Profile cards are directory data every employee may read; no mailbox access."))
    catalog = parse_catalog(document)
    spec = next(s for s in connection_specs(catalog) if s.reference == "office365users-apponly")
    assert spec.tags({})["justified-exceptions"] == "get_my_profile"


def test_a_bad_catalog_stops_the_program_before_any_resource(tmp_path):
    result = run_with_catalog(lambda d: tool_entry(d, "post_operations_status").update(
        requires_confirmation=False), tmp_path)
    assert isinstance(result.error, SettingsError)
    assert "explicit confirmation" in str(result.error)
    assert result.plan.registrations == []


def test_disabling_a_tool_the_catalog_lacks_fails():
    result = run_with({"agent-obo:disabledTools": ["get_my_horoscope"]})
    assert isinstance(result.error, SettingsError)
    assert "agent-obo:disabledTools" in str(result.error) and "'get_my_horoscope'" in str(result.error)
    assert result.plan.registrations == []


def test_an_enabled_tool_needs_its_settings():
    result = run_with({"agent-obo:operationsChannelId": ""})
    assert isinstance(result.error, SettingsError)
    message = str(result.error)
    assert "agent-obo:operationsChannelId = ''" in message and "'post_operations_status'" in message
    assert result.plan.registrations == []


AGENT_WORKFLOW_FILE = "workflows/obo-agent/workflow.json"


def run_with_agent_workflow(edit, tmp_path: Path) -> RunResult:
    """dev with workflows/obo-agent/workflow.json changed by `edit` (on its parsed JSON)."""
    document = json.loads((PROJECT_DIR / AGENT_WORKFLOW_FILE).read_text())
    edit(document["definition"]["actions"]["Workplace_assistant"])
    return run_stack("dev", project_dir=project_copy(tmp_path, {AGENT_WORKFLOW_FILE: json.dumps(document)}))


def test_the_workflow_may_only_reference_catalog_tools(tmp_path):
    result = run_with_agent_workflow(lambda action: action.update(tools={"delete_all_mail": {"description": "x"}}),
                                     tmp_path)
    assert isinstance(result.error, SettingsError)
    assert ("Workplace_assistant.tools = {\"delete_all_mail\": {\"description\": \"x\"}}: allowed: {} (generated from "
            "catalog/tools.yaml, which decides each tool's identity)") in str(result.error)
    assert result.plan.registrations == []


def test_the_entry_agent_runs_after_the_chat_trigger(plan):
    definition = workflow(plan)["definition"]
    (trigger,) = definition["triggers"]
    (agent,) = [action for action in definition["actions"].values() if action["type"] == "Agent"]
    assert agent["runAfter"] == {trigger: ["Succeeded"]}


@pytest.mark.parametrize("run_after", [{}, {"When_a_new_chat_session_starts": ["Failed"]}, None])
def test_an_entry_agent_that_does_not_run_after_the_trigger_is_refused(tmp_path, run_after):
    def edit(action: dict) -> None:
        if run_after is None:
            del action["runAfter"]
        else:
            action["runAfter"] = run_after

    result = run_with_agent_workflow(edit, tmp_path)
    assert isinstance(result.error, SettingsError)
    message = str(result.error)
    assert "action 'Workplace_assistant' runAfter = " + json.dumps(run_after) in message
    assert 'allowed: {"When_a_new_chat_session_starts": ["Succeeded"]}' in message
    assert result.plan.registrations == []
