"""The signed-in user's identity: app registration, Graph scopes and consent, secretless Easy Auth."""

from __future__ import annotations

import json

import pytest

from agent_obo.catalog import load_catalog
from agent_obo.errors import SettingsError
from agent_obo.graph_scopes import GRAPH_APP_ID, SIGN_IN_SCOPES
from components.chat_app_registration import DEFAULT_ACCESS_ROLE_ID, TOKEN_EXCHANGE_AUDIENCE
from components.easy_auth import ALLOWED_TENANTS_SETTING, FIC_CLIENT_ID_SETTING, LOGIN_SCOPES
from offline.mocks import (
    DEPLOYER_OBJECT_ID,
    GRAPH_DELEGATED_SCOPES,
    GRAPH_SERVICE_PRINCIPAL_OBJECT_ID,
    TENANT_ID,
)
from tests.conftest import run_with, run_with_catalog, tool_entry
from tests.test_foundation import app_settings, settings_of

APP = "azuread:index/application:Application"
SP = "azuread:index/servicePrincipal:ServicePrincipal"
GRANT = "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant"
FIC = "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential"
IDENTIFIER = "azuread:index/applicationIdentifierUri:ApplicationIdentifierUri"
ASSIGNMENT = "azuread:index/appRoleAssignment:AppRoleAssignment"
# The chat app's registration (a stack may also have the verification client's: test_verification_client.py).
CHAT_APP, CHAT_SP = "chat-app-app", "chat-app-sp"


def chat_assignments(plan) -> list:
    return [a for a in plan.all(ASSIGNMENT) if a.name.startswith("chat-app-")]
AUTH = "azure-native:web:WebAppAuthSettingsV2WithoutSecrets"
SITE = "azure-native:web:WebApp"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"


def required_scopes() -> list[str]:
    per_user = {scope for tool in load_catalog().tools if tool.identity == "per-user" for scope in tool.scopes}
    return sorted(set(SIGN_IN_SCOPES) | per_user)


def graph_scope_ids(app) -> list[str]:
    (graph,) = [r for r in app.input("requiredResourceAccesses") if r["resourceAppId"] == GRAPH_APP_ID]
    assert {access["type"] for access in graph["resourceAccesses"]} == {"Scope"}
    return sorted(access["id"] for access in graph["resourceAccesses"])


# --- the app registration ------------------------------------------------------------------------

def test_app_is_single_tenant_with_v2_tokens_and_id_tokens(plan):
    app = plan.one(APP, CHAT_APP)
    assert app.input("signInAudience") == "AzureADMyOrg"
    assert app.input("api.requestedAccessTokenVersion") == 2
    assert app.input("web.implicitGrant.idTokenIssuanceEnabled") is True
    assert app.input("displayName") == f"agent-obo-{plan.stack}-chat"
    assert app.input("preventDuplicateNames") is True


def test_app_owners_are_the_deployer_and_the_configured_owners(plan):
    owners = plan.one(APP, CHAT_APP).input("owners")
    assert owners[0] == DEPLOYER_OBJECT_ID
    assert owners[1:] == list(settings_of(plan.stack).sign_in.app_owners)
    assert plan.one(SP, CHAT_SP).input("owners") == owners


def test_app_exposes_user_impersonation_with_a_stable_id(plans):
    ids = {}
    for stack, plan in plans.items():
        (scope,) = plan.one(APP, CHAT_APP).input("api.oauth2PermissionScopes")
        assert scope["value"] == "user_impersonation" and scope["type"] == "User" and scope["enabled"]
        ids[stack] = scope["id"]
    again = run_with({}).ok()
    (scope,) = again.one(APP, CHAT_APP).input("api.oauth2PermissionScopes")
    assert scope["id"] == ids["dev"]
    assert len(set(ids.values())) == len(ids)


def test_identifier_uri_is_api_client_id_set_apart_from_the_app(plan):
    app = plan.one(APP, CHAT_APP)
    identifier = plan.one(IDENTIFIER)
    assert identifier.input("applicationId") == app.resource_id
    assert identifier.input("identifierUri") == f"api://{app.outputs['clientId']}"
    assert "identifierUris" in app.ignore_changes
    assert plan.stack_outputs["identifierUri"] == f"api://{app.outputs['clientId']}"


