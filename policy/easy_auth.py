"""Easy Auth (App Service authentication v2) on the logic app, pinned to what the stack declares.

Every request but the declared excluded paths needs a Microsoft Entra sign-in from this tenant; only the
chat app's tokens are accepted, only from the chat app itself and, where the stack says so, only for its
allowed users and groups; each user's token is kept for the per-user tools; and no client secret exists.
Sources: learn.microsoft.com/azure/logic-apps/set-up-authentication-agent-workflows (what an agent needs),
learn.microsoft.com/azure/app-service/configure-authentication-provider-aad (issuer, audiences,
allowed applications and principals, "use a managed identity instead of a secret"),
learn.microsoft.com/azure/app-service/configure-authentication-file-based (every authsettingsV2 field).
"""

from __future__ import annotations

import re
from typing import Any

from pulumi_policy import (
    ResourceValidationArgs,
    StackValidationArgs,
)

from agent_obo.app_settings import FIC_CLIENT_ID_SETTING
from policy.checks import Check
from policy.declared import Declared
from policy.define import resource_policy, stack_policy
from policy.props import MISSING, UNKNOWN, known_list, lookup, plain, props_of
from policy.resource_types import APPLICATION, AUTH_SETTINGS_TYPES, AUTH_SETTINGS_V1_TYPES, SITE

URL = "https://learn.microsoft.com/azure/app-service/configure-authentication-provider-aad"
AAD = "identityProviders.azureActiveDirectory"
_CERTIFICATE_FIELDS = ("clientSecretCertificateThumbprint", "clientSecretCertificateSubjectAlternativeName",
                       "clientSecretCertificateIssuer")
# Every provider authsettingsV2 knows besides Microsoft Entra; a configured provider is enabled unless it says
# `enabled: false` (configure-authentication-file-based).
_OTHER_PROVIDERS = ("apple", "azureStaticWebApps", "facebook", "gitHub", "google", "legacyMicrosoftAccount",
                    "twitter")
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z", re.IGNORECASE)
# An excluded path the pack accepts: under the runtime's own APIs, no traversal, no encoding, a wildcard
# only as the last character.
_SAFE_EXCLUDED_PATH = re.compile(r"^/runtime/(?:[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*/)*(?:[A-Za-z0-9_-]+|\*)?\Z")


def unsafe_excluded_paths(paths: tuple[str, ...]) -> list[str]:
    return [path for path in paths if not _SAFE_EXCLUDED_PATH.match(path)]


def _words(parameters: Any) -> set[str] | None:
    """The scopes asked at sign-in (`scope=...` login parameters), None when they cannot be read yet."""
    if parameters is UNKNOWN or (isinstance(parameters, list) and UNKNOWN in parameters):
        return None
    scopes: set[str] = set()
    for parameter in known_list(parameters):
        if isinstance(parameter, str) and parameter.lower().startswith("scope="):
            scopes |= set(parameter.split("=", 1)[1].split())
    return scopes


def validate_easy_auth(args: ResourceValidationArgs, check: Check) -> None:
    """Easy Auth on the logic app is exactly what the stack declares: sign-in required for every path but the declared
    excluded ones (under /runtime/, no wildcard or traversal beyond them), only the Microsoft Entra provider, tokens
    issued by the stack's tenant for the chat app's audience (and the declared extra audiences) from the chat app
    itself, the declared users and groups, the token store on, HTTPS required, and a federated credential instead of
    a client secret."""
    if args.resource_type in AUTH_SETTINGS_V1_TYPES:
        check.fail(
            f"{args.resource_type.rsplit(':', 1)[-1]} writes the legacy authsettings (v1), which override or "
            "conflict with the site's authsettingsV2.", "configure Easy Auth only through authsettingsV2 "
            "(components/easy_auth.py).")
        return
    if args.resource_type not in AUTH_SETTINGS_TYPES:
        return
    stack = check.declared()
    if stack is not None:
        _check_settings(check, plain(args.props), stack)


