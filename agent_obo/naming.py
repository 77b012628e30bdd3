"""Azure names: Cloud Adoption Framework abbreviations, the environment and a short stable suffix.

The suffix is a hash of subscription, project, environment and region, so a name is the same on
every run (renaming a resource replaces it) and different across subscriptions (storage and the
model's subdomain are globally unique).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from agent_obo.settings import PROJECT

# The project's name as every Azure name carries it: without the hyphen, which storage accounts do not allow.
WORKLOAD = PROJECT.replace("-", "")
# The runtime storage account's container for the workflow package (components/runtime_storage.py).
PACKAGE_CONTAINER = "workflow-packages"


@dataclass(frozen=True)
class Names:
    environment: str
    suffix: str

    def _name(self, abbreviation: str) -> str:
        return f"{abbreviation}-{WORKLOAD}-{self.environment}-{self.suffix}"

    @property
    def resource_group(self) -> str:
        return self._name("rg")

    @property
    def log_analytics(self) -> str:
        return self._name("log")

    @property
    def application_insights(self) -> str:
        return self._name("appi")

    @property
    def runtime_identity(self) -> str:
        return self._name("id")

    @property
    def storage_account(self) -> str:
        # 3-24 lower-case letters and digits: "st" + 8 + at most 8 + 6.
        return f"st{WORKLOAD}{self.environment}{self.suffix}"

    @property
    def plan(self) -> str:
        return self._name("asp")

    def plan_for(self, zone_redundant: bool) -> str:
        # Azure sets zone redundancy only when a plan is created: another name makes switching it a
        # create-then-delete replacement instead of an update Azure refuses.
        return f"{self.plan}-zr" if zone_redundant else self.plan

    @property
    def logic_app(self) -> str:
        return self._name("logic")

    @property
    def content_share(self) -> str:
        # Azure Files share (accessKey host storage): 3-63 lower-case letters, digits and single hyphens.
        return self.logic_app

    @property
    def openai_account(self) -> str:
        return self._name("oai")

    @property
    def virtual_network(self) -> str:
        return self._name("vnet")

    @property
    def network_security_group(self) -> str:
        return self._name("nsg")

    def private_endpoint(self, target: str, group: str) -> str:
        # 2-64 characters: "pe-" + target abbreviation + the sub-resource.
        return f"pe-{WORKLOAD}-{self.environment}-{self.suffix}-{target}-{group}"

    @property
    def app_registration(self) -> str:
        return f"{PROJECT}-{self.environment}-chat"

    @property
    def verification_client(self) -> str:
        return f"{PROJECT}-{self.environment}-verify"


# The Azure (or Entra) type each name is for: prepare() checks every one against that type's naming rule
# (agent_obo/azure_limits.py), and a test fails when a name is added here without its type.
NAME_TYPES = {
    "resource_group": "Microsoft.Resources/resourceGroups",
    "log_analytics": "Microsoft.OperationalInsights/workspaces",
    "application_insights": "Microsoft.Insights/components",
    "runtime_identity": "Microsoft.ManagedIdentity/userAssignedIdentities",
    "storage_account": "Microsoft.Storage/storageAccounts",
    "plan": "Microsoft.Web/serverfarms",
    "logic_app": "Microsoft.Web/sites",
    "content_share": "Microsoft.Storage/storageAccounts/fileServices/shares",
    "openai_account": "Microsoft.CognitiveServices/accounts",
    "virtual_network": "Microsoft.Network/virtualNetworks",
    "network_security_group": "Microsoft.Network/networkSecurityGroups",
    "app_registration": "Entra/applications",
    "verification_client": "Entra/applications",
}


def names_for(subscription_id: str, environment: str, location: str) -> Names:
    digest = hashlib.sha256(f"{subscription_id}/{PROJECT}/{environment}/{location}".encode()).hexdigest()
    return Names(environment=environment, suffix=digest[:6])
