"""Connections: each managed API connection states and is configured as the identity it acts with, and the
Logic Apps runtime may call it.

Per-user (on-behalf-of) connections: learn.microsoft.com/azure/logic-apps/set-up-on-behalf-of-user-flow.
"""

from __future__ import annotations

import re
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from agent_obo.catalog import APP_ONLY, PER_USER
from agent_obo.connectors import CONNECTORS
from agent_obo.tool_connections import DYNAMIC_USER_INVOKED, PER_USER_API_VERSION
from agent_obo.tool_connections import LABELS as DISPLAY_NAME_PREFIXES
from agent_obo.tool_connections import SUFFIXES as NAME_SUFFIXES
from policy.props import (
    MISSING,
    UNKNOWN,
    is_known,
    lookup,
    not_yet_checked,
    plain,
    props_of,
    unknown_paths,
    violation,
    words,
)
from policy.resource_types import GENERIC_RESOURCE

PER_USER_CAPABLE_CONNECTORS = frozenset(name for name, connector in CONNECTORS.items() if connector.per_user_capable)


# --- identity-labels -------------------------------------------------------------------------------

_NAME_LABEL = re.compile(r"(?:^|-)(peruser|apponly)(?=-|$)")
_IDENTITY_BY_SUFFIX = {suffix: identity for identity, suffix in NAME_SUFFIXES.items()}
_MANAGED_API = re.compile(r"/managedApis/([^/]+)$", re.IGNORECASE)


def is_connection(props: dict[str, Any]) -> bool:
    return (lookup(props, "resourceType") == "connections"
            and str(lookup(props, "resourceProviderNamespace")).lower() == "microsoft.web")


def connection_identity_labels(props: dict[str, Any]) -> dict[str, Any]:
    """Where a connection states its identity, each read as per-user / app-only, or UNKNOWN/MISSING/
    the raw text when it names no identity or more than one."""
    labels: dict[str, Any] = {}
    name = lookup(props, "resourceName")
    if isinstance(name, str):
        found = set(_NAME_LABEL.findall(name))
        labels["name suffix"] = _IDENTITY_BY_SUFFIX[found.pop()] if len(found) == 1 else f"{name!r}"
    else:
        labels["name suffix"] = name
    display = lookup(props, "properties.displayName")
    if isinstance(display, str):
        prefixed = [mode for mode, prefix in DISPLAY_NAME_PREFIXES.items() if display.startswith(prefix + " ")]
        also_named = [mode for mode, prefix in DISPLAY_NAME_PREFIXES.items() if prefix in display]
        labels["display name prefix"] = (prefixed[0] if len(prefixed) == 1 and len(also_named) == 1
                                         else f"{display!r}")
    else:
        labels["display name prefix"] = display
    mode = lookup(props, "tags.identity-mode")
    labels["identity-mode tag"] = mode if not isinstance(mode, str) or mode in NAME_SUFFIXES else f"{mode!r}"
    return labels


# What validate_identity_labels judges. A per-user connection's name ends in a generation id that is
# unknown until created, so its first preview says the name suffix was not checked.
IDENTITY_PATHS = ("resourceName", "properties.displayName", "tags.identity-mode", "properties.features",
                  "apiVersion", "properties.api.id", "tags.write-tools", "tags.justified-exceptions")


