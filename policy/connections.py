"""Connections: exactly the ones the catalog declares, each labelled and configured as the identity it acts
with, and callable only by the stack's own site.

Per-user (on-behalf-of) connections exist only for the catalog's per-user tools, on connectors that support
them (learn.microsoft.com/azure/logic-apps/set-up-on-behalf-of-user-flow); an access policy lets one Entra
principal call a connection (learn.microsoft.com/azure/logic-apps/logic-apps-securing-a-logic-app,
"Access to managed API connections"; Azure/logicapps connectors-template.json).
"""

from __future__ import annotations

import re
from typing import Any

from pulumi_policy import (
    PolicyResource,
    ResourceValidationArgs,
    StackValidationArgs,
)

from agent_obo.catalog import APP_ONLY, PER_USER
from agent_obo.catalog import CONNECTION_SUFFIXES as NAME_SUFFIXES
from agent_obo.connectors import CONNECTORS
from agent_obo.tool_connections import DYNAMIC_USER_INVOKED, PER_USER_API_VERSION, ConnectionSpec
from agent_obo.tool_connections import LABELS as DISPLAY_NAME_PREFIXES
from components.tool_connections import ACCESS_POLICY_API_VERSION
from policy.checks import Check
from policy.declared import Declared
from policy.define import resource_policy, stack_policy
from policy.props import MISSING, UNKNOWN, is_known, list_tag, lookup, plain, props_of, words
from policy.resource_types import GENERIC_RESOURCE, SITE

PER_USER_CAPABLE_CONNECTORS = frozenset(name for name, connector in CONNECTORS.items() if connector.per_user_capable)
OBO_URL = "https://learn.microsoft.com/azure/logic-apps/set-up-on-behalf-of-user-flow"
CONNECTIONS_POLICY = "connections-as-declared"


# --- identity-labels -------------------------------------------------------------------------------

_NAME_LABEL = re.compile(r"(?:^|-)(peruser|apponly)(?=-|\Z)")
_IDENTITY_BY_SUFFIX = {suffix: identity for identity, suffix in NAME_SUFFIXES.items()}
_MANAGED_API = re.compile(r"/managedApis/([^/]+)\Z", re.IGNORECASE | re.ASCII)


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


def validate_identity_labels(args: ResourceValidationArgs, check: Check) -> None:
    """Every managed API connection states one identity (per-user or app-only) the same way in its name, display name
    and identity-mode tag, and is configured as that identity: otherwise a tool silently acts as the app where the
    user's permissions were expected, or the reverse (module 05, 'mixed identity confusion'). Per-user connections
    need DynamicUserInvoked, a per-user-capable connector, and no unjustified write tools."""
    props = plain(args.props)
    if not is_connection(props):
        return
    labels = connection_identity_labels(props)
    for where, label in labels.items():
        check.known(label, f"the connection's {where}")
    _check_labels(props, labels, check)


def _check_labels(props: dict[str, Any], labels: dict[str, Any], check: Check) -> None:
    missing = [where for where, label in labels.items() if label is MISSING]
    unclear = {where: label for where, label in labels.items()
               if is_known(label) and label not in (PER_USER, APP_ONLY)}
    stated = {label for label in labels.values() if label in (PER_USER, APP_ONLY)}
    if missing:
        check.fail(
            f"Connection states no identity in its {', '.join(missing)}.",
            "label every connection three ways: name suffix -peruser/-apponly, display name prefix "
            "[per-user]/[app-only] and tag identity-mode (agent_obo/tool_connections.py does this).")
    for where, label in unclear.items():
        check.fail(
            f"Connection {where} {label} names no identity or more than one.",
            "use exactly one of -peruser/-apponly, [per-user]/[app-only], identity-mode per-user/app-only.")
    if len(stated) > 1:
        check.fail(
            "Connection labels disagree: " + ", ".join(f"{where} says {label}" for where, label in labels.items()
                                                       if label in stated) + ".",
            "a connection cannot change identity: create a new connection with the intended identity and "
            "label all three places the same.")
    if len(stated) != 1 or missing or unclear:
        return
    identity = stated.pop()
    features = lookup(props, "properties.features")
    if identity == PER_USER:
        if features is MISSING or (is_known(features) and features != DYNAMIC_USER_INVOKED):
            check.fail(
                f"Per-user connection has features {features!r}, not {DYNAMIC_USER_INVOKED!r}: it would run "
                "with the identity of whoever created it, for every chat user.",
                f"set properties.features to {DYNAMIC_USER_INVOKED!r} with api-version {PER_USER_API_VERSION} "
                "(an app-only connection cannot be converted: create a new one).")
        api_version = lookup(props, "apiVersion")
        if is_known(api_version) and api_version != PER_USER_API_VERSION:
            check.fail(
                f"Per-user connection uses api-version {api_version!r}: only {PER_USER_API_VERSION} keeps "
                "properties.features.",
                f"set apiVersion to {PER_USER_API_VERSION}.")
        api_id = lookup(props, "properties.api.id")
        connector = _MANAGED_API.search(api_id) if isinstance(api_id, str) else None
        if connector and connector.group(1).lower() not in PER_USER_CAPABLE_CONNECTORS:
            check.fail(
                f"Connector {connector.group(1)!r} does not support per-user (on-behalf-of) connections.",
                f"run its tools app-only, or use one of {', '.join(sorted(PER_USER_CAPABLE_CONNECTORS))}.")
        write_tools = list_tag(props, "write-tools")
        exceptions = list_tag(props, "justified-exceptions")
        if is_known(write_tools) and exceptions is not UNKNOWN:
            unjustified = sorted(words(write_tools) - words(exceptions))
            if unjustified:
                check.fail(
                    f"Write tools {', '.join(unjustified)} run per-user without a justified exception.",
                    "run writes app-only after the user's explicit confirmation, or add a justification to "
                    "the tool in catalog/tools.yaml (it is then listed in tag justified-exceptions).")
    elif is_known(features) and features == DYNAMIC_USER_INVOKED:
        check.fail(
            f"App-only connection carries features {DYNAMIC_USER_INVOKED!r}, which makes it per-user.",
            "remove properties.features, or label the connection per-user everywhere.")