def _check_settings(check: Check, props: dict[str, Any], stack: Declared) -> None:
    sign_in = stack.settings.sign_in
    check.equal(props, "platform.enabled", True, "Easy Auth is off and the agent is open to anyone.",
                "set platform.enabled to true.")
    check.equal(props, "globalValidation.requireAuthentication", True, "anonymous requests reach the agent.",
                "set globalValidation.requireAuthentication to true.")
    check.equal(props, "globalValidation.unauthenticatedClientAction", sign_in.unauthenticated_action,
                "unauthenticated requests are not handled as the stack declares (agent-obo:unauthenticatedAction).",
                f"set it to {sign_in.unauthenticated_action!r}.")
    redirect = lookup(props, "globalValidation.redirectToProvider")
    if check.known(redirect, "redirectToProvider") and redirect is not MISSING \
            and str(redirect).lower() != "azureactivedirectory":
        check.fail(f"redirectToProvider is {redirect!r}: sign-in goes to another identity provider.",
                   "set it to 'azureactivedirectory'.")
    bad_declared = unsafe_excluded_paths(sign_in.excluded_paths)
    if bad_declared:
        check.fail(f"agent-obo:excludedPaths declares {bad_declared}: a wildcard or traversal reaches beyond the "
                   "runtime's own APIs.", "exclude only paths under /runtime/ without '..', '//', '%' or a "
                   "wildcard before the last character (e.g. /runtime/*).")
    check.same_set(lookup(props, "globalValidation.excludedPaths"), sign_in.excluded_paths,
                   "globalValidation.excludedPaths", "exclude exactly agent-obo:excludedPaths.")

    for provider in _OTHER_PROVIDERS:
        _check_disabled(check, lookup(props, f"identityProviders.{provider}"), provider)
    custom = lookup(props, "identityProviders.customOpenIdConnectProviders")
    if check.known(custom, "customOpenIdConnectProviders") and isinstance(custom, dict):
        for name, provider in custom.items():
            _check_disabled(check, provider, f"customOpenIdConnectProviders.{name}")

    if lookup(props, AAD) is MISSING:
        check.fail("No Microsoft Entra identity provider is configured: nobody signs in as themselves.",
                   f"configure {AAD} with the chat app's registration.")
        return
    check.not_value(props, f"{AAD}.enabled", False, "the Microsoft Entra provider is disabled.",
                    f"remove {AAD}.enabled or set it to true.")
    check.equal(props, f"{AAD}.registration.openIdIssuer", stack.issuer,
                "tokens must come from the stack's tenant (agent-obo:tenantId), v2.0 endpoint.",
                f"set registration.openIdIssuer to {stack.issuer}.")
    check.equal(props, f"{AAD}.registration.clientSecretSettingName", FIC_CLIENT_ID_SETTING,
                "sign-in would depend on a client secret, or on nothing.",
                f"set it to {FIC_CLIENT_ID_SETTING} and give the app a federated credential for the runtime's "
                "user-assigned identity (secretless Easy Auth).")
    for field in _CERTIFICATE_FIELDS:
        if lookup(props, f"{AAD}.registration.{field}") is not MISSING:
            check.fail(f"registration.{field} is set: sign-in uses a certificate credential.",
                       f"remove it; sign in with the managed identity's federated credential "
                       f"({FIC_CLIENT_ID_SETTING}).")

    client_id = lookup(props, f"{AAD}.registration.clientId")
    if check.known(client_id, "the chat app's client id") and not (isinstance(client_id, str)
                                                                    and GUID.match(client_id)):
        check.fail(f"registration.clientId is {client_id!r}, not an application (client) id.",
                   "set it to the chat app registration's client id.")
        client_id = UNKNOWN
    if client_id is UNKNOWN:
        return  # audiences and allowed applications are written in terms of it
    check.same_set(lookup(props, f"{AAD}.validation.allowedAudiences"),
                   [f"api://{client_id}", *sign_in.additional_token_audiences],
                   "validation.allowedAudiences",
                   "accept api://<client id> and agent-obo:additionalTokenAudiences, nothing else.",
                   missing_is_empty=True)
    policy = f"{AAD}.validation.defaultAuthorizationPolicy"
    _check_allowed_applications(check, lookup(props, f"{policy}.allowedApplications"), client_id,
                                bool(stack.settings.audit.verification_users))
    check.same_set(lookup(props, f"{policy}.allowedPrincipals.identities"), sign_in.allowed_users,
                   "allowedPrincipals.identities", "allow exactly agent-obo:allowedUsers.")
    check.same_set(lookup(props, f"{policy}.allowedPrincipals.groups"), sign_in.allowed_groups,
                   "allowedPrincipals.groups", "allow exactly agent-obo:allowedGroups.")
    claim_checks = lookup(props, f"{AAD}.validation.jwtClaimChecks")
    if check.known(claim_checks, "jwtClaimChecks") and claim_checks not in (MISSING, {}):
        check.fail(f"validation.jwtClaimChecks is {claim_checks!r}: a second list of allowed groups or client "
                   "applications the stack does not declare.",
                   "remove it; allowed applications and principals go in defaultAuthorizationPolicy.")

    asked = _words(lookup(props, f"{AAD}.login.loginParameters"))
    if asked is None:
        check.cannot_see("login.loginParameters")
    elif asked - stack.graph_scopes:
        check.fail(f"Sign-in asks for scopes {sorted(asked - stack.graph_scopes)} beyond the chat app's "
                   f"declared Microsoft Graph scopes.", "ask at sign-in only for scopes the app requests "
                   "(agent_obo/graph_scopes.py), which the tenant consented to.")

    check.equal(props, "login.tokenStore.enabled", True, "per-user connections find no signed-in user's token.",
                "set login.tokenStore.enabled to true.")
    redirects = lookup(props, "login.allowedExternalRedirectUrls")
    if check.known(redirects, "login.allowedExternalRedirectUrls") and redirects not in (MISSING, []):
        check.fail(f"login.allowedExternalRedirectUrls is {redirects!r}: after sign-in, users (and their session) "
                   "can be sent to another site.", "remove allowedExternalRedirectUrls.")
    check.not_value(props, "httpSettings.requireHttps", False, "sign-in responses may travel over plain HTTP.",
                    "set httpSettings.requireHttps to true.")
    convention = lookup(props, "httpSettings.forwardProxy.convention")
    if check.known(convention, "httpSettings.forwardProxy") and convention not in (MISSING, "NoProxy"):
        check.fail(f"httpSettings.forwardProxy.convention is {convention!r}: Easy Auth trusts forwarded host "
                   "headers, so a caller can choose where sign-in redirects go.", "remove forwardProxy.")


