"""Azure names: Cloud Adoption Framework abbreviations, the environment and a short stable suffix.

The suffix is a hash of subscription, project, environment and region, so a name is the same on
every run (renaming a resource replaces it) and different across subscriptions (storage and the
model's subdomain are globally unique).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import overload

from agent_obo.settings import PROJECT

# The project's name as every Azure name carries it: without the hyphen, which storage accounts do not allow.
WORKLOAD = PROJECT.replace("-", "")
# The runtime storage account's container for the workflow package (components/runtime_storage.py).
PACKAGE_CONTAINER = "workflow-packages"


def caf_name(abbreviation: str, *qualifiers: str) -> str:
    """`<abbreviation>-agentobo-<qualifier>-...`: the Cloud Adoption Framework form of the hyphenated names."""
    return "-".join((abbreviation, WORKLOAD, *qualifiers))


def storage_account_name(*qualifiers: str) -> str:
    """`stagentobo<qualifiers>`: a storage account's name allows lower-case letters and digits only."""
    return "st" + WORKLOAD + "".join(qualifiers)


class Abbreviated:
    """A Names attribute, read like a property: `<abbreviation>-agentobo-<environment>-<suffix>`."""

    def __init__(self, abbreviation: str) -> None:
        self.abbreviation = abbreviation

    @overload
    def __get__(self, names: None, owner: type[Names]) -> Abbreviated: ...
    @overload
    def __get__(self, names: Names, owner: type[Names]) -> str: ...

    def __get__(self, names: Names | None, owner: type[Names]) -> Abbreviated | str:
        return self if names is None else caf_name(self.abbreviation, names.environment, names.suffix)


@dataclass(frozen=True)
class Names:
    environment: str
    suffix: str

    # Cloud Adoption Framework abbreviations of the resource types.
    resource_group = Abbreviated("rg")
    log_analytics = Abbreviated("log")
    application_insights = Abbreviated("appi")
    runtime_identity = Abbreviated("id")
    plan = Abbreviated("asp")
    logic_app = Abbreviated("logic")
    openai_account = Abbreviated("oai")
    virtual_network = Abbreviated("vnet")
    network_security_group = Abbreviated("nsg")

    @property
    def storage_account(self) -> str:
        # 3-24 lower-case letters and digits: "st" + 8 + at most 8 + 6.
        return storage_account_name(self.environment, self.suffix)

    def plan_for(self, zone_redundant: bool) -> str:
        # Azure sets zone redundancy only when a plan is created: another name makes switching it a
        # create-then-delete replacement instead of an update Azure refuses.
        return f"{self.plan}-zr" if zone_redundant else self.plan

    @property
    def content_share(self) -> str:
        # Azure Files share (accessKey host storage): 3-63 lower-case letters, digits and single hyphens.
        return self.logic_app

    def private_endpoint(self, target: str, group: str) -> str:
        # 2-64 characters: "pe-" + target abbreviation + the sub-resource.
        return caf_name("pe", self.environment, self.suffix, target, group)

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
