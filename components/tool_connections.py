"""The tools' managed API connections, labelled per-user or app-only, and who may call them.

ToolConnections creates the connections before the site (their runtime URLs become app settings);
ConnectionAccess, after the site, gives its system-assigned identity an access policy on each, and
the app-only managed-identity tools the data access they need.

The typed web.Connection (API 2016-06-01) has no `kind`, `features` or `parameterValueSet`, and no
access-policy resource exists, so both are generic ARM resources (../shared/AZURE_CONTRACTS.md
section 4).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization, resources
from pulumi_random import RandomId

from agent_obo.tool_connections import ConnectionSpec
from components.role_ids import STORAGE_BLOB_DATA_READER, role_definition_id

ACCESS_POLICY_API_VERSION = "2016-06-01"


@dataclass
class ToolConnectionsArgs:
    specs: list[ConnectionSpec]
    resource_group_name: pulumi.Input[str]
    location: str
    subscription_id: str
    tags: dict[str, str]


class ToolConnections(pulumi.ComponentResource):
    def __init__(self, name: str, args: ToolConnectionsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("agent-obo:tools:ToolConnections", name, None, opts)
        self.specs = {spec.reference: spec for spec in args.specs}
        self.connections: dict[str, resources.Resource] = {}
        self.generations: dict[str, RandomId] = {}
        self.app_settings: dict[str, pulumi.Output[str]] = {}
        for spec in args.specs:
            azure_name: pulumi.Input[str] = spec.reference
            if spec.per_user:
                # Azure cannot re-scope or convert a per-user connection in place, so new scopes mean a
                # new connection, created before the old one is deleted: under a new name, renewed
                # with the scope set (keepers) or on demand (`pulumi up --replace` this resource,
                # `make recreate-connections`).
                generation = RandomId(f"{spec.reference}-generation", byte_length=4,
                                      keepers={"scope-fingerprint": spec.fingerprint},
                                      opts=pulumi.ResourceOptions(parent=self))
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
                location=args.location,
                resource_group_name=args.resource_group_name,
                properties=spec.properties(args.subscription_id, args.location),
                tags=spec.tags(args.tags),
                opts=pulumi.ResourceOptions(
                    parent=self,
                    # New scopes, new connection (learn.microsoft.com/azure/logic-apps/
                    # set-up-on-behalf-of-user-flow); the name change above already implies it.
                    replacement_trigger=spec.fingerprint if spec.per_user else None,
                ),
            )
            self.connections[spec.reference] = connection
            properties = connection.properties
            self.app_settings[spec.setting("connectionId")] = connection.id
            self.app_settings[spec.setting("connectionRuntimeUrl")] = properties.apply(
                lambda p: p["connectionRuntimeUrl"])
            if spec.per_user:
                self.app_settings[spec.setting("dynamicConnectionProxyUrl")] = properties.apply(
                    lambda p: p["dynamicConnectionProxyUrl"])
        self.needing_authorization = [
            spec.authorization_entry(self.connections[spec.reference].name, self.connections[spec.reference].id)
            for spec in args.specs if spec.needs_authorization]
        self.register_outputs({
            "connections": {ref: c.id for ref, c in self.connections.items()},
            "needingAuthorization": self.needing_authorization,
        })


@dataclass
class ConnectionAccessArgs:
    connections: ToolConnections
    resource_group_name: pulumi.Input[str]
    location: str
    subscription_id: str
    tenant_id: str
    site_principal_id: pulumi.Input[str]
    runbooks_container_id: pulumi.Input[str]


class ConnectionAccess(pulumi.ComponentResource):
    """Access policies (`<connection>/<objectId>`, la-samples connectors-template.json) for the site's
    system-assigned identity: the Logic Apps runtime calls every connection, per-user or app-only,
    with that identity; per-user connections then act for the chat user."""

    def __init__(self, name: str, args: ConnectionAccessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("agent-obo:tools:ConnectionAccess", name, None, opts)
        self.policies: dict[str, resources.Resource] = {}
        for reference, connection in args.connections.connections.items():
            self.policies[reference] = resources.Resource(
                f"{reference}-site-access",
                resource_provider_namespace="Microsoft.Web",
                parent_resource_path=pulumi.Output.concat("connections/", connection.name),
                resource_type="accessPolicies",
                resource_name_=args.site_principal_id,
                api_version=ACCESS_POLICY_API_VERSION,
                location=args.location,
                resource_group_name=args.resource_group_name,
                properties={"principal": {"type": "ActiveDirectory", "identity": {
                    "tenantId": args.tenant_id, "objectId": args.site_principal_id}}},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[connection], replace_with=[connection]),
            )
        # The app-only blob tool reads the runbooks container with the site's managed identity:
        # reading that one container is all it may do.
        self.data_access = [
            authorization.RoleAssignment(
                f"{reference}-runbooks-reader",
                scope=args.runbooks_container_id,
                principal_id=args.site_principal_id,
                principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
                role_definition_id=role_definition_id(args.subscription_id, STORAGE_BLOB_DATA_READER),
                description=f"{reference}: the app-only runbook tool reads the runbooks container",
                opts=pulumi.ResourceOptions(parent=self),
            )
            for reference, spec in args.connections.specs.items()
            if spec.connector.api_name == "azureblob" and not spec.per_user
        ]
        self.register_outputs({"accessPolicies": {ref: p.id for ref, p in self.policies.items()}})
