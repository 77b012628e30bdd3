"""Where each agent-obo environment keeps its Pulumi state, and the key that encrypts its secrets.

One container and one key per environment, so an identity given one environment's state and key
can neither read another's checkpoints nor decrypt its secrets; the bootstrap's own state has a
container and key of its own that no pipeline identity reaches. The Pulumi CLI's `azblob://` backend
and `azurekeyvault://` secrets provider both sign in with Microsoft Entra ID (DefaultAzureCredential:
`az login` on a laptop, the OpenID Connect session azure/login leaves in the pipeline), so the account
runs with shared keys off and nobody holds a storage key or a passphrase. The state is the one thing
that cannot be rebuilt from the code: versioning and soft delete keep earlier checkpoints restorable,
and the account, containers, vault and keys are protected from `pulumi destroy`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import authorization, keyvault, resources, storage

from agent_obo.settings import PROJECT
from components.placement import Placement
from components.role_ids import KEY_VAULT_CRYPTO_USER, STORAGE_BLOB_DATA_CONTRIBUTOR, role_definition_id
from components.storage_hardening import HARDENED_ACCOUNT

# The bootstrap's own state: only the state operators reach it.
BOOTSTRAP_STATE = "bootstrap"
# RSA 3072: above the 2048-bit floor, and Key Vault's standard tier holds it in software at no extra cost.
SECRETS_KEY_SIZE = 3072
# Purge protection forbids purging a deleted vault before this many days: the key that decrypts
# every stack's secrets cannot be destroyed by one mistaken delete.
VAULT_SOFT_DELETE_DAYS = 90



def state_container(name: str) -> str:
    """`pulumi-state-prod`: 3-63 lower-case letters, digits and '-'."""
    return f"pulumi-state-{name}"


def secrets_key(name: str) -> str:
    return f"pulumi-secrets-{name}"


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
    environments: list[str]  # a container and a key for each, and for the bootstrap itself
    # People who run pulumi by hand against this state (users or groups): they read and write the
    # containers and use the keys, and nothing else here.
    operator_principal_ids: list[str] = field(default_factory=list)


class PulumiStateBackend(pulumi.ComponentResource):
    """The resource group, the hardened state account with a private container per environment, and
    the vault with a key per environment."""

    def __init__(self, name: str, args: PulumiStateBackendArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("agent-obo-bootstrap:state:PulumiStateBackend", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.resource_group = resources.ResourceGroup(
            f"{name}-group", resource_group_name=args.resource_group_name, location=args.location,
            tags=args.tags, opts=child)
        group_name = self.resource_group.name
        # Everything else in that group and region, tagged; what holds the state is protected.
        place = Placement(group_name, args.location, args.tags)

        self.account = storage.StorageAccount(
            f"{name}-account",
            account_name=args.storage_account_name,
            # Zone-redundant: the state survives the loss of a datacenter in the region.
            sku=storage.SkuArgs(name=storage.SkuName.STANDARD_ZRS),
            # Entra ID only: no account key can read or overwrite the state.
            allow_shared_key_access=False,
            **HARDENED_ACCOUNT,
            **place.located(self, protect=True),
        )
        self.blob_service = storage.BlobServiceProperties(
            f"{name}-blob-service",
            account_name=self.account.name,
            blob_services_name="default",
            # Every checkpoint Pulumi overwrites stays as an earlier version; a deleted blob or
            # container can be undeleted for soft_delete_days.
            is_versioning_enabled=True,
            delete_retention_policy=storage.DeleteRetentionPolicyArgs(enabled=True, days=args.soft_delete_days),
            container_delete_retention_policy=storage.DeleteRetentionPolicyArgs(
                enabled=True, days=args.soft_delete_days),
            **place.in_group(self),
        )
        holders = [*args.environments, BOOTSTRAP_STATE]
        self.containers = {
            holder: storage.BlobContainer(
                f"{name}-container-{holder}",
                container_name=state_container(holder),
                account_name=self.account.name,
                public_access=storage.PublicAccess.NONE,
                **place.in_group(self, protect=True),
            )
            for holder in holders
        }

        self.vault = keyvault.Vault(
            f"{name}-vault",
            vault_name=args.key_vault_name,
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
            **place.located(self, protect=True),
        )
        self.keys = {
            holder: keyvault.Key(
                f"{name}-secrets-key-{holder}",
                key_name=secrets_key(holder),
                vault_name=self.vault.name,
                properties=keyvault.KeyPropertiesArgs(
                    kty=keyvault.JsonWebKeyType.RSA,
                    key_size=SECRETS_KEY_SIZE,
                    # The secrets provider encrypts each stack's data key with this key and decrypts it
                    # again; nothing else. No rotation policy: a stack's data key was encrypted with one
                    # key version, so rotating means `pulumi stack change-secrets-provider` per stack.
                    key_ops=[keyvault.JsonWebKeyOperation.ENCRYPT, keyvault.JsonWebKeyOperation.DECRYPT],
                ),
                tags=dict(place.tags),
                **place.in_group(self, protect=True),
            )
            for holder in holders
        }

        self.operator_access = [
            authorization.RoleAssignment(
                f"{name}-operator-{principal_id}-{holder}-{role}",
                scope=scope,
                principal_id=principal_id,
                # Groups only: the SDK sends principalType User when none is given, and Azure rejects
                # an assignment whose principalType does not match the principal.
                principal_type=authorization.PrincipalType.GROUP,
                role_definition_id=role_definition_id(args.subscription_id, role_id),
                description=f"{PROJECT} state operator: {role} for pulumi runs by hand",
                opts=child,
            )
            for principal_id in args.operator_principal_ids
            for holder in holders
            for role, role_id, scope in (("state-blobs", STORAGE_BLOB_DATA_CONTRIBUTOR, self.containers[holder].id),
                                         ("secrets-key", KEY_VAULT_CRYPTO_USER, self.keys[holder].id))
        ]

        self.account_name = self.account.name
        self.resource_group_name = group_name
        self.backend_urls = {holder: pulumi.Output.concat("azblob://", container.name, "?storage_account=",
                                                          self.account.name)
                             for holder, container in self.containers.items()}
        # Versionless: the provider uses the key's current version, and stack files stay valid.
        self.secrets_providers = {holder: pulumi.Output.concat("azurekeyvault://", self.vault.name,
                                                               ".vault.azure.net/keys/", key.name)
                                  for holder, key in self.keys.items()}
        self.register_outputs({"backendUrls": self.backend_urls, "secretsProviders": self.secrets_providers})
