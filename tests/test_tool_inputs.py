"""What a tool needs from the stack, said once in its catalog entry (agent_obo/tool_inputs.py): its own
settings and the runtime storage container the app's identity reaches for it. Everything else follows
from that entry: the stack-config rule, the app setting, the parameters.json entry, the container, the
role assignment, the policy pack's expectations and the docs."""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest

from agent_obo.catalog import CATALOG_PATH, load_catalog, parse_catalog
from agent_obo.errors import SettingsError
from agent_obo.identity_matrix import identity_matrix_markdown
from agent_obo.tool_inputs import APP_SETTING_PREFIX, app_setting_name, container_grants
from agent_obo.yaml_files import read_mapping
from components.role_ids import STORAGE_BLOB_DATA_CONTRIBUTOR, STORAGE_BLOB_DATA_READER
from offline.runner import stack_config, stack_file
from policy.harness import run_policies
from tests.helpers import (
    CONTAINER,
    ROLE,
    SITE,
    agent_tools,
    app_settings,
    assert_catalog_refused,
    load_stack_settings,
    package_files,
    run_with_catalog,
    tool_entry,
)

DOCUMENT = read_mapping(CATALOG_PATH, "the tool catalog")


def failed_policies(plan) -> list:
    return [(r.name, r.violations) for r in run_policies(plan) if not r.passed]


# --- a new tool setting: one edit of the catalog, and its value in the stack file ---------------------------

PRIORITY = {"description": "the importance the status posts carry", "pattern": "normal|high|urgent",
            "example": "high"}


def add_priority_setting(document: dict) -> None:
    """The only change to the repository: the tool declares the setting and its operation reads it."""
    tool = tool_entry(document, "post_operations_status")
    tool["settings"]["operationsPriority"] = PRIORITY
    tool["operation"]["body"]["importance"] = "@parameters('operationsPriority')"


@pytest.fixture(scope="module")
def with_priority(tmp_path_factory):
    # The value is what the stack file would set: `agent-obo:operationsPriority: urgent` in Pulumi.dev.yaml.
    return run_with_catalog(add_priority_setting, tmp_path_factory.mktemp("priority"),
                            {"agent-obo:operationsPriority": "urgent"}).ok()


def test_a_tool_setting_added_in_the_catalog_alone_reaches_the_site_the_workflow_and_the_pack(with_priority):
    plan = with_priority
    assert app_settings(plan)["TOOL_OPERATIONS_PRIORITY"] == "urgent"
    parameters = json.loads(package_files(plan)["parameters.json"])
    assert parameters["operationsPriority"] == {"type": "String", "value": "@appsetting('TOOL_OPERATIONS_PRIORITY')"}
    (action,) = [a for a in agent_tools(plan)["post_operations_status"]["actions"].values()
                 if a["type"] == "ApiConnection"]
    assert action["inputs"]["body"]["importance"] == "@parameters('operationsPriority')"
    assert failed_policies(plan) == []  # the pack derives the same app settings from the catalog


def test_the_new_setting_is_required_while_its_tool_is_enabled(tmp_path):
    result = run_with_catalog(add_priority_setting, tmp_path)
    assert isinstance(result.error, SettingsError), result.error
    assert ("agent-obo:operationsPriority = '': required while tool 'post_operations_status' is enabled "
            "(the importance the status posts carry, such as high)") in str(result.error)
    assert result.plan.registrations == []


def test_the_new_setting_is_optional_once_its_tool_is_off(tmp_path):
    plan = run_with_catalog(add_priority_setting, tmp_path,
                            {"agent-obo:disabledTools": ["post_operations_status"]}).ok()
    assert not [name for name in app_settings(plan) if name.startswith("TOOL_OPERATIONS")]


@pytest.mark.parametrize("value", ["critical", "urgent ", "urgent\n", " high", "high\u00a0"])
def test_the_new_setting_is_checked_whole_like_every_setting(tmp_path, value):
    result = run_with_catalog(add_priority_setting, tmp_path, {"agent-obo:operationsPriority": value})
    assert isinstance(result.error, SettingsError), result.error
    assert (f"agent-obo:operationsPriority = {value!r}: not allowed; allowed: the importance the status posts "
            "carry, such as high") in str(result.error)
    assert result.plan.registrations == []


def test_a_misspelled_tool_setting_is_named_with_the_right_one(tmp_path):
    result = run_with_catalog(add_priority_setting, tmp_path, {"agent-obo:operationsPriority": "high",
                                                               "agent-obo:operationsPriorty": "high"})
    assert "did you mean agent-obo:operationsPriority?" in str(result.error)


def test_a_tool_setting_is_never_a_secret():
    """Its value becomes a plain app setting: a secret set there would land in state and the plan in clear."""
    config = stack_config(stack_file("dev").get("config"))
    with pytest.raises(SettingsError) as raised:
        load_stack_settings(config, "dev", secret_keys={"agent-obo:operationsTeamId"})
    assert "agent-obo:operationsTeamId = [secret]: set as a secret" in str(raised.value)
    assert config["agent-obo:operationsTeamId"] not in str(raised.value)


