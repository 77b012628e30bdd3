"""Every azure-native resource of the stack carries only the properties the program sets for its type.

A policy judges the values it knows about; a property no policy has heard of passes them all. Much of what weakens a
resource is one more property: CORS for another origin with credentials, a file-based Easy Auth configuration that
replaces the checked one, another token store, an IP or resource rule through a storage or model firewall, a second
log destination, a manual private link connection, a security rule. The inventory (policy/inventory.py) allows only
the types the program creates; this allows, per type, only the property paths its components set in some stack or
switch (a test runs them all through the pack), and refuses anything else. A new property is a reviewed change of
this table. Values stay the other policies' to judge.

Allowed besides, at the top level: what azure-native's Check adds to the inputs a policy sees (an auto-name, a
default location, `azureApiVersion`, `__createBeforeDelete`: pulumi/pulumi-azure-native provider/pkg/provider/
provider.go, applyDefaults). azuread resources are left out: the Terraform bridge's Check fills in the provider
schema's defaults, which a table of what the program sets would refuse.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pulumi_policy import ResourceValidationArgs

from policy.checks import Check
from policy.define import resource_policy
from policy.props import UNKNOWN, plain

PROVIDER_ADDED = frozenset({"azureApiVersion", "__createBeforeDelete"})

# Paths: keys joined by '.', a list's items as '<key>[]', '*' for any one key (tags, app setting names).
KNOWN_PROPERTIES: dict[str, tuple[str, ...]] = {
    "azure-native:applicationinsights:Component": (
        "applicationType", "flowType", "ingestionMode", "kind", "location", "publicNetworkAccessForIngestion",
        "publicNetworkAccessForQuery", "requestSource", "resourceGroupName", "resourceName", "tags.*",
        "workspaceResourceId",
    ),
    "azure-native:applicationinsights:Workbook": (
        "category", "description", "displayName", "kind", "location", "resourceGroupName", "resourceName",
        "serializedData", "sourceId", "tags.*",
    ),
    "azure-native:authorization:ManagementLockByScope": (
        "level", "lockName", "notes", "scope",
    ),
    "azure-native:authorization:RoleAssignment": (
        "description", "principalId", "principalType", "roleDefinitionId", "scope",
    ),
    "azure-native:cognitiveservices:Account": (
        "accountName", "identity.type", "kind", "location", "properties.customSubDomainName",
        "properties.disableLocalAuth", "properties.networkAcls.defaultAction", "properties.publicNetworkAccess",
        "resourceGroupName", "sku.name", "tags.*",
    ),
    "azure-native:cognitiveservices:Deployment": (
        "accountName", "deploymentName", "properties.model.format", "properties.model.name",
        "properties.model.version", "properties.versionUpgradeOption", "resourceGroupName", "sku.capacity",
        "sku.name", "tags.*",
    ),
    "azure-native:managedidentity:UserAssignedIdentity": (
        "location", "resourceGroupName", "resourceName", "tags.*",
    ),
    "azure-native:monitor:ActionGroup": (
        "actionGroupName", "emailReceivers[].emailAddress", "emailReceivers[].name",
        "emailReceivers[].useCommonAlertSchema", "enabled", "groupShortName", "location", "resourceGroupName",
        "tags.*",
    ),
    "azure-native:monitor:DiagnosticSetting": (
        "logAnalyticsDestinationType", "logs[].category", "logs[].enabled", "metrics[].category", "metrics[].enabled",
        "name", "resourceUri", "workspaceId",
    ),
    "azure-native:monitor:ScheduledQueryRule": (
        "actions.actionGroups[]", "autoMitigate", "criteria.allOf[].failingPeriods.minFailingPeriodsToAlert",
        "criteria.allOf[].failingPeriods.numberOfEvaluationPeriods", "criteria.allOf[].operator",
        "criteria.allOf[].query", "criteria.allOf[].threshold", "criteria.allOf[].timeAggregation", "description",
        "displayName", "enabled", "evaluationFrequency", "kind", "location", "resourceGroupName", "ruleName",
        "scopes[]", "severity", "tags.*", "windowSize",
    ),
    "azure-native:network:NetworkSecurityGroup": (
        "location", "networkSecurityGroupName", "resourceGroupName", "tags.*",
    ),
    "azure-native:network:PrivateDnsZoneGroup": (
        "privateDnsZoneConfigs[].name", "privateDnsZoneConfigs[].privateDnsZoneId", "privateDnsZoneGroupName",
        "privateEndpointName", "resourceGroupName",
    ),
    "azure-native:network:PrivateEndpoint": (
        "location", "privateEndpointName", "privateLinkServiceConnections[].groupIds[]",
        "privateLinkServiceConnections[].name", "privateLinkServiceConnections[].privateLinkServiceId",
        "resourceGroupName", "subnet.id", "subnet.privateEndpointNetworkPolicies",
        "subnet.privateLinkServiceNetworkPolicies", "tags.*",
    ),
    "azure-native:network:Subnet": (
        "addressPrefix", "delegations[].name", "delegations[].serviceName", "networkSecurityGroup.id",
        "privateEndpointNetworkPolicies", "privateLinkServiceNetworkPolicies", "resourceGroupName", "subnetName",
        "virtualNetworkName",
    ),
    "azure-native:network:VirtualNetwork": (
        "addressSpace.addressPrefixes[]", "enableDdosProtection", "enableVmProtection", "location",
        "resourceGroupName", "tags.*", "virtualNetworkName",
    ),
    "azure-native:operationalinsights:Workspace": (
        "location", "resourceGroupName", "retentionInDays", "sku.name", "tags.*", "workspaceName",
    ),
    "azure-native:privatedns:PrivateZone": (
        "location", "privateZoneName", "resourceGroupName", "tags.*",
    ),
    "azure-native:privatedns:VirtualNetworkLink": (
        "location", "privateZoneName", "registrationEnabled", "resourceGroupName", "tags.*", "virtualNetwork.id",
        "virtualNetworkLinkName",
    ),
    "azure-native:resources:Resource": (
        "apiVersion", "kind", "location", "parentResourcePath", "properties.api.id", "properties.displayName",
        "properties.features", "properties.parameterValueSet.name", "properties.principal.identity.objectId",
        "properties.principal.identity.tenantId", "properties.principal.type", "resourceGroupName", "resourceName",
        "resourceProviderNamespace", "resourceType", "tags.*",
    ),
    "azure-native:storage:BlobContainer": (
        "accountName", "containerName", "publicAccess", "resourceGroupName",
    ),
    "azure-native:storage:FileShare": (
        "accountName", "resourceGroupName", "shareName",
    ),
    "azure-native:storage:StorageAccount": (
        "accountName", "allowBlobPublicAccess", "allowCrossTenantReplication", "allowSharedKeyAccess",
        "defaultToOAuthAuthentication", "enableHttpsTrafficOnly", "kind", "location", "minimumTlsVersion",
        "networkRuleSet.bypass", "networkRuleSet.defaultAction", "networkRuleSet.ipRules[].action",
        "networkRuleSet.ipRules[].iPAddressOrRange", "publicNetworkAccess", "resourceGroupName", "sku.name", "tags.*",
    ),
    "azure-native:web:AppServicePlan": (
        "kind", "location", "maximumElasticWorkerCount", "name", "resourceGroupName", "sku.capacity", "sku.name",
        "sku.tier", "tags.*", "zoneRedundant",
    ),
    "azure-native:web:WebApp": (
        "clientAffinityEnabled", "httpsOnly", "hyperV", "identity.type", "identity.userAssignedIdentities[]",
        "isXenon", "kind", "location", "name", "outboundVnetRouting.applicationTraffic",
        "outboundVnetRouting.contentShareTraffic", "publicNetworkAccess", "resourceGroupName", "scmSiteAlsoStopped",
        "serverFarmId", "siteConfig.ftpsState", "siteConfig.functionsRuntimeScaleMonitoringEnabled",
        "siteConfig.healthCheckPath", "siteConfig.http20Enabled", "siteConfig.localMySqlEnabled",
        "siteConfig.minTlsVersion", "siteConfig.minimumElasticInstanceCount", "siteConfig.netFrameworkVersion",
        "siteConfig.scmMinTlsVersion", "siteConfig.use32BitWorkerProcess", "siteConfig.vnetRouteAllEnabled", "tags.*",
        "virtualNetworkSubnetId",
    ),
    "azure-native:web:WebAppApplicationSettings": (
        "name", "properties.*", "resourceGroupName",
    ),
    "azure-native:web:WebAppAuthSettingsV2WithoutSecrets": (
        "globalValidation.excludedPaths[]", "globalValidation.redirectToProvider",
        "globalValidation.requireAuthentication", "globalValidation.unauthenticatedClientAction",
        "httpSettings.requireHttps", "identityProviders.azureActiveDirectory.enabled",
        "identityProviders.azureActiveDirectory.login.loginParameters[]",
        "identityProviders.azureActiveDirectory.registration.clientId",
        "identityProviders.azureActiveDirectory.registration.clientSecretSettingName",
        "identityProviders.azureActiveDirectory.registration.openIdIssuer",
        "identityProviders.azureActiveDirectory.validation.allowedAudiences[]",
        "identityProviders.azureActiveDirectory.validation.defaultAuthorizationPolicy.allowedApplications[]",
        "identityProviders.azureActiveDirectory.validation.defaultAuthorizationPolicy.allowedPrincipals.groups[]",
        "identityProviders.azureActiveDirectory.validation.defaultAuthorizationPolicy.allowedPrincipals.identities[]",
        "login.tokenStore.enabled", "name", "platform.enabled", "platform.runtimeVersion", "resourceGroupName",
    ),
    "azure-native:web:WebAppFtpAllowed": (
        "allow", "name", "resourceGroupName",
    ),
    "azure-native:web:WebAppScmAllowed": (
        "allow", "name", "resourceGroupName",
    ),
}
_PATTERNS = {resource_type: [tuple(path.split(".")) for path in paths]
             for resource_type, paths in KNOWN_PROPERTIES.items()}


def _leaves(value: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], bool]]:
    """(path, is a container not known yet) for every value the props set; empty containers set nothing."""
    if value is UNKNOWN:
        yield path, True
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, str(key)))
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item, (*path[:-1], path[-1] + "[]"))
    else:
        yield path, False


def _segment_matches(segment: str, pattern: str) -> bool:
    return pattern == segment or (pattern.startswith("*") and segment.endswith("[]") == pattern.endswith("[]"))


def _allowed(path: tuple[str, ...], patterns: list[tuple[str, ...]], unknown: bool) -> bool:
    """A set value must be at an allowed path; a value not known yet may also be a container an allowed path goes
    through (`identity.userAssignedIdentities` before its items are known)."""
    for pattern in patterns:
        if len(pattern) == len(path) and all(map(_segment_matches, path, pattern)):
            return True
        if unknown and len(pattern) >= len(path) and all(map(_segment_matches, path[:-1], pattern)):
            last, through = path[-1].removesuffix("[]"), pattern[len(path) - 1]
            if through.startswith("*") or last == through.removesuffix("[]"):
                return True
    return False


def unexpected_paths(resource_type: str, props: Any) -> list[str]:
    """The property paths of `props` the program never sets for this type ([] for a type not in the table)."""
    patterns = _PATTERNS.get(resource_type)
    if patterns is None or not isinstance(props, dict):
        return []
    own = {key: value for key, value in props.items() if key not in PROVIDER_ADDED}
    found = {".".join(path) for path, unknown in _leaves(own, ()) if not _allowed(path, patterns, unknown)}
    return sorted(found)


def validate_known_properties(args: ResourceValidationArgs, check: Check) -> None:
    """Every azure-native resource sets only the properties the program sets for its type: no property the other
    policies do not judge (CORS with credentials, a file-based Easy Auth configuration, another token store, a firewall
    rule, a second log destination, a security rule) can ride along."""
    extra = unexpected_paths(args.resource_type, plain(args.props))
    if extra:
        shown = ", ".join(extra[:6]) + (f" and {len(extra) - 6} more" if len(extra) > 6 else "")
        check.fail(f"{args.resource_type.rsplit(':', 1)[-1]} {args.name!r} sets {shown}: properties the program never "
                   "sets, which no policy judges.",
                   "remove them; a property the program needs is set in its component and added to "
                   "policy/known_properties.py (a reviewed change of the pack).")


KNOWN_PROPERTIES_POLICY = resource_policy(
    "known-properties", validate_known_properties, judges=KNOWN_PROPERTIES,
    url="https://learn.microsoft.com/azure/governance/policy/concepts/effect-deny",
    remediation="Set properties only in the components; policy/known_properties.py lists what each type may carry.",
)
