"""The Logic Apps Standard site and its Workflow Standard plan.

Settings the runtime needs come from the labs module (samples/*/Deployment/infrastructure/modules/
logicapp.bicep): by default storage is reached with the user-assigned identity (no connection
string, no WEBSITE_CONTENT* settings); with hostStorageAuthentication accessKey, Learn's documented
connection string and Azure Files content share instead (components/runtime_storage.py says why
both exist). The workflows run from the package blob, and the agent's model connection uses the
system-assigned identity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import authorization, monitor, web

from components.role_ids import COGNITIVE_SERVICES_OPENAI_USER, role_definition_id

EXTENSION_BUNDLE_ID = "Microsoft.Azure.Functions.ExtensionBundle.Workflows"
EXTENSION_BUNDLE_VERSION = "[1.*, 2.0.0)"
# connections.json reads the model from these (workflows/connections.json, agentConnections.agent).
MODEL_ENDPOINT_SETTING = "agent_openAIEndpoint"
MODEL_RESOURCE_ID_SETTING = "agent_ResourceID"


@dataclass
class LogicAppArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    subscription_id: str
    plan_name: str
    site_name: str
    plan_sku: str
    maximum_elastic_worker_count: int
    always_ready_instances: int
    runtime_identity_id: pulumi.Input[str]
    blob_endpoint: pulumi.Input[str]
    queue_endpoint: pulumi.Input[str]
    table_endpoint: pulumi.Input[str]
    package_url: pulumi.Input[str]
    application_insights_connection_string: pulumi.Input[str]
    log_analytics_workspace_id: pulumi.Input[str]
    model_endpoint: pulumi.Input[str]
    model_resource_id: pulumi.Input[str]
    agent_workflow: str
    tags: dict[str, str]
    # accessKey host storage: the secret connection string and the content share it mounts; both
    # None for the keyless default.
    host_storage_connection_string: pulumi.Input[str] | None = None
    content_share: pulumi.Resource | None = None
    content_share_name: str | None = None
    # Settings other components own (tool connections, Easy Auth), merged in by name.
    extra_app_settings: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)


def host_storage_app_settings(args: LogicAppArgs) -> dict[str, pulumi.Input[str]]:
    """How the host reaches AzureWebJobsStorage: the runtime identity (labs), or Learn's connection
    string plus the content share (create-single-tenant-workflows-azure-portal, and the settings its
    private-storage guide names: deploy-single-tenant-logic-apps-private-storage-account)."""
    if args.host_storage_connection_string is None:
        return {
            "AzureWebJobsStorage__credential": "managedIdentity",
            "AzureWebJobsStorage__managedIdentityResourceId": args.runtime_identity_id,
            "AzureWebJobsStorage__blobServiceUri": args.blob_endpoint,
            "AzureWebJobsStorage__queueServiceUri": args.queue_endpoint,
            "AzureWebJobsStorage__tableServiceUri": args.table_endpoint,
        }
    if args.content_share_name is None:
        raise ValueError("accessKey host storage needs its content share name")
    return {
        "AzureWebJobsStorage": args.host_storage_connection_string,
        "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING": args.host_storage_connection_string,
        "WEBSITE_CONTENTSHARE": args.content_share_name,
    }


def runtime_app_settings(args: LogicAppArgs) -> dict[str, pulumi.Input[str]]:
    settings: dict[str, pulumi.Input[str]] = {
        "FUNCTIONS_EXTENSION_VERSION": "~4",
        "FUNCTIONS_WORKER_RUNTIME": "dotnet",
        "APP_KIND": "workflowApp",
        "AzureFunctionsJobHost__extensionBundle__id": EXTENSION_BUNDLE_ID,
        "AzureFunctionsJobHost__extensionBundle__version": EXTENSION_BUNDLE_VERSION,
        **host_storage_app_settings(args),
        "WORKFLOWS_SUBSCRIPTION_ID": args.subscription_id,
        "WORKFLOWS_RESOURCE_GROUP_NAME": args.resource_group_name,
        "WORKFLOWS_LOCATION_NAME": args.location,
        "APPLICATIONINSIGHTS_CONNECTION_STRING": args.application_insights_connection_string,
        "WEBSITE_RUN_FROM_PACKAGE": args.package_url,
        "WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID": args.runtime_identity_id,
        MODEL_ENDPOINT_SETTING: args.model_endpoint,
        MODEL_RESOURCE_ID_SETTING: args.model_resource_id,
    }
    clashes = sorted(set(settings) & set(args.extra_app_settings))
    if clashes:
        raise ValueError(f"app settings defined twice: {', '.join(clashes)}")
    settings.update(dict(sorted(args.extra_app_settings.items())))
    return settings


def _system_principal_id(identity: web.outputs.ManagedServiceIdentityResponse | None) -> str:
    if identity is None:
        raise ValueError("the site reports no managed identity, so its system-assigned principal is unknown")
    return identity.principal_id


class LogicApp(pulumi.ComponentResource):
    def __init__(self, name: str, args: LogicAppArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("agent-obo:runtime:LogicApp", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.plan = web.AppServicePlan(
            f"{name}-plan",
            name=args.plan_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            kind="elastic",
            sku=web.SkuDescriptionArgs(name=args.plan_sku, tier="WorkflowStandard"),
            maximum_elastic_worker_count=args.maximum_elastic_worker_count,
            tags=args.tags,
            opts=child,
        )
        self.app_settings = runtime_app_settings(args)
        self.site = web.WebApp(
            f"{name}-site",
            name=args.site_name,
            resource_group_name=args.resource_group_name,
            location=args.location,
            kind="functionapp,workflowapp",
            server_farm_id=self.plan.id,
            https_only=True,
            client_affinity_enabled=False,
            identity=web.ManagedServiceIdentityArgs(
                type=web.ManagedServiceIdentityType.SYSTEM_ASSIGNED_USER_ASSIGNED,
                user_assigned_identities=[args.runtime_identity_id],
            ),
            site_config=web.SiteConfigArgs(
                net_framework_version="v8.0",
                min_tls_version=web.SupportedTlsVersions.SUPPORTED_TLS_VERSIONS_1_2,
                scm_min_tls_version=web.SupportedTlsVersions.SUPPORTED_TLS_VERSIONS_1_2,
                ftps_state=web.FtpsState.DISABLED,
                http20_enabled=True,
                use32_bit_worker_process=False,
                minimum_elastic_instance_count=args.always_ready_instances,
                functions_runtime_scale_monitoring_enabled=True,
                app_settings=[web.NameValuePairArgs(name=key, value=value)
                              for key, value in self.app_settings.items()],
            ),
            tags=args.tags,
            # The content share must exist before the host mounts it.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.content_share] if args.content_share else []),
        )
        # Basic (user name and password) publishing credentials off for FTP and for SCM/Kudu:
        # deployments go through the package blob, with Entra identities only.
        self.ftp_basic_auth = web.WebAppFtpAllowed(
            f"{name}-ftp-basic-auth", name=self.site.name, resource_group_name=args.resource_group_name,
            allow=False, opts=child,
        )
        self.scm_basic_auth = web.WebAppScmAllowed(
            f"{name}-scm-basic-auth", name=self.site.name, resource_group_name=args.resource_group_name,
            allow=False, opts=child,
        )
        self.diagnostics = monitor.DiagnosticSetting(
            f"{name}-diagnostics",
            name="workflow-runtime-to-log-analytics",
            resource_uri=self.site.id,
            workspace_id=args.log_analytics_workspace_id,
            log_analytics_destination_type="Dedicated",
            # WorkflowRuntime: run history and the tools' tracked properties (LogicAppWorkflowRuntime).
            # AppServiceAuthenticationLogs: Easy Auth's warnings and errors, such as a token for the wrong
            # audience; App Service lists it for Windows web apps, Functions and Logic Apps (public
            # preview, App Service team's announcement "App Service Authentication Logs on Diagnostic Settings").
            logs=[monitor.DiagnosticsLogSettingsArgs(category="WorkflowRuntime", enabled=True),
                  monitor.DiagnosticsLogSettingsArgs(category="AppServiceAuthenticationLogs", enabled=True)],
            metrics=[monitor.DiagnosticsMetricSettingsArgs(category="AllMetrics", enabled=True)],
            opts=child,
        )
        self.system_principal_id = self.site.identity.apply(_system_principal_id)
        self.model_access = authorization.RoleAssignment(
            f"{name}-model-access",
            scope=args.model_resource_id,
            principal_id=self.system_principal_id,
            principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
            role_definition_id=role_definition_id(args.subscription_id, COGNITIVE_SERVICES_OPENAI_USER),
            description="Logic app system identity calls the agent's model",
            opts=child,
        )
        self.name = self.site.name
        self.id = self.site.id
        self.default_host_name = self.site.default_host_name
        # The agent's endpoints (../shared/AZURE_CONTRACTS.md section 2, LogicAppsUX
        # WorkflowAndArtifacts.tsx), on the host name Azure gave the site.
        base = pulumi.Output.concat("https://", self.default_host_name)
        self.chat_client_url = pulumi.Output.concat(base, "/api/agentsChat/", args.agent_workflow, "/IFrame")
        self.a2a_endpoint = pulumi.Output.concat(base, "/api/Agents/", args.agent_workflow)
        self.agent_card_url = pulumi.Output.concat(
            base, "/api/agents/", args.agent_workflow, "/.well-known/agent-card.json")
        self.register_outputs({
            "name": self.name,
            "defaultHostName": self.default_host_name,
            "systemPrincipalId": self.system_principal_id,
            "chatClientUrl": self.chat_client_url,
            "a2aEndpoint": self.a2a_endpoint,
            "agentCardUrl": self.agent_card_url,
        })
