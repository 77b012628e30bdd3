"""The policy pack CI runs on every plan: every stack passes it, and every policy catches what it is for.

Broken fixtures are real registrations from the recorded plans, copied and changed in one place, then
judged through policy/harness.py exactly as the engine would hand them to the pack. The program is not
run again.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import runpy
import sys
from collections.abc import Callable
from typing import Any

import pulumi_policy
import pytest
import yaml
from pulumi.output import Unknown

from offline.plan import Plan, Registration, unwrap_secrets
from offline.runner import PROJECT_DIR, RunResult
from policy import harness, pack
from policy import tags as tag_policies
from policy.harness import PolicyResult, Violation, run_policies, verdict_section
from tests.sdk_types import type_accepts_tags

POLICY_DIR = PROJECT_DIR / "policy"
POLICIES = {policy.name: policy for policy in pack.POLICIES}
CONNECTION = "azure-native:resources:Resource"
SITE = "azure-native:web:WebApp"
AUTH = "azure-native:web:WebAppAuthSettingsV2WithoutSecrets"
STORAGE = "azure-native:storage:StorageAccount"
MODEL = "azure-native:cognitiveservices:Account"
FTP = "azure-native:web:WebAppFtpAllowed"
SCM = "azure-native:web:WebAppScmAllowed"
GRANT = "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant"
APPLICATION = "azuread:index/application:Application"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"

Mutation = Callable[[dict[str, Any]], None]


# --- building fixtures from the recorded plans -----------------------------------------------------

def changed(registration: Registration, mutate: Mutation) -> Registration:
    """A copy of a real registration with its (secret-unwrapped) inputs changed by `mutate`."""
    fixture = copy.deepcopy(registration)
    fixture.raw_inputs = unwrap_secrets(fixture.raw_inputs)
    mutate(fixture.raw_inputs)
    return fixture


def with_registrations(plan: Plan, registrations: list[Registration]) -> Plan:
    return dataclasses.replace(plan, registrations=registrations)


def replaced(plan: Plan, name: str, mutate: Mutation) -> Plan:
    """The plan with one registration (by logical name) changed and everything else as recorded."""
    target = next(r for r in plan.registrations if r.name == name)
    return with_registrations(plan, [changed(r, mutate) if r is target else r for r in plan.registrations])


def without(plan: Plan, predicate: Callable[[Registration], bool]) -> Plan:
    return with_registrations(plan, [r for r in plan.registrations if not predicate(r)])


def messages(plan: Plan, policy_name: str, config: dict[str, Any] | None = None) -> list[str]:
    [result] = run_policies(plan, [POLICIES[policy_name]], config)
    assert not result.notes, result.notes
    for violation in result.violations:
        assert "Remediation: " in violation.message, f"{policy_name} gave no remediation: {violation.message}"
    return [violation.message for violation in result.violations]


def only(plan: Plan, name: str, mutate: Mutation | None = None) -> Plan:
    """A plan holding just one registration (optionally changed): enough for a resource policy."""
    registration = next(r for r in plan.registrations if r.name == name)
    return with_registrations(plan, [changed(registration, mutate) if mutate else registration])


def set_at(dotted: str, value: Any) -> Mutation:
    def mutate(inputs: dict[str, Any]) -> None:
        *parents, last = dotted.split(".")
        for key in parents:
            inputs = inputs.setdefault(key, {})
        inputs[last] = value
    return mutate


def drop(dotted: str) -> Mutation:
    def mutate(inputs: dict[str, Any]) -> None:
        *parents, last = dotted.split(".")
        for key in parents:
            inputs = inputs[key]
        del inputs[last]
    return mutate


def both(*mutations: Mutation) -> Mutation:
    def mutate(inputs: dict[str, Any]) -> None:
        for mutation in mutations:
            mutation(inputs)
    return mutate


def add_app_setting(name: str, value: str) -> Mutation:
    """A setting inline on the site (which the program never does: the pack still checks it)."""
    return lambda inputs: inputs["siteConfig"].setdefault("appSettings", []).append({"name": name, "value": value})


@pytest.fixture(scope="module")
def dev(plans) -> Plan:
    return plans["dev"]


# --- the real plans --------------------------------------------------------------------------------

def test_every_stack_passes_every_policy(plan):
    results = run_policies(plan)
    assert [r.name for r in results] == list(POLICIES)
    failed = [r for r in results if not r.passed or r.notes]
    assert not failed, f"stack {plan.stack}:\n{verdict_section(results)}"


def test_each_policy_has_something_to_judge_in_the_plan(dev):
    """A policy that never sees its resource type passes vacuously: make sure each meets one."""
    judged = {
        "identity-labels": CONNECTION, "graph-least-privilege": APPLICATION, "connection-access-policy": CONNECTION,
        "easy-auth": AUTH, "site-hardening": SITE, "publishing-credentials-declared": FTP,
        "storage-hardening": STORAGE, "model-local-auth": MODEL, "required-tags": STORAGE,
        "tool-run-history": "pulumi-python:dynamic:Resource",
        "private-networking": STORAGE, "zone-redundancy": "azure-native:web:AppServicePlan", "health-check": SITE,
        "model-identity": MODEL, "delete-locks": STORAGE,
    }
    assert set(judged) == set(POLICIES)
    for name, resource_type in judged.items():
        assert dev.all(resource_type), f"{name}: dev has no {resource_type}"


# --- identity-labels -------------------------------------------------------------------------------

PER_USER_CONNECTION = "office365-peruser"
APP_ONLY_CONNECTION = "teams-apponly"

IDENTITY_LABEL_BREAKS = [
    ("display name says app-only", PER_USER_CONNECTION,
     set_at("properties.displayName", "[app-only] Office 365 Outlook"), "disagree"),
    ("tag says app-only", PER_USER_CONNECTION, set_at("tags.identity-mode", "app-only"), "disagree"),
    ("name says app-only", PER_USER_CONNECTION, set_at("resourceName", "office365-apponly"), "disagree"),
    ("name carries both labels", PER_USER_CONNECTION, set_at("resourceName", "office365-peruser-apponly"),
     "more than one"),
    ("display name without a label", APP_ONLY_CONNECTION, set_at("properties.displayName", "Microsoft Teams"),
     "names no identity"),
    ("identity-mode tag missing", APP_ONLY_CONNECTION, drop("tags.identity-mode"), "states no identity"),
    ("identity-mode tag unrecognised", APP_ONLY_CONNECTION, set_at("tags.identity-mode", "shared"),
     "names no identity"),
    ("per-user without DynamicUserInvoked", PER_USER_CONNECTION, drop("properties.features"), "DynamicUserInvoked"),
    ("per-user on the typed API version", PER_USER_CONNECTION, set_at("apiVersion", "2016-06-01"), "api-version"),
    ("app-only marked DynamicUserInvoked", APP_ONLY_CONNECTION,
     set_at("properties.features", "DynamicUserInvoked"), "makes it per-user"),
    ("per-user on a connector without OBO", PER_USER_CONNECTION,
     set_at("properties.api.id", "/subscriptions/s/providers/Microsoft.Web/locations/eastus2/managedApis/azureblob"),
     "does not support per-user"),
    ("unjustified per-user write", PER_USER_CONNECTION, set_at("tags.write-tools", "send_my_mail"),
     "send_my_mail"),
]


@pytest.mark.parametrize("name,mutate,expected", [case[1:] for case in IDENTITY_LABEL_BREAKS],
                         ids=[case[0] for case in IDENTITY_LABEL_BREAKS])
def test_identity_labels_reports(dev, name, mutate, expected):
    found = messages(only(dev, name, mutate), "identity-labels")
    assert any(expected in message for message in found), found


def test_identity_labels_accepts_a_justified_per_user_write_and_both_real_identities(dev):
    justified = both(set_at("tags.write-tools", "send_my_mail"), set_at("tags.justified-exceptions", "send_my_mail"))
    assert messages(only(dev, PER_USER_CONNECTION, justified), "identity-labels") == []
    assert messages(only(dev, PER_USER_CONNECTION), "identity-labels") == []
    assert messages(only(dev, APP_ONLY_CONNECTION), "identity-labels") == []


# --- graph-least-privilege -------------------------------------------------------------------------

def _graph_entries(inputs: dict[str, Any]) -> list[dict[str, Any]]:
    return next(a for a in inputs["requiredResourceAccesses"] if a["resourceAppId"] == GRAPH_APP_ID)["resourceAccesses"]


def with_consent_grant(plan: Plan, claims: list[str]) -> Plan:
    """The plan plus the tenant-wide grant the program no longer makes: the pack must still judge one
    that a changed component (or a hand-written resource) brings back."""
    sp = next(r for r in plan.registrations if r.name == "chat-app-sp")
    grant = dataclasses.replace(
        copy.deepcopy(sp), type=GRANT, name="chat-app-graph-consent",
        urn=sp.urn.replace("azuread:index/servicePrincipal:ServicePrincipal::chat-app-sp",
                           f"{GRANT}::chat-app-graph-consent"),
        raw_inputs={"servicePrincipalObjectId": sp.outputs.get("objectId"),
                    "resourceServicePrincipalObjectId": "graph", "claimValues": list(claims)})
    return with_registrations(plan, [*plan.registrations, grant])


SIGN_IN = ["User.Read", "offline_access", "openid", "profile"]


@pytest.fixture(scope="module")
def delegating(plans) -> Plan:
    """dev with the tools' scopes delegated to the chat app (its stack config declares it)."""
    from tests.conftest import run_with

    return run_with({"agent-obo:delegateToolScopesToChatApp": True}).ok()


