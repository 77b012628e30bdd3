"""bootstrap/: the shared state backend and the pipeline identities, asserted on its recorded plan.

The bootstrap program runs under the project's offline runner like the main program. The project's
mocks know no Key Vault or federated-credential outputs, so a small subclass here adds them (ARM ids
and names the way Azure reports them) instead of growing offline/ for one test file.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from offline import runner
from offline.mocks import SUBSCRIPTION_ID, TENANT_ID, AzureMocks
from offline.plan import Plan, Registration
from offline.runner import PROJECT_DIR, RunResult, run_program, stack_config, stack_file

BOOTSTRAP_DIR = PROJECT_DIR / "bootstrap"
BOOTSTRAP_STACK = "bootstrap"
NAMESPACE = "agent-obo-bootstrap"

STORAGE = "azure-native:storage:StorageAccount"
CONTAINER = "azure-native:storage:BlobContainer"
BLOB_SERVICE = "azure-native:storage:BlobServiceProperties"
VAULT = "azure-native:keyvault:Vault"
KEY = "azure-native:keyvault:Key"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
FIC = "azure-native:managedidentity:FederatedIdentityCredential"
ROLE = "azure-native:authorization:RoleAssignment"

# Built-in role ids, written out here rather than imported, so a typo in the program shows.
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
RBAC_ADMINISTRATOR = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
USER_ACCESS_ADMINISTRATOR = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
STORAGE_BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
KEY_VAULT_CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"
PRIVILEGED_ROLES = {OWNER, CONTRIBUTOR, RBAC_ADMINISTRATOR, USER_ACCESS_ADMINISTRATOR}

REPOSITORY = "contoso/agent-obo"  # bootstrap/Pulumi.bootstrap.yaml
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
SUBSCRIPTION_SCOPE = f"/subscriptions/{SUBSCRIPTION_ID}"


def _group_scope(inputs: dict[str, Any]) -> str:
    return f"{SUBSCRIPTION_SCOPE}/resourceGroups/{inputs.get('resourceGroupName')}"


class BootstrapMocks(AzureMocks):
    """AzureMocks plus what Azure reports for the bootstrap's Key Vault and federated credentials."""

    def _azure_native_keyvault_Vault(self, name: str, inputs: dict[str, Any]) -> tuple[str, dict]:
        vault = inputs["vaultName"]
        properties = {**inputs.get("properties", {}), "vaultUri": f"https://{vault}.vault.azure.net/"}
        return f"{_group_scope(inputs)}/providers/Microsoft.KeyVault/vaults/{vault}", {
            "name": vault, "properties": properties}

    def _azure_native_keyvault_Key(self, name: str, inputs: dict[str, Any]) -> tuple[str, dict]:
        vault, key = inputs["vaultName"], inputs["keyName"]
        key_uri = f"https://{vault}.vault.azure.net/keys/{key}"
        return f"{_group_scope(inputs)}/providers/Microsoft.KeyVault/vaults/{vault}/keys/{key}", {
            "name": key, "keyUri": key_uri, "keyUriWithVersion": f"{key_uri}/0123456789abcdef0123456789abcdef"}

    def _azure_native_managedidentity_FederatedIdentityCredential(self, name: str, inputs: dict[str, Any]):
        credential = inputs["federatedIdentityCredentialResourceName"]
        return (f"{_group_scope(inputs)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
                f"{inputs['resourceName']}/federatedIdentityCredentials/{credential}", {"name": credential})


def run_bootstrap(overrides: dict[str, Any] | None = None) -> RunResult:
    """The example bootstrap stack, optionally with some settings changed, under BootstrapMocks."""
    values = dict(stack_file(BOOTSTRAP_STACK, BOOTSTRAP_DIR).get("config") or {})
    values.update({f"{NAMESPACE}:{key}": value for key, value in (overrides or {}).items()})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "AzureMocks", BootstrapMocks)
        return run_program(BOOTSTRAP_STACK, stack_config(values, BOOTSTRAP_DIR), BOOTSTRAP_DIR)


@pytest.fixture(scope="module")
def bootstrap() -> Plan:
    return run_bootstrap().ok()


@pytest.fixture(scope="module")
def owner_bootstrap() -> Plan:
    return run_bootstrap({"deploymentAccess": "owner"}).ok()


def role_id(assignment: Registration) -> str:
    return assignment.input("roleDefinitionId").rsplit("/", 1)[-1]


def identity_named(plan: Plan, component: str) -> Registration:
    (identity,) = [r for r in plan.all(IDENTITY) if r.name == component]
    return identity


def assignments_of(plan: Plan, component: str) -> dict[str, Registration]:
    """The role assignments of one pipeline identity, by role id (each role is assigned once)."""
    principal = identity_named(plan, component).outputs["principalId"]
    found = [r for r in plan.all(ROLE) if r.input("principalId") == principal]
    by_role = {role_id(r): r for r in found}
    assert len(by_role) == len(found), f"{component}: a role assigned twice: {[r.urn for r in found]}"
    return by_role


