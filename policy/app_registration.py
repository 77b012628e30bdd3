"""The chat app registration: single tenant, secretless, trusted only by the runtime's identity, owned and
assigned as the stack declares.

Sources: learn.microsoft.com/azure/logic-apps/set-up-authentication-agent-workflows (single tenant, the
callback, ID tokens), learn.microsoft.com/entra/identity-platform/security-best-practices-for-app-registration
(no secrets or certificates, no implicit access tokens, owners), learn.microsoft.com/entra/workload-id/
workload-identity-federation-create-trust (issuer, subject, audience of a federated credential),
learn.microsoft.com/entra/identity-platform/howto-restrict-your-app-to-a-set-of-users (assignment required).
"""

from __future__ import annotations

import re
from typing import Any

from pulumi_policy import (
    PolicyResource,
    ResourceValidationArgs,
    StackValidationArgs,
)

from agent_obo.entra import DEFAULT_ACCESS_ROLE_ID, TOKEN_EXCHANGE_AUDIENCE, USER_IMPERSONATION
from components.chat_app_registration import user_impersonation_scope_id
from policy.checks import Check
from policy.declared import Declared
from policy.define import resource_policy, stack_policy
from policy.easy_auth import GUID
from policy.props import MISSING, UNKNOWN, is_known, known_list, lookup, plain, props_of
from policy.resource_types import (
    APP_PRE_AUTHORIZED,
    APP_ROLE_ASSIGNMENT,
    APPLICATION,
    CONSENT_GRANT,
    ENTRA_CREDENTIAL_TYPES,
    FEDERATED_CREDENTIAL,
    IDENTIFIER_URI,
    SERVICE_PRINCIPAL,
    SITE,
)
from policy.stack_identities import stack_identities

URL = "https://learn.microsoft.com/entra/identity-platform/security-best-practices-for-app-registration"
_CALLBACK = re.compile(r"^https://[a-z0-9.-]+/\.auth/login/aad/callback\Z")


def validate_app_registration(args: ResourceValidationArgs, check: Check) -> None:
    """The chat app registration is single-tenant with no password, certificate or other credential, no implicit access
    tokens or public-client flows, only Easy Auth's callback as redirect, one exposed scope and no app roles; its
    federated credential trusts exactly the runtime's managed identity (this tenant's issuer, the token exchange
    audience); its service principal requires assignment where the stack says so; owners are the deployer and the
    declared appOwners; only declared users and groups are assigned."""
    if args.resource_type in ENTRA_CREDENTIAL_TYPES:
        check.fail(
            f"{args.resource_type.rsplit(':', 1)[-1]} gives an app or service principal a secret or a credential "
            "the stack does not declare: whoever holds it signs in as the app.",
            "remove it; Easy Auth signs in with the runtime identity's federated credential.")
        return
    checks = {APPLICATION: _check_application, IDENTIFIER_URI: _check_identifier_uri,
              FEDERATED_CREDENTIAL: _check_federated_credential, SERVICE_PRINCIPAL: _check_service_principal,
              APP_ROLE_ASSIGNMENT: _check_assignment, APP_PRE_AUTHORIZED: _check_pre_authorized}
    if args.resource_type not in checks:
        return
    stack = check.declared()
    if stack is not None:
        checks[args.resource_type](check, plain(args.props), stack)


def _check_owners(check: Check, props: dict[str, Any], stack: Declared, what: str) -> None:
    owners = lookup(props, "owners")
    if not check.known(owners, f"the {what}'s owners") or (isinstance(owners, list) and UNKNOWN in owners):
        check.cannot_see(f"the {what}'s owners")
        return
    listed = owners if isinstance(owners, list) else []
    declared = set(stack.settings.sign_in.app_owners)
    # The deployer comes first and stays an owner (components/chat_app_registration.py); besides it, only the
    # declared agent-obo:appOwners.
    extra = [o for o in listed[1:] if o not in declared]
    missing = sorted(declared - set(listed))
    if not listed or extra or missing or len(set(listed)) != len(listed):
        check.fail(f"The {what}'s owners {listed!r} are not the deployer plus agent-obo:appOwners "
                   f"({sorted(declared)}): an owner can add credentials and sign in as the app.",
                   "own the app only by the deployer and the declared appOwners.")


