"""The runtime's storage account, hardened, and how the Logic Apps host reaches it.

`managedIdentity` (default): shared key access is off, so nothing can use an account key or a
key-signed SAS; the runtime's user-assigned identity gets exactly the three data roles the host
needs (blobs for state and the package, queues for triggers, tables for run history), as Microsoft's
labs module does on WS1.

`accessKey` (Learn, create-single-tenant-workflows-azure-portal, "Set up managed identity access to
your storage account": key access can't be disabled on the Workflow Service Plan): shared keys stay
on, the host uses a connection string and an Azure Files content share created here, and the runtime
identity keeps only what the package needs (Storage Blob Data Reader on its container,
learn.microsoft.com/azure/app-service/deploy-run-package). The connection string carries the account
key, so it is built as a Pulumi secret and never appears plain in state or outputs.

Neither mode grants Storage Account Contributor, although Learn's procedure lists it: it is a
control-plane role whose listKeys and write actions let the runtime read the account keys and turn
shared keys back on, undoing exactly what the keyless mode is for, and the host's identity-based
storage needs only data roles (learn.microsoft.com/azure/azure-functions/functions-reference,
"Connecting to host storage with an identity"; labs samples/shared/modules/logicapp.bicep).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization, storage

from agent_obo.naming import PACKAGE_CONTAINER
from components.component import Component
from components.placement import Placement
from components.role_ids import (
    STORAGE_BLOB_DATA_OWNER,
    STORAGE_BLOB_DATA_READER,
    STORAGE_QUEUE_DATA_CONTRIBUTOR,
    STORAGE_TABLE_DATA_CONTRIBUTOR,
    role_definition_id,
)
from components.storage_hardening import HARDENED_ACCOUNT

# The package container's logical name ends in this; a tool's container in its own name (agent_obo/tool_inputs.py).
PACKAGE_CONTAINER_SUFFIX = "packages"

RUNTIME_DATA_ROLES = {
    "blob-data-owner": STORAGE_BLOB_DATA_OWNER,
    "queue-data-contributor": STORAGE_QUEUE_DATA_CONTRIBUTOR,
    "table-data-contributor": STORAGE_TABLE_DATA_CONTRIBUTOR,
}


@dataclass
class RuntimeStorageArgs:
    placement: Placement
    account_name: str
    subscription_id: str
    runtime_principal_id: pulumi.Input[str]
    protect: bool
    # accessKey only: the Azure Files share that holds the site's content (WEBSITE_CONTENTSHARE).
    content_share_name: str | None = None
    # Zone-redundant storage: Learn requires it for a zone-redundant Standard logic app.
    zone_redundant: bool = False
    # privateNetworking: public network access off (or limited to these deploying IPs); the site
    # comes in through private endpoints.
    private: bool = False
    firewall_ip_ranges: tuple[str, ...] = ()
    # The containers the catalog's tools declare (`storage`), private like the package's.
    tool_containers: tuple[str, ...] = ()

    @property
    def uses_access_key(self) -> bool:
        return self.content_share_name is not None


class RuntimeStorage(Component[RuntimeStorageArgs], area="runtime"):
    """The hardened storage account, its containers, and the runtime identity's access to it."""

    def _create(self, name: str, args: RuntimeStorageArgs) -> pulumi.Inputs:
        self.account = storage.StorageAccount(
            f"{name}-account",
            account_name=args.account_name,
            sku=storage.SkuArgs(name=storage.SkuName.STANDARD_ZRS if args.zone_redundant
                                else storage.SkuName.STANDARD_LRS),
            public_network_access=_public_network_access(args),
            network_rule_set=_network_rule_set(args),
            # Only the accessKey mode needs account keys (its content share cannot use an identity).
            allow_shared_key_access=args.uses_access_key,
            **HARDENED_ACCOUNT,
            **args.placement.located(self, protect=args.protect),
        )
        containers = {
            suffix: storage.BlobContainer(
                f"{name}-{suffix}",
                container_name=container,
                account_name=self.account.name,
                public_access=storage.PublicAccess.NONE,
                **args.placement.in_group(self),
            )
            for suffix, container in ((PACKAGE_CONTAINER_SUFFIX, PACKAGE_CONTAINER),
                                      *((container, container) for container in args.tool_containers))
        }
        self.package_container = containers.pop(PACKAGE_CONTAINER_SUFFIX)
        self.tool_containers = containers
        self.content_share: storage.FileShare | None = None
        # Key-bearing values exist only in the accessKey mode, and only as secrets.
        self.connection_string: pulumi.Output[str] | None = None
        if args.uses_access_key:
            self.runtime_role_assignments = [self._runtime_role(
                name, "package-blob-data-reader", STORAGE_BLOB_DATA_READER, self.package_container.id, args,
                "Logic Apps runtime identity reads the workflow package (WEBSITE_RUN_FROM_PACKAGE)")]
            # Created here rather than by the platform: with the account behind a firewall the site
            # cannot create it (Learn: deploy-single-tenant-logic-apps-private-storage-account).
            self.content_share = storage.FileShare(
                f"{name}-content-share",
                share_name=args.content_share_name,
                account_name=self.account.name,
                **args.placement.in_group(self),
            )
            self.connection_string = _connection_string(self.account.name, args.placement.resource_group_name)
        else:
            self.runtime_role_assignments = [
                self._runtime_role(name, role, role_id, self.account.id, args,
                                   f"Logic Apps runtime identity: {role} for AzureWebJobsStorage")
                for role, role_id in RUNTIME_DATA_ROLES.items()
            ]
        endpoints = self.account.primary_endpoints
        self.blob_endpoint = endpoints.blob
        self.queue_endpoint = endpoints.queue
        self.table_endpoint = endpoints.table
        self.account_name = self.account.name
        return {
            "accountName": self.account_name,
            "contentShare": self.content_share.name if self.content_share else None,
            "blobEndpoint": self.blob_endpoint,
            "packageContainer": self.package_container.name,
            "toolContainers": {name: container.name for name, container in self.tool_containers.items()},
        }

    def _runtime_role(self, name: str, role: str, role_id: str, scope: pulumi.Input[str],
                      args: RuntimeStorageArgs, description: str) -> authorization.RoleAssignment:
        return authorization.RoleAssignment(
            f"{name}-runtime-{role}",
            scope=scope,
            principal_id=args.runtime_principal_id,
            principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
            role_definition_id=role_definition_id(args.subscription_id, role_id),
            description=description,
            opts=self._child_options(),
        )