def test_redirect_uri_uses_the_sites_real_host_name_without_a_cycle(plan):
    app = plan.one(APP, CHAT_APP)
    site = plan.one(SITE)
    assert app.input("web.redirectUris") == [f"https://{site.outputs['defaultHostName']}/.auth/login/aad/callback"]
    assert site.urn in app.dependencies
    app_side = {r.urn for r in plan.resources if r.type.startswith("azuread:")}
    assert not app_side & set(site.dependencies)


def test_app_requests_exactly_the_sign_in_and_per_user_tool_scopes(plan):
    expected = required_scopes()
    assert graph_scope_ids(plan.one(APP, CHAT_APP)) == sorted(GRAPH_DELEGATED_SCOPES[name] for name in expected)
    assert plan.stack_outputs["graphScopes"] == expected


def test_service_principal_requires_assignment_where_the_stack_says_so(plan):
    sign_in = settings_of(plan.stack).sign_in
    sp = plan.one(SP, CHAT_SP)
    assert sp.input("appRoleAssignmentRequired") is sign_in.assignment_required
    assigned = sorted(a.input("principalObjectId") for a in chat_assignments(plan))
    assert assigned == sorted([*sign_in.allowed_users, *sign_in.allowed_groups])
    for assignment in chat_assignments(plan):
        assert assignment.input("appRoleId") == DEFAULT_ACCESS_ROLE_ID
        assert assignment.input("resourceObjectId") == sp.outputs["objectId"]


def test_prod_lets_only_its_group_sign_in(plans):
    prod = plans["prod"]
    assert prod.one(SP, CHAT_SP).input("appRoleAssignmentRequired") is True
    assert len(chat_assignments(prod)) == 1
    assert prod.one(APP, CHAT_APP).input("groupMembershipClaims") == ["ApplicationGroup"]
    assert prod.one(AUTH).input("identityProviders.azureActiveDirectory.validation.defaultAuthorizationPolicy"
                                ".allowedPrincipals.groups") == list(settings_of("prod").sign_in.allowed_groups)


def test_app_registration_protection_follows_the_stack(plan):
    protect = settings_of(plan.stack).protect_stateful_resources
    assert plan.one(APP, CHAT_APP).protect is protect
    assert plan.one(SP, CHAT_SP).protect is protect


# --- consent ----------------------------------------------------------------------------------------

def test_one_grant_with_exactly_the_required_claims_where_consent_is_granted(plans):
    dev = plans["dev"]
    (grant,) = dev.all(GRANT)
    assert grant.input("claimValues") == required_scopes()
    assert grant.input("servicePrincipalObjectId") == dev.one(SP, CHAT_SP).outputs["objectId"]
    assert grant.input("resourceServicePrincipalObjectId") == GRAPH_SERVICE_PRINCIPAL_OBJECT_ID
    assert grant.input("userObjectId") is None  # tenant-wide: all principals
    assert dev.stack_outputs["adminConsentGranted"] is True


def test_a_stack_that_does_not_grant_consent_gets_the_url_and_no_grant(plans):
    prod = plans["prod"]
    assert settings_of("prod").sign_in.grant_admin_consent is False
    assert prod.all(GRANT) == []
    client_id = prod.one(APP, CHAT_APP).outputs["clientId"]
    assert prod.stack_outputs["adminConsentUrl"] == \
        f"https://login.microsoftonline.com/{TENANT_ID}/adminconsent?client_id={client_id}"
    assert prod.stack_outputs["adminConsentGranted"] is False


# --- secretless sign-in -----------------------------------------------------------------------------