def is_public_client(props: dict[str, Any]) -> bool:
    """The two-user check's verification client (components/verification_client.py) is the one public client."""
    return lookup(props, "fallbackPublicClientEnabled") is True


def _check_application(check: Check, props: dict[str, Any], stack: Declared) -> None:
    if is_public_client(props):
        _check_verification_client(check, props, stack)
        return
    sign_in = stack.settings.sign_in
    audience = lookup(props, "signInAudience")
    if check.known(audience, "signInAudience") and audience not in (MISSING, "AzureADMyOrg"):
        check.fail(f"signInAudience is {audience!r}: accounts of other tenants (or personal accounts) can sign in.",
                   "set signInAudience to AzureADMyOrg (single tenant).")
    if lookup(props, "password") is not MISSING:
        check.fail("The app registration carries a password (client secret).",
                   "remove it; Easy Auth signs in with the runtime identity's federated credential.")
    check.not_value(props, "web.implicitGrant.accessTokenIssuanceEnabled", True,
                    "access tokens are handed out through the browser's URL (implicit flow).",
                    "turn implicit access tokens off.")
    check.not_value(props, "fallbackPublicClientEnabled", True,
                    "public-client flows (device code, password) can get tokens without the app's credential.",
                    "turn fallbackPublicClientEnabled off.")
    for path, what in (("publicClient.redirectUris", "public client"), ("singlePageApplication.redirectUris",
                                                                       "single-page application")):
        uris = lookup(props, path)
        if check.known(uris, path) and uris not in (MISSING, []):
            check.fail(f"{path} is {uris!r}: a {what} can sign users in to the app without its credential.",
                       f"remove {path}; the only redirect is Easy Auth's callback.")
    redirects = lookup(props, "web.redirectUris")
    if check.known(redirects, "web.redirectUris"):
        listed = redirects if isinstance(redirects, list) else []
        if UNKNOWN in listed:
            check.cannot_see("web.redirectUris")
        elif len(listed) != 1 or not all(isinstance(u, str) and _CALLBACK.match(u) for u in listed):
            check.fail(f"web.redirectUris is {redirects!r}: sign-in codes may be sent somewhere else than the "
                       "site's Easy Auth callback.", "redirect only to https://<site host>/.auth/login/aad/callback.")
    uris = lookup(props, "identifierUris")
    if check.known(uris, "identifierUris") and uris not in (MISSING, []):
        check.fail(f"identifierUris is {uris!r} on the application: the app's identifier comes only from "
                   "ApplicationIdentifierUri (api://<client id>).", "remove identifierUris from the application.")
    check.equal(props, "api.requestedAccessTokenVersion", 2, "Easy Auth validates v2.0 tokens of this tenant.",
                "set api.requestedAccessTokenVersion to 2.")
    for path, what in (("api.knownClientApplications", "known client applications"),
                       ("appRoles", "app roles")):
        value = lookup(props, path)
        if check.known(value, path) and value not in (MISSING, []):
            check.fail(f"{path} is {value!r}: {what} the stack does not declare.", f"remove {path}.")
    scopes = lookup(props, "api.oauth2PermissionScopes")
    if check.known(scopes, "api.oauth2PermissionScopes"):
        values = [lookup(s, "value") for s in known_list(scopes)]
        if values != [USER_IMPERSONATION]:
            check.fail(f"The app exposes scopes {values!r}: only {USER_IMPERSONATION} is declared.",
                       f"expose exactly one delegated scope, {USER_IMPERSONATION}.")
    claims = lookup(props, "groupMembershipClaims")
    wanted = ["ApplicationGroup"] if sign_in.allowed_groups else []
    allowed = [wanted] if wanted else [[], ["None"]]
    if check.known(claims, "groupMembershipClaims") and (claims if claims is not MISSING else []) not in allowed:
        check.fail(f"groupMembershipClaims is {claims!r}, not {wanted or 'none'}: tokens carry other groups than "
                   "the ones assigned to the app.", "emit only groups assigned to the app, and only when "
                   "agent-obo:allowedGroups is set.")
    _check_owners(check, props, stack, "app registration")


