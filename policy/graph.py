"""Microsoft Graph: the chat app requests, and the tenant consents to, exactly what the stack declares.

The Graph scopes are derived from the catalog and the settings by agent_obo (sign-in scopes plus the
per-user tools' scopes); the app registration must request exactly that set, as delegated scopes of
Microsoft Graph and of no other resource application, and the tenant-wide consent grant, when the stack
lets the program grant it, must hold exactly the same names. Sources:
learn.microsoft.com/entra/identity-platform/permissions-consent-overview (least privilege, admin consent),
learn.microsoft.com/graph/permissions-reference (the ids).
"""

from __future__ import annotations

import re
from typing import Any

from pulumi_policy import (
    ResourceValidationArgs,
)

from agent_obo.graph_scopes import GRAPH_APP_ID
from policy.checks import Check
from policy.declared import Declared
from policy.define import resource_policy
from policy.graph_permissions import DELEGATED_SCOPE_IDS, SCOPE_NAMES_BY_ID
from policy.props import MISSING, known_list, lookup, plain
from policy.resource_types import APPLICATION, CONSENT_GRANT

URL = "https://learn.microsoft.com/entra/identity-platform/permissions-consent-overview"
GRAPH_POLICY = "graph-least-privilege"
# Tenant-wide write or management, and directory-wide reads: data far beyond "the signed-in user's own".
_BROAD_SCOPE = re.compile(
    r"(\.ReadWrite\.All|\.FullControl\.All|\.Manage\.All)\Z|^Directory\.|^(RoleManagement|AppRoleAssignment|"
    r"DelegatedPermissionGrant|Policy|Application)\.|^(User|Group|GroupMember|AuditLog)\.Read\.All\Z")


def is_broad_scope(scope: str) -> bool:
    return bool(_BROAD_SCOPE.search(scope))


def validate_graph_least_privilege(args: ResourceValidationArgs, check: Check) -> None:
    """The chat app requests exactly the Microsoft Graph delegated scopes the catalog and settings derive (as a set, by
    permission id: the sign-in scopes, plus the per-user tools' where the stack declares
    delegateToolScopesToChatApp), from Microsoft Graph and no other resource application, with no application
    permissions; the program grants no consent (an administrator does); and no scope is tenant- or directory-wide
    unless the stack's policy config allows it. Every extra scope is data any signed-in user's token can reach
    through the agent."""
    stack = check.declared()
    if stack is not None:
        props = plain(args.props)
        allowed_broad = set(stack.policy_config(GRAPH_POLICY).get("allowedBroadScopes") or [])
        if args.resource_type == APPLICATION and lookup(props, "fallbackPublicClientEnabled") is True:
            _check_public_client(check, props)
        elif args.resource_type == APPLICATION:
            _check_declared_scopes(check, stack, allowed_broad)
            _check_requested(check, props, stack)
        else:
            _check_grant(check, props, stack)


def _check_declared_scopes(check: Check, stack: Declared, allowed_broad: set[str]) -> None:
    # Broad scopes anywhere: those the chat app requests, and those a per-user tool's connector asks each user
    # to consent to at first use (the same data, reached through the connector's own app).
    asked = stack.graph_scopes | set(stack.catalog.per_user_scopes())
    for scope in sorted(s for s in asked if is_broad_scope(s) and s not in allowed_broad):
        check.fail(f"The catalog asks Microsoft Graph for {scope!r}: tenant- or directory-wide access that any "
                   "signed-in user's token then carries into the agent.",
                   "ask for the narrowest delegated scope the tool needs (e.g. Files.Read, not Files.ReadWrite.All), "
                   "or approve it for the stack in policy/config/<stack>.json "
                   "(graph-least-privilege allowedBroadScopes, a reviewed change of the pack).")
    for scope in sorted(stack.graph_scopes - set(DELEGATED_SCOPE_IDS)):
        check.fail(f"The catalog asks Microsoft Graph for {scope!r}, whose permission id this pack does not know: "
                   "the app registration cannot be checked against it.",
                   "add the scope's delegated permission id to policy/graph_permissions.py from "
                   "learn.microsoft.com/graph/permissions-reference (a reviewed change of the pack).")


