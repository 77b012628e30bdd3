"""An ARM-template view of a stack's offline plan, for independent IaC scanners (checkov's Azure checks).

Scanners read ARM JSON, not Pulumi plans. Each azure-native registration becomes the ARM resource it
stands for: its type, name and API version, the envelope keys ARM keeps at the top (location, tags,
sku, kind, identity), and every other input under `properties`, with the few inputs azure-native
renames given back their ARM names. Entra (azuread), random and the package upload have no ARM form
and are left out; so is anything the scanner cannot judge from a template (role assignments' data).
Secret inputs are written as "[secret]": the export is a review artefact, never a place for a key.
The generic `resources:Resource` (managed API connections and their access policies) becomes the
type it names, with the API version it declares; the resource group itself is the deployment's scope.

    python -m offline.arm_export prod                   # build/prod/arm-template.json
    make scan STACK=prod                                # export, then checkov on it (docs/scan.md)

Only what a template shows is exported; nothing here is deployed (`pulumi up` deploys the program).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from offline.plan import KEEP, Plan, Registration, is_secret_value, rebuilt
from offline.runner import PROJECT_DIR, run_stack

SECRET = "[secret]"
SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
# What ARM keeps outside `properties`.
ENVELOPE = ("location", "tags", "sku", "kind", "identity", "zones", "extendedLocation")


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


def _all_secret(value: Any) -> Any:
    """A secret's shape without its values: a secret map (Pulumi marks a whole top-level input secret when
    any part of it is) keeps its keys, every value becomes "[secret]"."""
    return rebuilt(value, lambda part: KEEP if isinstance(part, (dict, list)) else SECRET)


def _masked(value: Any) -> Any:
    return rebuilt(value, lambda part: _all_secret(part.get("value")) if is_secret_value(part) else KEEP)


def _renamed(value: Any, renames: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {renames.get(key, key): _renamed(item, renames) for key, item in value.items()}
    if isinstance(value, list):
        return [_renamed(item, renames) for item in value]
    return value


def _generic(registration: Registration) -> dict[str, Any]:
    inputs = _masked(registration.raw_inputs)
    parent = inputs.get("parentResourcePath") or ""
    namespace, resource_type = inputs["resourceProviderNamespace"], inputs["resourceType"]
    arm_type = "/".join([namespace, *parent.split("/")[0::2], resource_type]) if parent else \
        f"{namespace}/{resource_type}"
    name = "/".join([*parent.split("/")[1::2], inputs["resourceName"]]) if parent else inputs["resourceName"]
    resource = {"type": arm_type, "apiVersion": inputs["apiVersion"], "name": name,
                **{key: inputs[key] for key in ENVELOPE if key in inputs},
                "properties": inputs.get("properties") or {}}
    return resource


def arm_resource(registration: Registration) -> dict[str, Any] | None:
    """The ARM resource a registration stands for, or None when it has no ARM form."""
    if registration.type == "azure-native:resources:Resource":
        return _generic(registration)
    spec = TYPES.get(registration.type)
    if spec is None:
        return None
    inputs = _renamed(_masked(registration.raw_inputs), dict(spec.renames))
    # A role assignment's name is the GUID Azure (or the mocks) gave it.
    name = "/".join(part[1:] if part.startswith("=") else str(inputs.get(part)) for part in spec.name_keys) \
        or str(registration.outputs.get("name") or registration.name)
    resource: dict[str, Any] = {"type": spec.arm_type, "apiVersion": spec.api_version, "name": name}
    excluded = {*spec.name_keys, *spec.addressing, *ENVELOPE, "properties"}
    resource.update({key: inputs[key] for key in ENVELOPE if key in inputs})
    properties = dict(inputs.get("properties") or {}) if spec.properties_input else {}
    properties.update({key: value for key, value in inputs.items() if key not in excluded})
    identity = resource.get("identity")
    if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
        # ARM keys user-assigned identities by resource id; azure-native takes a list of ids.
        resource["identity"] = {**identity, "userAssignedIdentities": {
            identity_id: {} for identity_id in identity["userAssignedIdentities"]}}
    if spec.arm_type in ("Microsoft.Authorization/locks", "Microsoft.Authorization/roleAssignments"):
        resource["scope"] = properties.pop("scope", None)
    if spec.arm_type == "Microsoft.Insights/diagnosticSettings":
        resource["scope"] = inputs.get("resourceUri")
    resource["properties"] = properties
    return resource


def arm_template(plan: Plan) -> dict[str, Any]:
    resources = [resource for resource in (arm_resource(r) for r in plan.resources) if resource is not None]
    return {"$schema": SCHEMA, "contentVersion": "1.0.0.0",
            "metadata": {"generator": "agent-obo offline/arm_export.py", "stack": plan.stack},
            "resources": sorted(resources, key=lambda r: (r["type"], r["name"]))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stack", help="stack name: Pulumi.<stack>.yaml")
    parser.add_argument("-o", "--output", type=Path, help="default: build/<stack>/arm-template.json")
    args = parser.parse_args(argv)
    result = run_stack(args.stack)
    if result.error is not None:
        print(f"error: {result.error}", file=sys.stderr)
        return 1
    output = args.output or PROJECT_DIR / "build" / args.stack / "arm-template.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(arm_template(result.ok()), indent=2, sort_keys=True) + "\n")
    print(f"Wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
