"""The signed-in user's identity: app registration, Graph scopes and consent, secretless Easy Auth."""

from __future__ import annotations

import json

import pytest

from agent_obo.catalog import load_catalog
from agent_obo.entra import DEFAULT_ACCESS_ROLE_ID
from agent_obo.errors import SettingsError
from agent_obo.excluded_paths import EXCLUDABLE_PREFIXES, is_excludable
from agent_obo.graph_scopes import GRAPH_APP_ID
from offline.mocks import (
    DEPLOYER_OBJECT_ID,
    GRAPH_DELEGATED_SCOPES,
    TENANT_ID,
)
from offline.runner import PROJECT_DIR
from tests.helpers import (
    APP,
    ASSIGNMENT,
    AUTH,
    GRANT,
    IDENTITY,
    SITE,
    SP,
    app_settings,
    documented_sign_in_scopes,
    run_with,
    run_with_catalog,
    settings_of,
    tool_entry,
)

FIC = "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential"
IDENTIFIER = "azuread:index/applicationIdentifierUri:ApplicationIdentifierUri"
# The chat app's registration (a stack may also have the verification client's: test_verification_client.py).
CHAT_APP, CHAT_SP = "chat-app-app", "chat-app-sp"

DOCUMENTED_SIGN_IN = documented_sign_in_scopes()
# As Microsoft names them, written out rather than read from the program: a misspelt app setting or
# audience is silently ignored by Easy Auth and Entra (Learn: configure-authentication-provider-aad, "Use a
# managed identity instead of a secret", allowed tenants; workload-identity-federation).
FIC_CLIENT_ID_SETTING = "OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID"
ALLOWED_TENANTS_SETTING = "WEBSITE_AUTH_AAD_ALLOWED_TENANTS"
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"


def tool_scopes() -> set[str]:
    return {scope for tool in load_catalog().tools if tool.identity == "per-user" for scope in tool.scopes}


def delegating_scopes() -> list[str]:
    """What the chat app requests in a stack with delegateToolScopesToChatApp: true."""
    return sorted(set(DOCUMENTED_SIGN_IN) | tool_scopes())


@pytest.fixture(scope="module")
def delegating():
    """dev with the tools' scopes delegated to the chat app."""
    return run_with({"agent-obo:delegateToolScopesToChatApp": True}).ok()


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


def test_app_requests_only_what_sign_in_needs_by_default(plan):
    """Microsoft's agent Easy Auth guide asks only Graph User.Read of this app; the connectors sign
    each user in themselves. Standing Mail/Calendars/Files scopes would widen every stolen token."""
    assert settings_of(plan.stack).sign_in.delegate_tool_scopes is False
    documented_ids = sorted(GRAPH_DELEGATED_SCOPES[name] for name in DOCUMENTED_SIGN_IN)
    assert graph_scope_ids(plan.one(APP, CHAT_APP)) == documented_ids
    assert plan.stack_outputs["graphScopes"] == sorted(DOCUMENTED_SIGN_IN)


def test_the_identity_matrix_still_lists_every_tools_scopes_for_the_connector_consent(plan):
    listed = {scope for row in plan.stack_outputs["identityMatrix"] for scope in row["scopes"].split() if scope != "-"}
    assert listed == tool_scopes() and not listed <= set(plan.stack_outputs["graphScopes"])


def test_delegating_adds_exactly_the_per_user_tools_scopes(delegating):
    expected = delegating_scopes()
    assert graph_scope_ids(delegating.one(APP, CHAT_APP)) == sorted(GRAPH_DELEGATED_SCOPES[name] for name in expected)
    assert delegating.stack_outputs["graphScopes"] == expected


def test_delegated_scopes_follow_the_enabled_tools():
    plan = run_with({"agent-obo:delegateToolScopesToChatApp": True,
                     "agent-obo:disabledTools": ["get_my_recent_mail"]}).ok()
    assert "Mail.Read" not in plan.stack_outputs["graphScopes"]
    assert "Calendars.Read" in plan.stack_outputs["graphScopes"]


def test_the_program_neither_consents_nor_assigns(plan):
    """Both need a tenant-wide Entra write right no pipeline may hold: an administrator's step."""
    granting = {GRANT, ASSIGNMENT, "azuread:index/directoryRoleAssignment:DirectoryRoleAssignment",
                "azuread:index/appRoleAssignment:AppRoleAssignment"}
    assert not {r.type for r in plan.resources} & granting


def test_service_principal_requires_assignment_and_the_outputs_say_whom_to_assign(plan):
    sign_in = settings_of(plan.stack).sign_in
    sp = plan.one(SP, CHAT_SP)
    assert sign_in.assignment_required is True, "every environment limits who may sign in"
    assert sp.input("appRoleAssignmentRequired") is True
    assert plan.stack_outputs["signInAssignments"] == {
        "servicePrincipalObjectId": sp.outputs["objectId"],
        "appRoleId": DEFAULT_ACCESS_ROLE_ID,
        "assignmentRequired": True,
        "users": sorted(sign_in.allowed_users),
        "groups": sorted(sign_in.allowed_groups),
    }


def test_each_environment_lets_only_its_group_sign_in(plans):
    groups = {}
    for stack, plan in plans.items():
        expected = list(settings_of(stack).sign_in.allowed_groups)
        assert expected, f"{stack}: no group limits sign-in"
        assert plan.one(APP, CHAT_APP).input("groupMembershipClaims") == ["ApplicationGroup"]
        assert plan.one(AUTH).input("identityProviders.azureActiveDirectory.validation.defaultAuthorizationPolicy"
                                    ".allowedPrincipals.groups") == expected
        groups[stack] = set(expected)
    assert not groups["dev"] & groups["prod"], "the dev test group must not be prod's users"


