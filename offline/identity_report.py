"""The plan's "who runs as whom" section: every identity of the stack, what each may do and where.

Role assignments by role name, the scope they are granted on and the identity that receives them;
connection access policies by connection and principal; credentials that let one identity act as
another (federated credentials, the tenant's consent); the app settings that wire an identity into
the site; and the identity matrix whole. Identities are recognised from the plan itself (managed
identities, the site's system identity, service principals, the identity running the deployment),
so the section reads any stack of this repository, bootstrap/ included.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from agent_obo.app_settings import IDENTITY_WIRING
from components.role_ids import BUILT_IN_ROLE_NAMES
from offline.plan import Plan, Registration

ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
GENERIC_RESOURCE = "azure-native:resources:Resource"
UNKNOWN = "(known after create)"
# What a scope is, in words, by the type of the resource it names.
RESOURCE_WORDS = {
    "azure-native:resources:ResourceGroup": "resource group",
    "azure-native:storage:StorageAccount": "storage account",
    "azure-native:storage:BlobContainer": "blob container",
    "azure-native:cognitiveservices:Account": "Azure OpenAI account",
    "azure-native:keyvault:Vault": "key vault",
    "azure-native:keyvault:Key": "key vault key",
    "azure-native:web:WebApp": "site",
    "azure-native:managedidentity:UserAssignedIdentity": "managed identity",
    "azure-native:operationalinsights:Workspace": "Log Analytics workspace",
}


@dataclass(frozen=True)
class Identity:
    label: str
    ids: frozenset[str]  # principal (object) id, client id, resource id: whatever names it
    urn: str = ""  # the resource it belongs to: how an input names it while its ids are unknown


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def identities(plan: Plan) -> list[Identity]:
    found: list[Identity] = []
    for site in plan.all("azure-native:web:WebApp"):
        principal = _text((site.outputs.get("identity") or {}).get("principalId"))
        found.append(Identity(f"site system identity ({site.inputs.get('name')})",
                              frozenset(filter(None, [principal])), site.urn))
    for identity in plan.all("azure-native:managedidentity:UserAssignedIdentity"):
        words = identity.name.replace("-", " ")
        label = f"{words if 'identity' in words else words + ' identity'} ({identity.inputs.get('resourceName')})"
        ids = [_text(identity.outputs.get(key)) for key in ("principalId", "clientId", "id")]
        found.append(Identity(label, frozenset(filter(None, [*ids, identity.resource_id])), identity.urn))
    for service_principal in plan.all("azuread:index/servicePrincipal:ServicePrincipal"):
        app = _application(plan, service_principal, "clientId", "clientId")
        name = app.inputs.get("displayName") if app else service_principal.name
        object_id = _text(service_principal.outputs.get("objectId"))
        found.append(Identity(f"service principal of app {name}", frozenset(filter(None, [object_id])),
                              service_principal.urn))
    client = plan.invokes.get("azure-native:authorization:getClientConfig") or {}
    deployer = _text(client.get("objectId"))
    if deployer:
        found.append(Identity("deployer (runs pulumi up)",
                              frozenset([deployer])))
    return found


def _application(plan: Plan, registration: Registration, key: str, app_key: str) -> Registration | None:
    """The app registration `registration.<key>` names: by its value (`app_key` of the app), or, while that
    is unknown (a first preview), by the application resource the input comes from."""
    value = _text(registration.inputs.get(key))
    dependencies = registration.property_dependencies.get(key, [])
    for app in plan.all("azuread:index/application:Application"):
        if (value and value in {_text(app.outputs.get(app_key)), app.resource_id}) or app.urn in dependencies:
            return app
    return None


def _shown(value: Any) -> str:
    """A value as the plan prints it: one unknown during a preview reads as such, never as a Python object."""
    if isinstance(value, dict):
        return "[secret]"
    if isinstance(value, str | int | float):
        return str(value)
    return UNKNOWN


def _label(principal: Any, principal_type: Any, known: Sequence[Identity], depends_on: Sequence[str] = ()) -> str:
    for identity in known:
        if (isinstance(principal, str) and principal in identity.ids) or (identity.urn and identity.urn in depends_on):
            return identity.label
    if not isinstance(principal, str):
        return UNKNOWN
    return f"{str(principal_type or 'principal').lower()} {principal}"


# The input that holds a resource's Azure name, most specific first (a container also names its account).
NAME_INPUTS = ("containerName", "keyName", "accountName", "vaultName", "workspaceName", "resourceName", "name",
               "resourceGroupName")


def _resource(registration: Registration) -> str:
    words = RESOURCE_WORDS.get(registration.type, registration.type.rsplit(":", 1)[-1])
    name = next((registration.input(key) for key in NAME_INPUTS if isinstance(registration.input(key), str)),
                registration.name)
    return f"{words} {name}"


def _scope(scope: Any, plan: Plan, depends_on: Sequence[str] = ()) -> str:
    for registration in plan.resources:
        if isinstance(scope, str) and registration.resource_id and registration.resource_id.lower() == scope.lower():
            return _resource(registration)
    resources = [r for r in plan.resources if r.urn in depends_on]
    if len(resources) == 1:
        return _resource(resources[0])
    if not isinstance(scope, str):
        return UNKNOWN
    parts = scope.strip("/").split("/")
    if len(parts) == 2 and parts[0].lower() == "subscriptions":
        return f"subscription {parts[1]}"
    if len(parts) == 4 and parts[2].lower() == "resourcegroups":
        return f"resource group {parts[3]}"
    return scope


def role_name(role_definition_id: Any) -> str:
    if not isinstance(role_definition_id, str):
        return UNKNOWN
    role = role_definition_id.rsplit("/", 1)[-1]
    return BUILT_IN_ROLE_NAMES.get(role, f"role {role} (not a built-in role this project lists)")


def table(header: Sequence[str], rows: Iterable[Sequence[str]], indent: str = "    ") -> list[str]:
    rows = [list(header), *[list(row) for row in rows]]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = [indent + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.insert(1, indent + "  ".join("-" * width for width in widths))
    return lines


def app_settings(plan: Plan) -> list[tuple[str, Any]]:
    """Every app setting the plan gives a site: on the site itself, or in its config/appsettings resource."""
    found: list[tuple[str, Any]] = []
    for site in plan.all("azure-native:web:WebApp"):
        pairs = site.input("siteConfig.appSettings") or []
        found += [(str(pair.get("name")), pair.get("value")) for pair in pairs if isinstance(pair, dict)]
    for settings in plan.all("azure-native:web:WebAppApplicationSettings"):
        found += [(str(name), value) for name, value in (settings.input("properties") or {}).items()]
    return found


def identity_section(plan: Plan) -> str:
    known = identities(plan)
    lines = ["Who runs as whom:", "", "  Identities:"]
    lines += [f"    {identity.label}" for identity in known]

    assignments = plan.all(ROLE_ASSIGNMENT)
    if assignments:
        lines += ["", "  Role assignments:"]
        rows = []
        for assignment in assignments:
            condition = " (with a condition)" if assignment.input("condition") else ""
            dependencies = assignment.property_dependencies
            rows.append([role_name(assignment.input("roleDefinitionId")) + condition,
                         _scope(assignment.input("scope"), plan, dependencies.get("scope", [])),
                         _label(assignment.input("principalId"), assignment.input("principalType"), known,
                                dependencies.get("principalId", [])),
                         assignment.name])
        lines += table(["role", "on", "granted to", "resource"], rows)

    connections = {r.input("resourceName"): r for r in plan.all(GENERIC_RESOURCE)
                   if r.input("resourceType") == "connections"}
    policies = [r for r in plan.all(GENERIC_RESOURCE) if r.input("resourceType") == "accessPolicies"]
    if policies:
        lines += ["", "  Connection access policies (who may call each connection):"]
        rows = []
        by_urn = {r.urn: r for r in connections.values()}
        for policy in policies:
            path = policy.input("parentResourcePath")
            azure_name = path.split("/", 1)[1] if isinstance(path, str) and "/" in path else None
            related = [*policy.property_dependencies.get("parentResourcePath", []), *policy.replace_with,
                       *policy.dependencies]
            connection = connections.get(azure_name) or next((by_urn[urn] for urn in related if urn in by_urn), None)
            if connection:
                shown = f"{connection.name} ({azure_name})" if azure_name else f"{connection.name} (name {UNKNOWN})"
            else:
                shown = azure_name or UNKNOWN
            principal = policy.input("properties.principal.identity.objectId")
            rows.append([shown, _label(principal, "ServicePrincipal", known,
                                       policy.property_dependencies.get("properties", []))])
        lines += table(["connection", "principal"], rows)

    trusts = []
    for credential in plan.all("azuread:index/applicationFederatedIdentityCredential:"
                               "ApplicationFederatedIdentityCredential"):
        application = _application(plan, credential, "applicationId", "id")
        app = application.input("displayName") if application else _shown(credential.input("applicationId"))
        trusts.append([_label(credential.input("subject"), "principal", known,
                              credential.property_dependencies.get("subject", [])),
                       f"as app {app}", "federated credential, instead of a client secret"])
    for credential in plan.all("azure-native:managedidentity:FederatedIdentityCredential"):
        named = f"({credential.input('resourceName')})"
        target = next((identity.label for identity in known if named in identity.label),
                      str(credential.input("resourceName")))
        trusts.append([f"token subject {credential.input('subject')}", f"as {target}",
                       f"federated credential (issuer {credential.input('issuer')})"])
    for grant in plan.all("azuread:index/servicePrincipalDelegatedPermissionGrant:"
                          "ServicePrincipalDelegatedPermissionGrant"):
        trusts.append([_label(grant.input("servicePrincipalObjectId"), "principal", known,
                              grant.property_dependencies.get("servicePrincipalObjectId", [])),
                       "for each signed-in user of the tenant",
                       "admin consent to " + " ".join(grant.input("claimValues") or [])])
    graph = plan.invokes.get("azuread:index/getServicePrincipal:getServicePrincipal") or {}
    permissions = {permission_id: name for name, permission_id in (graph.get("appRoleIds") or {}).items()}
    for assignment in plan.all("azuread:index/appRoleAssignment:AppRoleAssignment"):
        if assignment.input("resourceObjectId") == graph.get("objectId"):
            permission = permissions.get(assignment.input("appRoleId"), assignment.input("appRoleId"))
            trusts.append([_label(assignment.input("principalObjectId"), "ServicePrincipal", known,
                                  assignment.property_dependencies.get("principalObjectId", [])),
                           "in Microsoft Graph, without a signed-in user", f"application permission {permission}"])
    if trusts:
        lines += ["", "  Who may act as, or for, another identity:"]
        lines += table(["who", "acts", "how"], trusts)

    wiring = []
    for name, value in app_settings(plan):
        label = next((identity.label for identity in known if isinstance(value, str) and value in identity.ids), None)
        if name in IDENTITY_WIRING or label:
            shown = label or _shown(value)
            wiring.append([name, shown, IDENTITY_WIRING.get(name, "")])
    order = list(IDENTITY_WIRING)
    wiring.sort(key=lambda row: (order.index(row[0]) if row[0] in order else len(order), row[0]))
    if wiring:
        lines += ["", "  App settings that wire identities into the site:"]
        lines += table(["setting", "value", "what it decides"], wiring)

    matrix = plan.stack_outputs.get("identityMatrix")
    if isinstance(matrix, list) and matrix and all(isinstance(row, dict) for row in matrix):
        columns = list(matrix[0])
        lines += ["", "  Identity matrix (catalog/tools.yaml; the identityMatrix output):"]
        lines += table(columns, [[str(row.get(column, "")) for column in columns] for row in matrix])
    return "\n".join(lines)
