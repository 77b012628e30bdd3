"""Microsoft Entra facts the program, the bootstrap, the policy pack and the ops scripts share, each stated once.

Sources: learn.microsoft.com/entra/identity-platform/v2-protocols-oidc (the v2.0 issuer),
learn.microsoft.com/entra/workload-id/workload-identity-federation-create-trust (the token exchange audience),
learn.microsoft.com/graph/api/resources/approleassignment (the default access role of an app without roles).
"""

from __future__ import annotations

LOGIN_AUTHORITY = "https://login.microsoftonline.com"
# The audience of every federated credential (workload identity federation): the chat app's, which trusts the
# runtime identity, and the pipeline identities', which trust GitHub.
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
# An app without app roles is assigned users and groups through its "default access" role, this all-zero id.
DEFAULT_ACCESS_ROLE_ID = "00000000-0000-0000-0000-000000000000"
# The delegated scope the chat app exposes, Entra's conventional name for "act as the signed-in user": the chat
# client and the verification client ask for it, Easy Auth accepts tokens for it.
USER_IMPERSONATION = "user_impersonation"


def authority(tenant_id: str) -> str:
    """Where a client of this tenant signs users in (MSAL's authority)."""
    return f"{LOGIN_AUTHORITY}/{tenant_id}"


def issuer(tenant_id: str) -> str:
    """The issuer of this tenant's v2.0 tokens: what Easy Auth and a federated credential trust."""
    return f"{authority(tenant_id)}/v2.0"
