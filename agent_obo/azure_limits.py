"""Azure's limits on names and tags, checked before any resource is registered.

The mocks accept anything; Azure refuses a name outside its type's rule or a tag over its limit, in
the middle of a deployment. Every name the program derives from the stack (environment, region,
connectors, catalog) and every tag it sets is checked here first, naming the value and the limit.

Sources:
- Names: learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules. Where
  Learn lists no rule for a type (Microsoft.Web/connections and their access policies, Cognitive
  Services deployments, diagnostic settings in older versions of the page), the rule of the nearest
  listed type is applied and said so; the ASCII subset is used where Learn also allows Unicode.
- Microsoft Entra: application displayName at most 256 characters (Microsoft Graph application
  resource); federated identity credential names 3-120 characters, letters, digits, '-' and '_',
  starting with a letter or digit (Graph federatedIdentityCredential).
- Tags: learn.microsoft.com/azure/azure-resource-manager/management/tag-resources ("Limitations"):
  at most 50 tag name-value pairs per resource, names up to 512 characters (128 for storage
  accounts) without `< > % & \\ ? /`, values up to 256 characters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

MAX_TAGS = 50
MAX_TAG_NAME = 512
MAX_STORAGE_TAG_NAME = 128
MAX_TAG_VALUE = 256
TAG_NAME = re.compile(r"[^<>%&\\?/\x00-\x1f\x7f]+")

GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# The nil GUID (all zeros) names nothing: a placeholder left in, never an id.
NIL_GUID = r"0{8}-0{4}-0{4}-0{4}-0{12}"
_ALNUM_HYPHEN_ENDS = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
# Most Microsoft.Network entities: alphanumerics, '_', '.', '-'; start alphanumeric, end alphanumeric or '_'.
_NETWORK = r"[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?"
_NETWORK_WORDS = "letters, digits, '_', '.' and '-', starting alphanumeric, ending alphanumeric or '_'"
# Managed identities and federated identity credentials (Azure's and Entra's): alphanumerics, '-', '_'.
_IDENTITY = r"[A-Za-z0-9][A-Za-z0-9_-]*"
_IDENTITY_WORDS = "letters, digits, '-' and '_', starting alphanumeric"
# Blob containers and file shares.
_LOWER_HYPHENATED = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_LOWER_HYPHENATED_WORDS = "lower-case letters, digits and single '-' between them"


@dataclass(frozen=True)
class NameRule:
    what: str  # in words, for messages
    minimum: int
    maximum: int
    pattern: str  # matched against the whole name
    allowed: str  # the pattern in words

    def problem(self, name: str) -> str | None:
        if not self.minimum <= len(name) <= self.maximum:
            return f"{len(name)} characters; a {self.what} name has {self.minimum}-{self.maximum}"
        if not re.fullmatch(self.pattern, name):
            return f"not a valid {self.what} name; allowed: {self.allowed}"
        return None


def _no(characters: str, minimum: int, maximum: int, what: str) -> NameRule:
    forbidden = re.escape(characters)
    return NameRule(what, minimum, maximum, rf"[^{forbidden}\x00-\x1f\x7f]*[^{forbidden}\x00-\x1f\x7f. ]",
                    f"no {' '.join(characters)} or control characters, not ending in a space or period")


NAME_RULES: dict[str, NameRule] = {
    "Microsoft.Resources/resourceGroups": NameRule(
        "resource group", 1, 90, r"[\w.()-]*[\w()-]", "letters, digits, '_', '-', '.', '(' and ')', not ending in '.'"),
    "Microsoft.OperationalInsights/workspaces": NameRule(
        "Log Analytics workspace", 4, 63, _ALNUM_HYPHEN_ENDS,
        "letters, digits and '-', starting and ending alphanumeric"),
    "Microsoft.Insights/components": _no("%&\\?/", 1, 260, "Application Insights component"),
    "Microsoft.Insights/workbooks": NameRule("workbook", 36, 36, GUID, "a GUID"),
    "Microsoft.Insights/actionGroups": _no(":<>+/&%\\?", 1, 260, "action group"),
    "Microsoft.Insights/scheduledQueryRules": _no("*<>%{}&:\\?/#", 1, 260, "scheduled query rule"),
    # Not in every version of Learn's page: the union of the Microsoft.Insights rules.
    "Microsoft.Insights/diagnosticSettings": _no("*<>%{}&:\\?/#|+", 1, 260, "diagnostic setting"),
    "Microsoft.ManagedIdentity/userAssignedIdentities": NameRule(
        "managed identity", 3, 128, _IDENTITY, _IDENTITY_WORDS),
    "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials": NameRule(
        "federated identity credential", 3, 120, _IDENTITY, _IDENTITY_WORDS),
    "Microsoft.Storage/storageAccounts": NameRule(
        "storage account", 3, 24, r"[a-z0-9]+", "lower-case letters and digits"),
    "Microsoft.Storage/storageAccounts/blobServices/containers": NameRule(
        "blob container", 3, 63, _LOWER_HYPHENATED, _LOWER_HYPHENATED_WORDS),
    "Microsoft.Storage/storageAccounts/fileServices/shares": NameRule(
        "file share", 3, 63, _LOWER_HYPHENATED, _LOWER_HYPHENATED_WORDS),
    "Microsoft.Web/serverfarms": NameRule("App Service plan", 1, 60, r"[A-Za-z0-9-]+", "letters, digits and '-'"),
    "Microsoft.Web/sites": NameRule("site", 2, 60, _ALNUM_HYPHEN_ENDS, "letters, digits and '-', not at either end"),
    # Learn lists no rule for API connections: held to its rule for Microsoft.Network connections.
    "Microsoft.Web/connections": NameRule("API connection", 1, 80, _NETWORK, _NETWORK_WORDS),
    # An access policy is named by the object id of the principal it admits (la-samples connectors template).
    "Microsoft.Web/connections/accessPolicies": NameRule("connection access policy", 36, 36, GUID, "a GUID"),
    "Microsoft.CognitiveServices/accounts": NameRule(
        "Azure OpenAI account", 2, 64, _ALNUM_HYPHEN_ENDS, "letters, digits and '-', starting and ending alphanumeric"),
    "Microsoft.CognitiveServices/accounts/deployments": NameRule(
        "model deployment", 2, 64, r"[A-Za-z0-9][A-Za-z0-9._-]*",
        "letters, digits, '.', '_' and '-', starting alphanumeric"),
    "Microsoft.KeyVault/vaults": NameRule(
        "key vault", 3, 24, r"[A-Za-z](?:[A-Za-z0-9]|-(?!-))*[A-Za-z0-9]",
        "letters, digits and single '-', starting with a letter, ending alphanumeric"),
    "Microsoft.KeyVault/vaults/keys": NameRule("key vault key", 1, 127, r"[A-Za-z0-9-]+", "letters, digits and '-'"),
    "Microsoft.Network/virtualNetworks": NameRule("virtual network", 2, 64, _NETWORK, _NETWORK_WORDS),
    "Microsoft.Network/virtualNetworks/subnets": NameRule("subnet", 1, 80, _NETWORK, _NETWORK_WORDS),
    "Microsoft.Network/networkSecurityGroups": NameRule("network security group", 1, 80, _NETWORK, _NETWORK_WORDS),
    "Microsoft.Network/privateEndpoints": NameRule("private endpoint", 2, 64, _NETWORK, _NETWORK_WORDS),
    "Microsoft.Network/privateEndpoints/privateDnsZoneGroups": NameRule(
        "private DNS zone group", 1, 80, _NETWORK, _NETWORK_WORDS),
    "Microsoft.Network/privateDnsZones": NameRule(
        "private DNS zone", 1, 63, r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+){1,33}",
        "2-34 labels of letters, digits, '_' and '-', separated by '.'"),
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks": NameRule(
        "virtual network link", 1, 80, _NETWORK, _NETWORK_WORDS),
    "Microsoft.Authorization/locks": NameRule(
        "management lock", 1, 90, r"[A-Za-z0-9._()-]*[A-Za-z0-9_()-]",
        "letters, digits, '.', '_', '-', '(' and ')', not ending in '.'"),
    "Entra/applications": NameRule("Entra application display", 1, 256, r"[^\x00-\x1f\x7f]+", "printable text"),
    "Entra/federatedIdentityCredentials": NameRule(
        "Entra federated identity credential", 3, 120, _IDENTITY, _IDENTITY_WORDS),
}


def name_problem(arm_type: str, name: str) -> str | None:
    return NAME_RULES[arm_type].problem(name)


def tag_problems(tags: Mapping[str, str], storage_account: bool = False) -> list[str]:
    """Why a resource's tags would be refused, one problem each; empty when they fit."""
    problems = []
    if len(tags) > MAX_TAGS:
        problems.append(f"{len(tags)} tags; Azure allows at most {MAX_TAGS} on a resource")
    longest_name = MAX_STORAGE_TAG_NAME if storage_account else MAX_TAG_NAME
    for name, value in tags.items():
        if len(name) > longest_name or not TAG_NAME.fullmatch(name):
            problems.append(f"tag name {name!r}: at most {longest_name} characters, none of < > % & \\ ? /")
        if not isinstance(value, str) or len(value) > MAX_TAG_VALUE:
            problems.append(f"tag {name!r} = {str(value)[:60]!r}... ({len(str(value))} characters): "
                            f"a tag value has at most {MAX_TAG_VALUE}")
    return problems
