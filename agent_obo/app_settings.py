"""The site's app settings: every name, and where each value comes from, in one table.

prepare() builds the table before any resource exists, so every `@appsetting('x')` in the workflow
files can be checked against the names the site will really have (agent_obo/workflow_references.py).
__main__.py then fills in the values only resources know (`AppSettings.resolve`) and hands the
result to the site. Nothing else adds app settings: a value without an entry, or an entry without a
value, stops the program.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agent_obo.catalog import Catalog
from agent_obo.settings import Settings
from agent_obo.tool_connections import ConnectionSpec

EXTENSION_BUNDLE_ID = "Microsoft.Azure.Functions.ExtensionBundle.Workflows"
EXTENSION_BUNDLE_VERSION = "[1.*, 2.0.0)"
# connections.json reads the model from these (workflows/connections.json, agentConnections.agent).
MODEL_ENDPOINT_SETTING = "agent_openAIEndpoint"
MODEL_RESOURCE_ID_SETTING = "agent_ResourceID"
# Secretless sign-in: Easy Auth reads this setting's value as "the client id of the managed identity
# whose federated credential stands in for a client secret" (docs/easyauth-aad, "use a managed
# identity instead of a secret").
FIC_CLIENT_ID_SETTING = "OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID"
# Where the runtime finds managed API connections (connections.json) and its content share.
SUBSCRIPTION_SETTING = "WORKFLOWS_SUBSCRIPTION_ID"
RESOURCE_GROUP_SETTING = "WORKFLOWS_RESOURCE_GROUP_NAME"
CONTENT_SHARE_SETTING = "WEBSITE_CONTENTSHARE"
ALLOWED_TENANTS_SETTING = "WEBSITE_AUTH_AAD_ALLOWED_TENANTS"


@dataclass(frozen=True)
class Source:
    """A value only a resource knows: filled in by `AppSettings.resolve`."""

    key: str
    description: str  # what it is, for messages and the plan
    optional: bool = False  # offered whether or not a setting reads it (which settings exist varies per stack)


RUNTIME_IDENTITY_ID = Source("runtime-identity-id", "the runtime identity's resource id")
RUNTIME_IDENTITY_CLIENT_ID = Source("runtime-identity-client-id", "the runtime identity's client id")
BLOB_ENDPOINT = Source("blob-endpoint", "the runtime storage account's blob endpoint")
QUEUE_ENDPOINT = Source("queue-endpoint", "the runtime storage account's queue endpoint")
TABLE_ENDPOINT = Source("table-endpoint", "the runtime storage account's table endpoint")
HOST_STORAGE_CONNECTION_STRING = Source("host-storage-connection-string",
                                        "the runtime storage account's connection string (a secret)")
# Read only where an enabled tool declares a container (agent_obo/tool_inputs.py).
STORAGE_ACCOUNT_NAME = Source("storage-account-name", "the runtime storage account's name", optional=True)
APPLICATION_INSIGHTS_CONNECTION_STRING = Source("application-insights-connection-string",
                                                "Application Insights' connection string")
PACKAGE_URL = Source("package-url", "the workflow package blob's URL")
MODEL_ENDPOINT = Source("model-endpoint", "the model account's endpoint")
MODEL_RESOURCE_ID = Source("model-resource-id", "the model account's resource id")


def connection_source(setting_name: str) -> Source:
    """A value the ToolConnections component reports under the app setting's own name."""
    return Source(f"connection:{setting_name}", f"tool connection value {setting_name}")


# The settings that decide which identity reaches what, with what they wire (shown in `make plan`).
IDENTITY_WIRING = {
    "AzureWebJobsStorage__credential": "the host reaches its storage with a managed identity",
    "AzureWebJobsStorage__managedIdentityResourceId": "the identity the host reaches its storage with",
    "AzureWebJobsStorage": "the host reaches its storage with the account key (hostStorageAuthentication accessKey)",
    "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING": "the host mounts its content share with the account key",
    "WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID": "the identity the site reads its workflow package with",
    FIC_CLIENT_ID_SETTING: "the identity whose federated credential signs Easy Auth in (no client secret)",
    ALLOWED_TENANTS_SETTING: "the only tenant whose users Easy Auth lets in",
}