def _check_verification_client(check: Check, props: dict[str, Any], stack: Declared) -> None:
    """Public client, single tenant, device code only: no secret, no redirect, nothing exposed, one permission,
    the chat app's user_impersonation; and only on a stack that lists verification users."""
    if not stack.settings.audit.verification_users:
        check.fail("A public client app (device code, no credential) exists although the stack declares no "
                   "agent-obo:verificationUsers: anyone in the tenant could get tokens through it.",
                   "remove it; the chat app is a confidential client.")
        return
    audience = lookup(props, "signInAudience")
    if check.known(audience, "signInAudience") and audience not in (MISSING, "AzureADMyOrg"):
        check.fail(f"The verification client's signInAudience is {audience!r}.", "set it to AzureADMyOrg.")
    if lookup(props, "password") is not MISSING:
        check.fail("The verification client carries a password.", "remove it; it signs in with device code.")
    for path in ("web.redirectUris", "publicClient.redirectUris", "singlePageApplication.redirectUris",
                 "identifierUris", "appRoles", "api.oauth2PermissionScopes", "api.knownClientApplications"):
        value = lookup(props, path)
        if check.known(value, path) and value not in (MISSING, []):
            check.fail(f"The verification client sets {path} {value!r}: it redirects nowhere and exposes nothing.",
                       f"remove {path}.")
    scope = user_impersonation_scope_id(stack.settings.environment)
    accesses = lookup(props, "requiredResourceAccesses")
    if not check.known(accesses, "the verification client's permissions"):
        return
    permissions = [lookup(a, "resourceAccesses") for a in known_list(accesses)]
    if len(known_list(accesses)) != 1 or permissions[0] != [{"id": scope, "type": "Scope"}]:
        check.fail(f"The verification client requests {accesses!r}: only the agent's user_impersonation scope "
                   f"({scope}) is declared.", "request exactly that one delegated scope.")
    _check_owners(check, props, stack, "verification client")


def _check_pre_authorized(check: Check, props: dict[str, Any], stack: Declared) -> None:
    if not stack.settings.audit.verification_users:
        check.fail("A client app is pre-authorized for the chat app although the stack declares no verification "
                   "client: it gets tokens for the agent without anyone's consent.", "remove the pre-authorization.")
        return
    check.same_set(lookup(props, "permissionIds"), [user_impersonation_scope_id(stack.settings.environment)],
                   "the pre-authorized permissions", "pre-authorize only user_impersonation.")


def _check_identifier_uri(check: Check, props: dict[str, Any], stack: Declared) -> None:
    uri = lookup(props, "identifierUri")
    if check.known(uri, "identifierUri") and not (isinstance(uri, str) and uri.startswith("api://")
                                                  and GUID.match(uri[len("api://"):])):
        check.fail(f"identifierUri is {uri!r}, not api://<client id>: tokens for another audience name would "
                   "reach the app.", "set the identifier URI to api://<the app's client id>.")


