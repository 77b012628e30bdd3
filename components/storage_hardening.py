"""The hardening every storage account of the project carries, stated once: the runtime's
(components/runtime_storage.py) and the one that holds the Pulumi state (bootstrap/state_backend.py).

StorageV2; HTTPS only, TLS 1.2 at least (the REST default is TLS 1.0); no anonymous blob access; Microsoft
Entra ID by default in the portal; no object replication to another tenant's account. Whether shared keys
work stays each account's own decision: the runtime's accessKey host storage needs them, nothing else does.
The policy pack checks the same flags on its own (policy/hardening.py, storage-hardening), so weakening
them here fails every plan. Sources, under learn.microsoft.com/azure/storage/:
common/transport-layer-security-configure-minimum-version, blobs/anonymous-read-access-prevent,
common/shared-key-authorization-prevent (default to Entra ID), blobs/object-replication-prevent-cross-tenant-policies.
"""

from __future__ import annotations

from typing import TypedDict

from pulumi_azure_native import storage


class HardenedAccount(TypedDict):
    kind: storage.Kind
    minimum_tls_version: storage.MinimumTlsVersion
    enable_https_traffic_only: bool
    allow_blob_public_access: bool
    default_to_o_auth_authentication: bool
    allow_cross_tenant_replication: bool


# Keyword arguments of storage.StorageAccount: `storage.StorageAccount(..., **HARDENED_ACCOUNT)`.
HARDENED_ACCOUNT = HardenedAccount(
    kind=storage.Kind.STORAGE_V2,
    minimum_tls_version=storage.MinimumTlsVersion.TLS1_2,
    enable_https_traffic_only=True,
    allow_blob_public_access=False,
    default_to_o_auth_authentication=True,
    allow_cross_tenant_replication=False,
)
