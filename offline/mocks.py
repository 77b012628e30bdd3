"""What Azure and Microsoft Graph would answer, for running the real program offline.

Each resource gets the ARM id and the computed outputs its provider reports (names as the
providers spell them), derived deterministically from its inputs, so two runs of the same program
give the same plan. The Graph service principal knows the real ids of the delegated scopes this
project may use (the policy pack's table, policy/graph_permissions.py); any other scope name is unknown,
exactly like a misspelled one in a real tenant.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any, ClassVar

import pulumi

from agent_obo.graph_scopes import GRAPH_APP_ID
from offline.arm_types import TYPES
from policy.graph_permissions import DELEGATED_SCOPE_IDS

SUBSCRIPTION_ID = "3c1f8a52-6b0e-4d7f-9a24-8e5b1c0d7f36"
TENANT_ID = "9b2e4f10-7c3a-4a58-b1d6-2f8e0c5a9d47"
DEPLOYER_OBJECT_ID = "c4a7e2d9-1f35-4b8e-a6c0-7d9f3b2e5a18"
DEPLOYER_CLIENT_ID = "e81f3c6a-2d47-4b95-8a1e-5c0d9f7b3a62"
GRAPH_SERVICE_PRINCIPAL_OBJECT_ID = "5d8c1e3f-9a27-4b60-8e4d-1f7a2c9b0e53"

# Microsoft Graph delegated permission ids (the same in every tenant): the pack's reviewed table.
GRAPH_DELEGATED_SCOPES = DELEGATED_SCOPE_IDS

# Microsoft Graph application permissions (app roles) the bootstrap gives pipeline identities, and the
# tenant-wide write ones it must never give: their real ids (learn.microsoft.com/graph/permissions-reference).
GRAPH_APPLICATION_PERMISSIONS = {
    "Application.Read.All": "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
    "Application.ReadWrite.OwnedBy": "18a4783c-866b-4cc7-a460-3d5e5662c884",
    "Application.ReadWrite.All": "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
    "AppRoleAssignment.ReadWrite.All": "06b708a9-e830-4db3-a914-8e69da51d44f",
    "DelegatedPermissionGrant.ReadWrite.All": "8e8e4742-1d95-4f68-9d56-6ee75648c72a",
    "Directory.ReadWrite.All": "19dbc75e-c2e2-444c-a770-ec69d8559fc7",
}

# Types answered with their ARM id and name only, both from their ARM type and name inputs in
# offline/arm_types.py. A type with more to answer has a handler of its own below (never both:
# tests/test_offline_mocks.py).
ARM_TYPES = frozenset({
    "azure-native:operationalinsights:Workspace", "azure-native:web:AppServicePlan",
    "azure-native:storage:BlobContainer", "azure-native:storage:FileShare",
    "azure-native:network:VirtualNetwork", "azure-native:network:Subnet", "azure-native:network:NetworkSecurityGroup",
    "azure-native:network:PrivateEndpoint", "azure-native:network:PrivateDnsZoneGroup",
    "azure-native:privatedns:PrivateZone", "azure-native:privatedns:VirtualNetworkLink",
    "azure-native:monitor:ActionGroup", "azure-native:monitor:ScheduledQueryRule",
})


# The packages whose resources have a handler of their own (the method named by handler_name).
_HANDLED_PACKAGES = ("_azure_native_", "_azuread_", "_random_", "_pulumi_")


def handler_name(type_token: str) -> str:
    """The AzureMocks method that answers a resource type: `azure-native:web:WebApp` -> `_azure_native_web_WebApp`."""
    return "_" + type_token.replace(":", "_").replace("/", "_").replace("-", "_")


def stable_uuid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "agent-obo-mock:" + "/".join(parts)))


def _arm_id(type_token: str, inputs: dict[str, Any], scope: str | None = None) -> str:
    """The ARM id of a resource of `type_token` (offline/arm_types.py), in its resource group unless `scope` says."""
    return TYPES[type_token].resource_id(scope if scope is not None else _rg_scope(inputs), inputs)


def _rg_scope(inputs: dict[str, Any]) -> str:
    return f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{inputs.get('resourceGroupName')}"


class AzureMocks(pulumi.runtime.Mocks):
    """Answers registrations and invokes for azure-native, azuread and the package upload."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        if not args.custom:
            return None, {}
        inputs = dict(args.inputs)
        handler = getattr(self, handler_name(args.typ), None)
        if handler is not None:
            resource_id, outputs = handler(args.name, inputs)
        elif args.typ in ARM_TYPES:
            spec = TYPES[args.typ]
            resource_id, outputs = spec.resource_id(_rg_scope(inputs), inputs), {"name": spec.name_parts(inputs)[-1]}
        else:
            resource_id, outputs = stable_uuid(args.typ, args.name), {}
        state = {**inputs, **outputs}
        state.setdefault("id", resource_id)
        return resource_id, state

    # --- azure-native ---------------------------------------------------------------------------

    def _azure_native_resources_ResourceGroup(self, name, inputs):
        return f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{inputs['resourceGroupName']}", {
            "name": inputs["resourceGroupName"]}

    def _azure_native_managedidentity_UserAssignedIdentity(self, name, inputs):
        resource_id = _arm_id("azure-native:managedidentity:UserAssignedIdentity", inputs)
        return resource_id, {"name": inputs["resourceName"], "principalId": stable_uuid(resource_id, "principal"),
                             "clientId": stable_uuid(resource_id, "client"), "tenantId": TENANT_ID}

    def _azure_native_storage_StorageAccount(self, name, inputs):
        account = inputs["accountName"]
        endpoints = {kind: f"https://{account}.{kind}.core.windows.net/"
                     for kind in ("blob", "queue", "table", "file", "dfs", "web")}
        resource_id = _arm_id("azure-native:storage:StorageAccount", inputs)
        return resource_id, {"name": account, "primaryEndpoints": endpoints}

    def _azure_native_authorization_ManagementLockByScope(self, name, inputs):
        return _arm_id("azure-native:authorization:ManagementLockByScope", inputs, scope=inputs["scope"]), {
            "name": inputs["lockName"]}

    def _azure_native_applicationinsights_Component(self, name, inputs):
        resource_id = _arm_id("azure-native:applicationinsights:Component", inputs)
        key = stable_uuid(resource_id, "ikey")
        return resource_id, {
            "name": inputs["resourceName"],
            "instrumentationKey": key,
            "connectionString": f"InstrumentationKey={key};IngestionEndpoint="
                                f"https://{inputs.get('location')}-1.in.applicationinsights.azure.com/",
        }

    def _azure_native_web_WebApp(self, name, inputs):
        site = inputs["name"]
        resource_id = _arm_id("azure-native:web:WebApp", inputs)
        # A unique default host name, as App Service now gives new sites: nothing may assume
        # <name>.azurewebsites.net.
        host = f"{site}-{stable_uuid(resource_id)[:8]}.{inputs.get('location')}-01.azurewebsites.net"
        identity = dict(inputs.get("identity") or {})
        identity.update({"principalId": stable_uuid(resource_id, "system-identity"), "tenantId": TENANT_ID})
        # The input lists user-assigned identity ids; the output maps each id to its principal.
        identity["userAssignedIdentities"] = {
            identity_id: {"principalId": stable_uuid(identity_id, "principal"),
                          "clientId": stable_uuid(identity_id, "client")}
            for identity_id in identity.get("userAssignedIdentities") or []}
        return resource_id, {"name": site, "defaultHostName": host, "identity": identity}

    def _azure_native_cognitiveservices_Account(self, name, inputs):
        account = inputs["accountName"]
        properties = dict(inputs.get("properties") or {})
        properties["endpoint"] = f"https://{properties.get('customSubDomainName', account)}.openai.azure.com/"
        resource_id = _arm_id("azure-native:cognitiveservices:Account", inputs)
        return resource_id, {"name": account, "properties": properties}

    def _azure_native_authorization_RoleAssignment(self, name, inputs):
        assignment = stable_uuid(str(inputs.get("scope")), str(inputs.get("principalId")),
                                 str(inputs.get("roleDefinitionId")))
        return f"{inputs.get('scope')}/providers/Microsoft.Authorization/roleAssignments/{assignment}", {
            "name": assignment}

    def _azure_native_resources_Resource(self, name, inputs):
        parent_path = inputs.get("parentResourcePath")
        path = f"{parent_path}/" if parent_path else ""
        resource_id = (f"{_rg_scope(inputs)}/providers/{inputs['resourceProviderNamespace']}/{path}"
                       f"{inputs['resourceType']}/{inputs['resourceName']}")
        properties = dict(inputs.get("properties") or {})
        if inputs["resourceType"] == "connections":
            connection = inputs["resourceName"]
            properties["connectionRuntimeUrl"] = (
                f"https://{stable_uuid(resource_id)[:12]}.{inputs.get('location')}.common.logic-azure.com/"
                f"apim/{properties.get('api', {}).get('id', '').rsplit('/', 1)[-1]}/{stable_uuid(connection)}")
            if properties.get("features") == "DynamicUserInvoked":
                properties["dynamicConnectionProxyUrl"] = (
                    f"https://{inputs.get('location')}.dynamic-connections.azure.com/proxy/{stable_uuid(connection)}")
        # ARM's `type`: the namespace and the resource types of the path, without the names.
        parent_types = parent_path.split("/")[::2] if parent_path else []
        arm_type = "/".join([inputs["resourceProviderNamespace"], *parent_types, inputs["resourceType"]])
        return resource_id, {"name": inputs["resourceName"], "type": arm_type, "properties": properties}

    # Key Vault and federated credentials (the bootstrap project's state backend and pipeline identities).

    def _azure_native_keyvault_Vault(self, name, inputs):
        vault = inputs["vaultName"]
        properties = {**(inputs.get("properties") or {}), "vaultUri": f"https://{vault}.vault.azure.net/"}
        return f"{_rg_scope(inputs)}/providers/Microsoft.KeyVault/vaults/{vault}", {"name": vault,
                                                                                   "properties": properties}

    def _azure_native_keyvault_Key(self, name, inputs):
        vault, key = inputs["vaultName"], inputs["keyName"]
        key_uri = f"https://{vault}.vault.azure.net/keys/{key}"
        return f"{_rg_scope(inputs)}/providers/Microsoft.KeyVault/vaults/{vault}/keys/{key}", {
            "name": key, "keyUri": key_uri, "keyUriWithVersion": f"{key_uri}/{stable_uuid(key_uri).replace('-', '')}"}

    def _azure_native_managedidentity_FederatedIdentityCredential(self, name, inputs):
        credential = inputs["federatedIdentityCredentialResourceName"]
        return (f"{_rg_scope(inputs)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
                f"{inputs['resourceName']}/federatedIdentityCredentials/{credential}", {"name": credential})

    # --- azuread --------------------------------------------------------------------------------

    def _azuread_index_application_Application(self, name, inputs):
        object_id = stable_uuid("application", inputs.get("displayName", name))
        return object_id, {"objectId": object_id, "clientId": stable_uuid("client", inputs.get("displayName", name))}

    def _azuread_index_servicePrincipal_ServicePrincipal(self, name, inputs):
        object_id = stable_uuid("service-principal", str(inputs.get("clientId")))
        return object_id, {"objectId": object_id}

    # --- pulumi-random ------------------------------------------------------------------------------

    def _random_index_randomId_RandomId(self, name, inputs):
        # The same keepers give the same id (a real RandomId keeps its value until they change).
        seed = stable_uuid(name, json.dumps(inputs.get("keepers") or {}, sort_keys=True)).replace("-", "")
        hex_id = seed[: 2 * int(inputs.get("byteLength", 8))]
        return hex_id, {"hex": hex_id, "dec": str(int(hex_id, 16)),
                        "b64Std": base64.b64encode(bytes.fromhex(hex_id)).decode(),
                        "b64Url": base64.urlsafe_b64encode(bytes.fromhex(hex_id)).decode().rstrip("=")}

    # --- the package upload (a dynamic resource: its provider only runs in a real deployment) ----

    def _pulumi_python_dynamic_Resource(self, name, inputs):
        url = f"{inputs['blob_endpoint'].rstrip('/')}/{inputs['container']}/{inputs['blob_name']}"
        return url, {"url": url}

    # --- invokes --------------------------------------------------------------------------------

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        answer = self.INVOKES.get(args.token)
        if answer is None:
            raise ValueError(f"offline mocks do not answer the invoke {args.token}")
        return answer(self, args.args), []  # no check failures (the SDK iterates this list)

    def _list_storage_account_keys(self, args: dict[str, Any]) -> dict:
        # A recognisable fake key: tests look for it in places a secret must never be plain.
        key = base64.b64encode(f"offline-key-{args.get('accountName')}".encode()).decode()
        return {"keys": [{"keyName": "key1", "value": key, "permissions": "FULL"},
                         {"keyName": "key2", "value": key[::-1], "permissions": "FULL"}]}

    def _arm_client_config(self, args: dict[str, Any]) -> dict:
        return {"clientId": DEPLOYER_CLIENT_ID, "objectId": DEPLOYER_OBJECT_ID,
                "subscriptionId": SUBSCRIPTION_ID, "tenantId": TENANT_ID}

    def _entra_client_config(self, args: dict[str, Any]) -> dict:
        return {"clientId": DEPLOYER_CLIENT_ID, "objectId": DEPLOYER_OBJECT_ID, "tenantId": TENANT_ID, "id": TENANT_ID}

    def _resource_group(self, args: dict[str, Any]) -> dict:
        # The environment's group, which the bootstrap creates (agent_obo/environments.py).
        name = args["resourceGroupName"]
        return {"id": f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{name}", "name": name,
                "location": "eastus2", "type": "Microsoft.Resources/resourceGroups",
                "properties": {"provisioningState": "Succeeded"}, "tags": {}}

    def _service_principal(self, args: dict[str, Any]) -> dict:
        if args.get("clientId") != GRAPH_APP_ID:
            raise ValueError(f"offline mocks know only Microsoft Graph, not {args}")
        return {"id": f"/servicePrincipals/{GRAPH_SERVICE_PRINCIPAL_OBJECT_ID}",
                "objectId": GRAPH_SERVICE_PRINCIPAL_OBJECT_ID, "clientId": GRAPH_APP_ID,
                "displayName": "Microsoft Graph",
                "oauth2PermissionScopeIds": dict(GRAPH_DELEGATED_SCOPES),
                "appRoleIds": dict(GRAPH_APPLICATION_PERMISSIONS)}

    def _service_principals(self, args: dict[str, Any]) -> dict:
        # The offline deployer is a person signed in with az login, not a service principal.
        return {"id": "service-principals", "objectIds": [], "clientIds": [], "displayNames": [],
                "servicePrincipals": []}

    # Every invoke answered, by token: a test holds each to some stack's use (tests/test_offline_mocks.py).
    INVOKES: ClassVar[dict[str, Callable[[AzureMocks, dict[str, Any]], dict]]] = {
        "azure-native:storage:listStorageAccountKeys": _list_storage_account_keys,
        "azure-native:authorization:getClientConfig": _arm_client_config,
        "azuread:index/getClientConfig:getClientConfig": _entra_client_config,
        "azure-native:resources:getResourceGroup": _resource_group,
        "azuread:index/getServicePrincipal:getServicePrincipal": _service_principal,
        "azuread:index/getServicePrincipals:getServicePrincipals": _service_principals,
    }

    @classmethod
    def resource_handlers(cls) -> set[str]:
        """The methods that answer one resource type each (`handler_name`)."""
        return {name for name in dir(cls) if name.startswith(_HANDLED_PACKAGES)}