def _check_federated_credential(check: Check, props: dict[str, Any], stack: Declared) -> None:
    check.equal(props, "issuer", stack.issuer,
                "the credential must trust managed identity tokens of the stack's tenant only.",
                f"set issuer to {stack.issuer}.")
    check.same_set(lookup(props, "audiences"), [TOKEN_EXCHANGE_AUDIENCE], "the federated credential's audiences",
                   f"set audiences to [{TOKEN_EXCHANGE_AUDIENCE}].")
    subject = lookup(props, "subject")
    if check.known(subject, "the federated credential's subject") and not (isinstance(subject, str)
                                                                            and GUID.match(subject)):
        check.fail(f"The federated credential trusts subject {subject!r}, not a managed identity's principal id: "
                   "another workload (a pipeline, a repository) could sign in as the app.",
                   "trust only the runtime's user-assigned identity (its principal id).")


def _check_service_principal(check: Check, props: dict[str, Any], stack: Declared) -> None:
    # Resource by resource, a service principal may only be stricter than declared (the verification client's
    # always requires assignment); app-registration-binding checks each one's exact value.
    required = stack.settings.sign_in.assignment_required
    value = lookup(props, "appRoleAssignmentRequired")
    if check.known(value, "appRoleAssignmentRequired") and required and value is not True:
        check.fail(f"appRoleAssignmentRequired is {value!r}, but the stack declares assignmentRequired {required}: "
                   + ("anyone in the tenant can sign in." if required else "sign-in differs from the stack."),
                   f"set app_role_assignment_required to {str(required).lower()} (agent-obo:assignmentRequired).")
    for path in ("samlSingleSignOn", "preferredSingleSignOnMode"):
        value = lookup(props, path)
        if check.known(value, path) and value not in (MISSING, ""):
            check.fail(f"{path} is {value!r}: a single sign-on mode the stack does not declare.", f"remove {path}.")
    _check_owners(check, props, stack, "service principal")


def _check_assignment(check: Check, props: dict[str, Any], stack: Declared) -> None:
    sign_in = stack.settings.sign_in
    check.equal(props, "appRoleId", DEFAULT_ACCESS_ROLE_ID, "the app has no app roles to assign.",
                f"assign the default access role {DEFAULT_ACCESS_ROLE_ID}.")
    principal = lookup(props, "principalObjectId")
    if check.known(principal, "the assigned principal") and principal not in (
            *sign_in.allowed_users, *sign_in.allowed_groups, *stack.settings.audit.verification_users):
        check.fail(f"Principal {principal!r} is assigned to an app of the stack, but is not in agent-obo:allowedUsers, "
                   "allowedGroups or verificationUsers: it can sign in where the stack says only those may.",
                   "assign only the declared users and groups.")


APP_REGISTRATION = resource_policy(
    "app-registration", validate_app_registration,
    url=URL,
    remediation="Change sign-in in the stack's settings; components/chat_app_registration.py creates the rest.",
)


# --- app-registration-binding: the pieces belong together -----------------------------------------

def _outputs(resources: list[PolicyResource], resource_type: str) -> list[tuple[PolicyResource, dict[str, Any]]]:
    return [(r, props_of(r)) for r in resources if r.resource_type == resource_type]