def test_app_registration_protection_follows_the_stack(plan):
    protect = settings_of(plan.stack).protect_stateful_resources
    assert plan.one(APP, CHAT_APP).protect is protect
    assert plan.one(SP, CHAT_SP).protect is protect


# --- consent ----------------------------------------------------------------------------------------

def test_every_stack_outputs_the_admin_consent_url_of_its_own_app(plan):
    client_id = plan.one(APP, CHAT_APP).outputs["clientId"]
    assert plan.stack_outputs["adminConsentUrl"] == \
        f"https://login.microsoftonline.com/{TENANT_ID}/adminconsent?client_id={client_id}"
    assert "adminConsentGranted" not in plan.stack_outputs


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
    # An OpenID Connect id token with the user's profile, and a refresh token (offline_access): the
    # documented sign-in scopes, less Graph's User.Read, which Easy Auth's sign-in does not ask for.
    assert parameters == ["scope=openid profile offline_access"]
    assert set(parameters[0].removeprefix("scope=").split()) == set(DOCUMENTED_SIGN_IN) - {"User.Read"}


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

def test_a_tool_scope_change_leaves_the_chat_app_alone_by_default(plans, rescoped):
    assert rescoped.one(APP, CHAT_APP).inputs == plans["dev"].one(APP, CHAT_APP).inputs
    assert rescoped.stack_outputs["graphScopes"] == plans["dev"].stack_outputs["graphScopes"]


def test_a_delegated_scope_change_updates_the_app_but_never_replaces_it(delegating, tmp_path):
    def add_scope(document):
        tool_entry(document, "get_my_upcoming_events")["scopes"] = ["Calendars.Read", "Calendars.Read.Shared"]

    before = delegating
    after = run_with_catalog(add_scope, tmp_path, {"agent-obo:delegateToolScopesToChatApp": True}).ok()
    assert after.stack_outputs["graphScopes"] == sorted([*delegating_scopes(), "Calendars.Read.Shared"])
    old_app, new_app = before.one(APP, CHAT_APP).inputs, after.one(APP, CHAT_APP).inputs
    changed = {key for key in set(old_app) | set(new_app) if old_app.get(key) != new_app.get(key)}
    assert changed == {"requiredResourceAccesses"}
    for registration in (after.one(APP, CHAT_APP), after.one(SP, CHAT_SP)):
        assert registration.replacement_trigger is None and not registration.replace_on_changes
    assert after.one(SP, CHAT_SP).inputs == before.one(SP, CHAT_SP).inputs


# --- bad settings ----------------------------------------------------------------------------------

def test_unknown_graph_scope_fails_before_any_resource_even_when_not_delegated(tmp_path):
    def misspell(document):
        tool_entry(document, "get_my_upcoming_events")["scopes"] = ["Calendar.Read"]

    result = run_with_catalog(misspell, tmp_path)
    assert isinstance(result.error, SettingsError)
    message = str(result.error)
    assert "'Calendar.Read'" in message and "get_my_upcoming_events" in message
    assert "not a delegated permission of Microsoft Graph" in message
    assert result.plan.registrations == []


@pytest.mark.parametrize("overrides, fragments", [
    ({"agent-obo:additionalTokenAudiences": [""]},
     ["agent-obo:additionalTokenAudiences", "''", "api:// or https:// identifiers of your own clients"]),
    ({"agent-obo:excludedPaths": ["/*"]},
     ["agent-obo:excludedPaths", "'/*'", "a path under /runtime/"]),
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


# --- excluded paths --------------------------------------------------------------------------------

ESCAPES = [
    "/runtime/../api/agentsChat/obo-agent/IFrame",  # traversal out of the prefix
    "/runtime/..", "/runtime/./x", "/runtime/x/../../api",
    "/runtime/%2e%2e/api", "/runtime/%2E%2E%2Fapi", "/runtime/..%2fapi", "/runtime/%252e%252e/api",  # encoded
    "/runtime\\..\\api", "/runtime/x\\..\\..\\api",  # backslashes, which some servers treat as '/'
    "/runtime//api", "/runtime/", "/runtime",  # empty segments, the bare prefix
    "/runtime/*/api", "/runtime/a*", "/runtime/**", "/runtime/?", "/runtime/*?x=1", "/runtime/x#y",
    "/*", "/api/*", "/Runtime/*", "runtime/*", " /runtime/*", "/runtime/*\n",
    "/runtime/\u2024\u2024/api",  # one-dot leaders that look like '..'
    "/runtime/.well-known/x", "/runtime/x./y",
]


@pytest.mark.parametrize("path", ESCAPES)
def test_an_excluded_path_cannot_reach_past_its_prefix(path):
    assert not is_excludable(path), path


@pytest.mark.parametrize("path", ["/runtime/*", "/runtime/webhooks/workflow/api/management/*",
                                  "/runtime/webhooks/workflow/api/management/workflows", "/runtime/v1.0/x"])
def test_plain_paths_under_the_runtime_prefix_are_excludable(path):
    assert is_excludable(path)


@pytest.mark.parametrize("path", ["/runtime/../api/*", "/runtime/%2e%2e/api", "/runtime/*/api"])
def test_an_escaping_excluded_path_fails_the_settings_before_any_resource(path):
    result = run_with({"agent-obo:excludedPaths": ["/runtime/*", path]})
    assert isinstance(result.error, SettingsError)
    assert "agent-obo:excludedPaths" in str(result.error) and repr(path) in str(result.error)
    assert result.plan.registrations == []


def test_every_excludable_prefix_is_documented_with_its_reason():
    text = (PROJECT_DIR / "docs" / "operations.md").read_text()
    for prefix in EXCLUDABLE_PREFIXES:
        assert f"`{prefix}`" in text, f"docs/operations.md does not say why {prefix} is excluded"
