"""bootstrap/: the state backend and each environment's pipeline, asserted boundary by boundary on its plan.

The bootstrap program runs under the project's offline runner like the main program, with the
example stack file bootstrap/Pulumi.bootstrap.yaml and the project's real stack files (its
environments). Each test names one boundary of docs/operations.md and fails when the plan crosses it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent_obo import environments as environments_module
from agent_obo.environments import Environment
from agent_obo.errors import SettingsError
from offline.mocks import GRAPH_APPLICATION_PERMISSIONS, GRAPH_SERVICE_PRINCIPAL_OBJECT_ID, SUBSCRIPTION_ID, TENANT_ID
from offline.plan import Plan, Registration
from offline.project_copy import project_copy
from offline.runner import PROJECT_DIR, RunResult, run_stack, stack_file, stacks
from tests.helpers import CONTAINER, IDENTITY, ROLE, STORAGE

BOOTSTRAP_DIR = PROJECT_DIR / "bootstrap"
BOOTSTRAP_STACK = "bootstrap"
NAMESPACE = "agent-obo-bootstrap"

GROUP = "azure-native:resources:ResourceGroup"
BLOB_SERVICE = "azure-native:storage:BlobServiceProperties"
VAULT = "azure-native:keyvault:Vault"
KEY = "azure-native:keyvault:Key"
FIC = "azure-native:managedidentity:FederatedIdentityCredential"
APP_ROLE = "azuread:index/appRoleAssignment:AppRoleAssignment"

# Built-in role ids, written out here rather than imported, so a typo in the program shows.
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
RBAC_ADMINISTRATOR = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
USER_ACCESS_ADMINISTRATOR = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
LOCKS_CONTRIBUTOR = "28bf596f-4eb7-45ce-b5bc-6cf482fec137"
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
STORAGE_BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
KEY_VAULT_CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"
PRIVILEGED_ROLES = {OWNER, CONTRIBUTOR, RBAC_ADMINISTRATOR, USER_ACCESS_ADMINISTRATOR, LOCKS_CONTRIBUTOR}
# Tenant-wide Entra write: a holder can grant itself, or any app, any permission.
FORBIDDEN_GRAPH_PERMISSIONS = {"AppRoleAssignment.ReadWrite.All", "DelegatedPermissionGrant.ReadWrite.All",
                               "Application.ReadWrite.All", "Directory.ReadWrite.All"}

REPOSITORY = "contoso/agent-obo"  # bootstrap/Pulumi.bootstrap.yaml
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
SUBSCRIPTION_SCOPE = f"/subscriptions/{SUBSCRIPTION_ID}"
ENVIRONMENTS = stacks()  # one per stack file of the project
ROLES = ("deploy", "preview")


def run_bootstrap(overrides: dict[str, Any] | None = None, project_dir: Path = PROJECT_DIR) -> RunResult:
    """The example bootstrap stack of `project_dir`, optionally with some settings changed (None removes one)."""
    return run_stack(BOOTSTRAP_STACK, {f"{NAMESPACE}:{k}": v for k, v in (overrides or {}).items()},
                     project_dir=project_dir / BOOTSTRAP_DIR.name)


def role_id(assignment: Registration) -> str:
    return assignment.input("roleDefinitionId").rsplit("/", 1)[-1]


def identity(plan: Plan, environment: str, role: str) -> Registration:
    return plan.one(IDENTITY, f"env-{environment}-{role}")


def assignments_of(plan: Plan, environment: str, role: str) -> dict[str, Registration]:
    """The role assignments of one pipeline identity, by role id (each role is assigned once)."""
    principal = identity(plan, environment, role).outputs["principalId"]
    found = [r for r in plan.all(ROLE) if r.input("principalId") == principal]
    by_role = {role_id(r): r for r in found}
    assert len(by_role) == len(found), f"{environment} {role}: a role assigned twice: {[r.urn for r in found]}"
    return by_role


def granted(plan: Plan, environment: str, role: str) -> set[tuple[str, str]]:
    return {(role_id(r), r.input("scope")) for r in assignments_of(plan, environment, role).values()}


def subjects_of(plan: Plan, environment: str, role: str) -> set[str]:
    name = identity(plan, environment, role).input("resourceName")
    credentials = [r for r in plan.all(FIC) if r.input("resourceName") == name]
    for credential in credentials:
        assert credential.input("issuer") == GITHUB_ISSUER, credential.urn
        assert credential.input("audiences") == ["api://AzureADTokenExchange"], credential.urn
    return {credential.input("subject") for credential in credentials}


def group_id(plan: Plan, environment: str) -> str:
    return plan.one(GROUP, f"env-{environment}-group").resource_id


def container_id(plan: Plan, holder: str) -> str:
    return plan.one(CONTAINER, f"state-container-{holder}").resource_id


def key_id(plan: Plan, holder: str) -> str:
    return plan.one(KEY, f"state-secrets-key-{holder}").resource_id


def graph_permissions_of(plan: Plan, environment: str, role: str) -> set[str]:
    principal = identity(plan, environment, role).outputs["principalId"]
    names = {permission_id: name for name, permission_id in GRAPH_APPLICATION_PERMISSIONS.items()}
    assignments = [r for r in plan.all(APP_ROLE) if r.input("principalObjectId") == principal]
    assert all(r.input("resourceObjectId") == GRAPH_SERVICE_PRINCIPAL_OBJECT_ID for r in assignments)
    return {names[r.input("appRoleId")] for r in assignments}


# --- the project files ----------------------------------------------------------------------------

def test_bootstrap_is_its_own_python_project_on_the_parent_virtualenv():
    project = yaml.safe_load((BOOTSTRAP_DIR / "Pulumi.yaml").read_text())
    assert project["name"] == NAMESPACE
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "../.venv"}}
    declared = set(project["config"])
    used = {key.split(":", 1)[1] for key in stack_file(BOOTSTRAP_STACK, BOOTSTRAP_DIR)["config"]}
    assert used <= declared, f"undeclared settings in Pulumi.{BOOTSTRAP_STACK}.yaml: {used - declared}"
    for key, spec in project["config"].items():
        assert spec.get("description"), f"setting {key} has no description"


def test_bootstrap_imports_only_the_azure_native_modules_it_uses():
    """Importing all of azure-native costs seconds and hundreds of megabytes (about 11 s and 600 MB)."""
    for source in BOOTSTRAP_DIR.glob("*.py"):
        for line in source.read_text().splitlines():
            if "pulumi_azure_native" in line:
                narrow = re.fullmatch(r"from pulumi_azure_native import [a-z_, ]+", line.strip())
                assert narrow, f"{source.name}: {line}"


def test_the_cli_can_import_the_parent_project_from_bootstrap():
    """The CLI starts __main__.py from bootstrap/; the parent's modules must not need the test runner's path."""
    source = (BOOTSTRAP_DIR / "__main__.py").read_text()
    assert source.index("sys.path.insert(0, str(Path(__file__).resolve().parent.parent))") < source.index(
        "from agent_obo")


# --- the state backend ----------------------------------------------------------------------------

def test_state_account_is_hardened_and_entra_only(bootstrap):
    account = bootstrap.one(STORAGE)
    assert account.input("minimumTlsVersion") == "TLS1_2", account.urn
    assert account.input("allowBlobPublicAccess") is False, account.urn
    assert account.input("allowSharedKeyAccess") is False, account.urn
    assert account.input("enableHttpsTrafficOnly") is True, account.urn
    assert account.input("defaultToOAuthAuthentication") is True, account.urn
    assert account.input("allowCrossTenantReplication") is False, account.urn
    assert account.protect, f"{account.urn} holds every stack's state: it must be protected"


def test_each_environment_and_the_bootstrap_have_a_private_recoverable_container(bootstrap):
    containers = {r.input("containerName"): r for r in bootstrap.all(CONTAINER)}
    assert set(containers) == {f"pulumi-state-{holder}" for holder in [*ENVIRONMENTS, "bootstrap"]}
    for container in containers.values():
        assert container.input("publicAccess") == "None", container.urn
        assert container.protect, container.urn
    service = bootstrap.one(BLOB_SERVICE)
    assert service.input("isVersioningEnabled") is True, service.urn
    assert service.input("deleteRetentionPolicy") == {"enabled": True, "days": 30}, service.urn
    assert service.input("containerDeleteRetentionPolicy") == {"enabled": True, "days": 30}, service.urn


def test_key_vault_uses_rbac_and_purge_protection(bootstrap):
    vault = bootstrap.one(VAULT)
    assert vault.input("properties.enableRbacAuthorization") is True, vault.urn
    assert vault.input("properties.enablePurgeProtection") is True, vault.urn
    assert vault.input("properties.enableSoftDelete") is True, vault.urn
    assert vault.input("properties.tenantId") == TENANT_ID, vault.urn
    assert not vault.input("properties.accessPolicies"), f"{vault.urn}: access goes through RBAC only"
    assert vault.protect, vault.urn


def test_each_environment_has_its_own_rsa_secrets_key_for_encryption_only(bootstrap):
    keys = {r.input("keyName"): r for r in bootstrap.all(KEY)}
    assert set(keys) == {f"pulumi-secrets-{holder}" for holder in [*ENVIRONMENTS, "bootstrap"]}
    for key in keys.values():
        assert key.input("vaultName") == bootstrap.one(VAULT).input("vaultName")
        assert key.input("properties.kty") == "RSA", key.urn
        assert key.input("properties.keySize") >= 2048, key.urn
        assert sorted(key.input("properties.keyOps")) == ["decrypt", "encrypt"], key.urn
        assert key.protect, key.urn


def test_outputs_give_each_environment_the_backend_url_and_secrets_provider_the_cli_takes(bootstrap):
    account = bootstrap.one(STORAGE).input("accountName")
    vault = bootstrap.one(VAULT).input("vaultName")
    for environment in ENVIRONMENTS:
        out = bootstrap.stack_outputs["environments"][environment]
        assert out["backendUrl"] == f"azblob://pulumi-state-{environment}?storage_account={account}"
        assert out["secretsProvider"] == f"azurekeyvault://{vault}.vault.azure.net/keys/pulumi-secrets-{environment}"
    assert bootstrap.stack_outputs["bootstrapBackendUrl"] == f"azblob://pulumi-state-bootstrap?storage_account={account}"
    assert bootstrap.stack_outputs["stateStorageAccount"] == account


def test_names_are_valid_and_globally_unique_names_fit_azure_limits(bootstrap):
    account = bootstrap.one(STORAGE).input("accountName")
    vault = bootstrap.one(VAULT).input("vaultName")
    assert re.fullmatch(r"[a-z0-9]{3,24}", account), account
    assert re.fullmatch(r"[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]", vault) and "--" not in vault, vault
    for container in bootstrap.all(CONTAINER):
        assert re.fullmatch(r"[a-z0-9](-?[a-z0-9])+", container.input("containerName")) and \
            len(container.input("containerName")) <= 63
    for managed_identity in bootstrap.all(IDENTITY):
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{2,127}", managed_identity.input("resourceName"))


# --- one resource group per environment, created here ----------------------------------------------

def test_each_stack_file_gets_the_resource_group_the_program_deploys_into(bootstrap, plans):
    for environment in ENVIRONMENTS:
        group = bootstrap.one(GROUP, f"env-{environment}-group")
        assert group.input("resourceGroupName") == plans[environment].stack_outputs["resourceGroup"]
        assert group.protect, f"{group.urn}: deleting it deletes the environment"
        assert group.input("tags")["environment"] == environment
    assert {g.name for g in bootstrap.all(GROUP)} == {"state-group", *(f"env-{e}-group" for e in ENVIRONMENTS)}


def test_the_program_creates_no_resource_group_and_uses_the_bootstraps(plans):
    for stack, plan in plans.items():
        assert plan.all(GROUP) == [], f"{stack}: the deploy identity has no right to create a group"
        assert plan.invokes["azure-native:resources:getResourceGroup"]["name"] == plan.stack_outputs["resourceGroup"]


def test_pipeline_identities_live_in_the_bootstraps_group_where_no_pipeline_identity_has_a_role(bootstrap):
    state_group = bootstrap.one(GROUP, "state-group").input("resourceGroupName")
    pipeline = {identity(bootstrap, e, r).outputs["principalId"] for e in ENVIRONMENTS for r in ROLES}
    for managed_identity in bootstrap.all(IDENTITY):
        assert managed_identity.input("resourceGroupName") == state_group, managed_identity.urn
    protected_scopes = {bootstrap.one(GROUP, "state-group").resource_id, bootstrap.one(STORAGE).resource_id,
                        bootstrap.one(VAULT).resource_id, container_id(bootstrap, "bootstrap"),
                        key_id(bootstrap, "bootstrap")}
    for assignment in bootstrap.all(ROLE):
        if assignment.input("principalId") in pipeline:
            assert assignment.input("scope") not in protected_scopes, assignment.urn


# --- the pipeline's OpenID Connect trust ----------------------------------------------------------

def test_each_identity_trusts_exactly_its_own_github_environment(bootstrap):
    for environment in ENVIRONMENTS:
        assert subjects_of(bootstrap, environment, "deploy") == {f"repo:{REPOSITORY}:environment:{environment}"}
        assert subjects_of(bootstrap, environment, "preview") == {
            f"repo:{REPOSITORY}:environment:{environment}-preview"}
        assert bootstrap.stack_outputs["environments"][environment]["subjects"] == {
            "deploy": f"repo:{REPOSITORY}:environment:{environment}",
            "preview": f"repo:{REPOSITORY}:environment:{environment}-preview"}


def test_no_identity_trusts_a_branch_or_every_pull_request(bootstrap):
    for credential in bootstrap.all(FIC):
        assert ":environment:" in credential.input("subject"), credential.input("subject")
        assert ":ref:" not in credential.input("subject") and not credential.input("subject").endswith(":pull_request")


def test_federated_credentials_of_one_identity_are_created_one_after_another(bootstrap):
    """Azure refuses concurrent federated-credential writes on one identity."""
    for parent in bootstrap.all(custom=False):
        credentials = [r for r in bootstrap.children(parent) if r.type == FIC]
        for previous, credential in itertools.pairwise(credentials):
            assert previous.urn in credential.dependencies, f"{credential.urn} does not wait for {previous.urn}"


# --- RBAC: what each identity may do, and where --------------------------------------------------

@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_deploy_identity_acts_on_its_own_group_state_and_key_only(bootstrap, environment):
    locks = {(LOCKS_CONTRIBUTOR, group_id(bootstrap, environment))} if environment == "prod" else set()
    assert granted(bootstrap, environment, "deploy") == {
        (CONTRIBUTOR, group_id(bootstrap, environment)),
        (RBAC_ADMINISTRATOR, group_id(bootstrap, environment)),
        (STORAGE_BLOB_DATA_CONTRIBUTOR, container_id(bootstrap, environment)),
        (KEY_VAULT_CRYPTO_USER, key_id(bootstrap, environment)),
        *locks,
    }


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_preview_identity_reads_its_own_group_and_state_and_changes_nothing(bootstrap, environment):
    assert granted(bootstrap, environment, "preview") == {
        (READER, group_id(bootstrap, environment)),
        (STORAGE_BLOB_DATA_READER, container_id(bootstrap, environment)),
        (KEY_VAULT_CRYPTO_USER, key_id(bootstrap, environment)),
    }
    assert not PRIVILEGED_ROLES & set(assignments_of(bootstrap, environment, "preview"))


def test_no_pipeline_identity_holds_anything_on_a_subscription_or_another_environment(bootstrap):
    for environment, role in itertools.product(ENVIRONMENTS, ROLES):
        own = {group_id(bootstrap, environment), container_id(bootstrap, environment), key_id(bootstrap, environment)}
        for assignment in assignments_of(bootstrap, environment, role).values():
            assert assignment.input("scope") in own, f"{assignment.urn} reaches {assignment.input('scope')}"
            assert assignment.input("scope") != SUBSCRIPTION_SCOPE
            assert assignment.input("principalType") == "ServicePrincipal", assignment.urn


def test_locks_contributor_goes_only_where_the_stack_protects_its_resources(bootstrap):
    from tests.helpers import settings_of

    for environment in ENVIRONMENTS:
        holds = LOCKS_CONTRIBUTOR in assignments_of(bootstrap, environment, "deploy")
        assert holds is settings_of(environment).protect_stateful_resources, environment


def condition_of(plan: Plan, environment: str) -> str:
    delegation = assignments_of(plan, environment, "deploy")[RBAC_ADMINISTRATOR]
    assert delegation.input("conditionVersion") == "2.0", delegation.urn
    return delegation.input("condition")


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_role_assignment_condition_limits_roles_and_principal_types_both_ways(bootstrap, environment):
    condition = condition_of(bootstrap, environment)
    for action, source in (("write", "@Request"), ("delete", "@Resource")):
        clause = re.search(
            rf"\(\(!\(ActionMatches\{{'Microsoft\.Authorization/roleAssignments/{action}'\}}\)\) OR \("
            rf"{source}\[Microsoft\.Authorization/roleAssignments:RoleDefinitionId\] ForAnyOfAnyValues:GuidEquals "
            rf"\{{(?P<roles>[0-9a-f, -]+)\}} AND {source}\[Microsoft\.Authorization/roleAssignments:PrincipalType\] "
            rf"ForAnyOfAnyValues:StringEqualsIgnoreCase \{{(?P<types>[^}}]+)\}}\)\)", condition)
        assert clause, f"{action}: {condition}"
        assert clause["types"] == "'ServicePrincipal'", "only managed identities and apps may receive a role"
        roles = set(clause["roles"].split(", "))
        assert not PRIVILEGED_ROLES & roles, f"the condition lets the pipeline grant {PRIVILEGED_ROLES & roles}"
        assert KEY_VAULT_CRYPTO_USER not in roles, "a deploy identity must not be able to reach another key"


def test_the_condition_admits_every_role_and_principal_type_the_program_assigns(bootstrap, plans):
    """The program's role assignments must pass the deploy identity's condition, in every stack; the
    deployer's own upload role names the deployer's type, which in the pipeline is ServicePrincipal."""
    for stack, plan in plans.items():
        condition = condition_of(bootstrap, stack)
        for assignment in plan.all(ROLE):
            assert role_id(assignment) in condition, f"{assignment.urn} ({stack}): role not admitted"
            deployer = assignment.input("principalId") == plan.invokes[
                "azure-native:authorization:getClientConfig"]["objectId"]
            assert deployer or assignment.input("principalType") == "ServicePrincipal", assignment.urn


# --- Microsoft Graph ----------------------------------------------------------------------------------

@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_graph_permissions_read_applications_and_manage_only_owned_ones(bootstrap, environment):
    assert graph_permissions_of(bootstrap, environment, "deploy") == {"Application.Read.All",
                                                                      "Application.ReadWrite.OwnedBy"}
    assert graph_permissions_of(bootstrap, environment, "preview") == {"Application.Read.All"}


def test_no_identity_holds_a_tenant_wide_entra_write_permission(bootstrap):
    names = {permission_id: name for name, permission_id in GRAPH_APPLICATION_PERMISSIONS.items()}
    held = {names.get(r.input("appRoleId"), r.input("appRoleId")) for r in bootstrap.all(APP_ROLE)}
    assert not held & FORBIDDEN_GRAPH_PERMISSIONS, held & FORBIDDEN_GRAPH_PERMISSIONS
    assert not [r for r in bootstrap.resources if r.type.startswith("azuread:index/directoryRole")]


# --- the people who run pulumi by hand ---------------------------------------------------------------

def test_state_operators_get_every_state_container_and_key_only(bootstrap):
    operator = "7c3e9a15-2b84-4f60-a1d7-9e5b0c2f4d68"  # bootstrap/Pulumi.bootstrap.yaml
    found = {(role_id(r), r.input("scope")) for r in bootstrap.all(ROLE) if r.input("principalId") == operator}
    assert found == {pair for holder in [*ENVIRONMENTS, "bootstrap"] for pair in (
        (STORAGE_BLOB_DATA_CONTRIBUTOR, container_id(bootstrap, holder)),
        (KEY_VAULT_CRYPTO_USER, key_id(bootstrap, holder)))}


# --- a new environment ------------------------------------------------------------------------------

def test_a_new_stack_file_gets_its_own_group_state_key_and_identities(tmp_path):
    project = project_copy(tmp_path, {"Pulumi.staging.yaml": "config:\n  agent-obo:location: westeurope\n"})
    plan = run_bootstrap(project_dir=project).ok()
    assert plan.one(GROUP, "env-staging-group").input("location") == "westeurope"
    assert subjects_of(plan, "staging", "deploy") == {f"repo:{REPOSITORY}:environment:staging"}
    assert granted(plan, "staging", "preview") == {
        (READER, group_id(plan, "staging")), (STORAGE_BLOB_DATA_READER, container_id(plan, "staging")),
        (KEY_VAULT_CRYPTO_USER, key_id(plan, "staging"))}


def test_environments_are_read_from_the_stack_files_and_checked(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  agent-obo:location: westeurope\n")
    (tmp_path / "Pulumi.prod.yaml").write_text("config:\n  agent-obo:protectStatefulResources: true\n")
    assert environments_module.environments(tmp_path) == [Environment("dev", "westeurope", False),
                                                          Environment("prod", "eastus2", True)]
    (tmp_path / "Pulumi.qa.yaml").write_text("config:\n  agent-obo:location: mars\n")
    with pytest.raises(SettingsError) as raised:
        environments_module.environments(tmp_path)
    assert "Pulumi.qa.yaml" in str(raised.value) and "'mars'" in str(raised.value)


# --- what the pipeline reads from it --------------------------------------------------------------

def workflow_variables() -> Iterator[str]:
    for workflow in (PROJECT_DIR / ".github" / "workflows").glob("*.yml"):
        yield from re.findall(r"\$\{\{\s*vars\.([A-Z0-9_]+)\s*\}\}", workflow.read_text())


def test_every_variable_the_workflows_read_is_a_bootstrap_output(bootstrap):
    repository = bootstrap.stack_outputs["githubVariables"]
    per_environment = bootstrap.stack_outputs["githubEnvironmentVariables"]
    assert set(per_environment) == {name for e in ENVIRONMENTS for name in (e, f"{e}-preview")}
    for variables in per_environment.values():
        missing = set(workflow_variables()) - set(repository) - set(variables)
        assert not missing, f"workflows read variables the bootstrap does not output: {missing}"
    for environment in ENVIRONMENTS:
        for github_environment, role in ((environment, "deploy"), (f"{environment}-preview", "preview")):
            assert per_environment[github_environment] == {
                "AZURE_CLIENT_ID": identity(bootstrap, environment, role).outputs["clientId"],
                "PULUMI_BACKEND_URL": bootstrap.stack_outputs["environments"][environment]["backendUrl"]}
    assert repository["AZURE_SUBSCRIPTION_ID"] == SUBSCRIPTION_ID and repository["AZURE_TENANT_ID"] == TENANT_ID
    assert not {"AZURE_CLIENT_ID", "PULUMI_BACKEND_URL"} & set(repository), \
        "a repository-wide identity or backend would reach every job, whatever its environment"


# --- bad settings stop the program before any resource --------------------------------------------

@pytest.mark.parametrize("overrides, problem", [
    ({"githubRepository": "contoso/agent-obo"}, "githubRepository"),
    ({"stateOperators": ["platform-team"]}, "stateOperators"),
    ({"stateSoftDeleteDays": 0}, "stateSoftDeleteDays"),
    ({"deploymentAccess": "owner"}, "deploymentAccess = 'owner': no longer a setting"),
    ({"deploymentScope": SUBSCRIPTION_SCOPE}, "deploymentScope"),
    ({"mainBranch": "main"}, "mainBranch"),
    ({"deployEnvironments": ["dev"]}, "the environments are the project's stack files"),
    ({"owner": "platform-team\u202e@contoso.com"}, "character U+202E is not allowed (RIGHT-TO-LEFT OVERRIDE)"),
    ({"owner": "a/b"}, "owner = 'a/b': not allowed"),
    ({"location": "East US"},
     "location = 'East US': not allowed; did you mean eastus? allowed: an Azure public-cloud region name"),
    ({"location": "eastus\u200b"}, "character U+200B is not allowed (ZERO WIDTH SPACE)"),
])
def test_bad_settings_are_refused_before_any_resource(overrides, problem):
    result = run_bootstrap(overrides)
    assert result.error is not None, f"{overrides} was accepted"
    assert problem in str(result.error), str(result.error)
    assert not result.plan.resources, "resources were registered before the settings were checked"


OPERATOR = "7c3e9a15-2b84-4f60-a1d7-9e5b0c2f4d68"
# The bootstrap reads its config as the program reads its own (agent_obo/settings.py): keys nothing reads, provider
# settings and values of every type are refused the same way, with the key's whole name.
BAD_BOOTSTRAP_KEYS = {
    "agent-obo-bootstrap:stateOperator": (["x"], "unknown setting; did you mean agent-obo-bootstrap:stateOperators?"),
    "agent-obo-bootstrap:Location": ("eastus", "did you mean agent-obo-bootstrap:location?"),
    "agent_obo_bootstrap:owner": ("x", "did you mean agent-obo-bootstrap:owner?"),
    "agent-obo:owner": ("x", "namespace 'agent-obo' is read by nothing in this program"),
    "azure-native:location": ("westus", "set agent-obo-bootstrap:location instead"),
    "azure-native:subscriptionId": ("nope", "allowed: a GUID"),
    "azure-native:clientSecret": ("hunter2", "a credential in plain text"),
    "agent-obo-bootstrap:stateSoftDeleteDays": ("a month", "not an integer; allowed: an integer from 1 to 365"),
    "agent-obo-bootstrap:stateOperators": ([OPERATOR, OPERATOR.upper()], "lists an item twice"),
}


@pytest.mark.parametrize("key, value, words", [(k, v, w) for k, (v, w) in BAD_BOOTSTRAP_KEYS.items()],
                         ids=list(BAD_BOOTSTRAP_KEYS))
def test_bootstrap_config_nothing_reads_or_that_is_malformed_is_refused(key, value, words):
    result = run_stack(BOOTSTRAP_STACK, {key: value}, project_dir=BOOTSTRAP_DIR)
    message = str(result.error)
    assert isinstance(result.error, SettingsError) and f"{key} = " in message and words in message, message
    assert "hunter2" not in message and not result.plan.registrations


def test_the_nil_guid_is_no_state_operator():
    result = run_bootstrap({"stateOperators": ["00000000-0000-0000-0000-000000000000"]})
    assert "not the nil GUID" in str(result.error) and not result.plan.registrations


def test_a_secret_bootstrap_setting_in_its_stack_file_is_refused(tmp_path):
    text = (BOOTSTRAP_DIR / "Pulumi.bootstrap.yaml").read_text().replace(
        "agent-obo-bootstrap:githubOwner: contoso", "agent-obo-bootstrap:githubOwner: {secure: v1:AAAA}")
    project = project_copy(tmp_path, {"bootstrap/Pulumi.bootstrap.yaml": text})
    result = run_stack(BOOTSTRAP_STACK, project_dir=project / "bootstrap")
    assert "'agent-obo-bootstrap:githubOwner' is a secret (`secure:`)" in str(result.error)
    assert "Pulumi.bootstrap.yaml" in str(result.error) and not result.plan.registrations


def test_a_stack_whose_group_the_bootstrap_has_not_created_stops_before_any_resource():
    from offline.mocks import AzureMocks

    class NoGroup(AzureMocks):
        def call(self, args):
            if args.token == "azure-native:resources:getResourceGroup":
                raise Exception(f"Resource group '{args.args['resourceGroupName']}' could not be found.")
            return super().call(args)

    result = run_stack("dev", mocks=NoGroup())
    assert result.error is not None and "could not be found" in str(result.error)
    assert result.plan.registrations == []
