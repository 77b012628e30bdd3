"""Part 4 on a hardened stack: a separate, narrow client app for the two-user check, only where asked."""

from __future__ import annotations

import pytest

from agent_obo.entra import DEFAULT_ACCESS_ROLE_ID
from agent_obo.errors import SettingsError
from components.chat_app_registration import user_impersonation_scope_id
from tests.helpers import APP, ASSIGNMENT, AUTH, GRANT, SP, run_with, settings_of
from tests.policy_mutations import messages, replaced

PRE_AUTHORIZED = "azuread:index/applicationPreAuthorized:ApplicationPreAuthorized"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"


def test_the_chat_app_never_allows_public_client_flows(plan):
    assert plan.one(APP, "chat-app-app").input("fallbackPublicClientEnabled") in (None, False)


def test_both_stacks_give_their_test_users_a_narrow_public_client(plan):
    app = plan.one(APP, "verification-client-app")
    chat = plan.one(APP, "chat-app-app")
    assert app.input("fallbackPublicClientEnabled") is True and app.input("signInAudience") == "AzureADMyOrg"
    assert app.input("web") is None and app.input("api") is None  # no redirect URI, no API of its own
    assert app.input("requiredResourceAccesses") == [{
        "resourceAppId": chat.outputs["clientId"],
        "resourceAccesses": [{"id": user_impersonation_scope_id(plan.stack), "type": "Scope"}]}]
    sp = plan.one(SP, "verification-client-sp")
    assert sp.input("appRoleAssignmentRequired") is True
    # An administrator assigns the test users (make grant-sign-in): the program may not.
    assert plan.all(ASSIGNMENT) == []
    assert plan.stack_outputs["verificationClientAssignments"] == {
        "servicePrincipalObjectId": sp.outputs["objectId"], "appRoleId": DEFAULT_ACCESS_ROLE_ID,
        "assignmentRequired": True, "users": sorted(settings_of(plan.stack).audit.verification_users),
        "groups": []}


def test_the_chat_app_pre_authorizes_it_for_its_one_scope_and_nothing_is_granted_tenant_wide(plan):
    pre = plan.one(PRE_AUTHORIZED)
    client_id = plan.one(APP, "verification-client-app").outputs["clientId"]
    assert pre.input("applicationId") == plan.one(APP, "chat-app-app").resource_id
    assert pre.input("authorizedClientId") == client_id
    assert pre.input("permissionIds") == [user_impersonation_scope_id(plan.stack)]
    assert all(g.input("claimValues") != ["user_impersonation"] for g in plan.all(GRANT))


def test_easy_auth_accepts_its_tokens_and_the_script_finds_it_in_the_outputs(plan):
    client_id = plan.one(APP, "verification-client-app").outputs["clientId"]
    chat_id = plan.one(APP, "chat-app-app").outputs["clientId"]
    policy = plan.one(AUTH).input("identityProviders.azureActiveDirectory.validation.defaultAuthorizationPolicy")
    assert policy["allowedApplications"] == [chat_id, client_id]
    assert plan.stack_outputs["verificationClientId"] == client_id != chat_id


def test_a_stack_without_test_users_has_no_verification_client():
    plan = run_with({"agent-obo:verificationUsers": []}).ok()
    assert [a.name for a in plan.all(APP)] == ["chat-app-app"]
    assert plan.all(PRE_AUTHORIZED) == [] and "verificationClientId" not in plan.stack_outputs
    policy = plan.one(AUTH).input("identityProviders.azureActiveDirectory.validation.defaultAuthorizationPolicy")
    assert policy["allowedApplications"] == [plan.one(APP).outputs["clientId"]]


@pytest.mark.parametrize("overrides, fragment", [
    ({"agent-obo:verificationUsers": ["3c1e9a52-7b04-4d6f-8a19-2e5d0c7f4b61"]}, "2 to 10 test users"),
    ({"agent-obo:verificationUsers": ["not-a-guid", "3c1e9a52-7b04-4d6f-8a19-2e5d0c7f4b61"]}, "'not-a-guid'"),
    ({"agent-obo:assignmentRequired": True, "agent-obo:allowedUsers": ["3c1e9a52-7b04-4d6f-8a19-2e5d0c7f4b61"],
      "agent-obo:allowedGroups": [],
      "agent-obo:verificationUsers": ["3c1e9a52-7b04-4d6f-8a19-2e5d0c7f4b61", "9f4b2d17-5e8a-4c30-b6d2-71a0e3c95f28"]},
     "9f4b2d17-5e8a-4c30-b6d2-71a0e3c95f28 not in allowedUsers"),
])
def test_bad_verification_users_stop_the_program_before_any_resource(overrides, fragment):
    result = run_with(overrides)
    assert isinstance(result.error, SettingsError)
    assert "agent-obo:verificationUsers" in str(result.error) and fragment in str(result.error)
    assert result.plan.registrations == []


def test_the_pack_refuses_a_public_client_that_asks_microsoft_graph_for_anything(plans):
    def add_graph(inputs):
        inputs["requiredResourceAccesses"].append(
            {"resourceAppId": GRAPH_APP_ID, "resourceAccesses": [{"id": "e1fe6dd8", "type": "Scope"}]})

    found = messages(replaced(plans["prod"], "verification-client-app", add_graph), "graph-least-privilege")
    assert len(found) == 1 and "public client app requests Microsoft Graph access" in found[0]
    assert messages(plans["prod"], "graph-least-privilege") == []
