"""What the foundation deploys, asserted on the recorded plan of every stack file."""

from __future__ import annotations

import re

import pytest

from components.logic_app import EXTENSION_BUNDLE_ID, EXTENSION_BUNDLE_VERSION
from components.role_ids import (
    COGNITIVE_SERVICES_OPENAI_USER,
    STORAGE_BLOB_DATA_CONTRIBUTOR,
    STORAGE_BLOB_DATA_OWNER,
    STORAGE_QUEUE_DATA_CONTRIBUTOR,
    STORAGE_TABLE_DATA_CONTRIBUTOR,
)
from offline.mocks import DEPLOYER_OBJECT_ID, SUBSCRIPTION_ID, AzureMocks
from tests.helpers import IDENTITY, ROLE, SITE, STORAGE, accepts_tags, app_settings, settings_of


def package_container(plan):
    return plan.one("azure-native:storage:BlobContainer", "runtime-storage-packages")


def role_name(registration) -> str:
    return registration.input("roleDefinitionId").rsplit("/", 1)[-1]


# --- shape of the program --------------------------------------------------------------------------

def test_every_resource_sits_in_a_component_of_this_project(plan):
    components = {r.urn: r for r in plan.all(custom=False)}
    for resource in plan.resources:
        parent = components.get(resource.parent)
        assert parent is not None, f"{resource.urn} has no component parent"
        assert parent.type.startswith("agent-obo:"), f"{resource.urn} parent {parent.type}"
    for component in components.values():
        assert re.fullmatch(r"agent-obo:[a-z]+:[A-Z][A-Za-z]+", component.type), component.type
        assert component.urn in {r.parent for r in plan.registrations}, f"{component.urn} is empty"


def test_components_register_their_outputs(plan):
    for component in plan.all(custom=False):
        assert component.outputs, f"{component.urn} registered no outputs"


def test_every_taggable_resource_carries_the_environment_tags(plan):
    expected = settings_of(plan.stack).tags
    assert expected["environment"] == plan.stack and expected["project"] == "agent-obo"
    taggable = [r for r in plan.resources if accepts_tags(r)]
    assert len(taggable) >= 9
    for resource in taggable:
        tags = resource.inputs.get("tags") or {}
        missing = {k: v for k, v in expected.items() if tags.get(k) != v}
        assert not missing, f"{resource.urn} lacks tags {missing}"


def test_azure_names_follow_caf_with_environment_and_stable_suffix(plan):
    names = {
        "azure-native:operationalinsights:Workspace": "workspaceName",
        "azure-native:applicationinsights:Component": "resourceName",
        IDENTITY: "resourceName",
        "azure-native:web:AppServicePlan": "name",
        SITE: "name",
    }
    prefixes = {"azure-native:operationalinsights:Workspace": "log",
                "azure-native:applicationinsights:Component": "appi", IDENTITY: "id",
                "azure-native:web:AppServicePlan": "asp", SITE: "logic"}
    suffixes = set()
    for type_, key in names.items():
        value = plan.one(type_).input(key)
        # A zone-redundant plan carries -zr: switching zone redundancy needs a new plan (naming.plan_for).
        match = re.fullmatch(rf"{prefixes[type_]}-agentobo-{plan.stack}-([0-9a-f]{{6}})(-zr)?", value)
        assert match, f"{type_} name {value!r}"
        suffixes.add(match.group(1))
    # The group is the bootstrap's (tests/test_bootstrap.py), named by the same function.
    group = re.fullmatch(rf"rg-agentobo-{plan.stack}-([0-9a-f]{{6}})", plan.stack_outputs["resourceGroup"])
    assert group, plan.stack_outputs["resourceGroup"]
    suffixes.add(group.group(1))
    storage_name = plan.one(STORAGE).input("accountName")
    assert re.fullmatch(rf"stagentobo{plan.stack}[0-9a-f]{{6}}", storage_name) and len(storage_name) <= 24
    assert len(suffixes) == 1 and storage_name.endswith(suffixes.pop())


def test_names_differ_between_environments(plans):
    groups = {plans[s].stack_outputs["resourceGroup"] for s in plans}
    assert len(groups) == len(plans)


# --- observability ---------------------------------------------------------------------------------

def test_log_analytics_retention_follows_the_stack(plan):
    workspace = plan.one("azure-native:operationalinsights:Workspace")
    assert workspace.input("retentionInDays") == settings_of(plan.stack).log_retention_days


def test_application_insights_is_workspace_based_and_wired_to_the_site(plan):
    insights = plan.one("azure-native:applicationinsights:Component")
    workspace = plan.one("azure-native:operationalinsights:Workspace")
    assert insights.input("ingestionMode") == "LogAnalytics"
    assert insights.input("workspaceResourceId") == workspace.resource_id
    assert app_settings(plan)["APPLICATIONINSIGHTS_CONNECTION_STRING"] == insights.outputs["connectionString"]