def _with_extra_scope(delegating: Plan, scope: str) -> Plan:
    """A per-user tool asks for `scope`: its connection's tag, the app and the grant all follow it."""
    plan = replaced(delegating, "onedriveforbusiness-peruser", set_at("tags.scopes", f"Files.Read {scope}"))
    plan = replaced(plan, "chat-app-app", lambda i: _graph_entries(i).append({"id": "extra", "type": "Scope"}))
    return with_consent_grant(plan, [*delegating.stack_outputs["graphScopes"], scope])


def test_graph_least_privilege_reports_consent_beyond_what_the_app_requests(dev):
    plan = with_consent_grant(dev, [*SIGN_IN, "Mail.Send"])
    assert any("not needed Mail.Send" in m for m in messages(plan, "graph-least-privilege"))


def test_graph_least_privilege_reports_a_tools_scope_consented_for_a_chat_app_that_does_not_delegate(dev):
    plan = with_consent_grant(dev, [*SIGN_IN, "Calendars.Read"])
    assert any("not needed Calendars.Read" in m for m in messages(plan, "graph-least-privilege"))


def test_graph_least_privilege_reports_consent_short_of_what_the_app_requests(delegating):
    claims = [s for s in delegating.stack_outputs["graphScopes"] if s != "Files.Read"]
    plan = with_consent_grant(delegating, claims)
    assert any("missing Files.Read" in m for m in messages(plan, "graph-least-privilege"))