IDENTITY_LABELS = resource_policy(
    "identity-labels", validate_identity_labels, judges=(GENERIC_RESOURCE,),
    url=OBO_URL,
    remediation="Label and configure connections as agent_obo/tool_connections.py does.",
)



# --- connections-as-declared -----------------------------------------------------------------------

# The identity-bearing tags a connection carries (ConnectionSpec.tags), compared with what the catalog derives.
_DERIVED_TAGS = ("identity-mode", "tools", "scope-fingerprint", "scopes", "authentication", "write-tools",
                 "justified-exceptions")
_API_ID = re.compile(r"^/subscriptions/[^/]+/providers/Microsoft\.Web/locations/([^/]+)/managedApis/([^/]+)\Z",
                     re.IGNORECASE | re.ASCII)


def is_access_policy(props: dict[str, Any]) -> bool:
    return lookup(props, "resourceType") == "accessPolicies"


def connection_spec_of(props: dict[str, Any], stack: Declared) -> ConnectionSpec | Any | None:
    """The declared connection this connection resource is, None when the catalog declares none such, or
    UNKNOWN when its connector or identity cannot be read yet."""
    api_id, mode = lookup(props, "properties.api.id"), lookup(props, "tags.identity-mode")
    if not (isinstance(api_id, str) and isinstance(mode, str)):
        return UNKNOWN if UNKNOWN in (api_id, mode) else None
    match = _API_ID.match(api_id)
    return stack.connection(match.group(2).lower(), mode) if match else None


def validate_connections_as_declared(args: ResourceValidationArgs, check: Check) -> None:
    """Every managed API connection is one the tool catalog declares for the stack's enabled tools (connector and
    identity), created exactly as agent_obo derives it: per-user (DynamicUserInvoked) only for the catalog's per-user
    tools and nowhere else, with the declared tools, scopes, write tools and exceptions in its tags, in the stack's
    region, and an identity exception only where the pack approves it for the stack; every access policy admits one
    Entra principal of the stack's tenant."""
    props = plain(args.props)
    if not (is_connection(props) or is_access_policy(props)):
        return
    stack = check.declared()
    if stack is not None:
        if is_connection(props):
            _check_connection(check, props, stack)
        else:
            _check_access_policy(check, props, stack)