def test_easy_auth_signs_in_with_the_runtime_identity_instead_of_a_secret(plan):
    identity = plan.one(IDENTITY)
    fic = plan.one(FIC)
    assert fic.input("applicationId") == plan.one(APP, CHAT_APP).resource_id
    assert fic.input("issuer") == f"https://login.microsoftonline.com/{TENANT_ID}/v2.0"
    assert fic.input("subject") == identity.outputs["principalId"]
    assert fic.input("audiences") == [TOKEN_EXCHANGE_AUDIENCE]
    assert app_settings(plan)[FIC_CLIENT_ID_SETTING] == identity.outputs["clientId"]
    auth = plan.one(AUTH)
    assert auth.input("identityProviders.azureActiveDirectory.registration.clientSecretSettingName") == \
        FIC_CLIENT_ID_SETTING
    assert fic.urn in auth.dependencies


def test_no_secret_exists_in_any_input_or_output(plan):
    secret_types = {"azuread:index/applicationPassword:ApplicationPassword",
                    "azuread:index/servicePrincipalPassword:ServicePrincipalPassword",
                    "azuread:index/applicationCertificate:ApplicationCertificate"}
    assert not {r.type for r in plan.registrations} & secret_types
    for registration in plan.registrations:
        # The SDK itself stores a dynamic resource's pickled provider as a secret; it holds no credential.
        assert [p for p in registration.secret_input_paths if p != "__provider"] == [], registration.urn
        text = json.dumps(registration.inputs).lower()
        for marker in ("password", "clientsecret\"", "client_secret", "accountkey=", "sharedaccesskey="):
            assert marker not in text, (registration.urn, marker)
    assert "MICROSOFT_PROVIDER_AUTHENTICATION_SECRET" not in app_settings(plan)
    assert plan.secret_outputs == set()
    assert "secret" not in json.dumps(plan.stack_outputs).lower()


# --- Easy Auth --------------------------------------------------------------------------------------

def test_easy_auth_requires_sign_in_except_for_the_runtime_apis(plan):
    auth = plan.one(AUTH)
    sign_in = settings_of(plan.stack).sign_in
    assert auth.input("name") == plan.one(SITE).input("name")
    assert auth.input("platform.enabled") is True
    assert auth.input("globalValidation.requireAuthentication") is True
    assert auth.input("globalValidation.unauthenticatedClientAction") == sign_in.unauthenticated_action
    assert auth.input("globalValidation.excludedPaths") == ["/runtime/*"]
    assert auth.input("httpSettings.requireHttps") is True
    assert auth.input("login.tokenStore.enabled") is True


def test_microsoft_provider_trusts_only_this_app_and_tenant(plan):
    auth = plan.one(AUTH)
    client_id = plan.one(APP, CHAT_APP).outputs["clientId"]
    provider = auth.input("identityProviders.azureActiveDirectory")
    assert provider["enabled"] is True
    assert provider["registration"]["clientId"] == client_id
    assert provider["registration"]["openIdIssuer"] == f"https://login.microsoftonline.com/{TENANT_ID}/v2.0"
    assert provider["validation"]["allowedAudiences"] == [f"api://{client_id}"]
    # The chat app, and the verification client where the stack has one (test_verification_client.py).
    allowed = provider["validation"]["defaultAuthorizationPolicy"]["allowedApplications"]
    verification = [a.outputs["clientId"] for a in plan.all(APP) if a.name == "verification-client-app"]
    assert allowed == [client_id, *verification]
    assert app_settings(plan)[ALLOWED_TENANTS_SETTING] == TENANT_ID


def test_sign_in_asks_for_refresh_tokens_and_only_consented_scopes(plan):
    parameters = plan.one(AUTH).input("identityProviders.azureActiveDirectory.login.loginParameters")
    assert parameters == ["scope=" + " ".join(LOGIN_SCOPES)]
    assert "offline_access" in LOGIN_SCOPES
    assert set(LOGIN_SCOPES) <= set(plan.stack_outputs["graphScopes"])


