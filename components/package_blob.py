"""A blob uploaded with the deployer's Microsoft Entra identity, for storage accounts without keys.

azure-native's storage.Blob signs its data-plane calls with the account key, which fails once
shared key access is off (pulumi/pulumi-azure-native#2015, #2948). This dynamic provider uploads
with azure-identity's DefaultAzureCredential instead (az login, OIDC in CI, managed identity).

The module has no import-time side effects on purpose: the dynamic-provider process imports it to
unpickle the provider (pulumi/pulumi#7453), with the project directory as its working directory.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import time
from collections.abc import Callable
from typing import Any

import pulumi
from pulumi import dynamic

# A role assignment made in the same deployment can take minutes to reach the storage data plane;
# until then uploads answer 403. Retry for up to this long before failing.
RBAC_PROPAGATION_SECONDS = 600
RETRY_EVERY_SECONDS = 15
REPLACE_ON = ("blob_endpoint", "container", "blob_name", "sha256")


def _default_container_client(blob_endpoint: str, container: str) -> Any:
    from azure.identity import DefaultAzureCredential
    from azure.storage.blob import ContainerClient

    return ContainerClient(account_url=blob_endpoint, container_name=container,
                           credential=DefaultAzureCredential())


def _is_not_yet_authorized(error: Exception) -> bool:
    """A 403 that waiting can cure: the role assignment has not reached the data plane yet. A firewall's
    refusal (AuthorizationFailure: privateNetworking without this machine's IP in storageFirewallIpRanges)
    is not retried: it fails at once, with the storage service's own message."""
    return getattr(error, "status_code", None) == 403 and getattr(error, "error_code", None) != "AuthorizationFailure"


class PackageBlobProvider(dynamic.ResourceProvider):
    """Create uploads, delete removes; any change of name, place or content replaces the blob
    (create-before-delete, so the site's package URL never points at nothing)."""

    def __init__(self, container_client: Callable[[str, str], Any] | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic):
        self._container_client = container_client
        self._sleep = sleep
        self._clock = clock

    def _client(self, props: dict[str, Any]) -> Any:
        factory = self._container_client or _default_container_client
        return factory(props["blob_endpoint"], props["container"])

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        content = base64.b64decode(props["content_base64"])
        if hashlib.sha256(content).hexdigest() != props["sha256"]:
            raise ValueError(f"package {props['blob_name']}: content does not match its sha256")
        client = self._client(props)
        deadline = self._clock() + RBAC_PROPAGATION_SECONDS
        while True:
            try:
                from azure.storage.blob import ContentSettings

                client.upload_blob(props["blob_name"], content, overwrite=True,
                                   content_settings=ContentSettings(content_type="application/zip"))
                break
            except Exception as error:
                if not _is_not_yet_authorized(error) or self._clock() >= deadline:
                    raise
                self._sleep(RETRY_EVERY_SECONDS)
        url = f"{props['blob_endpoint'].rstrip('/')}/{props['container']}/{props['blob_name']}"
        return dynamic.CreateResult(id_=url, outs={**props, "url": url})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        replaces = [key for key in REPLACE_ON if olds.get(key) != news.get(key)]
        return dynamic.DiffResult(changes=bool(replaces), replaces=replaces, delete_before_replace=False)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        with contextlib.suppress(ResourceNotFoundError):
            self._client(props).delete_blob(props["blob_name"])


class PackageBlob(dynamic.Resource):
    url: pulumi.Output[str]

    def __init__(self, name: str, *, blob_endpoint: pulumi.Input[str], container: pulumi.Input[str],
                 blob_name: str, content: bytes, opts: pulumi.ResourceOptions | None = None):
        props = {
            "blob_endpoint": blob_endpoint,
            "container": container,
            "blob_name": blob_name,
            "sha256": hashlib.sha256(content).hexdigest(),
            "content_base64": base64.b64encode(content).decode("ascii"),
            "url": None,
        }
        super().__init__(PackageBlobProvider(), name, props, opts)
