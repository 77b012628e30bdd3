"""The Logic Apps Standard site and its Workflow Standard plan.

Settings the runtime needs come from the labs module (samples/*/Deployment/infrastructure/modules/
logicapp.bicep): by default storage is reached with the user-assigned identity (no connection
string, no WEBSITE_CONTENT* settings); with hostStorageAuthentication accessKey, Learn's documented
connection string and Azure Files content share instead (components/runtime_storage.py says why
both exist). The workflows run from the package blob, and the agent's model connection uses the
system-assigned identity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import authorization, monitor, web

from agent_obo.app_settings import EXTENSION_BUNDLE_ID, EXTENSION_BUNDLE_VERSION
from agent_obo.health_workflow import HEALTH_CHECK_PATH
from components.component import Component
from components.placement import Placement
from components.role_ids import COGNITIVE_SERVICES_OPENAI_USER, role_definition_id

# Re-exported for the tests and the policy pack; agent_obo/app_settings.py decides every app setting.
__all__ = ["EXTENSION_BUNDLE_ID", "EXTENSION_BUNDLE_VERSION", "HEALTH_CHECK_PATH", "ZONE_REDUNDANT_MINIMUM_INSTANCES",
           "LogicApp", "LogicAppArgs"]

# App Service pings this path on every instance and replaces instances that fail: the health workflow
# the package ships, as Learn documents Health Check for Standard logic apps (agent_obo/health_workflow.py).
# Learn (Reliability in Azure Logic Apps; Reliability in Azure Functions): a zone-redundant plan
# has at least three instances, always ready.
ZONE_REDUNDANT_MINIMUM_INSTANCES = 3


@dataclass
class LogicAppArgs:
    placement: Placement
    subscription_id: str
    plan_name: str
    site_name: str
    plan_sku: str
    maximum_elastic_worker_count: int
    always_ready_instances: int
    runtime_identity_id: pulumi.Input[str]
    log_analytics_workspace_id: pulumi.Input[str]
    model_resource_id: pulumi.Input[str]
    agent_workflow: str
    # Every app setting of the site, from agent_obo/app_settings.py's table (AppSettings.resolve);
    # components/app_settings.py applies them.
    app_settings: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # accessKey host storage: the content share the host mounts (None for the keyless default).
    content_share: pulumi.Resource | None = None
    # The runtime identity's storage role assignments: the host may reach its storage only after them.
    host_storage_access: Sequence[pulumi.Resource] = field(default_factory=list)
    zone_redundant: bool = False
    # privateNetworking: the integration subnet all outbound traffic goes through, and what must
    # exist before the site starts (the private endpoints and their DNS records).
    integration_subnet_id: pulumi.Input[str] | None = None
    network_dependencies: Sequence[pulumi.Resource] = ()
    # False: the site answers only through its private endpoint (agent-obo:publicIngress).
    public_ingress: bool = True


def _outbound_routing(args: LogicAppArgs) -> web.OutboundVnetRoutingArgs | None:
    """With VNet integration every outbound route goes through it (application traffic, and the
    content share when there is one): Learn, secure-single-tenant-workflow-virtual-network-private-endpoint."""
    if args.integration_subnet_id is None:
        return None
    return web.OutboundVnetRoutingArgs(application_traffic=True, content_share_traffic=args.content_share is not None)


def _system_principal_id(identity: web.outputs.ManagedServiceIdentityResponse | None) -> str:
    if identity is None:
        raise ValueError("the site reports no managed identity, so its system-assigned principal is unknown")
    return identity.principal_id


class LogicApp(Component[LogicAppArgs], area="runtime"):
    """The plan and the site. `app_settings` are the settings the site runs with; AppSettings
    (components/app_settings.py) applies them once what they point at may be used."""

    def _create(self, name: str, args: LogicAppArgs) -> pulumi.Inputs:
        self.plan = web.AppServicePlan(
            f"{name}-plan",
            name=args.plan_name,
            kind="elastic",
            # Zone redundancy is fixed when a plan is created; the name changes with it, so
            # switching creates a new plan, moves the site, then deletes the old one.
            sku=web.SkuDescriptionArgs(
                name=args.plan_sku, tier="WorkflowStandard",
                capacity=max(ZONE_REDUNDANT_MINIMUM_INSTANCES, args.always_ready_instances)
                if args.zone_redundant else None),
            zone_redundant=args.zone_redundant,
            maximum_elastic_worker_count=args.maximum_elastic_worker_count,
            **args.placement.located(self),
        )
        self.app_settings = dict(args.app_settings)
        self.site = web.WebApp(
            f"{name}-site",
            name=args.site_name,
            kind="functionapp,workflowapp",
            server_farm_id=self.plan.id,
            https_only=True,
            public_network_access="Enabled" if args.public_ingress else "Disabled",
            virtual_network_subnet_id=args.integration_subnet_id,
            outbound_vnet_routing=_outbound_routing(args),
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
                health_check_path=HEALTH_CHECK_PATH,
                vnet_route_all_enabled=args.integration_subnet_id is not None,
                functions_runtime_scale_monitoring_enabled=True,
                # No app_settings: components/app_settings.py applies them all, in order.
            ),
            # The content share must exist before the host mounts it, the host may reach its storage
            # only once the runtime identity holds its roles there, and (privateNetworking) only through
            # the private endpoints and their DNS records.
            **args.placement.located(self, depends_on=[
                *([args.content_share] if args.content_share else []), *args.host_storage_access,
                *args.network_dependencies]),
        )
        # Basic (user name and password) publishing credentials off for FTP and for SCM/Kudu:
        # deployments go through the package blob, with Entra identities only.
        self.ftp_basic_auth = web.WebAppFtpAllowed(
            f"{name}-ftp-basic-auth", name=self.site.name, allow=False, **args.placement.in_group(self))
        self.scm_basic_auth = web.WebAppScmAllowed(
            f"{name}-scm-basic-auth", name=self.site.name, allow=False, **args.placement.in_group(self))
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
            opts=self._child_options(),
        )
        self.system_principal_id = self.site.identity.apply(_system_principal_id)
        self.model_access = authorization.RoleAssignment(
            f"{name}-model-access",
            scope=args.model_resource_id,
            principal_id=self.system_principal_id,
            principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
            role_definition_id=role_definition_id(args.subscription_id, COGNITIVE_SERVICES_OPENAI_USER),
            description="Logic app system identity calls the agent's model",
            opts=self._child_options(),
        )
        self.name = self.site.name
        self.id = self.site.id
        self.default_host_name = self.site.default_host_name
        # The agent's endpoints (github.com/Azure/LogicAppsUX, WorkflowAndArtifacts.tsx), on the host
        # name Azure gave the site.
        base = pulumi.Output.concat("https://", self.default_host_name)
        self.chat_client_url = pulumi.Output.concat(base, "/api/agentsChat/", args.agent_workflow, "/IFrame")
        self.a2a_endpoint = pulumi.Output.concat(base, "/api/Agents/", args.agent_workflow)
        self.agent_card_url = pulumi.Output.concat(
            base, "/api/agents/", args.agent_workflow, "/.well-known/agent-card.json")
        return {
            "name": self.name,
            "defaultHostName": self.default_host_name,
            "systemPrincipalId": self.system_principal_id,
            "chatClientUrl": self.chat_client_url,
            "a2aEndpoint": self.a2a_endpoint,
            "agentCardUrl": self.agent_card_url,
        }