def subjects_of(plan: Plan, component: str) -> set[str]:
    identity = identity_named(plan, component)
    credentials = [r for r in plan.all(FIC) if r.input("resourceName") == identity.inputs["resourceName"]]
    for credential in credentials:
        assert credential.input("issuer") == GITHUB_ISSUER, credential.urn
        assert credential.input("audiences") == ["api://AzureADTokenExchange"], credential.urn
    return {credential.input("subject") for credential in credentials}


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
    """Importing all of azure-native costs seconds and hundreds of megabytes (AZURE_CONTRACTS.md section 7)."""
    for source in BOOTSTRAP_DIR.glob("*.py"):
        for line in source.read_text().splitlines():
            if "pulumi_azure_native" in line:
                narrow = re.fullmatch(r"from pulumi_azure_native import [a-z_, ]+", line.strip())
                assert narrow, f"{source.name}: {line}"


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


def test_state_container_is_private_and_recoverable(bootstrap):
    container = bootstrap.one(CONTAINER)
    assert container.input("containerName") == "pulumi-state"
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


def test_secrets_key_is_rsa_of_at_least_2048_bits_for_encryption_only(bootstrap):
    key = bootstrap.one(KEY)
    assert key.input("keyName") == "pulumi-secrets"
    assert key.input("vaultName") == bootstrap.one(VAULT).input("vaultName")
    assert key.input("properties.kty") == "RSA", key.urn
    assert key.input("properties.keySize") >= 2048, key.urn
    assert sorted(key.input("properties.keyOps")) == ["decrypt", "encrypt"], key.urn
    assert key.protect, key.urn


def test_outputs_are_the_backend_url_and_secrets_provider_the_cli_takes(bootstrap):
    account = bootstrap.one(STORAGE).input("accountName")
    vault = bootstrap.one(VAULT).input("vaultName")
    assert bootstrap.stack_outputs["backendUrl"] == f"azblob://pulumi-state?storage_account={account}"
    assert bootstrap.stack_outputs["secretsProvider"] == f"azurekeyvault://{vault}.vault.azure.net/keys/pulumi-secrets"
    assert bootstrap.stack_outputs["stateStorageAccount"] == account


def test_names_are_valid_and_globally_unique_names_fit_azure_limits(bootstrap):
    account = bootstrap.one(STORAGE).input("accountName")
    vault = bootstrap.one(VAULT).input("vaultName")
    assert re.fullmatch(r"[a-z0-9]{3,24}", account), account
    assert re.fullmatch(r"[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]", vault) and "--" not in vault, vault


# --- the pipeline's OpenID Connect trust ----------------------------------------------------------

def test_preview_identity_trusts_pull_requests_only(bootstrap):
    assert subjects_of(bootstrap, "pipeline-preview") == {f"repo:{REPOSITORY}:pull_request"}


def test_deploy_identity_trusts_main_and_each_deploy_environment(bootstrap):
    assert subjects_of(bootstrap, "pipeline-deploy") == {
        f"repo:{REPOSITORY}:ref:refs/heads/main",
        f"repo:{REPOSITORY}:environment:dev",
        f"repo:{REPOSITORY}:environment:prod",
    }
    assert set(bootstrap.stack_outputs["federatedSubjects"]["deploy"]) == subjects_of(bootstrap, "pipeline-deploy")
    assert set(bootstrap.stack_outputs["federatedSubjects"]["preview"]) == subjects_of(bootstrap, "pipeline-preview")


def test_federated_credentials_of_one_identity_are_created_one_after_another(bootstrap):
    """Azure refuses concurrent federated-credential writes on one identity."""
    for component in ("pipeline-preview", "pipeline-deploy"):
        parent = next(r for r in bootstrap.all(custom=False) if r.name == component)
        credentials = [r for r in bootstrap.children(parent) if r.type == FIC]
        for previous, credential in itertools.pairwise(credentials):
            assert previous.urn in credential.dependencies, f"{credential.urn} does not wait for {previous.urn}"


# --- RBAC -------------------------------------------------------------------------------------------

def test_deploy_writes_the_state_preview_only_reads_it_and_both_use_the_key(bootstrap):
    container_id = bootstrap.one(CONTAINER).resource_id
    key_id = bootstrap.one(KEY).resource_id
    for component, state_role in (("pipeline-deploy", STORAGE_BLOB_DATA_CONTRIBUTOR),
                                  ("pipeline-preview", STORAGE_BLOB_DATA_READER)):
        roles = assignments_of(bootstrap, component)
        assert roles[state_role].input("scope") == container_id, component
        assert roles[KEY_VAULT_CRYPTO_USER].input("scope") == key_id, component
        for assignment in roles.values():
            assert assignment.input("principalType") == "ServicePrincipal", assignment.urn
    assert STORAGE_BLOB_DATA_CONTRIBUTOR not in assignments_of(bootstrap, "pipeline-preview")