def test_the_generated_doc_lists_the_new_setting():
    document = copy.deepcopy(DOCUMENT)
    add_priority_setting(document)
    text = identity_matrix_markdown(parse_catalog(document))
    assert ("| `operationsPriority` | the importance the status posts carry | `high` | yes | "
            "`TOOL_OPERATIONS_PRIORITY` | `post_operations_status` |") in text


def test_no_catalog_entry_can_set_a_platform_app_setting(tmp_path):
    """WEBSITE_AUTH_ENABLED, AzureWebJobsStorage and the like change how the site runs: every derived app
    setting starts with TOOL_, which none of the site's own does."""
    def declare(document):
        tool = tool_entry(document, "post_operations_status")
        tool["settings"]["websiteAuthEnabled"] = {"description": "a value that looks like Easy Auth's switch",
                                                  "pattern": "true|false", "example": "false"}
        tool["operation"]["body"]["auth"] = "@parameters('websiteAuthEnabled')"

    plan = run_with_catalog(declare, tmp_path, {"agent-obo:websiteAuthEnabled": "false"}).ok()
    settings = app_settings(plan)
    assert settings["TOOL_WEBSITE_AUTH_ENABLED"] == "false" and "WEBSITE_AUTH_ENABLED" not in settings
    assert app_setting_name("azureWebJobsStorage") == "TOOL_AZURE_WEB_JOBS_STORAGE"
    assert not [name for name in app_settings(plan) if name.startswith(APP_SETTING_PREFIX)
                and name not in ("TOOL_WEBSITE_AUTH_ENABLED", "TOOL_OPERATIONS_TEAM_ID", "TOOL_OPERATIONS_CHANNEL_ID",
                                 "TOOL_RUNBOOKS_STORAGE_ACCOUNT")]


# --- storage: the container and the one role of the site's identity on it -----------------------------------

def add_report_writer(document: dict) -> None:
    """An app-only write on the blob connector into a container of its own, and a second reader of runbooks."""
    document["tools"].append({
        "name": "publish_status_report",
        "description": "Writes the daily status report for one service into the shared reports container, "
                       "as the app with its managed identity; the report names the user who asked.",
        "connector": "azureblob",
        "operation": {
            "method": "post",
            "path": "/v2/datasets/@{encodeURIComponent(encodeURIComponent(parameters('reportsStorageAccount')))}/files",
            "queries": {"folderPath": "/reports", "name": "status.md"},
            "body": "{choice:service} is {choice:status}; requested by {requester}"},
        "write_guard": {"choices": {
            "service": {"description": "The service the report is about.",
                        "values": {"email": "Email", "vpn": "VPN"}},
            "status": {"description": "The service's current status.",
                       "values": {"up": "Working normally", "down": "Not working"}}}},
        "identity": "app-only", "data": "shared", "access": "write", "requires_confirmation": True,
        "storage": {"container": "reports", "access": "write"}})
    second = copy.deepcopy(tool_entry(document, "get_shared_runbook"))
    second.update(name="get_shared_runbook_index", description=(
        "Reads the index of the operations team's shared runbooks, as the app with its managed identity."))
    document["tools"].append(second)


@pytest.fixture(scope="module")
def with_reports(tmp_path_factory):
    return run_with_catalog(add_report_writer, tmp_path_factory.mktemp("reports")).ok()


def test_a_declared_container_is_created_private_and_granted_to_the_site_alone(with_reports):
    plan = with_reports
    site = plan.one(SITE).outputs["identity"]["principalId"]
    reports = plan.one(CONTAINER, "runtime-storage-reports")
    assert reports.input("containerName") == "reports" and reports.input("publicAccess") == "None"
    grants = {r.name: r for r in plan.all(ROLE) if r.parent.endswith("connection-access")}
    assert set(grants) == {"azureblob-apponly-runbooks-reader", "azureblob-apponly-reports-writer"}
    writer = grants["azureblob-apponly-reports-writer"]
    assert writer.input("roleDefinitionId").endswith(STORAGE_BLOB_DATA_CONTRIBUTOR)
    assert writer.input("scope") == reports.resource_id and writer.input("principalId") == site
    reader = grants["azureblob-apponly-runbooks-reader"]  # two tools on runbooks, still one role
    assert reader.input("roleDefinitionId").endswith(STORAGE_BLOB_DATA_READER)
    assert reader.input("scope") == plan.one(CONTAINER, "runtime-storage-runbooks").resource_id
    assert app_settings(plan)["TOOL_REPORTS_STORAGE_ACCOUNT"] == plan.one(
        "azure-native:storage:StorageAccount").input("accountName")
    assert failed_policies(plan) == []  # the pack expects exactly the grants the catalog declares