def test_graph_least_privilege_accepts_a_grant_of_exactly_the_apps_scopes(dev, delegating):
    assert messages(with_consent_grant(dev, SIGN_IN), "graph-least-privilege") == []
    assert messages(with_consent_grant(delegating, delegating.stack_outputs["graphScopes"]),
                    "graph-least-privilege") == []


def test_graph_least_privilege_reports_an_app_requesting_another_scope_count(dev, delegating):
    plan = replaced(dev, "chat-app-app", lambda i: _graph_entries(i).pop())
    assert any("requests 3 Microsoft Graph delegated scopes" in m for m in messages(plan, "graph-least-privilege"))
    count = len(delegating.stack_outputs["graphScopes"])
    plan = replaced(delegating, "chat-app-app", lambda i: _graph_entries(i).pop())
    assert any(f"requests {count - 1} Microsoft Graph delegated scopes" in m
               for m in messages(plan, "graph-least-privilege"))


def test_graph_least_privilege_reports_tool_scopes_on_a_chat_app_that_does_not_delegate(dev, delegating):
    """A component edited to request the tools' scopes again fails unless the stack declares it."""
    tools_app = next(r for r in delegating.registrations if r.name == "chat-app-app")
    plan = with_registrations(dev, [tools_app if r.name == "chat-app-app" else r for r in dev.registrations])
    count = len(delegating.stack_outputs["graphScopes"])
    assert any(f"requests {count} Microsoft Graph delegated scopes" in m
               for m in messages(plan, "graph-least-privilege"))


def test_graph_least_privilege_reports_application_permissions(dev):
    plan = replaced(dev, "chat-app-app", lambda i: _graph_entries(i).append({"id": "role", "type": "Role"}))
    assert any("application permission" in m for m in messages(plan, "graph-least-privilege"))


@pytest.mark.parametrize("scope", ["Files.ReadWrite.All", "Directory.Read.All"])
def test_graph_least_privilege_reports_tenant_wide_scopes_unless_allowed(delegating, scope):
    plan = _with_extra_scope(delegating, scope)
    found = messages(plan, "graph-least-privilege")
    assert any(f"Connection declares tenant-wide scope {scope!r}" in m for m in found), found
    assert any(f"Admin consent grants tenant-wide scope {scope!r}" in m for m in found), found
    assert len(found) == 2, found  # consistent everywhere: only the breadth is wrong
    assert messages(plan, "graph-least-privilege", {"graph-least-privilege": {"allowedBroadScopes": [scope]}}) == []


def test_graph_least_privilege_passes_the_real_plans_which_hold_no_consent_grant(plans):
    """No stack grants consent (an administrator does): the app's scopes are still checked."""
    for plan in plans.values():
        assert plan.all(GRANT) == []
        assert messages(plan, "graph-least-privilege") == []
        broken = replaced(plan, "chat-app-app", lambda i: _graph_entries(i).pop())
        assert messages(broken, "graph-least-privilege")


def test_graph_least_privilege_declares_its_config_schema():
    schema = POLICIES["graph-least-privilege"].config_schema
    assert schema.properties["allowedBroadScopes"] == {
        "type": "array", "items": {"type": "string"}, "default": [],
        "description": schema.properties["allowedBroadScopes"]["description"]}