def _check_allowed_applications(check: Check, listed: Any, client_id: str, verification_client: bool) -> None:
    """The chat app itself, plus the two-user check's client where the stack declares verification users (which
    one that is, app-registration-binding checks)."""
    if not check.known(listed, "defaultAuthorizationPolicy.allowedApplications"):
        return
    apps = [a for a in known_list(listed)] if isinstance(listed, list) else []
    if isinstance(listed, list) and UNKNOWN in listed:
        check.cannot_see("defaultAuthorizationPolicy.allowedApplications")
    others = [a for a in apps if a != client_id]
    if client_id not in apps or len(others) > (1 if verification_client else 0) or len(set(apps)) != len(apps):
        check.fail(f"defaultAuthorizationPolicy.allowedApplications is {listed!r}: requests are accepted from other "
                   "client apps than the chat app" + (" and the declared verification client." if verification_client
                                                       else "."),
                   "allow requests only from the chat app itself (and the verification client where "
                   "agent-obo:verificationUsers is set).")


def _check_disabled(check: Check, provider: Any, name: str) -> None:
    if not check.known(provider, f"identityProviders.{name}") or provider is MISSING:
        return
    enabled = lookup(provider, "enabled")
    if check.known(enabled, f"identityProviders.{name}.enabled") and enabled is not False:
        check.fail(f"identityProviders.{name} is configured (enabled {enabled!r}): accounts of another identity "
                   "provider can sign in.", f"remove identityProviders.{name}; only Microsoft Entra signs users in.")


EASY_AUTH = resource_policy(
    "easy-auth", validate_easy_auth,
    url=URL,
    remediation="Configure authsettingsV2 only through components/easy_auth.py and the stack's sign-in settings.",
)


# --- the binding: one authsettingsV2 per site, for the chat app ------------------------------------

def validate_easy_auth_binding(args: StackValidationArgs, check: Check) -> None:
    """Every site of the stack has exactly one authsettingsV2, bound to it, and Easy Auth trusts the chat app
    registration of this stack: a second or misdirected settings resource, or another app's client id, leaves the
    agent open or lets another app's tokens in."""
    sites = [r for r in args.resources if r.resource_type == SITE]
    auth = [r for r in args.resources if r.resource_type in AUTH_SETTINGS_TYPES]
    apps = [props_of(r) for r in args.resources if r.resource_type == APPLICATION]
    client_ids = {lookup(p, "clientId") for p in apps if lookup(p, "fallbackPublicClientEnabled") is not True}
    public_ids = {lookup(p, "clientId") for p in apps if lookup(p, "fallbackPublicClientEnabled") is True}
    for site in sites:
        # Bound to the site through its `name` input (the site's name output): a literal name could point at
        # another site and leave this one open.
        bound = [r for r in auth if site in r.property_dependencies.get("name", [])]
        if len(bound) != 1:
            check.fail(f"Site {site.name!r} has {len(bound)} authsettingsV2 bound to it: "
                       + ("nothing signs its users in." if not bound else "each overwrites the other."),
                       "give every site exactly one WebAppAuthSettingsV2WithoutSecrets whose name is the site's "
                       "name output.", site.urn)
    for settings in auth:
        if not any(site in settings.property_dependencies.get("name", []) for site in sites):
            check.fail(f"authsettingsV2 {settings.name!r} is not bound to a site of this stack.",
                       "pass the site's name output as its name.", settings.urn)
        client_id = lookup(props_of(settings), f"{AAD}.registration.clientId")
        if check.outside(client_id, client_ids, "the chat app's client id"):
            check.fail(f"Easy Auth accepts client id {client_id!r}, which is not the chat app registration of this "
                       "stack: another app's tokens would sign users in.",
                       "pass the chat app's client_id output to components/easy_auth.py.", settings.urn)
        allowed = lookup(props_of(settings), f"{AAD}.validation.defaultAuthorizationPolicy.allowedApplications")
        others = [a for a in known_list(allowed) if a != client_id]
        if UNKNOWN in public_ids or (isinstance(allowed, list) and UNKNOWN in allowed):
            check.cannot_see("the verification client's id")
        elif any(a not in public_ids for a in others):
            check.fail(f"Easy Auth accepts requests from {sorted(set(others) - public_ids)}, which is not a client app "
                       "of this stack.", "allow only the chat app and the stack's verification client.", settings.urn)


EASY_AUTH_BINDING = stack_policy(
    "easy-auth-binding", validate_easy_auth_binding,
    url=URL,
    remediation="Create Easy Auth with components/easy_auth.py, from the site and the chat app's outputs.",
)