def _check_connection(check: Check, props: dict[str, Any], stack: Declared) -> None:
    spec = connection_spec_of(props, stack)
    if isinstance(spec, ConnectionSpec):
        _check_exceptions(check, spec, stack)
    if spec is UNKNOWN:
        check.cannot_see("the connection's connector and identity")
        return
    if spec is None:
        declared = ", ".join(sorted(f"{s.connector.api_name} {s.identity}" for s in stack.connections))
        check.fail(f"Connection to {lookup(props, 'properties.api.id')!r} with identity "
                   f"{lookup(props, 'tags.identity-mode')!r} is not one the catalog declares: a tool could act as an "
                   f"identity nobody reviewed.", f"create connections only from catalog/tools.yaml "
                   f"(declared: {declared}).")
        return
    where = f"{spec.reference} connection"
    check.equal(props, "apiVersion", spec.api_version, f"the {where} is not created as the catalog's identity.",
                f"set apiVersion to {spec.api_version}.")
    check.equal(props, "kind", "V2", f"Logic Apps Standard calls only V2 connections ({where}).", "set kind to V2.")
    check.equal(props, "location", stack.settings.location, f"the {where} is not in the stack's region.",
                f"set location to {stack.settings.location}.")
    api = _API_ID.match(str(lookup(props, "properties.api.id")))
    if api and api.group(1).lower() != stack.settings.location:
        check.fail(f"The {where} uses the managed API of region {api.group(1)!r}.",
                   f"use /subscriptions/<id>/providers/Microsoft.Web/locations/{stack.settings.location}/managedApis/"
                   f"{spec.connector.api_name}.")
    expected = spec.properties("<subscription>", stack.settings.location)
    check.equal(props, "properties.displayName", expected["displayName"], f"the {where} is labelled otherwise.",
                f"set properties.displayName to {expected['displayName']!r}.")
    check.equal(props, "properties.features", expected.get("features", MISSING),
                f"the {where} acts as {'each signed-in user' if spec.per_user else 'the app'} only with exactly "
                "this feature set.", "create the connection as agent_obo/tool_connections.py derives it from the "
                "catalog (a connection cannot change identity: create a new one).")
    check.equal(props, "properties.parameterValueSet", expected.get("parameterValueSet", MISSING),
                f"the {where} authenticates otherwise than its connector's declared way.",
                "use the managed identity parameter set only on connectors that support it "
                "(agent_obo/connectors.py).")
    # Every derived tag, a list's continuation tags (tools-2, write-tools-3, ...) included, with the stack's
    # own tags as the program adds them (they decide how long lists are split).
    derived = spec.tags(stack.settings.tags)
    for key, value in derived.items():
        if key in _DERIVED_TAGS or key.rsplit("-", 1)[0] in _DERIVED_TAGS:
            check.equal(props, f"tags.{key}", value, f"the {where}'s tag disagrees with the catalog.",
                        f"tag it as agent_obo/tool_connections.py derives it ({value!r}).")
    tags = lookup(props, "tags")
    for key in sorted(tags) if isinstance(tags, dict) else []:
        if key not in derived and key.rsplit("-", 1)[0] in _DERIVED_TAGS:
            check.fail(f"The {where} carries tag {key!r}, which the catalog does not derive.",
                       "remove it: list tags continue only as agent_obo/tool_connections.py splits them.")
    name = lookup(props, "resourceName")
    if check.known(name, f"the {where}'s name"):
        if spec.per_user and not (isinstance(name, str) and re.fullmatch(re.escape(spec.reference) + r"-[0-9a-f]+",
                                                                           name)):
            check.fail(f"Per-user connection name {name!r} is not {spec.reference}-<generation>.",
                       "name it from its generation (components/tool_connections.py).")
        elif not spec.per_user and name != spec.reference:
            check.fail(f"App-only connection name {name!r} is not {spec.reference!r}.",
                       f"name it {spec.reference!r}.")


def _check_exceptions(check: Check, spec: ConnectionSpec, stack: Declared) -> None:
    """A tool whose identity breaks the catalog's rules (a user read app-only, a write per-user) runs only where the
    pack approves it for the stack: the catalog's justification is one reviewed file, the approval another."""
    approved = set(stack.policy_config(CONNECTIONS_POLICY).get("approvedExceptions") or [])
    for tool in sorted(set(spec.exceptions) - approved):
        check.fail(f"Tool {tool!r} runs {spec.identity} against the catalog's rules (its justification is an "
                   f"exception), and the pack does not approve it for stack {stack.stack!r}.",
                   "run user reads per-user and writes app-only; or approve the exception in "
                   f"policy/config/{stack.stack}.json ({CONNECTIONS_POLICY} approvedExceptions), a reviewed change "
                   "of the pack.")


def _check_access_policy(check: Check, props: dict[str, Any], stack: Declared) -> None:
    check.equal(props, "resourceProviderNamespace", "Microsoft.Web", "an access policy belongs to a connection.",
                "create it under Microsoft.Web/connections.")
    check.equal(props, "apiVersion", ACCESS_POLICY_API_VERSION, "the access policy's shape is that API's.",
                f"set apiVersion to {ACCESS_POLICY_API_VERSION}.")
    check.equal(props, "properties.principal.type", "ActiveDirectory",
                "only a Microsoft Entra principal may call a connection.", "set principal.type to ActiveDirectory.")
    check.equal(props, "properties.principal.identity.tenantId", stack.tenant_id,
                "the caller must be a principal of the stack's tenant (agent-obo:tenantId).",
                f"set principal.identity.tenantId to {stack.tenant_id}.")
    object_id, name = lookup(props, "properties.principal.identity.objectId"), lookup(props, "resourceName")
    if check.known(object_id, "the access policy's principal") and check.known(name, "the access policy's name") \
            and not (isinstance(object_id, str) and object_id and object_id == name):
        check.fail(f"Access policy {name!r} names principal {object_id!r}: the policy is named after the one "
                   "principal it admits.", "name the access policy after its principal's object id.")


