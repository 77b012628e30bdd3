"""Where every agent-obo stack keeps its Pulumi state, and the key that encrypts its secrets.

The Pulumi CLI's `azblob://` backend and `azurekeyvault://` secrets provider both sign in with
Microsoft Entra ID (DefaultAzureCredential: `az login` on a laptop, the OpenID Connect session
azure/login leaves in the pipeline), so the account runs with shared keys off and nobody holds a
storage key or a passphrase. The state is the one thing that cannot be rebuilt from the code:
versioning and soft delete keep earlier checkpoints restorable, and the account, container, vault
and key are protected from `pulumi destroy`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import authorization, keyvault, resources, storage

STATE_CONTAINER = "pulumi-state"
SECRETS_KEY = "pulumi-secrets"
# RSA 3072: above the 2048-bit floor, and Key Vault's standard tier holds it in software at no extra cost.
SECRETS_KEY_SIZE = 3072
# Purge protection forbids purging a deleted vault before this many days: the key that decrypts
# every stack's secrets cannot be destroyed by one mistaken delete.
VAULT_SOFT_DELETE_DAYS = 90

STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
KEY_VAULT_CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"


def role_definition_id(subscription_id: str, role_id: str) -> str:
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role_id}"


@dataclass
class PulumiStateBackendArgs:
    resource_group_name: str
    storage_account_name: str
    key_vault_name: str
    location: str
    subscription_id: str
    tenant_id: str
    soft_delete_days: int
    tags: dict[str, str]
    # People who run pulumi by hand against this state (users or groups): they read and write the
    # container and use the key, and nothing else here.
    operator_principal_ids: list[str] = field(default_factory=list)


class PulumiStateBackend(pulumi.ComponentResource):
    """The resource group, the hardened state account with its private container, and the vault key."""

    def __init__(self, name: str, args: PulumiStateBackendArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("agent-obo-bootstrap:state:PulumiStateBackend", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        precious = pulumi.ResourceOptions(parent=self, protect=True)

        self.resource_group = resources.ResourceGroup(
            f"{name}-group", resource_group_name=args.resource_group_name, location=args.location,
            tags=args.tags, opts=child)
        group_name = self.resource_group.name

        self.account = storage.StorageAccount(
            f"{name}-account",
            account_name=args.storage_account_name,
            resource_group_name=group_name,
            location=args.location,
            kind=storage.Kind.STORAGE_V2,
            # Zone-redundant: the state survives the loss of a datacenter in the region.
            sku=storage.SkuArgs(name=storage.SkuName.STANDARD_ZRS),
            minimum_tls_version=storage.MinimumTlsVersion.TLS1_2,
            enable_https_traffic_only=True,
            allow_blob_public_access=False,
            # Entra ID only: no account key can read or overwrite the state.
            allow_shared_key_access=False,
            default_to_o_auth_authentication=True,
            allow_cross_tenant_replication=False,
            tags=args.tags,
            opts=precious,
        )
        self.blob_service = storage.BlobServiceProperties(
            f"{name}-blob-service",
            account_name=self.account.name,
            resource_group_name=group_name,
            blob_services_name="default",
            # Every checkpoint Pulumi overwrites stays as an earlier version; a deleted blob or
            # container can be undeleted for soft_delete_days.
            is_versioning_enabled=True,
            delete_retention_policy=storage.DeleteRetentionPolicyArgs(enabled=True, days=args.soft_delete_days),
            container_delete_retention_policy=storage.DeleteRetentionPolicyArgs(
                enabled=True, days=args.soft_delete_days),
            opts=child,
        )
        self.container = storage.BlobContainer(
            f"{name}-container",
            container_name=STATE_CONTAINER,
            account_name=self.account.name,
            resource_group_name=group_name,
            public_access=storage.PublicAccess.NONE,
            opts=precious,
        )

        self.vault = keyvault.Vault(
            f"{name}-vault",
            vault_name=args.key_vault_name,
            resource_group_name=group_name,
            location=args.location,
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=args.tenant_id,
                sku=keyvault.SkuArgs(family=keyvault.SkuFamily.A, name=keyvault.SkuName.STANDARD),
                # Azure RBAC, not access policies: who may use the key is a role assignment, like
                # everything else here.
                enable_rbac_authorization=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=VAULT_SOFT_DELETE_DAYS,
                enable_purge_protection=True,
            ),
            tags=args.tags,
            opts=precious,
        )
        self.key = keyvault.Key(
            f"{name}-secrets-key",
            key_name=SECRETS_KEY,
            vault_name=self.vault.name,
            resource_group_name=group_name,
            properties=keyvault.KeyPropertiesArgs(
                kty=keyvault.JsonWebKeyType.RSA,
                key_size=SECRETS_KEY_SIZE,
                # The secrets provider encrypts each stack's data key with this key and decrypts it
                # again; nothing else. No rotation policy: a stack's data key was encrypted with one
                # key version, so rotating means `pulumi stack change-secrets-provider` per stack.
                key_ops=[keyvault.JsonWebKeyOperation.ENCRYPT, keyvault.JsonWebKeyOperation.DECRYPT],
            ),
            tags=args.tags,
            opts=precious,
        )

        self.operator_access = [
            authorization.RoleAssignment(
                f"{name}-operator-{principal_id}-{role}",
                scope=scope,
                principal_id=principal_id,
                # Groups only: the SDK sends principalType User when none is given, and Azure rejects
                # an assignment whose principalType does not match the principal.
                principal_type=authorization.PrincipalType.GROUP,
                role_definition_id=role_definition_id(args.subscription_id, role_id),
                description=f"agent-obo state operator: {role} for pulumi runs by hand",
                opts=child,
            )
            for principal_id in args.operator_principal_ids
            for role, role_id, scope in (("state-blobs", STORAGE_BLOB_DATA_CONTRIBUTOR, self.container.id),
                                         ("secrets-key", KEY_VAULT_CRYPTO_USER, self.key.id))
        ]

        self.container_id = self.container.id
        self.key_id = self.key.id
        self.account_name = self.account.name
        self.resource_group_name = group_name
        self.backend_url = pulumi.Output.concat(
            "azblob://", self.container.name, "?storage_account=", self.account.name)
        # Versionless: the provider uses the key's current version, and stack files stay valid.
        self.secrets_provider = pulumi.Output.concat(
            "azurekeyvault://", self.vault.name, ".vault.azure.net/keys/", self.key.name)
        self.register_outputs({
            "backendUrl": self.backend_url,
            "secretsProvider": self.secrets_provider,
            "containerId": self.container_id,
            "keyId": self.key_id,
        })