def test_preview_identity_can_read_the_subscription_but_change_nothing(bootstrap):
    roles = assignments_of(bootstrap, "pipeline-preview")
    assert roles[READER].input("scope") == SUBSCRIPTION_SCOPE
    assert not PRIVILEGED_ROLES & set(roles), f"the pull-request identity holds {PRIVILEGED_ROLES & set(roles)}"


def test_deploy_identity_is_contributor_and_assigns_only_the_programs_roles(bootstrap):
    roles = assignments_of(bootstrap, "pipeline-deploy")
    assert roles[CONTRIBUTOR].input("scope") == SUBSCRIPTION_SCOPE
    assert OWNER not in roles and USER_ACCESS_ADMINISTRATOR not in roles
    delegation = roles[RBAC_ADMINISTRATOR]
    assert delegation.input("scope") == SUBSCRIPTION_SCOPE
    assert delegation.input("conditionVersion") == "2.0", delegation.urn
    condition = delegation.input("condition")
    for action, source in (("write", "@Request"), ("delete", "@Resource")):
        assert f"!(ActionMatches{{'Microsoft.Authorization/roleAssignments/{action}'}})" in condition
        attribute = f"{source}[Microsoft.Authorization/roleAssignments:RoleDefinitionId]"
        assert f"{attribute} ForAnyOfAnyValues:GuidEquals" in condition
    allowed = set(re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", condition))
    assert not PRIVILEGED_ROLES & allowed, f"the condition lets the pipeline grant {PRIVILEGED_ROLES & allowed}"


def test_the_condition_admits_every_role_the_program_assigns(bootstrap, plans):
    """The program's role assignments must pass the deploy identity's condition, in every stack."""
    condition = assignments_of(bootstrap, "pipeline-deploy")[RBAC_ADMINISTRATOR].input("condition")
    for stack, plan in plans.items():
        for assignment in plan.all(ROLE):
            assert role_id(assignment) in condition, f"{assignment.urn} ({stack}): role not admitted by the condition"


def test_owner_access_replaces_contributor_and_the_condition(owner_bootstrap):
    roles = assignments_of(owner_bootstrap, "pipeline-deploy")
    assert roles[OWNER].input("scope") == SUBSCRIPTION_SCOPE
    assert CONTRIBUTOR not in roles and RBAC_ADMINISTRATOR not in roles
    assert OWNER not in assignments_of(owner_bootstrap, "pipeline-preview")


def test_state_operators_get_the_state_and_the_key_only(bootstrap):
    operator = "7c3e9a15-2b84-4f60-a1d7-9e5b0c2f4d68"  # bootstrap/Pulumi.bootstrap.yaml
    granted = {role_id(r): r.input("scope") for r in bootstrap.all(ROLE) if r.input("principalId") == operator}
    assert granted == {STORAGE_BLOB_DATA_CONTRIBUTOR: bootstrap.one(CONTAINER).resource_id,
                       KEY_VAULT_CRYPTO_USER: bootstrap.one(KEY).resource_id}


# --- what the pipeline reads from it --------------------------------------------------------------

def workflow_variables() -> Iterator[str]:
    for workflow in (PROJECT_DIR / ".github" / "workflows").glob("*.yml"):
        yield from re.findall(r"\$\{\{\s*vars\.([A-Z0-9_]+)\s*\}\}", workflow.read_text())


def test_every_variable_the_workflows_read_is_a_bootstrap_output(bootstrap):
    exported = bootstrap.stack_outputs["githubVariables"]
    missing = set(workflow_variables()) - set(exported)
    assert not missing, f"workflows read variables the bootstrap does not output: {missing}"
    identities = {component: identity_named(bootstrap, component).outputs["clientId"]
                  for component in ("pipeline-preview", "pipeline-deploy")}
    assert exported["AZURE_PREVIEW_CLIENT_ID"] == identities["pipeline-preview"]
    assert exported["AZURE_DEPLOY_CLIENT_ID"] == identities["pipeline-deploy"]
    assert exported["AZURE_SUBSCRIPTION_ID"] == SUBSCRIPTION_ID
    assert exported["PULUMI_BACKEND_URL"] == bootstrap.stack_outputs["backendUrl"]


# --- bad settings stop the program before any resource --------------------------------------------

@pytest.mark.parametrize("overrides, problem", [
    ({"githubRepository": "contoso/agent-obo"}, "githubRepository"),
    ({"deploymentAccess": "admin"}, "deploymentAccess"),
    ({"deployEnvironments": []}, "deployEnvironments"),
    ({"deploymentScope": f"{SUBSCRIPTION_SCOPE}/resourceGroups/rg-agent"}, "deploymentScope"),
    ({"stateOperators": ["platform-team"]}, "stateOperators"),
])
def test_bad_settings_are_refused_before_any_resource(overrides, problem):
    result = run_bootstrap(overrides)
    assert result.error is not None, f"{overrides} was accepted"
    assert problem in str(result.error), str(result.error)
    assert not result.plan.resources, "resources were registered before the settings were checked"