# --- connection-access-policy ----------------------------------------------------------------------

def _access_policy_of(connection: str) -> Callable[[Registration], bool]:
    return lambda r: r.name == f"{connection}-site-access"


def test_connection_access_policy_reports_a_connection_without_one(dev):
    found = messages(without(dev, _access_policy_of("teams-apponly")), "connection-access-policy")
    assert len(found) == 1 and "'teams-apponly' has no access policy" in found[0], found


@pytest.mark.parametrize("mutate,expected", [
    (set_at("properties.principal.type", "User"), "principal type 'User'"),
    (drop("properties.principal.identity.objectId"), "no principal objectId"),
    (set_at("parentResourcePath", "connections/someone-else"), "has no access policy"),
], ids=["not ActiveDirectory", "no objectId", "on another connection"])
def test_connection_access_policy_reports_a_wrong_policy(dev, mutate, expected):
    found = messages(replaced(dev, "office365-peruser-site-access", mutate), "connection-access-policy")
    assert any(expected in m for m in found), found


def notes(plan: Plan, policy_name: str) -> tuple[list[str], list[str]]:
    """A policy's violations and its notes: what a preview could not check, said rather than passed."""
    [result] = run_policies(plan, [POLICIES[policy_name]])
    return [v.message for v in result.violations], result.notes


def test_connection_access_policy_says_it_could_not_check_an_object_id_unknown_during_preview(dev):
    plan = replaced(dev, "office365-peruser-site-access",
                    set_at("properties.principal.identity.objectId", Unknown()))
    violations, said = notes(plan, "connection-access-policy")
    assert violations == []
    assert said == ["can't run during preview: connection access: not known yet, so not checked in this preview: "
                    "office365-peruser-site-access properties.principal.identity.objectId"]


# --- easy-auth -------------------------------------------------------------------------------------

AAD = "identityProviders.azureActiveDirectory"
EASY_AUTH_BREAKS = [
    ("platform off", set_at("platform.enabled", False), "platform.enabled is False"),
    ("platform unset", drop("platform"), "platform.enabled is <missing>"),
    ("authentication optional", set_at("globalValidation.requireAuthentication", False), "anonymous requests"),
    ("anonymous action", set_at("globalValidation.unauthenticatedClientAction", "AllowAnonymous"), "AllowAnonymous"),
    ("path outside /runtime/", set_at("globalValidation.excludedPaths", ["/runtime/*", "/api/*"]), "'/api/*'"),
    ("provider disabled", set_at(f"{AAD}.enabled", False), "provider is disabled"),
    ("no provider", drop(AAD), "No Microsoft Entra identity provider"),
    ("v1 issuer", set_at(f"{AAD}.registration.openIdIssuer", "https://sts.windows.net/t/"), "openIdIssuer"),
    ("multi-tenant issuer", set_at(f"{AAD}.registration.openIdIssuer",
                                   "https://login.microsoftonline.com/common/v2.0"), "openIdIssuer"),
    ("audience without api://", set_at(f"{AAD}.validation.allowedAudiences", ["https://other"]), "lacks api://"),
    ("token store off", set_at("login.tokenStore.enabled", False), "token"),
    ("http allowed", set_at("httpSettings.requireHttps", False), "requireHttps"),
    ("client secret setting", set_at(f"{AAD}.registration.clientSecretSettingName",
                                     "MICROSOFT_PROVIDER_AUTHENTICATION_SECRET"), "client secret"),
    ("no secretless setting", drop(f"{AAD}.registration.clientSecretSettingName"), "clientSecretSettingName"),
    ("certificate credential", set_at(f"{AAD}.registration.clientSecretCertificateThumbprint", "AB12"),
     "clientSecretCertificateThumbprint"),
]


@pytest.mark.parametrize("mutate,expected", [case[1:] for case in EASY_AUTH_BREAKS],
                         ids=[case[0] for case in EASY_AUTH_BREAKS])
def test_easy_auth_reports(dev, mutate, expected):
    found = messages(only(dev, "easy-auth-authsettings", mutate), "easy-auth")
    assert any(expected in m for m in found), found


def test_easy_auth_accepts_the_real_settings_and_says_it_could_not_check_an_audience_it_cannot_know_yet(dev):
    assert messages(only(dev, "easy-auth-authsettings"), "easy-auth") == []
    unknown_client = set_at(f"{AAD}.registration.clientId", Unknown())
    violations, said = notes(only(dev, "easy-auth-authsettings", unknown_client), "easy-auth")
    assert violations == [] and len(said) == 1 and f"{AAD}.registration.clientId" in said[0]


# --- site-hardening and publishing-credentials-declared --------------------------------------------

