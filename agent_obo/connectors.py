"""What each managed connector the catalog may use supports, and how it authenticates.

Per-user (on-behalf-of) connections exist only for Microsoft connectors that allow dynamic,
delegated connections (learn.microsoft.com/azure/logic-apps/set-up-on-behalf-of-user-flow; the course
module's "Limitations", docs/course-module.md); everything else runs app-only, with the
managed identity where the connector supports it, otherwise with a service account that must
authorize the connection once after deployment.
"""

from __future__ import annotations

from dataclasses import dataclass

STORAGE_AUDIENCE = "https://storage.azure.com/"


@dataclass(frozen=True)
class ManagedIdentityAuth:
    # Microsoft.Web/connections `parameterValueSet` name (learn.microsoft.com/azure/logic-apps/
    # authenticate-with-managed-identity) and the token audience the runtime requests.
    parameter_value_set: str
    audience: str


@dataclass(frozen=True)
class Connector:
    api_name: str  # managedApis/<api_name>
    display_name: str
    per_user_capable: bool
    managed_identity: ManagedIdentityAuth | None = None

    @property
    def reads_blob_containers(self) -> bool:
        """It reaches blob containers with the app's managed identity: a tool on it may declare `storage`."""
        return self.managed_identity is not None and self.managed_identity.audience == STORAGE_AUDIENCE


CONNECTORS: dict[str, Connector] = {c.api_name: c for c in (
    Connector("office365", "Office 365 Outlook", per_user_capable=True),
    Connector("office365users", "Office 365 Users", per_user_capable=True),
    Connector("onedriveforbusiness", "OneDrive for Business", per_user_capable=True),
    Connector("sharepointonline", "SharePoint", per_user_capable=True),
    Connector("teams", "Microsoft Teams", per_user_capable=True),
    Connector("azureblob", "Azure Blob Storage", per_user_capable=False,
              managed_identity=ManagedIdentityAuth("managedIdentityAuth", STORAGE_AUDIENCE)),
    Connector("servicebus", "Service Bus", per_user_capable=False,
              managed_identity=ManagedIdentityAuth("managedIdentityAuth", "https://servicebus.azure.net")),
    Connector("salesforce", "Salesforce", per_user_capable=False),
    Connector("servicenow", "ServiceNow", per_user_capable=False),
)}