def validate_identity_labels(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != GENERIC_RESOURCE:
        return
    props = plain(args.props)
    if not is_connection(props):
        return
    _check_identity_labels(props, report_violation)
    not_yet_checked(args.name, unknown_paths(props, IDENTITY_PATHS))


def _check_identity_labels(props: dict[str, Any], report_violation: ReportViolation) -> None:
    labels = connection_identity_labels(props)
    missing = [where for where, label in labels.items() if label is MISSING]
    unclear = {where: label for where, label in labels.items()
               if is_known(label) and label not in (PER_USER, APP_ONLY)}
    stated = {label for label in labels.values() if label in (PER_USER, APP_ONLY)}
    if missing:
        report_violation(violation(
            f"Connection states no identity in its {', '.join(missing)}.",
            "label every connection three ways: name suffix -peruser/-apponly, display name prefix "
            "[per-user]/[app-only] and tag identity-mode (agent_obo/tool_connections.py does this)."), None)
    for where, label in unclear.items():
        report_violation(violation(
            f"Connection {where} {label} names no identity or more than one.",
            "use exactly one of -peruser/-apponly, [per-user]/[app-only], identity-mode per-user/app-only."),
            None)
    if len(stated) > 1:
        report_violation(violation(
            "Connection labels disagree: " + ", ".join(f"{where} says {label}" for where, label in labels.items()
                                                       if label in stated) + ".",
            "a connection cannot change identity: create a new connection with the intended identity and "
            "label all three places the same."), None)
    if len(stated) != 1 or missing or unclear:
        return
    identity = stated.pop()
    features = lookup(props, "properties.features")
    if identity == PER_USER:
        if features is MISSING or (is_known(features) and features != DYNAMIC_USER_INVOKED):
            report_violation(violation(
                f"Per-user connection has features {features!r}, not {DYNAMIC_USER_INVOKED!r}: it would run "
                "with the identity of whoever created it, for every chat user.",
                f"set properties.features to {DYNAMIC_USER_INVOKED!r} with api-version {PER_USER_API_VERSION} "
                "(an app-only connection cannot be converted: create a new one)."), None)
        api_version = lookup(props, "apiVersion")
        if is_known(api_version) and api_version != PER_USER_API_VERSION:
            report_violation(violation(
                f"Per-user connection uses api-version {api_version!r}: only {PER_USER_API_VERSION} keeps "
                "properties.features.",
                f"set apiVersion to {PER_USER_API_VERSION}."), None)
        api_id = lookup(props, "properties.api.id")
        connector = _MANAGED_API.search(api_id) if isinstance(api_id, str) else None
        if connector and connector.group(1).lower() not in PER_USER_CAPABLE_CONNECTORS:
            report_violation(violation(
                f"Connector {connector.group(1)!r} does not support per-user (on-behalf-of) connections.",
                f"run its tools app-only, or use one of {', '.join(sorted(PER_USER_CAPABLE_CONNECTORS))}."),
                None)
        write_tools = lookup(props, "tags.write-tools")
        exceptions = lookup(props, "tags.justified-exceptions")
        if is_known(write_tools) and exceptions is not UNKNOWN:
            unjustified = sorted(words(write_tools) - words(exceptions))
            if unjustified:
                report_violation(violation(
                    f"Write tools {', '.join(unjustified)} run per-user without a justified exception.",
                    "run writes app-only after the user's explicit confirmation, or add a justification to "
                    "the tool in catalog/tools.yaml (it is then listed in tag justified-exceptions)."), None)
    elif is_known(features) and features == DYNAMIC_USER_INVOKED:
        report_violation(violation(
            f"App-only connection carries features {DYNAMIC_USER_INVOKED!r}, which makes it per-user.",
            "remove properties.features, or label the connection per-user everywhere."), None)


IDENTITY_LABELS = ResourceValidationPolicy(
    name="identity-labels",
    description=("Every managed API connection states one identity (per-user or app-only) the same way in its "
                 "name, display name and identity-mode tag, and is configured as that identity: otherwise a "
                 "tool silently acts as the app where the user's permissions were expected, or the reverse "
                 "(module 05, 'mixed identity confusion'). Per-user connections need DynamicUserInvoked, a "
                 "per-user-capable connector, and no unjustified write tools."),
    validate=validate_identity_labels,
    enforcement_level=EnforcementLevel.MANDATORY,
    remediation_steps="Label and configure connections as agent_obo/tool_connections.py does.",
)


# --- connection-access-policy ----------------------------------------------------------------------

def validate_connection_access_policy(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    resources = [(resource, props_of(resource)) for resource in args.resources
                 if resource.resource_type == GENERIC_RESOURCE]
    policies_by_connection: dict[str, list[tuple[PolicyResource, dict[str, Any]]]] = {}
    for resource, props in resources:
        parent_path = lookup(props, "parentResourcePath")
        if lookup(props, "resourceType") == "accessPolicies" and isinstance(parent_path, str):
            parent_type, _, connection_name = parent_path.partition("/")
            if parent_type == "connections" and connection_name:
                policies_by_connection.setdefault(connection_name, []).append((resource, props))
    unchecked: list[str] = []
    # During a preview a connection's name (and so each policy's parent path) may be unknown: such a
    # policy is matched to the connection it depends on, and its parent path noted as not checked.
    unnamed_policies = [(r, p) for r, p in resources if lookup(p, "resourceType") == "accessPolicies"
                        and lookup(p, "parentResourcePath") is UNKNOWN]
    for resource, props in resources:
        if not is_connection(props):
            continue
        name = lookup(props, "resourceName")
        if isinstance(name, str):
            access = policies_by_connection.get(name, [])
        else:
            access = [(r, p) for r, p in unnamed_policies if resource in r.dependencies]
            unchecked.append(f"the name of connection {resource.name}, and so which access policy is its "
                             f"({', '.join(r.name for r, _ in access) or 'none depends on it'})")
            name = resource.name
            if not access:
                continue
        if not access:
            report_violation(violation(
                f"Connection {name!r} has no access policy: the Logic Apps runtime cannot call it.",
                "add a Microsoft.Web/connections/accessPolicies resource with parentResourcePath "
                f"'connections/{name}' for the site's managed identity (components/tool_connections.py "
                "ConnectionAccess)."), resource.urn)
        for policy_resource, policy_props in access:
            principal_type = lookup(policy_props, "properties.principal.type")
            object_id = lookup(policy_props, "properties.principal.identity.objectId")
            if principal_type is not UNKNOWN and principal_type != "ActiveDirectory":
                report_violation(violation(
                    f"Access policy on {name!r} has principal type {principal_type!r}, not 'ActiveDirectory'.",
                    "set properties.principal.type to 'ActiveDirectory' with the managed identity's tenantId "
                    "and objectId."), policy_resource.urn)
            if object_id is MISSING or object_id == "":
                report_violation(violation(
                    f"Access policy on {name!r} names no principal objectId: nobody, or the wrong caller, may "
                    "use the connection.",
                    "set properties.principal.identity.objectId to the site's managed identity principal id."),
                    policy_resource.urn)
            unchecked += [f"{policy_resource.name} {path}" for path in unknown_paths(
                policy_props, ["properties.principal.type", "properties.principal.identity.objectId"])]
    not_yet_checked("connection access", unchecked)


CONNECTION_ACCESS_POLICY = StackValidationPolicy(
    name="connection-access-policy",
    description=("Every managed API connection has an access policy for an Entra (ActiveDirectory) principal with "
                 "an object id: without one the Logic Apps runtime cannot call the connection, and a policy for "
                 "the wrong kind of principal grants the connection to a caller nobody reviewed."),
    validate=validate_connection_access_policy,
    enforcement_level=EnforcementLevel.MANDATORY,
    remediation_steps="Create one accessPolicies child per connection for the site's managed identity.",
)