def _public_network_access(args: RuntimeStorageArgs) -> storage.PublicNetworkAccess:
    """Off behind private endpoints (Learn: deploy-single-tenant-logic-apps-private-storage-account),
    unless the deploying machines' public IPs are listed to upload the package."""
    if args.private and not args.firewall_ip_ranges:
        return storage.PublicNetworkAccess.DISABLED
    return storage.PublicNetworkAccess.ENABLED


def _network_rule_set(args: RuntimeStorageArgs) -> storage.NetworkRuleSetArgs | None:
    """Deny by default with privateNetworking; only the listed deploying IPs pass. No trusted-service
    bypass: nothing in this stack reaches the account through one."""
    if not args.private:
        return None
    return storage.NetworkRuleSetArgs(
        default_action=storage.DefaultAction.DENY,
        bypass=storage.Bypass.NONE,
        # Storage IP rules take a single address without /32.
        ip_rules=[storage.IPRuleArgs(i_p_address_or_range=cidr.removesuffix("/32"), action=storage.Action.ALLOW)
                  for cidr in args.firewall_ip_ranges],
        virtual_network_rules=[],
    )


def _connection_string(account_name: pulumi.Output[str], resource_group_name: pulumi.Input[str]) -> pulumi.Output[str]:
    """The account's connection string, as Learn's connection-string host storage uses it; a secret
    from the first moment the key is in hand."""
    keys = storage.list_storage_account_keys_output(account_name=account_name,
                                                    resource_group_name=resource_group_name)
    key: pulumi.Output[str] = pulumi.Output.secret(keys.keys[0].value)
    return pulumi.Output.secret(pulumi.Output.concat(
        "DefaultEndpointsProtocol=https;AccountName=", account_name, ";AccountKey=", key,
        ";EndpointSuffix=core.windows.net"))