def test_outputs_give_the_client_and_the_agent_endpoints(plan):
    outputs = plan.stack_outputs
    host = plan.one(SITE).outputs["defaultHostName"]
    assert outputs["clientId"] == plan.one(APP, CHAT_APP).outputs["clientId"]
    assert outputs["tenantId"] == TENANT_ID
    assert outputs["chatClientUrl"] == f"https://{host}/api/agentsChat/obo-agent/IFrame"
    assert outputs["a2aEndpoint"] == f"https://{host}/api/Agents/obo-agent"
    assert outputs["agentCardUrl"] == f"https://{host}/api/agents/obo-agent/.well-known/agent-card.json"


def test_additional_audiences_are_accepted_beside_the_apps_own():
    plan = run_with({"agent-obo:additionalTokenAudiences": ["api://custom-chat-client"]}).ok()
    client_id = plan.one(APP, CHAT_APP).outputs["clientId"]
    assert plan.one(AUTH).input("identityProviders.azureActiveDirectory.validation.allowedAudiences") == \
        [f"api://{client_id}", "api://custom-chat-client"]


# --- scope changes ----------------------------------------------------------------------------------

@pytest.fixture
def rescoped(rescoped_plans):
    """dev with one per-user tool asking for one more scope (tests/conftest.py add_calendar_write_scope)."""
    return rescoped_plans["dev"]


def test_a_scope_change_updates_grant_and_app_but_never_replaces_the_app(plans, rescoped):
    before, after = plans["dev"], rescoped
    assert after.one(GRANT).input("claimValues") == sorted([*required_scopes(), "Calendars.ReadWrite"])
    assert graph_scope_ids(after.one(APP, CHAT_APP)) != graph_scope_ids(before.one(APP, CHAT_APP))
    old_app, new_app = before.one(APP, CHAT_APP).inputs, after.one(APP, CHAT_APP).inputs
    changed = {key for key in set(old_app) | set(new_app) if old_app.get(key) != new_app.get(key)}
    assert changed == {"requiredResourceAccesses"}
    for registration in (after.one(APP, CHAT_APP), after.one(SP, CHAT_SP)):
        assert registration.replacement_trigger is None and not registration.replace_on_changes
    assert after.one(SP, CHAT_SP).inputs == before.one(SP, CHAT_SP).inputs


# --- bad settings ----------------------------------------------------------------------------------

def test_unknown_graph_scope_fails_before_any_resource(tmp_path):
    def misspell(document):
        tool_entry(document, "get_my_upcoming_events")["scopes"] = ["Calendars.Reed"]

    result = run_with_catalog(misspell, tmp_path)
    assert isinstance(result.error, SettingsError)
    message = str(result.error)
    assert "'Calendars.Reed'" in message and "get_my_upcoming_events" in message
    assert "not a delegated permission of Microsoft Graph" in message
    assert result.plan.registrations == []


@pytest.mark.parametrize("overrides, fragments", [
    ({"agent-obo:additionalTokenAudiences": [""]},
     ["agent-obo:additionalTokenAudiences", "''", "non-empty api:// or https:// audience URIs"]),
    ({"agent-obo:excludedPaths": ["/*"]},
     ["agent-obo:excludedPaths", "'/*'", "paths under /runtime/ only"]),
    ({"agent-obo:unauthenticatedAction": "AllowAnonymous"},
     ["agent-obo:unauthenticatedAction", "'AllowAnonymous'",
      "allowed values: RedirectToLoginPage, Return401, Return403"]),
], ids=["empty audience", "excluded path /*", "anonymous access"])
def test_bad_sign_in_settings_fail_before_any_resource(overrides, fragments):
    result = run_with(overrides)
    assert isinstance(result.error, SettingsError)
    for fragment in fragments:
        assert fragment in str(result.error), (fragment, str(result.error))
    assert result.plan.registrations == []


def test_configured_owners_join_the_deployer_once():
    colleague = "1f2e3d4c-5b6a-4789-8a9b-0c1d2e3f4a5b"
    plan = run_with({"agent-obo:appOwners": [colleague, DEPLOYER_OBJECT_ID]}).ok()
    assert plan.one(APP, CHAT_APP).input("owners") == [DEPLOYER_OBJECT_ID, colleague]
    assert plan.one(SP, CHAT_SP).input("owners") == [DEPLOYER_OBJECT_ID, colleague]