def test_site_sends_workflow_runtime_logs_and_metrics_to_the_workspace(plan):
    diagnostics = plan.one("azure-native:monitor:DiagnosticSetting")
    assert diagnostics.input("resourceUri") == plan.one(SITE).resource_id
    assert diagnostics.input("workspaceId") == plan.one("azure-native:operationalinsights:Workspace").resource_id
    assert {"category": "WorkflowRuntime", "enabled": True} in diagnostics.input("logs")
    assert {"category": "AllMetrics", "enabled": True} in diagnostics.input("metrics")


# --- storage ---------------------------------------------------------------------------------------

# Every hardening flag of the account, in both host-storage modes: tests/test_host_storage.py.

def test_storage_protection_follows_the_stack(plan):
    assert plan.one(STORAGE).protect is settings_of(plan.stack).protect_stateful_resources


def test_runtime_identity_holds_exactly_the_three_data_roles_on_the_account(plan):
    identity = plan.one(IDENTITY)
    account = plan.one(STORAGE)
    granted = {role_name(r) for r in plan.all(ROLE) if r.input("principalId") == identity.outputs["principalId"]}
    assert granted == {STORAGE_BLOB_DATA_OWNER, STORAGE_QUEUE_DATA_CONTRIBUTOR, STORAGE_TABLE_DATA_CONTRIBUTOR}
    for assignment in plan.all(ROLE):
        if assignment.input("principalId") == identity.outputs["principalId"]:
            assert assignment.input("scope") == account.resource_id
            assert assignment.input("roleDefinitionId").startswith(f"/subscriptions/{SUBSCRIPTION_ID}/")


def test_runtime_reaches_storage_with_its_identity_and_no_keys(plan):
    settings = app_settings(plan)
    identity = plan.one(IDENTITY)
    account = plan.one(STORAGE).outputs["primaryEndpoints"]
    assert settings["AzureWebJobsStorage__credential"] == "managedIdentity"
    assert settings["AzureWebJobsStorage__managedIdentityResourceId"] == identity.resource_id
    for kind in ("blob", "queue", "table"):
        assert settings[f"AzureWebJobsStorage__{kind}ServiceUri"] == account[kind]
    assert "AzureWebJobsStorage" not in settings
    assert not [name for name in settings if name.startswith("WEBSITE_CONTENT")]


# --- plan and site ---------------------------------------------------------------------------------

def test_plan_is_workflow_standard_elastic_with_the_stack_burst(plan):
    asp = plan.one("azure-native:web:AppServicePlan")
    settings = settings_of(plan.stack)
    zone_redundant = {"capacity": 3} if settings.zone_redundant else {}
    assert asp.input("sku") == {"name": settings.plan_sku, "tier": "WorkflowStandard", **zone_redundant}
    assert asp.input("zoneRedundant") is settings.zone_redundant
    assert asp.input("kind") == "elastic"
    assert asp.input("maximumElasticWorkerCount") == settings.maximum_elastic_worker_count
    assert plan.one(SITE).input("siteConfig.minimumElasticInstanceCount") == settings.always_ready_instances


def test_site_is_a_hardened_logic_app_with_both_identities(plan):
    site = plan.one(SITE)
    assert site.input("kind") == "functionapp,workflowapp"
    assert site.input("serverFarmId") == plan.one("azure-native:web:AppServicePlan").resource_id
    assert site.input("httpsOnly") is True
    assert site.input("identity.type") == "SystemAssigned, UserAssigned"
    assert site.input("identity.userAssignedIdentities") == [plan.one(IDENTITY).resource_id]
    config = site.input("siteConfig")
    assert config["minTlsVersion"] == "1.2" and config["scmMinTlsVersion"] == "1.2"
    assert config["ftpsState"] == "Disabled"
    assert config["http20Enabled"] is True
    assert config["netFrameworkVersion"] == "v8.0"


def test_basic_publishing_credentials_are_off_for_ftp_and_scm(plan):
    site = plan.one(SITE)
    for type_ in ("azure-native:web:WebAppFtpAllowed", "azure-native:web:WebAppScmAllowed"):
        policy = plan.one(type_)
        assert policy.input("allow") is False
        assert policy.input("name") == site.input("name")


def test_site_has_every_runtime_app_setting(plan):
    settings = app_settings(plan)
    assert settings["FUNCTIONS_EXTENSION_VERSION"] == "~4"
    assert settings["FUNCTIONS_WORKER_RUNTIME"] == "dotnet"
    assert settings["APP_KIND"] == "workflowApp"
    assert settings["AzureFunctionsJobHost__extensionBundle__id"] == EXTENSION_BUNDLE_ID
    assert settings["AzureFunctionsJobHost__extensionBundle__version"] == EXTENSION_BUNDLE_VERSION
    assert settings["WORKFLOWS_SUBSCRIPTION_ID"] == SUBSCRIPTION_ID
    assert settings["WORKFLOWS_RESOURCE_GROUP_NAME"] == plan.stack_outputs["resourceGroup"]
    assert settings["WORKFLOWS_LOCATION_NAME"] == settings_of(plan.stack).location


def test_no_app_setting_carries_a_key_or_password(plan):
    for name, value in app_settings(plan).items():
        assert not re.search(r"AccountKey=|SharedAccessKey=|Password=|sig=", str(value), re.I), name