def _check_requested(check: Check, props: dict[str, Any], stack: Declared) -> None:
    accesses = lookup(props, "requiredResourceAccesses")
    if accesses is MISSING:
        accesses = []
    if not check.known(accesses, "requiredResourceAccesses"):
        return
    if not isinstance(accesses, list):
        check.fail(f"requiredResourceAccesses is {accesses!r}.", "request Microsoft Graph scopes as a list.")
        return
    graph_entries: list[Any] = []
    for access in accesses:
        app_id = lookup(access, "resourceAppId")
        if not check.known(app_id, "a requested resource application"):
            continue
        if app_id != GRAPH_APP_ID:
            check.fail(f"The app requests permissions of resource application {app_id!r}: only Microsoft Graph's "
                       "delegated scopes are declared.", "request no other API's permissions.")
            continue
        graph_entries.append(access)
    if len(graph_entries) > 1:
        check.fail("Microsoft Graph is listed more than once in requiredResourceAccesses.",
                   "request all Graph scopes in one entry.")
    requested: set[str] = set()
    for entry in graph_entries:
        permissions = lookup(entry, "resourceAccesses")
        if not check.known(permissions, "the requested Graph permissions") or not isinstance(permissions, list):
            continue
        for permission in permissions:
            kind, permission_id = lookup(permission, "type"), lookup(permission, "id")
            if not (check.known(kind, "a Graph permission's type") and check.known(permission_id,
                                                                                     "a Graph permission's id")):
                continue
            if kind != "Scope":
                check.fail(f"The app requests Microsoft Graph permission {permission_id!r} as {kind!r}: an "
                           "application permission reaches every user's data without anyone signed in.",
                           "request delegated scopes (type Scope) only.")
            elif permission_id in requested:
                check.fail(f"Graph scope {SCOPE_NAMES_BY_ID.get(permission_id, permission_id)} is requested twice.",
                           "request each scope once.")
            requested.add(permission_id)
    expected = {DELEGATED_SCOPE_IDS[name] for name in stack.graph_scopes if name in DELEGATED_SCOPE_IDS}
    extra = sorted(SCOPE_NAMES_BY_ID.get(i, i) for i in requested - expected)
    missing = sorted(SCOPE_NAMES_BY_ID[i] for i in expected - requested)
    if (extra or missing) and not check.unseen:
        check.fail("The app's Microsoft Graph scopes differ from what the catalog and settings derive ("
                   + "; ".join(([f"not declared {', '.join(extra)}"] if extra else [])
                               + ([f"missing {', '.join(missing)}"] if missing else [])) + ").",
                   f"request exactly {', '.join(sorted(stack.graph_scopes))} (agent_obo/graph_scopes.py).")


def _check_public_client(check: Check, props: dict[str, Any]) -> None:
    """A public client (the two-user check's verification client) gets nothing from Microsoft Graph and no
    application permission: its tokens come from a device-code sign-in, not from the chat."""
    accesses = lookup(props, "requiredResourceAccesses")
    if not check.known(accesses, "requiredResourceAccesses"):
        return
    for access in accesses if isinstance(accesses, list) else []:
        app_id = lookup(access, "resourceAppId")
        if not check.known(app_id, "a requested resource application"):
            continue
        if app_id == GRAPH_APP_ID:
            check.fail("A public client app requests Microsoft Graph access; the verification client needs only the "
                       "agent's user_impersonation scope.", "remove the Graph entry from the public client.")
        if any(lookup(p, "type") == "Role" for p in known_list(lookup(access, "resourceAccesses"))):
            check.fail("A public client app requests application permissions (type Role).",
                       "request the agent's delegated scope only.")


def _check_grant(check: Check, props: dict[str, Any], stack: Declared) -> None:
    """The program grants no consent: no pipeline may hold that right, so an administrator consents to what the
    app requests (make grant-sign-in). A grant in the plan is consent given from inside the change."""
    claims = lookup(props, "claimValues")
    check.fail(f"The program grants consent to {claims!r}: tenant-wide consent is an administrator's step, to "
               "exactly what the chat app requests.",
               f"remove the grant; an administrator consents to {' '.join(sorted(stack.graph_scopes))} with "
               "make grant-sign-in.")


GRAPH_LEAST_PRIVILEGE = resource_policy(
    GRAPH_POLICY, validate_graph_least_privilege, judges=(APPLICATION, CONSENT_GRANT),
    url=URL,
    remediation=("Derive scopes from catalog/tools.yaml; approve a reviewed broad scope in "
                       'policy/config/<stack>.json ({"graph-least-privilege": {"allowedBroadScopes": [...]}}).'),
)