@dataclass(frozen=True)
class AppSettings:
    """The site's app settings by name, each a literal value or a `Source` filled in later."""

    entries: Mapping[str, str | Source]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.entries)

    def resolve(self, values: Mapping[Source, Any]) -> dict[str, Any]:
        """The settings with every Source replaced by its value (an Input); refuses a missing or
        unused value, so the table and what the components provide cannot drift apart."""
        needed = {entry for entry in self.entries.values() if isinstance(entry, Source)}
        missing = sorted(source.description for source in needed - set(values))
        unused = sorted(source.description for source in set(values) - needed if not source.optional)
        if missing or unused:
            raise ValueError(f"app settings: no value for {missing}; values no setting uses: {unused}")
        return {name: values[entry] if isinstance(entry, Source) else entry for name, entry in self.entries.items()}


def tool_app_settings(catalog: Catalog, settings: Settings) -> dict[str, str | Source]:
    """What the enabled tools' parameters read (agent_obo/tool_inputs.py): each tool setting's value,
    and the runtime storage account's name for each tool that declares a container."""
    entries: dict[str, str | Source] = {}
    for tool in catalog.tools:
        if tool.storage:
            entries[tool.storage.app_setting] = STORAGE_ACCOUNT_NAME
        for setting in tool.settings:
            entries[setting.app_setting] = settings.tool_settings[setting.name]
    return entries


def site_app_settings(settings: Settings, catalog: Catalog, connections: Sequence[ConnectionSpec], *,
                      subscription_id: str, tenant_id: str, resource_group_name: str,
                      content_share_name: str) -> AppSettings:
    """The table: the Logic Apps runtime's own settings (github.com/Azure/logicapps-labs,
    samples/shared/modules/logicapp.bicep), host storage by mode, the model, the tool connections, Easy Auth, and what
    the enabled tools' parameters read."""
    if settings.uses_access_key:
        # Learn's connection string plus the content share (create-single-tenant-workflows-azure-portal,
        # deploy-single-tenant-logic-apps-private-storage-account); components/runtime_storage.py says why.
        host_storage: dict[str, str | Source] = {
            "AzureWebJobsStorage": HOST_STORAGE_CONNECTION_STRING,
            "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING": HOST_STORAGE_CONNECTION_STRING,
            CONTENT_SHARE_SETTING: content_share_name,
        }
        if settings.network is not None:
            # Learn (deploy-single-tenant-logic-apps-private-storage-account): the content share over
            # the network, to the file private endpoint.
            host_storage["WEBSITE_CONTENTOVERVNET"] = "1"
    else:
        # Identity-based host storage with the runtime identity (labs): no key anywhere.
        host_storage = {
            "AzureWebJobsStorage__credential": "managedIdentity",
            "AzureWebJobsStorage__managedIdentityResourceId": RUNTIME_IDENTITY_ID,
            "AzureWebJobsStorage__blobServiceUri": BLOB_ENDPOINT,
            "AzureWebJobsStorage__queueServiceUri": QUEUE_ENDPOINT,
            "AzureWebJobsStorage__tableServiceUri": TABLE_ENDPOINT,
        }
    entries: dict[str, str | Source] = {
        "FUNCTIONS_EXTENSION_VERSION": "~4",
        "FUNCTIONS_WORKER_RUNTIME": "dotnet",
        "APP_KIND": "workflowApp",
        "AzureFunctionsJobHost__extensionBundle__id": EXTENSION_BUNDLE_ID,
        "AzureFunctionsJobHost__extensionBundle__version": EXTENSION_BUNDLE_VERSION,
        **host_storage,
        SUBSCRIPTION_SETTING: subscription_id,
        RESOURCE_GROUP_SETTING: resource_group_name,
        "WORKFLOWS_LOCATION_NAME": settings.location,
        "APPLICATIONINSIGHTS_CONNECTION_STRING": APPLICATION_INSIGHTS_CONNECTION_STRING,
        "WEBSITE_RUN_FROM_PACKAGE": PACKAGE_URL,
        "WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID": RUNTIME_IDENTITY_ID,
        MODEL_ENDPOINT_SETTING: MODEL_ENDPOINT,
        MODEL_RESOURCE_ID_SETTING: MODEL_RESOURCE_ID,
    }
    added: dict[str, str | Source] = {
        **{name: connection_source(name) for spec in connections for name in spec.app_setting_names()},
        FIC_CLIENT_ID_SETTING: RUNTIME_IDENTITY_CLIENT_ID,
        ALLOWED_TENANTS_SETTING: tenant_id,
    }
    # Every tool's app setting starts with TOOL_ (agent_obo/tool_inputs.py), so it cannot clash with these.
    tools = tool_app_settings(catalog, settings)
    clashes = sorted(set(entries) & set(added) | (set(entries) | set(added)) & set(tools))
    if clashes:
        raise ValueError(f"app settings defined twice: {', '.join(clashes)}")
    entries.update(sorted({**added, **tools}.items()))
    return AppSettings(entries)
