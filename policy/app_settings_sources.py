"""The app settings whose values come from other resources carry this stack's own resources' values.

agent_obo/app_settings.py names, for each such setting, the `Source` of its value; __main__.py wires it from a
component. A literal or another resource in its place sends the site elsewhere while every name still looks as
declared: the workflow package (WEBSITE_RUN_FROM_PACKAGE: the code the site runs), the model endpoint (every
conversation, with the site's token), a connection's runtime or proxy URL (each user's calls and data), Application
Insights (telemetry), the identity the host and the package use. So a stack policy, which sees every resource's
outputs, compares each value with the output of the resource it must come from. A resource id is not among the
outputs the engine hands a policy, so ids are rebuilt from the runtime identity's, which the site carries (its
resource group and subscription are the stack's), and the resource's name.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pulumi_policy import PolicyResource

from agent_obo import app_settings as source
from policy.declared import Declared
from policy.inventory import DYNAMIC_RESOURCE
from policy.props import MISSING, UNKNOWN, lookup, props_of
from policy.resource_types import (
    APPLICATION_INSIGHTS,
    FILE_SHARE,
    GENERIC_RESOURCE,
    LOG_ANALYTICS_WORKSPACE,
    MODEL_ACCOUNT,
    SITE,
    STORAGE_ACCOUNT,
    USER_ASSIGNED_IDENTITY,
)

# Values that name a resource: ARM compares ids without regard to case.
_IDS = frozenset({source.RUNTIME_IDENTITY_ID.key, source.MODEL_RESOURCE_ID.key})


def _only(resources: Iterable[PolicyResource], resource_type: str) -> dict[str, Any] | None:
    """The outputs of the stack's one resource of a type; None when there is not exactly one."""
    found = [props_of(r) for r in resources if r.resource_type == resource_type]
    return found[0] if len(found) == 1 else None


def _output(props: dict[str, Any] | None, path: str) -> Any:
    return MISSING if props is None else lookup(props, path)


def _group_prefix(site: dict[str, Any] | None) -> Any:
    """`/subscriptions/<id>/resourceGroups/<name>` of the runtime identity the site carries (site-hardening allows
    exactly one), UNKNOWN until it exists, MISSING when it cannot be told."""
    assigned = _output(site, "identity.userAssignedIdentities")
    if assigned is UNKNOWN:
        return UNKNOWN
    if not isinstance(assigned, dict) or len(assigned) != 1:
        return MISSING
    (identity_id,) = assigned
    return identity_id.split("/providers/", 1)[0] if "/providers/" in identity_id else MISSING


def _under(prefix: Any, provider_path: str, name: Any) -> Any:
    if UNKNOWN in (prefix, name):
        return UNKNOWN
    if MISSING in (prefix, name):
        return MISSING
    return f"{prefix}/providers/{provider_path}/{name}"


def expected_values(resources: list[PolicyResource], stack: Declared) -> dict[str, Any]:
    """Each Source's key -> the value this stack's resources give it (UNKNOWN during a first preview; MISSING
    where the stack has no such resource, which other policies report)."""
    site = _only(resources, SITE)
    identity = _only(resources, USER_ASSIGNED_IDENTITY)
    storage = _only(resources, STORAGE_ACCOUNT)
    model = _only(resources, MODEL_ACCOUNT)
    prefix = _group_prefix(site)
    account = _output(storage, "name")
    assigned = _output(site, "identity.userAssignedIdentities")
    values: dict[str, Any] = {
        source.RUNTIME_IDENTITY_ID.key: (next(iter(assigned)) if isinstance(assigned, dict) and len(assigned) == 1
                                         else UNKNOWN if assigned is UNKNOWN else MISSING),
        source.RUNTIME_IDENTITY_CLIENT_ID.key: _output(identity, "clientId"),
        source.BLOB_ENDPOINT.key: _output(storage, "primaryEndpoints.blob"),
        source.QUEUE_ENDPOINT.key: _output(storage, "primaryEndpoints.queue"),
        source.TABLE_ENDPOINT.key: _output(storage, "primaryEndpoints.table"),
        source.STORAGE_ACCOUNT_NAME.key: account,
        source.APPLICATION_INSIGHTS_CONNECTION_STRING.key: _output(_only(resources, APPLICATION_INSIGHTS),
                                                                   "connectionString"),
        source.PACKAGE_URL.key: _output(_only(resources, DYNAMIC_RESOURCE), "url"),
    }
    if stack.settings.model.creates_account:
        values[source.MODEL_ENDPOINT.key] = _output(model, "properties.endpoint")
        values[source.MODEL_RESOURCE_ID.key] = _under(prefix, "Microsoft.CognitiveServices/accounts",
                                                      _output(model, "name"))
    else:
        values[source.MODEL_ENDPOINT.key] = stack.settings.model.existing_endpoint
        values[source.MODEL_RESOURCE_ID.key] = stack.settings.model.existing_resource_id
    connections = {r.name: props_of(r) for r in resources if r.resource_type == GENERIC_RESOURCE}
    for spec in stack.connections:
        connection = connections.get(spec.reference)
        values[source.connection_source(spec.setting("connectionId")).key] = _under(
            prefix, "Microsoft.Web/connections", _output(connection, "name"))
        for key in ("connectionRuntimeUrl", "dynamicConnectionProxyUrl"):
            values[source.connection_source(spec.setting(key)).key] = _output(connection, f"properties.{key}")
    return values


def storage_account_of(connection_string: str) -> str | None:
    """AccountName=... of a storage connection string."""
    for part in connection_string.split(";"):
        key, _, value = part.partition("=")
        if key == "AccountName":
            return value
    return None


def same(key: str, value: Any, expected: Any) -> bool:
    """Equal, ids without regard to case."""
    if key in _IDS or key.endswith("_connectionId"):
        return isinstance(value, str) and isinstance(expected, str) and value.lower() == expected.lower()
    return bool(value == expected)


def subscription_and_group(resources: list[PolicyResource]) -> tuple[Any, Any]:
    """The stack's subscription id and resource group name, from the runtime identity's id."""
    prefix = _group_prefix(_only(resources, SITE))
    if not isinstance(prefix, str):
        return prefix, prefix
    parts = prefix.split("/")
    return (parts[2], parts[4]) if len(parts) == 5 else (MISSING, MISSING)


def content_share(resources: list[PolicyResource]) -> Any:
    return _output(_only(resources, FILE_SHARE), "name")


def workspace_ids(resources: list[PolicyResource]) -> Any:
    """The ids of the stack's Log Analytics workspaces, lower case (UNKNOWN until they can be told)."""
    prefix = _group_prefix(_only(resources, SITE))
    names = [_output(props_of(r), "name") for r in resources
             if r.resource_type == LOG_ANALYTICS_WORKSPACE]
    ids = [_under(prefix, "Microsoft.OperationalInsights/workspaces", name) for name in names]
    return UNKNOWN if UNKNOWN in ids else {i.lower() for i in ids if isinstance(i, str)}