SITE_BREAKS = [
    ("http allowed", set_at("httpsOnly", False), "httpsOnly is False"),
    ("https not enforced", drop("httpsOnly"), "httpsOnly is <missing>"),
    ("TLS 1.0", set_at("siteConfig.minTlsVersion", "1.0"), "minTlsVersion is '1.0'"),
    ("SCM TLS 1.1", set_at("siteConfig.scmMinTlsVersion", "1.1"), "scmMinTlsVersion is '1.1'"),
    ("FTP open", set_at("siteConfig.ftpsState", "AllAllowed"), "ftpsState is 'AllAllowed'"),
    ("FTP default", drop("siteConfig.ftpsState"), "ftpsState is <missing>"),
    ("no managed identity", drop("identity"), "no managed identity"),
    ("identity None", set_at("identity.type", "None"), "no managed identity"),
]
SECRET_SETTINGS = [
    ("storage key", "AzureWebJobsStorage", "DefaultEndpointsProtocol=https;AccountName=st;AccountKey=abc==",
     "'AzureWebJobsStorage'"),
    ("service bus key", "BUS", "Endpoint=sb://x/;SharedAccessKeyName=r;SharedAccessKey=k", "'BUS'"),
    ("SAS url", "PKG", "https://st.blob.core.windows.net/c/p.zip?sv=2022&sp=r&sig=abc", "'PKG'"),
    ("password", "DB", "Server=x;User Id=u;Password=p", "'DB'"),
    ("client secret value", "SOMETHING", "aB3" + "8Q~" + "x" * 32, "'SOMETHING'"),
    ("easy auth secret name", "MICROSOFT_PROVIDER_AUTHENTICATION_SECRET", "@Microsoft.KeyVault(x)",
     "holds a secret by name"),
    ("client secret name", "GRAPH_CLIENT_SECRET", "x", "holds a secret by name"),
]
APP_SETTINGS_RESOURCE = "app-settings-appsettings"


@pytest.mark.parametrize("mutate,expected", [case[1:] for case in SITE_BREAKS], ids=[case[0] for case in SITE_BREAKS])
def test_site_hardening_reports(dev, mutate, expected):
    found = messages(only(dev, "logic-app-site", mutate), "site-hardening")
    assert any(expected in m for m in found), found


@pytest.mark.parametrize("place", ["settings resource", "inline on the site"])
@pytest.mark.parametrize("name,value,expected", [case[1:] for case in SECRET_SETTINGS],
                         ids=[case[0] for case in SECRET_SETTINGS])
def test_site_hardening_reports_a_secret_in_an_app_setting_wherever_it_is(dev, place, name, value, expected):
    if place == "inline on the site":
        found = messages(only(dev, "logic-app-site", add_app_setting(name, value)), "site-hardening")
    else:
        found = messages(only(dev, APP_SETTINGS_RESOURCE, set_at(f"properties.{name}", value)), "site-hardening")
    assert any(expected in m for m in found), found


@pytest.mark.parametrize("name", ["logic-app-ftp-basic-auth", "logic-app-scm-basic-auth"])
def test_site_hardening_reports_basic_publishing_credentials_allowed(dev, name):
    found = messages(only(dev, name, set_at("allow", True)), "site-hardening")
    assert len(found) == 1 and "Basic publishing credentials are allowed" in found[0], found
    assert messages(only(dev, name), "site-hardening") == []


def test_site_hardening_accepts_identity_based_settings_and_the_insights_connection_string(dev):
    names = set(next(r for r in dev.registrations if r.name == APP_SETTINGS_RESOURCE).input("properties"))
    assert {"APPLICATIONINSIGHTS_CONNECTION_STRING", "AzureWebJobsStorage__credential"} <= names
    assert messages(only(dev, APP_SETTINGS_RESOURCE), "site-hardening") == []
    assert messages(only(dev, "logic-app-site"), "site-hardening") == []


@pytest.mark.parametrize("kind", [FTP, SCM])
def test_publishing_credentials_declared_reports_a_site_without_the_setting(dev, kind):
    assert messages(dev, "publishing-credentials-declared") == []
    found = messages(without(dev, lambda r: r.type == kind), "publishing-credentials-declared")
    assert len(found) == 1 and kind.rsplit(":", 1)[-1] in found[0], found


# --- storage-hardening, model-local-auth -----------------------------------------------------------

@pytest.mark.parametrize("mutate,expected", [
    (set_at("allowBlobPublicAccess", True), "allowBlobPublicAccess is True"),
    (set_at("minimumTlsVersion", "TLS1_0"), "minimumTlsVersion is 'TLS1_0'"),
    (drop("minimumTlsVersion"), "minimumTlsVersion is <missing>"),
    (set_at("enableHttpsTrafficOnly", False), "enableHttpsTrafficOnly is False"),
    (set_at("allowSharedKeyAccess", True), "allowSharedKeyAccess is True"),
    (drop("allowSharedKeyAccess"), "allowSharedKeyAccess is <missing>"),
], ids=["public blobs", "TLS 1.0", "TLS default", "http", "shared key", "shared key default"])
def test_storage_hardening_reports_the_account(dev, mutate, expected):
    found = messages(only(dev, "runtime-storage-account", mutate), "storage-hardening")
    assert any(expected in m for m in found), found


