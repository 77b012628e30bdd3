"""Microsoft Graph: the chat app's delegated scopes and their admin consent are what the tools need, nothing more.

learn.microsoft.com/entra/identity-platform/permissions-consent-overview (least privilege).
"""

from __future__ import annotations

import re
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from agent_obo.catalog import PER_USER
from agent_obo.graph_scopes import GRAPH_APP_ID, SIGN_IN_SCOPES
from policy.connections import is_connection
from policy.props import UNKNOWN, known_list, lookup, not_yet_checked, props_of, unknown_paths, violation, words
from policy.resource_types import APPLICATION, CONSENT_GRANT, GENERIC_RESOURCE
from policy.stack_config import DELEGATE_TOOL_SCOPES_KEY

# --- graph-least-privilege -------------------------------------------------------------------------

_BROAD_SCOPE = re.compile(r"(\.ReadWrite\.All|\.FullControl\.All)$|^Directory\.")


def is_broad_scope(scope: str) -> bool:
    """Tenant-wide write (`*.ReadWrite.All`, `*.FullControl.All`) or directory-wide (`Directory.*`)."""
    return bool(_BROAD_SCOPE.search(scope))


def validate_graph_least_privilege(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    allowed_broad = set(args.get_config().get("allowedBroadScopes") or [])
    delegates_tool_scopes = args.get_config().get(DELEGATE_TOOL_SCOPES_KEY) is True
    resources = [(resource, props_of(resource)) for resource in args.resources]
    connections = [(r, p) for r, p in resources if r.resource_type == GENERIC_RESOURCE and is_connection(p)]
    per_user_scopes: set[str] = set()
    scopes_known = True
    for resource, props in connections:
        mode, scopes = lookup(props, "tags.identity-mode"), lookup(props, "tags.scopes")
        if mode is UNKNOWN or (mode == PER_USER and scopes is UNKNOWN):
            scopes_known = False
        elif mode == PER_USER:
            per_user_scopes |= words(scopes)
        for scope in sorted(s for s in words(scopes) if is_broad_scope(s) and s not in allowed_broad):
            report_violation(violation(
                f"Connection declares tenant-wide scope {scope!r}.",
                "ask for the narrowest delegated scope the tool needs (e.g. Files.Read, not "
                "Files.ReadWrite.All), or allow it explicitly in policy config allowedBroadScopes."), resource.urn)
    # What the chat app requests (agent_obo/graph_scopes.py required_scope_names): sign-in only,
    # unless the stack declares that it delegates the tools' scopes.
    expected = set(SIGN_IN_SCOPES) | (per_user_scopes if delegates_tool_scopes else set())
    for resource, props in resources:
        if resource.resource_type == APPLICATION and lookup(props, "fallbackPublicClientEnabled") is True:
            _check_public_client(resource, props, report_violation)
        elif resource.resource_type == APPLICATION:
            _check_application_graph_access(resource, props, expected if scopes_known else None, report_violation)
        elif resource.resource_type == CONSENT_GRANT:
            claims = lookup(props, "claimValues")
            if not isinstance(claims, list):
                continue
            known_claims = set(known_list(claims))
            for scope in sorted(s for s in known_claims if is_broad_scope(s) and s not in allowed_broad):
                report_violation(violation(
                    f"Admin consent grants tenant-wide scope {scope!r}.",
                    "remove it from the tools' scopes in catalog/tools.yaml, or allow it explicitly in policy "
                    "config allowedBroadScopes."), resource.urn)
            if scopes_known and len(known_claims) == len(claims) and known_claims != expected:
                report_violation(violation(
                    "Admin consent does not match what the tools need: "
                    + _difference(granted=known_claims, needed=expected) + ".",
                    "grant exactly what the chat app requests (agent_obo/graph_scopes.py "
                    "required_scope_names), with make grant-sign-in."), resource.urn)
    unchecked = [f"the identity and scopes of connection {r.name}" for r, p in connections
                 if unknown_paths(p, ["tags.identity-mode", "tags.scopes"])]
    unchecked += [f"{r.name} {path}" for r, p in resources if r.resource_type in (APPLICATION, CONSENT_GRANT)
                  for path in unknown_paths(p, ["requiredResourceAccesses", "claimValues"])]
    not_yet_checked("graph scopes", unchecked)


def _check_application_graph_access(resource: PolicyResource, props: dict[str, Any], expected: set[str] | None,
                                    report_violation: ReportViolation) -> None:
    accesses = lookup(props, "requiredResourceAccesses")
    if not isinstance(accesses, list) or any(
            not isinstance(a, dict) or lookup(a, "resourceAppId") is UNKNOWN for a in accesses):
        return  # which entries are Microsoft Graph's cannot be told yet
    graph_lists = [lookup(a, "resourceAccesses") for a in accesses if lookup(a, "resourceAppId") == GRAPH_APP_ID]
    if any(entries is UNKNOWN for entries in graph_lists):
        return
    entries = [e for entries in graph_lists if isinstance(entries, list) for e in entries]
    if any(not isinstance(e, dict) or lookup(e, "type") is UNKNOWN for e in entries):
        return
    roles = [e for e in entries if lookup(e, "type") == "Role"]
    if roles:
        report_violation(violation(
            f"The app requests {len(roles)} Microsoft Graph application permission(s) (type Role): app-wide "
            "access to every user's data, which no chat sign-in needs.",
            "request delegated scopes (type Scope) only; app-only tools use their connections' identity."),
            resource.urn)
    scope_count = sum(1 for e in entries if lookup(e, "type") == "Scope")
    if expected is not None and scope_count != len(expected):
        report_violation(violation(
            f"The app requests {scope_count} Microsoft Graph delegated scopes; what the stack declares "
            f"is {len(expected)}: {', '.join(sorted(expected))}.",
            "request exactly those scopes (agent_obo/graph_scopes.py resolve_graph_scopes)."), resource.urn)


def _check_public_client(resource: PolicyResource, props: dict[str, Any], report_violation: ReportViolation) -> None:
    """A public client (the two-user check's verification client) gets nothing from Microsoft Graph and
    only delegated scopes of other APIs: its tokens come from a device-code sign-in, not from the chat."""
    accesses = lookup(props, "requiredResourceAccesses")
    for access in accesses if isinstance(accesses, list) else []:
        if not isinstance(access, dict):
            continue
        entries = lookup(access, "resourceAccesses")
        if lookup(access, "resourceAppId") == GRAPH_APP_ID:
            report_violation(violation(
                "A public client app requests Microsoft Graph access; the verification client needs only the "
                "agent's user_impersonation scope.",
                "remove the Graph entry from the public client's required resource access."), resource.urn)
        elif isinstance(entries, list) and any(isinstance(e, dict) and lookup(e, "type") == "Role" for e in entries):
            report_violation(violation(
                "A public client app requests application permissions (type Role).",
                "request the agent's delegated scope only."), resource.urn)


def _difference(granted: set[str], needed: set[str]) -> str:
    parts = []
    if granted - needed:
        parts.append("not needed " + ", ".join(sorted(granted - needed)))
    if needed - granted:
        parts.append("missing " + ", ".join(sorted(needed - granted)))
    return "; ".join(parts)


GRAPH_LEAST_PRIVILEGE = StackValidationPolicy(
    name="graph-least-privilege",
    description=("The chat app's Microsoft Graph delegated scopes and any tenant-wide admin consent are exactly "
                 "the sign-in scopes, plus what the per-user tools declare where the stack delegates those to the "
                 "chat app (delegateToolScopesToChatApp), with no application permissions and "
                 "no tenant-wide write or directory scopes: every extra scope is data any signed-in user's token "
                 "can reach through the agent (module 05, 'least privilege'); a missing one prompts for consent "
                 "mid-chat."),
    validate=validate_graph_least_privilege,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(properties={
        "allowedBroadScopes": {
            "type": "array",
            "items": {"type": "string"},
            "default": [],
            "description": "Tenant-wide scopes (e.g. Sites.ReadWrite.All) a reviewed exception allows.",
        },
        DELEGATE_TOOL_SCOPES_KEY: {
            "type": "boolean",
            "default": False,
            "description": ("The stack's agent-obo:delegateToolScopesToChatApp (python -m policy.stack_config "
                            "STACK): the chat app may also request the per-user tools' scopes."),
        },
    }),
    remediation_steps="Derive scopes from catalog/tools.yaml; allow a reviewed broad scope via allowedBroadScopes.",
)
