"""The tools' managed API connections, labelled per-user or app-only, and who may call them.

ToolConnections creates the connections (their ids and runtime URLs become app settings);
ConnectionAccess, once the site exists, gives its system-assigned identity an access policy on each,
and, for the app-only tools that declare `storage` in the catalog, the one role each container needs
(agent_obo/tool_inputs.py decides which, on which container). The app settings that route
traffic to a connection are written only after its access policy (components/app_settings.py).

The typed web.Connection (API 2016-06-01) has no `kind`, `features` or `parameterValueSet`, and no
access-policy resource exists (pulumi-azure-native's web.Connection schema), so both are generic ARM
resources; the access policy's shape is Microsoft's (github.com/Azure/logicapps, connectors-template.json).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.output import UNKNOWN
from pulumi_azure_native import authorization, resources
from pulumi_random import RandomId

from agent_obo.tool_connections import GENERATION_BYTES, ConnectionSpec
from agent_obo.tool_inputs import ContainerGrant
from components.component import Component
from components.placement import Placement
from components.role_ids import BLOB_DATA_ROLES, role_definition_id

ACCESS_POLICY_API_VERSION = "2016-06-01"
# What Azure adds to a connection's `properties` once it exists: the runtime URL of every V2 connection,
# and the per-user proxy of a DynamicUserInvoked one (LogicAppsUX base/connection.ts; undocumented).
COMPUTED_PROPERTIES = {False: ("connectionRuntimeUrl",), True: ("connectionRuntimeUrl", "dynamicConnectionProxyUrl")}


def computed_property(reference: str, key: str) -> Callable[[Mapping[str, Any] | None], Any]:
    """Reads a value Azure computes into a connection's `properties`, which the SDK types `Any`.

    During a preview azure-native hands `Any` outputs back exactly as given (provider/pkg/convert/
    previewOutputs.go), so a connection about to be created or updated has no such key yet: the value is
    unknown until deployed, as Pulumi shows any computed output. After a real create or update Azure has
    answered; a missing value then means the connection is not what Logic Apps Standard can call (not V2,
    or not per-user), and the deployment stops rather than writing an empty app setting."""
    def read(properties: Mapping[str, Any] | None) -> Any:
        value = (properties or {}).get(key)
        if value:
            return value
        if pulumi.runtime.is_dry_run():
            return pulumi.Output.from_input(UNKNOWN)
        raise ValueError(f"connection {reference}: Azure reported no properties.{key}; Logic Apps Standard calls "
                         "only kind V2 connections (and a per-user one only with features DynamicUserInvoked)")
    return read


@dataclass
class ToolConnectionsArgs:
    placement: Placement
    specs: list[ConnectionSpec]
    subscription_id: str


class ToolConnections(Component[ToolConnectionsArgs], area="tools"):
    """One managed API connection per connection spec; a per-user one renamed with each new generation."""

    def _create(self, name: str, args: ToolConnectionsArgs) -> pulumi.Inputs:
        self.specs = {spec.reference: spec for spec in args.specs}
        self.connections: dict[str, resources.Resource] = {}
        # Each connection's Azure name as given: fixed for app-only, a fresh generation for per-user.
        self.azure_names: dict[str, pulumi.Input[str]] = {}
        self.generations: dict[str, RandomId] = {}
        self.app_settings: dict[str, pulumi.Output[str]] = {}
        for spec in args.specs:
            azure_name: pulumi.Input[str] = spec.reference
            if spec.per_user:
                # New scopes mean a new connection: Azure cannot re-scope a per-user connection in place
                # (learn.microsoft.com/azure/logic-apps/set-up-on-behalf-of-user-flow). This generation
                # alone carries it: renewed with the scope set (keepers) or on demand (`make
                # recreate-connections`), it renames the connection, and a new name is a new resource,
                # created before the old one is deleted without colliding with it; the access policy
                # lives under `connections/<name>` and follows by its own path. No replacement_trigger
                # or replace_with besides: they would state the same decision a second time.
                generation = RandomId(f"{spec.reference}-generation", byte_length=GENERATION_BYTES,
                                      keepers={"scope-fingerprint": spec.fingerprint},
                                      opts=self._child_options())
                self.generations[spec.reference] = generation
                azure_name = pulumi.Output.concat(spec.reference, "-", generation.hex)
            connection = resources.Resource(
                spec.reference,
                resource_provider_namespace="Microsoft.Web",
                parent_resource_path="",  # a top-level resource of the group
                resource_type="connections",
                resource_name_=azure_name,
                api_version=spec.api_version,
                kind="V2",  # Standard logic apps call only V2 connections (connectionRuntimeUrl)
                location=args.placement.location,
                properties=spec.properties(args.subscription_id, args.placement.location),
                tags=spec.tags(args.placement.tags),
                **args.placement.in_group(self),
            )
            self.connections[spec.reference] = connection
            self.azure_names[spec.reference] = azure_name
            self.app_settings[spec.setting("connectionId")] = connection.id
            for key in COMPUTED_PROPERTIES[spec.per_user]:
                self.app_settings[spec.setting(key)] = connection.properties.apply(
                    computed_property(spec.reference, key))
        self.needing_authorization = [
            spec.authorization_entry(self.azure_names[spec.reference], self.connections[spec.reference].id)
            for spec in args.specs if spec.needs_authorization]
        return {
            "connections": {ref: c.id for ref, c in self.connections.items()},
            "needingAuthorization": self.needing_authorization,
        }


@dataclass
class ConnectionAccessArgs:
    placement: Placement
    connections: ToolConnections
    subscription_id: str
    tenant_id: str
    site_principal_id: pulumi.Input[str]
    container_grants: list[ContainerGrant]
    container_ids: Mapping[str, pulumi.Input[str]]  # each tool container's resource id, by name


class ConnectionAccess(Component[ConnectionAccessArgs], area="tools"):
    """Access policies (`<connection>/<objectId>`, la-samples connectors-template.json) for the site's
    system-assigned identity: the Logic Apps runtime calls every connection, per-user or app-only,
    with that identity; per-user connections then act for the chat user."""

    def _create(self, name: str, args: ConnectionAccessArgs) -> pulumi.Inputs:
        self.policies: dict[str, resources.Resource] = {}
        for reference, connection in args.connections.connections.items():
            self.policies[reference] = resources.Resource(
                f"{reference}-site-access",
                resource_provider_namespace="Microsoft.Web",
                # The name as given, not the `name` output: a preview knows an app-only connection's name
                # only from its input (azure-native computes the output).
                parent_resource_path=pulumi.Output.concat("connections/", args.connections.azure_names[reference]),
                resource_type="accessPolicies",
                resource_name_=args.site_principal_id,
                api_version=ACCESS_POLICY_API_VERSION,
                location=args.placement.location,
                properties={"principal": {"type": "ActiveDirectory", "identity": {
                    "tenantId": args.tenant_id, "objectId": args.site_principal_id}}},
                **args.placement.in_group(self, depends_on=[connection]),
            )
        # Each container the enabled app-only tools declare, read (or written) with the site's managed
        # identity: a data role on that container alone.
        self.data_access = [
            authorization.RoleAssignment(
                grant.name,
                scope=args.container_ids[grant.container],
                principal_id=args.site_principal_id,
                principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
                role_definition_id=role_definition_id(args.subscription_id, BLOB_DATA_ROLES[grant.access]),
                description=grant.description,
                opts=self._child_options(),
            )
            for grant in args.container_grants
        ]
        return {"accessPolicies": {ref: p.id for ref, p in self.policies.items()}}