def test_storage_hardening_reports_a_public_container_and_accepts_private_or_default_ones(dev):
    found = messages(only(dev, "runtime-storage-runbooks", set_at("publicAccess", "Blob")), "storage-hardening")
    assert len(found) == 1 and "publicAccess is 'Blob'" in found[0], found
    assert messages(only(dev, "runtime-storage-runbooks"), "storage-hardening") == []
    assert messages(only(dev, "runtime-storage-runbooks", drop("publicAccess")), "storage-hardening") == []
    # Defaults that are safe on the API in use are not demanded.
    safe_defaults = both(drop("allowBlobPublicAccess"), drop("enableHttpsTrafficOnly"))
    assert messages(only(dev, "runtime-storage-account", safe_defaults), "storage-hardening") == []


@pytest.mark.parametrize("mutate", [set_at("properties.disableLocalAuth", False), drop("properties.disableLocalAuth")],
                         ids=["keys enabled", "keys by default"])
def test_model_local_auth_reports_api_keys(dev, mutate):
    found = messages(only(dev, "agent-model-account", mutate), "model-local-auth")
    assert len(found) == 1 and "accepts API keys" in found[0], found
    assert messages(only(dev, "agent-model-account"), "model-local-auth") == []


# --- required-tags ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["runtime-storage-account", "office365-peruser", "agent-model-deployment"])
def test_required_tags_reports_a_missing_or_empty_tag(dev, name):
    found = messages(only(dev, name, drop("tags.owner")), "required-tags")
    assert len(found) == 1 and "Missing tags: owner" in found[0], found
    found = messages(only(dev, name, set_at("tags.environment", "")), "required-tags")
    assert len(found) == 1 and "environment" in found[0], found


def test_required_tags_skips_what_azure_cannot_tag(dev):
    access_policy = dev.one(CONNECTION, "office365-peruser-site-access")
    assert "tags" not in access_policy.inputs and access_policy.input("parentResourcePath")
    assert messages(only(dev, "office365-peruser-site-access"), "required-tags") == []
    assert messages(only(dev, "azureblob-apponly-runbooks-reader"), "required-tags") == []


def test_taggable_types_match_the_sdk(plans):
    for resource_type in tag_policies.TAGGABLE_TYPES:
        assert type_accepts_tags(resource_type), f"{resource_type} takes no tags in the SDK"
    planned = {r.type for plan in plans.values() for r in plan.resources if r.type.startswith("azure-native:")}
    missing = {t for t in planned if type_accepts_tags(t)} - tag_policies.TAGGABLE_TYPES
    assert not missing, f"taggable types the pack does not check: {sorted(missing)}"


# --- missing and unknown properties ----------------------------------------------------------------

def _every_leaf(value: Any, replacement: Callable[[], Any]) -> Any:
    if isinstance(value, dict):
        return {key: _every_leaf(item, replacement) for key, item in value.items()}
    if isinstance(value, list):
        return [_every_leaf(item, replacement) for item in value]
    return replacement()


def test_resources_without_their_properties_fail_only_where_absence_is_the_risk(dev):
    stripped = with_registrations(dev, [changed(r, lambda i: i.clear()) for r in dev.resources])
    results = {r.name: r for r in run_policies(stripped)}
    assert all(not r.notes for r in results.values())
    by_resource: dict[str, list[str]] = {}
    for result in results.values():
        for v in result.violations:
            by_resource.setdefault(v.urn.rsplit("::", 1)[-1], []).append(v.message)
    assert any("httpsOnly is <missing>" in m for m in by_resource["logic-app-site"])
    assert any("allowSharedKeyAccess is <missing>" in m for m in by_resource["runtime-storage-account"])
    assert not any("allowBlobPublicAccess" in m for m in by_resource["runtime-storage-account"])
    assert any("accepts API keys" in m for m in by_resource["agent-model-account"])
    assert any("platform.enabled is <missing>" in m for m in by_resource["easy-auth-authsettings"])
    assert "runtime-storage-runbooks" not in by_resource  # a container's default is private
    assert results["graph-least-privilege"].passed and results["connection-access-policy"].passed


def test_a_connection_with_only_its_type_reports_its_missing_labels(dev):
    bare = only(dev, PER_USER_CONNECTION, lambda i: [i.pop(k) for k in list(i)
                                                      if k not in ("resourceType", "resourceProviderNamespace")])
    found = messages(bare, "identity-labels")
    assert len(found) == 1 and "display name prefix, identity-mode tag" in found[0], found