def validate_app_registration_binding(args: StackValidationArgs, check: Check) -> None:
    """The chat app's pieces belong to it and to this stack: one chat app registration (and the verification client only
    where verificationUsers is declared), one service principal each with its declared assignment rule, the
    identifier URI api://<its client id>, exactly one federated credential whose subject is the runtime identity the
    site carries (and no other identity on the site), assignments of the declared principals only, the consent grant
    for the chat app only, and a pre-authorization of the verification client only."""
    stack = check.declared()
    if stack is None:
        return
    resources = list(args.resources)
    apps = _outputs(resources, APPLICATION)
    chat = [(r, p) for r, p in apps if not is_public_client(p)]
    verification = [(r, p) for r, p in apps if is_public_client(p)]
    wanted = 1 if stack.settings.audit.verification_users else 0
    if len(chat) != 1 or len(verification) != wanted:
        check.fail(f"The stack has {len(chat)} chat app registrations and {len(verification)} verification clients; "
                   f"it declares one chat app and {wanted} verification client.",
                   "register only the chat app (components/chat_app_registration.py) and, with verificationUsers, "
                   "its verification client.")
        return
    client_id = lookup(chat[0][1], "clientId")
    verification_id = lookup(verification[0][1], "clientId") if verification else None
    identities = stack_identities(resources)
    if client_id is UNKNOWN:
        check.cannot_see("the chat app's client id")

    # One service principal per app, each with its declared assignment rule.
    principals = _outputs(resources, SERVICE_PRINCIPAL)
    by_app: dict[str, list[tuple[PolicyResource, dict[str, Any]]]] = {"chat": [], "verification": []}
    for resource, props in principals:
        sp_client = lookup(props, "clientId")
        if sp_client is UNKNOWN:
            check.cannot_see("a service principal's client id")
        elif sp_client == client_id:
            by_app["chat"].append((resource, props))
        elif verification_id is not None and sp_client == verification_id:
            by_app["verification"].append((resource, props))
        else:
            check.fail(f"Service principal {resource.name!r} is for client {sp_client!r}, not an app of this stack.",
                       "create service principals only for the stack's apps.", resource.urn)
    required = {"chat": stack.settings.sign_in.assignment_required, "verification": True}
    for kind, found in by_app.items():
        if kind == "verification" and verification_id is None:
            continue
        if len(found) != 1 and not check.unseen:
            check.fail(f"The {kind} app has {len(found)} service principals.", "create exactly one per app.")
        for resource, props in found:
            value = lookup(props, "appRoleAssignmentRequired")
            if is_known(value) and value is not required[kind]:
                check.fail(f"The {kind} app's service principal has appRoleAssignmentRequired {value!r}; the stack "
                           f"declares {required[kind]}.", "set it as the stack declares.", resource.urn)
    sp_ids = {kind: [lookup(p, "objectId") for _, p in found] for kind, found in by_app.items()}

    for resource, props in _outputs(resources, IDENTIFIER_URI):
        uri = lookup(props, "identifierUri")
        if UNKNOWN in (uri, client_id):
            check.cannot_see("the identifier URI")
        elif uri != f"api://{client_id}":
            check.fail(f"Identifier URI {uri!r} is not api://{client_id} (the chat app's client id).",
                       "set it from the app's client id.", resource.urn)

    credentials = _outputs(resources, FEDERATED_CREDENTIAL)
    if len(credentials) != 1:
        check.fail(f"The stack has {len(credentials)} federated credentials; it declares exactly one, for the "
                   "runtime's user-assigned identity.", "trust only the runtime identity.")
    for resource, props in credentials:
        if chat[0][0] not in resource.property_dependencies.get("applicationId", [chat[0][0]]):
            check.fail("The federated credential is not on the chat app.", "put it on the chat app.", resource.urn)
        subject = lookup(props, "subject")
        if check.outside(subject, identities.runtime, "the runtime identity's principal id"):
            check.fail(f"The federated credential trusts {subject!r}, not the stack's runtime identity: another "
                       "identity can sign in as the chat app.", "set subject to the runtime identity's principal id.",
                       resource.urn)
    _check_site_identity(check, resources, identities.runtime)

    sign_in = stack.settings.sign_in
    members = {"chat": {*sign_in.allowed_users, *sign_in.allowed_groups},
               "verification": set(stack.settings.audit.verification_users)}
    for resource, props in _outputs(resources, APP_ROLE_ASSIGNMENT):
        target, principal = lookup(props, "resourceObjectId"), lookup(props, "principalObjectId")
        if target is UNKNOWN or any(UNKNOWN in ids for ids in sp_ids.values()):
            check.cannot_see("the apps' service principals")
            continue
        owner = next((k for k, ids in sp_ids.items() if target in ids), None)
        if owner is None:
            check.fail(f"{resource.name!r} assigns to {target!r}, not a service principal of the stack's apps.",
                       "assign users only to the stack's apps.", resource.urn)
        elif is_known(principal) and principal not in members[owner]:
            check.fail(f"{resource.name!r} assigns {principal!r} to the {owner} app, which the stack does not declare "
                       "for it.", "assign the chat app the allowed users and groups, the verification client its "
                       "verification users.", resource.urn)
    for resource, props in _outputs(resources, CONSENT_GRANT):
        target = lookup(props, "servicePrincipalObjectId")
        if check.outside(target, sp_ids["chat"], "the chat app's service principal"):
            check.fail(f"{resource.name!r} (servicePrincipalObjectId {target!r}) is not for the chat app's service "
                       "principal: another app gets consent.", "grant consent only to the chat app.", resource.urn)
    grants = _outputs(resources, CONSENT_GRANT)
    if len(grants) > 1:
        check.fail(f"The stack has {len(grants)} consent grants; at most one (Microsoft Graph, tenant-wide).",
                   "grant consent once.")
    for resource, props in _outputs(resources, APP_PRE_AUTHORIZED):
        authorized = lookup(props, "authorizedClientId")
        if chat[0][0] not in resource.property_dependencies.get("applicationId", []):
            check.fail(f"{resource.name!r} pre-authorizes a client for another app than the chat app.",
                       "pre-authorize only on the chat app.", resource.urn)
        if authorized is UNKNOWN or verification_id is UNKNOWN:
            check.cannot_see("the verification client's id")
        elif authorized != verification_id:
            check.fail(f"{resource.name!r} pre-authorizes {authorized!r}, not the stack's verification client: "
                       "another app gets the agent's tokens without consent.",
                       "pre-authorize only the verification client.", resource.urn)
    if verification:
        requested = [lookup(a, "resourceAppId") for a in known_list(lookup(verification[0][1],
                                                                          "requiredResourceAccesses"))]
        if UNKNOWN in (*requested, client_id):
            check.cannot_see("the verification client's requested API")
        elif requested != [client_id]:
            check.fail(f"The verification client requests permissions of {requested!r}, not the chat app.",
                       "request only the chat app's user_impersonation.", verification[0][0].urn)
    assigned = [lookup(p, "principalObjectId") for _, p in _outputs(resources, APP_ROLE_ASSIGNMENT)]
    if len([a for a in assigned if is_known(a)]) != len({a for a in assigned if is_known(a)}) and not verification:
        check.fail("A principal is assigned to the chat app twice.", "assign each declared user and group once.")


