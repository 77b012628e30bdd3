"""The runtime's storage account, hardened, and reached only with Microsoft Entra identities.

Shared key access is off, so nothing can use an account key or a key-signed SAS; the runtime's
user-assigned identity gets exactly the three data roles the Logic Apps runtime needs (blobs for
state and the package, queues for triggers, tables for run history).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization, storage

from components.role_ids import (
    STORAGE_BLOB_DATA_OWNER,
    STORAGE_QUEUE_DATA_CONTRIBUTOR,
    STORAGE_TABLE_DATA_CONTRIBUTOR,
    role_definition_id,
)

PACKAGE_CONTAINER = "workflow-packages"
# Shared operations runbooks that the app-only get_shared_runbook tool reads (catalog/tools.yaml).
RUNBOOKS_CONTAINER = "runbooks"

RUNTIME_DATA_ROLES = {
    "blob-data-owner": STORAGE_BLOB_DATA_OWNER,
    "queue-data-contributor": STORAGE_QUEUE_DATA_CONTRIBUTOR,
    "table-data-contributor": STORAGE_TABLE_DATA_CONTRIBUTOR,
}


@dataclass
class RuntimeStorageArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    account_name: str
    subscription_id: str
    runtime_principal_id: pulumi.Input[str]
    protect: bool
    tags: dict[str, str]


class RuntimeStorage(pulumi.ComponentResource):
    def __init__(self, name: str, args: RuntimeStorageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("agent-obo:runtime:RuntimeStorage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.account = storage.StorageAccount(
            f"{name}-account",
            account_name=args.account_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            kind=storage.Kind.STORAGE_V2,
            sku=storage.SkuArgs(name=storage.SkuName.STANDARD_LRS),
            minimum_tls_version=storage.MinimumTlsVersion.TLS1_2,
            enable_https_traffic_only=True,
            allow_blob_public_access=False,
            allow_shared_key_access=False,
            default_to_o_auth_authentication=True,
            allow_cross_tenant_replication=False,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.package_container, self.runbooks_container = (
            storage.BlobContainer(
                f"{name}-{suffix}",
                container_name=container,
                account_name=self.account.name,
                resource_group_name=args.resource_group_name,
                public_access=storage.PublicAccess.NONE,
                opts=child,
            )
            for suffix, container in (("packages", PACKAGE_CONTAINER), ("runbooks", RUNBOOKS_CONTAINER))
        )
        self.runtime_role_assignments = [
            authorization.RoleAssignment(
                f"{name}-runtime-{role}",
                scope=self.account.id,
                principal_id=args.runtime_principal_id,
                principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
                role_definition_id=role_definition_id(args.subscription_id, role_id),
                description=f"Logic Apps runtime identity: {role} for AzureWebJobsStorage",
                opts=child,
            )
            for role, role_id in RUNTIME_DATA_ROLES.items()
        ]
        endpoints = self.account.primary_endpoints
        self.blob_endpoint = endpoints.blob
        self.queue_endpoint = endpoints.queue
        self.table_endpoint = endpoints.table
        self.account_name = self.account.name
        self.register_outputs({
            "accountName": self.account_name,
            "blobEndpoint": self.blob_endpoint,
            "packageContainer": self.package_container.name,
            "runbooksContainer": self.runbooks_container.name,
        })