def test_the_pack_refuses_the_writer_on_a_container_no_tool_writes(with_reports):
    registrations = []
    for registration in with_reports.registrations:
        if registration.name == "azureblob-apponly-reports-writer":
            registration = copy.deepcopy(registration)
            registration.raw_inputs["scope"] = registration.raw_inputs["scope"].replace("/reports", "/runbooks")
        registrations.append(registration)
    plan = dataclasses.replace(with_reports, registrations=registrations)
    assert [name for name, _ in failed_policies(plan)] == ["role-assignments"]


def test_a_switched_off_tool_keeps_its_container_but_not_its_role(plans):
    prod = plans["prod"]  # get_shared_runbook is off in prod
    assert prod.one(CONTAINER, "runtime-storage-runbooks")
    assert not [r for r in prod.all(ROLE) if r.parent.endswith("connection-access")]
    assert "TOOL_RUNBOOKS_STORAGE_ACCOUNT" not in app_settings(prod)


def test_grants_take_the_most_any_tool_declares():
    document = copy.deepcopy(DOCUMENT)
    add_report_writer(document)
    reader = copy.deepcopy(tool_entry(document, "get_shared_runbook"))
    reader.update(name="get_status_report", description="Reads a status report, as the app with its identity.",
                  storage={"container": "reports", "access": "read"})
    reader["operation"]["path"] = reader["operation"]["path"].replace("runbooksStorageAccount",
                                                                      "reportsStorageAccount")
    document["tools"].append(reader)
    (grant,) = [g for g in container_grants(parse_catalog(document)) if g.container == "reports"]
    assert grant.access == "write" and grant.tools == ("publish_status_report", "get_status_report")


BAD_STORAGE = {
    "storage on a per-user tool": (
        lambda d: tool_entry(d, "list_my_files").update(storage={"container": "files", "access": "read"}),
        ["tool 'list_my_files'.storage", "only app-only tools declare storage"]),
    "storage on a connector without blob containers": (
        lambda d: tool_entry(d, "post_operations_status").update(storage={"container": "posts", "access": "write"}),
        ["connector 'teams' does not read blob containers", "storage needs one of: azureblob"]),
    "write access for a read tool": (
        lambda d: tool_entry(d, "get_shared_runbook")["storage"].update(access="write"),
        ["tool 'get_shared_runbook'.storage.access = \"write\": a read tool reaches its container read-only"]),
    "a container the operation never names the account of": (
        lambda d: tool_entry(d, "get_shared_runbook")["storage"].update(container="playbooks"),
        ["never reads @parameters('playbooksStorageAccount')",
         "reads @parameters('runbooksStorageAccount'), which the tool does not declare"]),
}


@pytest.mark.parametrize("change, fragments", BAD_STORAGE.values(), ids=list(BAD_STORAGE))
def test_storage_that_does_not_fit_the_tool_is_refused(change, fragments):
    document = copy.deepcopy(DOCUMENT)
    change(document)
    assert_catalog_refused(document, fragments)


def declare_and_read(tool_name: str, setting: str, declaration: dict):
    def change(document: dict) -> None:
        tool = tool_entry(document, tool_name)
        tool.setdefault("settings", {})[setting] = declaration
        tool["operation"].setdefault("queries", {})[setting] = f"@parameters('{setting}')"
    return change


TEAM = tool_entry(DOCUMENT, "post_operations_status")["settings"]["operationsTeamId"]
BAD_SETTINGS = {
    "two tools declaring one setting differently": (
        declare_and_read("get_shared_runbook", "operationsTeamId", {**TEAM, "required": False}),
        ["settings.operationsTeamId: declared differently by tool"]),
    "a setting named like a storage parameter": (
        declare_and_read("get_shared_runbook", "runbooksStorageAccount", PRIORITY),
        ["parameter 'runbooksStorageAccount' is both a setting and a storage account's name"]),
    "two settings that become one app setting": (
        declare_and_read("post_operations_status", "operationsTeamID", TEAM),
        ["'operationsTeamID' and 'operationsTeamId' both become app setting TOOL_OPERATIONS_TEAM_ID"]),
}


@pytest.mark.parametrize("change, fragments", BAD_SETTINGS.values(), ids=list(BAD_SETTINGS))
def test_settings_that_clash_are_refused(change, fragments):
    document = copy.deepcopy(DOCUMENT)
    change(document)
    assert_catalog_refused(document, fragments)


def test_the_real_catalog_declares_its_settings_and_storage():
    catalog = load_catalog()
    tools = {tool.name: tool for tool in catalog.tools}
    assert [s.name for s in tools["post_operations_status"].settings] == ["operationsTeamId", "operationsChannelId"]
    assert tools["get_shared_runbook"].storage is not None
    assert tools["get_shared_runbook"].storage.parameter == "runbooksStorageAccount"