def _check_site_identity(check: Check, resources: list[PolicyResource], runtime: tuple[Any, ...]) -> None:
    """The site carries exactly the runtime identity as its user-assigned identity: another one would let the
    site (and Easy Auth's federated sign-in) act with a principal the stack does not own."""
    for site, props in _outputs(resources, SITE):
        assigned = lookup(props, "identity.userAssignedIdentities")
        if assigned is UNKNOWN or UNKNOWN in runtime:
            check.cannot_see("the site's user-assigned identities")
            continue
        entries = assigned.values() if isinstance(assigned, dict) else []
        carried = [lookup(entry, "principalId") for entry in entries]
        if UNKNOWN in carried:
            check.cannot_see("the site's user-assigned identities")
        elif sorted(map(str, carried)) != sorted(map(str, runtime)) or len(runtime) != 1:
            check.fail(f"Site {site.name!r} carries user-assigned identities {carried!r}, not exactly the stack's "
                       f"runtime identity {list(runtime)!r}.", "assign only the runtime identity to the site.",
                       site.urn)


APP_REGISTRATION_BINDING = stack_policy(
    "app-registration-binding", validate_app_registration_binding,
    url="https://learn.microsoft.com/entra/workload-id/workload-identity-federation-create-trust",
    remediation="Create the registration only with components/chat_app_registration.py.",
)
