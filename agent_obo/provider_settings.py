"""The azure-native and azuread providers' own settings (`azure-native:*`, `azuread:*`), checked like the project's.

A stack file may set how the providers sign in and where they deploy. The providers read these keys
themselves, after the program has decided everything: a typo'd value fails in the middle of a deployment,
or worse, applies silently. So each one is checked here, before any resource is registered:
- which keys a provider reads, and whether it reads one as a boolean, comes from its Python SDK
  (`<package>/config/vars.py`: `__config__.get_bool('useOidc')`);
- credentials (a client secret, a certificate or its password, an OpenID Connect token) must be
  secrets (`pulumi config set --secret`): written plain, they sit in the repository and in CI logs;
- ids are GUIDs, and not the nil GUID; `tenantId` must be the tenant the stack declares
  (agent-obo:tenantId), or the providers would deploy to another tenant than the one Easy Auth trusts;
- the cloud: every region this project allows is in Azure's public cloud (agent_obo/regions.py), so an
  `environment` other than the public cloud, or a `metadataHost` (another cloud's, or anybody's, endpoints:
  the providers would send their tokens there) is refused;
- settings that send the providers' credentials or deployment elsewhere: `oidcRequestUrl` and
  `auxiliaryTenantIds` are refused, and `msiEndpoint` may only be Azure's instance metadata service.
Sources: the providers' configuration references (pulumi.com/registry/packages/azure-native/installation-
configuration, .../azuread/installation-configuration): `environment` is `public`, `usgovernment` or `china`
for azure-native, `global` (or `public`), `usgovernment`, `dod` or `china` for azuread.
"""

from __future__ import annotations

import importlib.util
import re
from functools import cache

NAMESPACES = ("azure-native", "azuread")
_PACKAGES = {"azure-native": "pulumi_azure_native", "azuread": "pulumi_azuread"}
_READ = re.compile(r"__config__\.(get\w*)\('([A-Za-z0-9_]+)'")

# Credentials: never plain text in a stack file.
SECRETS = frozenset({"clientSecret", "clientCertificate", "clientCertificatePassword", "oidcToken", "oidcRequestToken"})
# Read as GUIDs by the providers (Entra and ARM ids); partnerId is a registered partner's GUID.
IDS = frozenset({"tenantId", "subscriptionId", "clientId", "partnerId", "adoPipelineServiceConnectionId"})
# The public cloud's name in each provider (its default).
PUBLIC_CLOUD = {"azure-native": ("public",), "azuread": ("global", "public")}
# Settings that send the provider's credentials, or its deployment, somewhere else; refused with why. The CI's
# OpenID Connect request URL comes from its environment (GitHub Actions: ACTIONS_ID_TOKEN_REQUEST_URL), never from a
# file a pull request can change: the provider sends the CI's request token to it.
REFUSED = {
    "metadataHost": "points the provider at other endpoints than Azure's public cloud, which every region this "
                    "project allows is in (agent_obo/regions.py); the provider would send its tokens there; allowed: "
                    "unset (remove the key)",
    "oidcRequestUrl": "the provider sends the CI's token request credential to this URL; the CI sets it in the "
                      "environment (ACTIONS_ID_TOKEN_REQUEST_URL); allowed: unset (remove the key)",
    "auxiliaryTenantIds": "the provider would hold tokens for other tenants than agent-obo:tenantId, the one this "
                          "project deploys into; allowed: unset (remove the key)",
}
# The one managed identity endpoint: Azure's instance metadata service (learn.microsoft.com/entra/identity/
# managed-identities-azure-resources/how-to-use-vm-token); any other answers the provider with tokens of its choice.
MSI_ENDPOINT = "http://169.254.169.254/metadata/identity/oauth2/token"


@cache
def provider_settings(namespace: str) -> dict[str, str]:
    """The config keys a provider reads, each with how it reads it ("boolean" or "string"), as its Python SDK
    declares them."""
    spec = importlib.util.find_spec(f"{_PACKAGES[namespace]}.config.vars")
    if spec is None or spec.origin is None:  # pragma: no cover - the pinned SDKs ship it
        return {}
    with open(spec.origin, encoding="utf-8") as source:
        return {key: "boolean" if getter == "get_bool" else "string" for getter, key in _READ.findall(source.read())}