# What tells a generic ARM resource's kind (a connection, an access policy) is literal in the program.
SHAPE = ("resourceType", "resourceProviderNamespace", "parentResourcePath")


def _unknown_but_shape(inputs: dict[str, Any]) -> None:
    inputs.update({key: _every_leaf(value, Unknown) for key, value in inputs.items() if key not in SHAPE})


def test_a_plan_whose_every_value_is_unknown_passes_without_a_crash_and_says_what_it_did_not_check(dev):
    """During preview nothing here is known yet: no policy may accuse, none may stop on it, and none may
    pass in silence a value it never saw."""
    unknown = with_registrations(dev, [changed(r, _unknown_but_shape) for r in dev.resources])
    assert unknown.one(CONNECTION, PER_USER_CONNECTION).input("resourceType") == "connections"
    results = run_policies(unknown)
    assert all(r.passed for r in results), verdict_section(results)
    # Declared per stack and not declared by dev, so nothing to check here (policy/network.py,
    # policy/resilience.py); every other policy has something to judge and must say it could not.
    undeclared_on_dev = {"private-networking", "zone-redundancy", "health-check", "model-identity", "delete-locks"}
    silent = [r.name for r in results if not r.notes and r.name not in undeclared_on_dev]
    assert silent == [], verdict_section(results)


def test_harness_reports_a_policy_that_reads_an_unknown_value_as_the_engine_does(dev):
    def reads_directly(args, report_violation):
        if args.props["httpsOnly"] is not True:
            report_violation("not https")

    careless = pulumi_policy.ResourceValidationPolicy(
        name="careless", description="reads props without guarding unknowns", validate=reads_directly,
        enforcement_level=pulumi_policy.EnforcementLevel.MANDATORY)
    [result] = run_policies(only(dev, "logic-app-site", set_at("httpsOnly", Unknown())), [careless])
    assert result.passed and len(result.notes) == 1, result
    assert result.notes[0].startswith("can't run during preview: ") and ".httpsOnly" in result.notes[0]


def test_harness_hands_policies_engine_shaped_props(dev):
    seen: dict[str, Any] = {}

    def capture(args, report_violation):
        seen[args.name] = args

    spy = pulumi_policy.ResourceValidationPolicy(name="spy", description="records its args", validate=capture)
    run_policies(dev, [spy])
    site = seen["logic-app-site"]
    assert site.resource_type == SITE and site.urn == dev.one(SITE).urn
    assert site.props["siteConfig"]["minTlsVersion"] == "1.2"  # camelCase, as the engine sends
    blob = seen["workflow-package-blob"]
    assert isinstance(blob.props["__provider"], str)  # the secret arrives unwrapped
    assert set(seen) == {r.name for r in dev.resources}  # every custom resource, no component



def _analyzer_verdicts(plan: Plan) -> set[tuple[str, str, str]]:
    """(policy, urn, message) from the SDK's own analyzer service, fed the gRPC requests the engine sends."""
    from google.protobuf import struct_pb2
    from pulumi.runtime import proto
    from pulumi_policy.policy import _PolicyAnalyzerServicer

    from policy.stack_config import policy_config_for

    analyzer = _PolicyAnalyzerServicer("agent-obo-policies", "0.0.1", pack.POLICIES,
                                       pulumi_policy.EnforcementLevel.MANDATORY)
    # What `--policy-pack-config` hands the pack: the stack's declarations (make preview passes them).
    configs = {}
    for name, values in policy_config_for(plan.config, plan.stack).items():
        properties = struct_pb2.Struct()
        properties.update(values)
        configs[name] = proto.PolicyConfig(enforcementLevel=proto.MANDATORY, properties=properties)
    analyzer.Configure(proto.ConfigureAnalyzerRequest(policyConfig=configs), None)
    diagnostics = []  # (diagnostic, the urn the engine files it under)
    for registration in plan.resources:
        request = proto.AnalyzeRequest(type=registration.type, urn=registration.urn, name=registration.name,
                                       properties=harness.engine_struct(registration))
        # A resource policy's diagnostic carries no urn: the engine files it under the resource analyzed.
        diagnostics += [(d, d.urn or registration.urn) for d in analyzer.Analyze(request, None).diagnostics]
    stack = proto.AnalyzeStackRequest(resources=[
        proto.AnalyzerResource(type=r.type, urn=r.urn, name=r.name, properties=harness.engine_struct(r),
                               parent=r.parent, dependencies=r.dependencies) for r in plan.resources])
    diagnostics += [(d, d.urn) for d in analyzer.AnalyzeStack(stack, None).diagnostics]
    # The service prefixes each message with the policy's description.
    return {(d.policyName, urn, d.message.split("\n", 1)[1]) for d, urn in diagnostics}


