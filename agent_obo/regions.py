"""The Azure regions `agent-obo:location` may name, and a suggestion for a near miss.

The names are those of Azure's public-cloud physical regions as ARM lists them
(`az account list-locations --query "[?metadata.regionType=='Physical'].name"`, REST
Subscriptions - List Locations; learn.microsoft.com/azure/reliability/regions-list), read in
November 2026. Logical names (`global`, `us`, `europe`), staging and canary regions (`*stage`,
`*euap`) and sovereign clouds (Azure Government, Azure operated by 21Vianet) are left out: this
project deploys to the public cloud.

What the list does not say: whether a region offers the Workflow Standard plan, the agent's model
(`modelName` / `modelDeploymentSku`) or every connector. Microsoft's "products available by region"
page is the source for that and changes often; a region without them fails in Azure, not here. A
region added after this list was read: add it below.
"""

from __future__ import annotations

import difflib

AZURE_REGIONS: frozenset[str] = frozenset({
    # Americas
    "eastus", "eastus2", "centralus", "northcentralus", "southcentralus", "westcentralus", "westus",
    "westus2", "westus3", "canadacentral", "canadaeast", "brazilsouth", "brazilsoutheast",
    "mexicocentral", "chilecentral",
    # Europe
    "northeurope", "westeurope", "uksouth", "ukwest", "francecentral", "francesouth",
    "germanywestcentral", "germanynorth", "switzerlandnorth", "switzerlandwest", "norwayeast",
    "norwaywest", "swedencentral", "swedensouth", "polandcentral", "italynorth", "spaincentral",
    "austriaeast", "belgiumcentral", "denmarkeast",
    # Asia Pacific
    "eastasia", "southeastasia", "japaneast", "japanwest", "koreacentral", "koreasouth",
    "centralindia", "southindia", "westindia", "jioindiawest", "jioindiacentral", "australiaeast",
    "australiasoutheast", "australiacentral", "australiacentral2", "newzealandnorth",
    "indonesiacentral", "malaysiawest", "taiwannorth", "taiwannorthwest",
    # Middle East and Africa
    "uaenorth", "uaecentral", "qatarcentral", "israelcentral", "southafricanorth", "southafricawest",
})


def _folded(name: str) -> str:
    """"East US 2", "east-us-2" and "EastUS2" all fold to "eastus2", ARM's spelling."""
    return "".join(ch for ch in name.lower() if ch.isalnum())


def suggest_region(name: str) -> str | None:
    """The region a mistyped or display-style name most likely meant, if any."""
    folded = _folded(name)
    if folded in AZURE_REGIONS:
        return folded
    close = difflib.get_close_matches(folded, sorted(AZURE_REGIONS), n=1, cutoff=0.75)
    return close[0] if close else None
