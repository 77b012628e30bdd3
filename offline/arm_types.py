"""What Azure calls each azure-native type the programs register: its ARM type, the API version
azure-native uses for it and the inputs that make its ARM name. One table for the offline mocks (the
ids they answer), the ARM export (what a scanner reads) and the naming-limit tests (which rule a name
falls under).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ArmType:
    arm_type: str
    api_version: str  # the API version azure-native 3.29.0 uses for the type (its docstrings)
    name_keys: tuple[str, ...]  # inputs that together make the ARM name (parent first), joined by "/"
    # inputs that address the resource (resource group, parent names): not properties
    addressing: tuple[str, ...] = ("resourceGroupName",)
    # azure-native input name -> ARM property name, where the SDK renamed it (x-ms-client-name)
    renames: tuple[tuple[str, str], ...] = ()
    properties_input: bool = False  # the SDK takes `properties` as one input (ARM's properties)

    @property
    def own_name_input(self) -> str | None:
        """The input that names the resource itself (its last name part); None where ARM fixes the name
        (a constant such as `=appsettings`) or Azure generates it (a role assignment's GUID)."""
        last = self.name_keys[-1] if self.name_keys else "="
        return None if last.startswith("=") else last

    def name_parts(self, inputs: dict[str, Any]) -> list[str]:
        """The ARM name's parts, parent first: the resource's own name last."""
        return [key[1:] if key.startswith("=") else inputs[key] for key in self.name_keys]

    def resource_id(self, scope: str, inputs: dict[str, Any]) -> str:
        """The ARM id below `scope`: each resource type of the path followed by its name part."""
        namespace, *types = self.arm_type.split("/")
        path = (f"{kind}/{name}" for kind, name in zip(types, self.name_parts(inputs), strict=True))
        return "/".join([scope, "providers", namespace, *path])


TYPES: dict[str, ArmType] = {
    "azure-native:storage:StorageAccount": ArmType(
        "Microsoft.Storage/storageAccounts", "2024-01-01", ("accountName",),
        # Azure Storage REST spec: networkAcls, supportsHttpsTrafficOnly; an IP rule's address is `value`.
        renames=(("networkRuleSet", "networkAcls"), ("enableHttpsTrafficOnly", "supportsHttpsTrafficOnly"),
                 ("iPAddressOrRange", "value"))),
    "azure-native:storage:BlobContainer": ArmType(
        "Microsoft.Storage/storageAccounts/blobServices/containers", "2024-01-01",
        ("accountName", "=default", "containerName"), addressing=("resourceGroupName", "accountName")),
    "azure-native:storage:FileShare": ArmType(
        "Microsoft.Storage/storageAccounts/fileServices/shares", "2024-01-01",
        ("accountName", "=default", "shareName"), addressing=("resourceGroupName", "accountName")),
    "azure-native:web:AppServicePlan": ArmType("Microsoft.Web/serverfarms", "2025-05-01", ("name",)),
    "azure-native:web:WebApp": ArmType("Microsoft.Web/sites", "2025-05-01", ("name",)),
    "azure-native:web:WebAppApplicationSettings": ArmType(
        "Microsoft.Web/sites/config", "2025-05-01", ("name", "=appsettings"), properties_input=True),
    "azure-native:web:WebAppAuthSettingsV2WithoutSecrets": ArmType(
        "Microsoft.Web/sites/config", "2025-05-01", ("name", "=authsettingsV2")),
    "azure-native:web:WebAppFtpAllowed": ArmType(
        "Microsoft.Web/sites/basicPublishingCredentialsPolicies", "2025-05-01", ("name", "=ftp")),
    "azure-native:web:WebAppScmAllowed": ArmType(
        "Microsoft.Web/sites/basicPublishingCredentialsPolicies", "2025-05-01", ("name", "=scm")),
    "azure-native:cognitiveservices:Account": ArmType(
        "Microsoft.CognitiveServices/accounts", "2025-06-01", ("accountName",), properties_input=True),
    "azure-native:cognitiveservices:Deployment": ArmType(
        "Microsoft.CognitiveServices/accounts/deployments", "2025-06-01", ("accountName", "deploymentName"),
        addressing=("resourceGroupName", "accountName"), properties_input=True),
    "azure-native:managedidentity:UserAssignedIdentity": ArmType(
        "Microsoft.ManagedIdentity/userAssignedIdentities", "2023-01-31", ("resourceName",)),
    "azure-native:operationalinsights:Workspace": ArmType(
        "Microsoft.OperationalInsights/workspaces", "2025-02-01", ("workspaceName",)),
    "azure-native:applicationinsights:Component": ArmType(
        "Microsoft.Insights/components", "2020-02-02", ("resourceName",)),
    "azure-native:network:VirtualNetwork": ArmType(
        "Microsoft.Network/virtualNetworks", "2024-05-01", ("virtualNetworkName",)),
    "azure-native:network:Subnet": ArmType(
        "Microsoft.Network/virtualNetworks/subnets", "2024-05-01", ("virtualNetworkName", "subnetName"),
        addressing=("resourceGroupName", "virtualNetworkName")),
    "azure-native:network:NetworkSecurityGroup": ArmType(
        "Microsoft.Network/networkSecurityGroups", "2024-05-01", ("networkSecurityGroupName",)),
    "azure-native:network:PrivateEndpoint": ArmType(
        "Microsoft.Network/privateEndpoints", "2024-05-01", ("privateEndpointName",)),
    "azure-native:network:PrivateDnsZoneGroup": ArmType(
        "Microsoft.Network/privateEndpoints/privateDnsZoneGroups", "2024-05-01",
        ("privateEndpointName", "privateDnsZoneGroupName"), addressing=("resourceGroupName", "privateEndpointName")),
    "azure-native:privatedns:PrivateZone": ArmType(
        "Microsoft.Network/privateDnsZones", "2024-06-01", ("privateZoneName",)),
    "azure-native:privatedns:VirtualNetworkLink": ArmType(
        "Microsoft.Network/privateDnsZones/virtualNetworkLinks", "2024-06-01",
        ("privateZoneName", "virtualNetworkLinkName"), addressing=("resourceGroupName", "privateZoneName")),
    "azure-native:authorization:ManagementLockByScope": ArmType(
        "Microsoft.Authorization/locks", "2020-05-01", ("lockName",), addressing=()),
    "azure-native:monitor:ActionGroup": ArmType(
        "Microsoft.Insights/actionGroups", "2024-10-01-preview", ("actionGroupName",)),
    "azure-native:monitor:ScheduledQueryRule": ArmType(
        "Microsoft.Insights/scheduledQueryRules", "2024-01-01-preview", ("ruleName",)),
    "azure-native:applicationinsights:Workbook": ArmType(
        "Microsoft.Insights/workbooks", "2023-06-01", ("resourceName",)),
    "azure-native:authorization:RoleAssignment": ArmType(
        "Microsoft.Authorization/roleAssignments", "2022-04-01", (), addressing=()),
    "azure-native:monitor:DiagnosticSetting": ArmType(
        "Microsoft.Insights/diagnosticSettings", "2021-05-01-preview", ("name",), addressing=("resourceUri",)),
}