CONNECTIONS_AS_DECLARED = resource_policy(
    CONNECTIONS_POLICY, validate_connections_as_declared, judges=(GENERIC_RESOURCE,),
    url=OBO_URL,
    remediation="Change tools and identities in catalog/tools.yaml; never create or edit connections by hand.",
)


# --- connection-access-policy ----------------------------------------------------------------------

def arm_kind(props: dict[str, Any]) -> str | Any:
    """"connection", "access policy", another ARM type, or UNKNOWN, from a generic resource's outputs (ARM's
    `type`) or, when that is not known yet, from its properties' shape (`properties` comes back as given)."""
    arm_type = lookup(props, "type")
    if isinstance(arm_type, str):
        return {"microsoft.web/connections": "connection",
                "microsoft.web/connections/accesspolicies": "access policy"}.get(arm_type.lower(), arm_type)
    if is_connection(props):
        return "connection"
    if is_access_policy(props):
        return "access policy"
    if lookup(props, "properties.api.id") is not MISSING:
        return "connection"
    if lookup(props, "properties.principal") is not MISSING:
        return "access policy"
    return UNKNOWN


def site_principals(resources: list[PolicyResource]) -> list[Any]:
    """The system-assigned principal ids of the stack's sites (UNKNOWN until a site exists)."""
    return [lookup(props_of(r), "identity.principalId") for r in resources if r.resource_type == SITE]


def validate_connection_access_policy(args: StackValidationArgs, check: Check) -> None:
    """The stack has exactly the connections the catalog declares, and each has exactly one access policy, for the
    stack's own site: without one the Logic Apps runtime cannot call the connection, and a policy for any other
    principal lets it act through the connection, as the app or as every signed-in user."""
    stack = check.declared()
    if stack is None:
        return
    generic = [(r, props_of(r)) for r in args.resources if r.resource_type == GENERIC_RESOURCE]
    connections = [(r, p) for r, p in generic if arm_kind(p) == "connection"]
    policies = [(r, p) for r, p in generic if arm_kind(p) == "access policy"]
    if any(arm_kind(p) is UNKNOWN for _, p in generic):
        check.cannot_see("which generic resources are connections")

    found: dict[str, list[PolicyResource]] = {}
    for resource, props in connections:
        spec = connection_spec_of(props, stack)
        if isinstance(spec, ConnectionSpec):
            found.setdefault(spec.reference, []).append(resource)
    for spec in stack.connections:
        count = len(found.get(spec.reference, []))
        if count != 1:
            check.fail(f"The catalog declares one {spec.reference} connection; the stack has {count}.",
                       "create exactly the connections agent_obo/tool_connections.py derives from the catalog.")

    principals = site_principals(args.resources)
    for resource, _ in connections:
        admitted = [r for r, _ in policies if resource in r.dependencies]
        if len(admitted) != 1:
            check.fail(f"Connection {resource.name!r} has {len(admitted)} access policies: "
                       + ("the Logic Apps runtime cannot call it." if not admitted else
                          "only the site's identity may call it."),
                       "give each connection exactly one access policy, for the site's system-assigned identity "
                       "(components/tool_connections.py ConnectionAccess).", resource.urn)
    connection_resources = [r for r, _ in connections]
    for resource, props in policies:
        if not any(dependency in connection_resources for dependency in resource.dependencies):
            check.fail(f"Access policy {resource.name!r} belongs to no connection of this stack.",
                       "create access policies only with ConnectionAccess, after their connection.", resource.urn)
        object_id = lookup(props, "properties.principal.identity.objectId")
        if check.outside(object_id, principals, "the site's principal id"):
            check.fail(f"Access policy {resource.name!r} lets principal {object_id!r} call a connection: it is not "
                       "the stack's site, so someone else can act through the connection.",
                       "admit only the site's system-assigned identity.", resource.urn)


CONNECTION_ACCESS_POLICY = stack_policy(
    "connection-access-policy", validate_connection_access_policy,
    url="https://learn.microsoft.com/azure/logic-apps/logic-apps-securing-a-logic-app",
    remediation="Create one accessPolicies child per connection for the site's managed identity.",
)