def test_harness_gives_the_verdicts_of_the_sdks_own_analyzer(dev):
    broken = replaced(dev, "logic-app-site", set_at("httpsOnly", False))
    broken = with_consent_grant(broken, [*SIGN_IN, "Mail.Send"])
    broken = replaced(broken, "office365-peruser", set_at("tags.identity-mode", "app-only"))
    broken = without(broken, _access_policy_of("teams-apponly"))
    from_harness = {(r.name, v.urn, v.message) for r in run_policies(broken) for v in r.violations}
    assert len({policy for policy, _, _ in from_harness}) == 4
    assert from_harness == _analyzer_verdicts(broken)


# --- the pack itself -------------------------------------------------------------------------------

def test_policies_are_named_described_and_levelled():
    assert len(POLICIES) == len(pack.POLICIES) >= 8
    for policy in pack.POLICIES:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", policy.name), policy.name
        assert len(policy.description) > 80 and policy.remediation_steps, policy.name
        assert policy.enforcement_level is not None, policy.name
        if policy.enforcement_level != pulumi_policy.EnforcementLevel.MANDATORY:
            assert "advisory because" in policy.description.lower(), policy.name
    stack_policies = {p.name for p in pack.POLICIES if isinstance(p, pulumi_policy.StackValidationPolicy)}
    assert stack_policies == {"graph-least-privilege", "connection-access-policy", "publishing-credentials-declared",
                              "private-networking", "delete-locks"}


def test_required_tags_are_tags_the_program_sets(dev):
    for tag in tag_policies.REQUIRED_TAGS:
        assert dev.one(STORAGE).input(f"tags.{tag}"), tag


def test_pack_entry_point_builds_the_pack_without_serving_it(monkeypatch):
    built: list[dict[str, Any]] = []
    monkeypatch.setattr(pulumi_policy, "PolicyPack", lambda **kwargs: built.append(kwargs))
    monkeypatch.setattr(sys, "path", [str(POLICY_DIR), *sys.path])  # as the CLI starts the folder
    runpy.run_path(str(POLICY_DIR / "__main__.py"), run_name="__main__")
    assert str(POLICY_DIR) not in sys.path and sys.path[0] == str(PROJECT_DIR)
    assert len(built) == 1
    assert built[0]["name"] == "agent-obo-policies"
    assert built[0]["enforcement_level"] == pulumi_policy.EnforcementLevel.MANDATORY
    assert [p.name for p in built[0]["policies"]] == list(POLICIES)


def test_pack_project_files():
    project = yaml.safe_load((POLICY_DIR / "PulumiPolicy.yaml").read_text())
    # The project's own virtualenv: the pack imports agent_obo, and so needs its requirements.
    assert project["runtime"] == {"name": "python", "options": {"virtualenv": "../.venv"}}
    assert (POLICY_DIR / project["runtime"]["options"]["virtualenv"]).resolve() == PROJECT_DIR / ".venv"
    assert project["description"].strip()


# --- the harness's report and command --------------------------------------------------------------

def test_verdict_section_lists_each_policy_with_its_violations():
    results = [
        PolicyResult("identity-labels", pulumi_policy.EnforcementLevel.MANDATORY),
        PolicyResult("site-hardening", pulumi_policy.EnforcementLevel.MANDATORY, [
            Violation("urn:pulumi:dev::agent-obo::agent-obo:web:LogicApp$azure-native:web:WebApp::logic-app-site",
                      "httpsOnly is False. Remediation: set httpsOnly to true."),
            Violation("", "stack-wide. Remediation: fix it."),
        ]),
    ]
    assert verdict_section(results) == "\n".join([
        "Policies:",
        "  PASS  identity-labels",
        "  FAIL  site-hardening (2 violations)",
        "        logic-app-site: httpsOnly is False. Remediation: set httpsOnly to true.",
        "        (stack): stack-wide. Remediation: fix it.",
    ])


def test_harness_command_exits_1_only_when_a_mandatory_policy_fails(plans, monkeypatch, capsys):
    broken = replaced(plans["dev"], "logic-app-site", set_at("httpsOnly", False))
    runs = {**{stack: RunResult(plan, None) for stack, plan in plans.items()}, "broken": RunResult(broken, None)}
    monkeypatch.setattr(harness, "run_stack", lambda stack: runs[stack])
    monkeypatch.setattr(harness, "stacks", lambda: sorted(plans))
    assert harness.main([]) == 0
    assert capsys.readouterr().out.count("PASS") == len(POLICIES) * len(plans)
    assert harness.main(["dev", "broken"]) == 1
    out = capsys.readouterr().out
    assert "Stack broken:" in out and "  FAIL  site-hardening (1 violations)" in out
