"""Shows a recorded plan the way `pulumi preview` would, and writes it as JSON.

The text lists every resource with what the preview would do to it (`+` create, `~` update, `+-`
replace, blank: unchanged), its type, logical name and parent, the settings that matter for identity,
authentication and hardening, and the stack outputs. A value not known until deployment shows as
`output<string>`, as the Pulumi CLI shows it. The JSON holds the whole record, with secret values
replaced by "[secret]".
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pulumi.output import Unknown

from offline.plan import Plan, Registration, is_secret_value

SECRET = "[secret]"
UNKNOWN = "output<string>"  # how the Pulumi CLI shows a value that is unknown during preview
SYMBOLS = {"create": "+", "update": "~", "replace": "+-", "same": " "}
MODE_TITLES = {
    "up": "every output known, as after `pulumi up`",
    "first": "first preview of a new stack: computed outputs unknown",
    "update": "preview of a change to the deployed stack",
}

# For each type, the inputs a reviewer checks first: who it runs as, how it authenticates, how it
# is hardened. Dotted paths into the resource's inputs.
SETTINGS_THAT_MATTER: dict[str, tuple[str, ...]] = {
    "azure-native:resources:ResourceGroup": ("resourceGroupName", "location"),
    "azure-native:storage:StorageAccount": (
        "accountName", "kind", "minimumTlsVersion", "enableHttpsTrafficOnly", "allowBlobPublicAccess",
        "allowSharedKeyAccess", "defaultToOAuthAuthentication", "sku.name", "publicNetworkAccess",
        "networkRuleSet.defaultAction", "networkRuleSet.bypass"),
    "azure-native:storage:FileShare": ("shareName",),
    "azure-native:storage:BlobContainer": ("containerName", "publicAccess"),
    "azure-native:managedidentity:UserAssignedIdentity": ("resourceName",),
    "azure-native:web:AppServicePlan": ("name", "sku.name", "sku.tier", "sku.capacity", "kind", "zoneRedundant",
                                        "maximumElasticWorkerCount"),
    "azure-native:web:WebApp": (
        "name", "kind", "identity.type", "httpsOnly", "siteConfig.minTlsVersion", "siteConfig.ftpsState",
        "siteConfig.http20Enabled", "siteConfig.netFrameworkVersion", "siteConfig.minimumElasticInstanceCount",
        "siteConfig.healthCheckPath", "publicNetworkAccess", "virtualNetworkSubnetId", "siteConfig.vnetRouteAllEnabled",
        "outboundVnetRouting.applicationTraffic", "outboundVnetRouting.contentShareTraffic"),
    "azure-native:web:WebAppFtpAllowed": ("allow",),
    "azure-native:web:WebAppScmAllowed": ("allow",),
    "azure-native:web:WebAppAuthSettingsV2WithoutSecrets": (
        "platform.enabled", "globalValidation.requireAuthentication",
        "globalValidation.unauthenticatedClientAction", "globalValidation.excludedPaths",
        "identityProviders.azureActiveDirectory.registration.clientSecretSettingName",
        "login.tokenStore.enabled", "httpSettings.requireHttps"),
    "azure-native:cognitiveservices:Account": ("accountName", "kind", "identity.type", "properties.disableLocalAuth",
                                               "properties.publicNetworkAccess",
                                               "properties.networkAcls.defaultAction"),
    "azure-native:network:VirtualNetwork": ("virtualNetworkName", "addressSpace.addressPrefixes"),
    "azure-native:network:NetworkSecurityGroup": ("networkSecurityGroupName",),
    "azure-native:network:Subnet": ("subnetName", "addressPrefix", "delegations"),
    "azure-native:network:PrivateEndpoint": ("privateEndpointName", "privateLinkServiceConnections"),
    "azure-native:network:PrivateDnsZoneGroup": ("privateEndpointName", "privateDnsZoneConfigs"),
    "azure-native:privatedns:PrivateZone": ("privateZoneName",),
    "azure-native:privatedns:VirtualNetworkLink": ("virtualNetworkLinkName", "registrationEnabled"),
    "azure-native:authorization:ManagementLockByScope": ("lockName", "level", "scope"),
    "azure-native:cognitiveservices:Deployment": ("deploymentName", "properties.model.name", "sku.name",
                                                  "sku.capacity"),
    "azure-native:authorization:RoleAssignment": ("roleDefinitionId", "principalType", "description"),
    "azure-native:monitor:DiagnosticSetting": ("name", "logs", "metrics"),
    "azure-native:operationalinsights:Workspace": ("workspaceName", "retentionInDays"),
    "azure-native:applicationinsights:Component": ("resourceName", "ingestionMode"),
    "azure-native:resources:Resource": (
        "resourceType", "resourceName", "apiVersion", "kind", "properties.displayName", "properties.features",
        "properties.parameterValueSet.name", "tags.identity-mode", "tags.tools"),
    "azuread:index/application:Application": ("displayName", "signInAudience", "identifierUris"),
    "azuread:index/servicePrincipal:ServicePrincipal": ("appRoleAssignmentRequired",),
    "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant": (
        "claimValues",),
    "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential": (
        "issuer", "audiences"),
    "pulumi-python:dynamic:Resource": ("container", "blob_name", "sha256"),
}


# Inputs too large to read in a plan: the package bytes (written beside the plan as a .zip) and the
# pickled dynamic provider.
SUMMARISED_INPUTS = ("content_base64", "__provider")


def redact(value: Any) -> Any:
    if is_secret_value(value):
        return SECRET
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, dict):
        return {key: (f"<{len(item)} characters>" if key in SUMMARISED_INPUTS and isinstance(item, str)
                      else redact(item))
                for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def _lookup(inputs: dict[str, Any], dotted: str) -> Any:
    value: Any = inputs
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _short(value: Any) -> str:
    value = redact(value)
    if isinstance(value, str) and value.startswith("/subscriptions/") and "/roleDefinitions/" in value:
        return value.rsplit("/", 1)[-1]
    if isinstance(value, (list, dict)):
        text = json.dumps(value, separators=(",", ":"))
        return text if len(text) <= 100 else text[:97] + "..."
    return str(value)


def _whole(value: Any) -> str:
    value = redact(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True) if isinstance(value, (list, dict)) else str(value)


def _options(registration: Registration, plan: Plan) -> list[str]:
    names = {r.urn: r.name for r in plan.registrations}
    shown = []
    if registration.protect:
        shown.append("protect")
    if registration.replacement_trigger is not None:
        shown.append(f"replacementTrigger={_short(registration.replacement_trigger)}")
    if registration.replace_with:
        shown.append("replaceWith=" + ",".join(names.get(u, u) for u in registration.replace_with))
    if registration.delete_before_replace:
        shown.append("deleteBeforeReplace")
    return shown


def render_text(plan: Plan, extra_sections: Iterable[str] = ()) -> str:
    lines = [f"Previewing stack '{plan.stack}' offline (the real program, Azure and Graph mocked; "
             f"{MODE_TITLES[plan.mode]})", ""]
    children: dict[str, list[Registration]] = {}
    for registration in plan.registrations:
        children.setdefault(registration.parent, []).append(registration)
    roots = [r for r in plan.registrations if r.parent not in {x.urn for x in plan.registrations}]

    def walk(registration: Registration, depth: int) -> None:
        indent = "  " * depth
        parent = registration.parent.rsplit("::", 1)[-1] if registration.parent else "-"
        symbol = SYMBOLS[registration.step.operation] if registration.step else "+"
        lines.append(f" {symbol:<2} {indent}{registration.type}  {registration.name}  (parent: {parent})")
        inputs = redact(registration.raw_inputs)
        unchanged = registration.step is not None and registration.step.operation == "same"
        for path in () if unchanged else SETTINGS_THAT_MATTER.get(registration.type, ()):
            value = _lookup(inputs, path)
            if value is not None:
                lines.append(f"    {indent}    {path} = {_short(value)}")
        options = _options(registration, plan)
        if options:
            lines.append(f"    {indent}    options: {', '.join(options)}")
        if registration.step and registration.step.operation in ("update", "replace"):
            because = f"; replaced because of {', '.join(registration.step.replaced_by)}" \
                if registration.step.replaced_by else ""
            lines.append(f"    {indent}    changes: {', '.join(registration.step.changed) or '-'}{because}")
        for child in children.get(registration.urn, []):
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    for registration in plan.deleted:
        lines.append(f" -  {registration.type}  {registration.name}  (deleted: no longer in the program)")
    lines += ["", "Outputs:"]
    for key in sorted(plan.stack_outputs):
        value = SECRET if key in plan.secret_outputs else plan.stack_outputs[key]
        if key == "identityMatrix" and isinstance(value, list):
            lines.append(f"    {key}: {len(value)} tools (the table under 'Who runs as whom')")
        elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            lines.append(f"    {key}:")  # whole, one item a line: a review artefact cuts nothing
            lines += [f"      - {_whole(item)}" for item in value]
        else:
            lines.append(f"    {key}: {_whole(value)}")
    for section in extra_sections:
        lines += ["", section]
    counts: dict[str, int] = {}
    for registration in plan.resources:
        operation = registration.step.operation if registration.step else "create"
        counts[operation] = counts.get(operation, 0) + 1
    parts = [f"{SYMBOLS[op]} {counts[op]} to {op}" for op in ("create", "update", "replace") if counts.get(op)]
    deleted = [r for r in plan.deleted if r.custom]
    parts += [f"- {len(deleted)} to delete"] if deleted else []
    parts += [f"{counts['same']} unchanged"] if counts.get("same") else []
    summary = ", ".join(parts)
    lines += ["", f"Resources: {summary} ({len(plan.registrations) - len(plan.resources)} components)"]
    return "\n".join(lines)


def to_json(plan: Plan) -> dict[str, Any]:
    return {
        "stack": plan.stack,
        "mode": plan.mode,
        "resources": [
            {
                "urn": r.urn,
                "type": r.type,
                "name": r.name,
                "custom": r.custom,
                "parent": r.parent,
                "step": r.step.operation if r.step else None,
                "inputs": redact(r.raw_inputs),
                "secretInputs": r.secret_input_paths,
                "options": {
                    "protect": r.protect,
                    "dependencies": r.dependencies,
                    "deleteBeforeReplace": r.delete_before_replace,
                    "replaceOnChanges": r.replace_on_changes,
                    "ignoreChanges": r.ignore_changes,
                    "replacementTrigger": r.replacement_trigger,
                    "replaceWith": r.replace_with,
                },
            }
            for r in plan.registrations
        ],
        "deleted": [r.urn for r in plan.deleted],
        "outputs": {key: (SECRET if key in plan.secret_outputs else redact(value))
                    for key, value in sorted(plan.stack_outputs.items())},
    }