# --- the model -------------------------------------------------------------------------------------

def test_model_account_allows_entra_tokens_only(plan):
    account = plan.one("azure-native:cognitiveservices:Account")
    assert account.input("kind") == "OpenAI"
    assert account.input("properties.disableLocalAuth") is True
    assert account.input("properties.customSubDomainName") == account.input("accountName")


def test_model_deployment_follows_the_stack(plan):
    deployment = plan.one("azure-native:cognitiveservices:Deployment")
    model = settings_of(plan.stack).model
    assert deployment.input("deploymentName") == model.deployment_name
    assert deployment.input("sku") == {"name": model.deployment_sku, "capacity": model.capacity}
    assert deployment.input("properties.model") == {"format": "OpenAI", "name": model.name,
                                                    "version": model.version}


def test_site_system_identity_may_call_the_model_and_nothing_else_does(plan):
    site = plan.one(SITE)
    account = plan.one("azure-native:cognitiveservices:Account")
    model_roles = [r for r in plan.all(ROLE) if role_name(r) == COGNITIVE_SERVICES_OPENAI_USER]
    assert len(model_roles) == 1
    assert model_roles[0].input("principalId") == site.outputs["identity"]["principalId"]
    assert model_roles[0].input("scope") == account.resource_id
    settings = app_settings(plan)
    assert settings["agent_openAIEndpoint"] == account.outputs["properties"]["endpoint"]
    assert settings["agent_ResourceID"] == account.resource_id


EXISTING = {
    "agent-obo:modelSource": "existing",
    "agent-obo:existingModelEndpoint": "https://shared-oai.openai.azure.com/",
    "agent-obo:existingModelResourceId": "/subscriptions/3c1f8a52-6b0e-4d7f-9a24-8e5b1c0d7f36/resourceGroups/"
                                         "rg-shared-ai/providers/Microsoft.CognitiveServices/accounts/shared-oai",
}


@pytest.fixture(scope="module")
def existing_model_plan():
    from tests.helpers import run_with

    return run_with(EXISTING).ok()


def test_an_existing_endpoint_is_used_instead_of_a_new_account(existing_model_plan):
    plan = existing_model_plan
    assert plan.all("azure-native:cognitiveservices:Account") == []
    assert plan.all("azure-native:cognitiveservices:Deployment") == []
    settings = app_settings(plan)
    assert settings["agent_openAIEndpoint"] == EXISTING["agent-obo:existingModelEndpoint"]
    assert settings["agent_ResourceID"] == EXISTING["agent-obo:existingModelResourceId"]
    (grant,) = [r for r in plan.all(ROLE) if role_name(r) == COGNITIVE_SERVICES_OPENAI_USER]
    assert grant.input("scope") == EXISTING["agent-obo:existingModelResourceId"]


# --- the package -----------------------------------------------------------------------------------

def test_site_runs_from_the_package_blob_read_with_the_runtime_identity(plan):
    blob = plan.one("pulumi-python:dynamic:Resource")
    settings = app_settings(plan)
    assert settings["WEBSITE_RUN_FROM_PACKAGE"] == blob.outputs["url"]
    assert settings["WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID"] == plan.one(IDENTITY).resource_id
    assert blob.input("container") == package_container(plan).input("containerName")
    assert blob.input("blob_name") == f"workflows-{blob.input('sha256')[:20]}.zip"


def test_package_upload_waits_for_the_deployers_narrow_upload_role(plan):
    blob = plan.one("pulumi-python:dynamic:Resource")
    (upload_role,) = [r for r in plan.all(ROLE) if role_name(r) == STORAGE_BLOB_DATA_CONTRIBUTOR]
    assert upload_role.input("principalId") == DEPLOYER_OBJECT_ID
    assert upload_role.input("scope") == package_container(plan).resource_id
    assert upload_role.urn in blob.dependencies


def test_outputs_name_the_site_and_its_real_host(plan):
    site = plan.one(SITE)
    outputs = plan.stack_outputs
    assert outputs["logicAppName"] == site.input("name")
    assert outputs["logicAppHostName"] == site.outputs["defaultHostName"]


class _PipelineIdentity(AzureMocks):
    """The deployment run by a pipeline's service principal instead of a person."""

    def call(self, args):
        if args.token == "azuread:index/getServicePrincipals:getServicePrincipals":
            return {"id": "sps", "objectIds": [DEPLOYER_OBJECT_ID], "clientIds": [], "displayNames": [],
                    "servicePrincipals": [{"objectId": DEPLOYER_OBJECT_ID, "clientId": "c", "displayName": "ci"}]}, []
        return super().call(args)


def test_deployer_upload_role_names_the_deployers_principal_type(plans):
    from tests.helpers import run_with

    def role(plan):
        (upload,) = [r for r in plan.all(ROLE) if role_name(r) == STORAGE_BLOB_DATA_CONTRIBUTOR]
        return upload.input("principalType")

    assert role(plans["dev"]) == "User"  # az login: a person
    assert role(run_with({}, mocks=_PipelineIdentity()).ok()) == "ServicePrincipal"  # the pipeline's identity
