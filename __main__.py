"""agent-obo: reads the stack's settings and wires the components. Nothing else happens here."""

from pathlib import Path

import pulumi

from agent_obo import app_settings as site_setting
from agent_obo.entra import issuer
from agent_obo.lookups import AzureLookups
from agent_obo.network import MODEL_ZONE, SITE_ZONE, STORAGE_ZONES, required_zones
from agent_obo.prepare import prepare
from agent_obo.settings import read_secret_config_keys, read_stack_config
from agent_obo.workflow_files import AGENT_WORKFLOW
from components.agent_model import AgentModel, AgentModelArgs
from components.app_settings import AppSettings, AppSettingsArgs
from components.audit_monitoring import AuditMonitoring, AuditMonitoringArgs
from components.chat_app_registration import (
    ChatAppRegistration,
    ChatAppRegistrationArgs,
    user_impersonation_scope_id,
)
from components.delete_locks import DeleteLocks, DeleteLocksArgs
from components.easy_auth import EasyAuth, EasyAuthArgs
from components.logic_app import LogicApp, LogicAppArgs
from components.observability import Observability, ObservabilityArgs
from components.placement import Placement
from components.private_network import (
    EndpointTarget,
    PrivateEndpoints,
    PrivateEndpointsArgs,
    PrivateNetwork,
    PrivateNetworkArgs,
)
from components.runtime_identity import RuntimeIdentity, RuntimeIdentityArgs
from components.runtime_storage import RuntimeStorage, RuntimeStorageArgs
from components.tool_connections import (
    ConnectionAccess,
    ConnectionAccessArgs,
    ToolConnections,
    ToolConnectionsArgs,
)
from components.verification_client import VerificationClient, VerificationClientArgs
from components.workflow_package import WorkflowPackage, WorkflowPackageArgs

# Settings, tool catalog, Graph scopes and workflow files are validated here, before any resource; what
# Azure and Entra know (the deployer, the environment's group, Graph's scope ids) comes from their invokes.
config = read_stack_config()
decisions = prepare(pulumi.get_stack(), config, AzureLookups(), project_dir=Path(__file__).parent,
                    secret_keys=read_secret_config_keys(config))
settings, names = decisions.settings, decisions.names
sign_in = settings.sign_in
net = settings.network  # None: public endpoints

# The environment's resource group exists already: the bootstrap creates it (agent_obo/prepare.py).
group = decisions.resource_group
# Every component's resources: in that group, in the stack's region, with the stack's tags.
placement = Placement(group.name, settings.location, settings.tags)

observability = Observability("observability", ObservabilityArgs(
    placement=placement, workspace_name=names.log_analytics, application_insights_name=names.application_insights,
    retention_in_days=settings.log_retention_days))

runtime_identity = RuntimeIdentity("runtime-identity", RuntimeIdentityArgs(
    placement=placement, name=names.runtime_identity))

runtime_storage = RuntimeStorage("runtime-storage", RuntimeStorageArgs(
    placement=placement, account_name=names.storage_account, subscription_id=decisions.subscription_id,
    runtime_principal_id=runtime_identity.principal_id, protect=settings.protect_stateful_resources,
    content_share_name=names.content_share if settings.uses_access_key else None,
    zone_redundant=settings.zone_redundant, private=net is not None,
    firewall_ip_ranges=net.storage_firewall_ip_ranges if net else (), tool_containers=decisions.tool_containers))

model = AgentModel("agent-model", AgentModelArgs(
    placement=placement, account_name=names.openai_account, model=settings.model, private=net is not None))

private_network = private_endpoints = None
if net is not None:
    zones = required_zones(settings.uses_access_key, settings.model.creates_account, net.public_ingress)
    private_network = PrivateNetwork("network", PrivateNetworkArgs(
        placement=placement, settings=net, virtual_network_name=names.virtual_network,
        network_security_group_name=names.network_security_group, zones=sorted(set(zones.values()))))
    targets = [EndpointTarget(f"st-{group_id}", names.private_endpoint("st", group_id), runtime_storage.account.id,
                              group_id, zone)
               for group_id, zone in STORAGE_ZONES.items() if group_id in zones]
    if settings.model.creates_account:
        targets.append(EndpointTarget("oai-account", names.private_endpoint("oai", MODEL_ZONE[0]), model.resource_id,
                                      *MODEL_ZONE))
    private_endpoints = PrivateEndpoints("private-endpoints", PrivateEndpointsArgs(
        placement=placement, subnet_id=private_network.private_endpoint_subnet_id,
        zone_ids=private_network.zone_ids, targets=targets, depends_on=private_network.zone_links))

tool_connections = ToolConnections("tool-connections", ToolConnectionsArgs(
    placement=placement, specs=decisions.connections, subscription_id=decisions.subscription_id))

package = WorkflowPackage("workflow-package", WorkflowPackageArgs(
    package=decisions.package, blob_endpoint=runtime_storage.blob_endpoint,
    container_name=runtime_storage.package_container.name, container_id=runtime_storage.package_container.id,
    subscription_id=decisions.subscription_id, deployer_object_id=decisions.deployer_object_id,
    deployer_principal_type=decisions.deployer_principal_type))

logic_app = LogicApp("logic-app", LogicAppArgs(
    placement=placement, subscription_id=decisions.subscription_id, plan_name=names.plan_for(settings.zone_redundant),
    site_name=names.logic_app, plan_sku=settings.plan_sku,
    maximum_elastic_worker_count=settings.maximum_elastic_worker_count,
    always_ready_instances=settings.always_ready_instances, runtime_identity_id=runtime_identity.id,
    log_analytics_workspace_id=observability.workspace_id, model_resource_id=model.resource_id,
    agent_workflow=AGENT_WORKFLOW, content_share=runtime_storage.content_share,
    host_storage_access=runtime_storage.runtime_role_assignments,
    zone_redundant=settings.zone_redundant, public_ingress=net.public_ingress if net else True,
    integration_subnet_id=private_network.integration_subnet_id if private_network else None,
    network_dependencies=[private_endpoints] if private_endpoints else [],
    app_settings=decisions.app_settings.resolve({
        site_setting.RUNTIME_IDENTITY_ID: runtime_identity.id,
        site_setting.RUNTIME_IDENTITY_CLIENT_ID: runtime_identity.client_id,
        **({site_setting.HOST_STORAGE_CONNECTION_STRING: runtime_storage.connection_string}
           if settings.uses_access_key else {
               site_setting.BLOB_ENDPOINT: runtime_storage.blob_endpoint,
               site_setting.QUEUE_ENDPOINT: runtime_storage.queue_endpoint,
               site_setting.TABLE_ENDPOINT: runtime_storage.table_endpoint}),
        site_setting.STORAGE_ACCOUNT_NAME: runtime_storage.account_name,
        site_setting.APPLICATION_INSIGHTS_CONNECTION_STRING: observability.connection_string,
        site_setting.PACKAGE_URL: package.url,
        site_setting.MODEL_ENDPOINT: model.endpoint,
        site_setting.MODEL_RESOURCE_ID: model.resource_id,
        **{site_setting.connection_source(name): value for name, value in tool_connections.app_settings.items()},
    })))

site_endpoint = None
if private_network is not None and net is not None and not net.public_ingress:
    site_endpoint = PrivateEndpoints("site-endpoint", PrivateEndpointsArgs(
        placement=placement, subnet_id=private_network.private_endpoint_subnet_id,
        zone_ids=private_network.zone_ids, depends_on=private_network.zone_links,
        targets=[EndpointTarget("site-sites", names.private_endpoint("logic", SITE_ZONE[0]), logic_app.id,
                                *SITE_ZONE)]))

connection_access = ConnectionAccess("connection-access", ConnectionAccessArgs(
    placement=placement, connections=tool_connections, subscription_id=decisions.subscription_id,
    tenant_id=decisions.tenant_id, site_principal_id=logic_app.system_principal_id,
    container_grants=decisions.container_grants,
    container_ids={name: container.id for name, container in runtime_storage.tool_containers.items()}))

app_settings = AppSettings("app-settings", AppSettingsArgs(
    placement=placement, site_name=logic_app.name, settings=logic_app.app_settings,
    after=[*connection_access.policies.values(), *connection_access.data_access, logic_app.model_access,
           *runtime_storage.runtime_role_assignments]))

app_registration = ChatAppRegistration("chat-app", ChatAppRegistrationArgs(
    display_name=names.app_registration, environment=settings.environment, tenant_id=decisions.tenant_id,
    site_host_name=logic_app.default_host_name,
    deployer_object_id=decisions.deployer_object_id, additional_owners=list(sign_in.app_owners),
    graph_scopes=decisions.graph_scopes, runtime_identity_principal_id=runtime_identity.principal_id,
    assignment_required=sign_in.assignment_required, protect=settings.protect_stateful_resources,
    allowed_users=list(sign_in.allowed_users), allowed_groups=list(sign_in.allowed_groups)))

# Part 4's two-user check signs users in through a client of its own, only where a stack asks for it.
verification_client = VerificationClient("verification-client", VerificationClientArgs(
    display_name=names.verification_client, environment=settings.environment,
    owners=[decisions.deployer_object_id], agent_application_id=app_registration.application.id,
    agent_client_id=app_registration.client_id,
    user_impersonation_scope_id=user_impersonation_scope_id(settings.environment),
    users=list(settings.audit.verification_users),
)) if settings.audit.verification_users else None

easy_auth = EasyAuth("easy-auth", EasyAuthArgs(
    placement=placement, site_name=logic_app.name, client_id=app_registration.client_id,
    identifier_uri=app_registration.identifier_uri, issuer=issuer(decisions.tenant_id),
    unauthenticated_action=sign_in.unauthenticated_action, excluded_paths=list(sign_in.excluded_paths),
    additional_audiences=list(sign_in.additional_token_audiences),
    allowed_users=list(sign_in.allowed_users), allowed_groups=list(sign_in.allowed_groups),
    additional_allowed_applications=[verification_client.client_id] if verification_client else [],
    depends_on=[app_registration.federated_credential, app_settings.settings]))

audit_monitoring = AuditMonitoring("audit-monitoring", AuditMonitoringArgs(
    placement=placement, environment=settings.environment, workspace_id=observability.workspace_id,
    queries=decisions.queries, email_receivers=list(settings.audit.alert_email_receivers),
    depends_on=[logic_app.diagnostics]))

if settings.protect_stateful_resources:
    # Last: every other component first, so `pulumi destroy` removes the locks before anything else.
    DeleteLocks("delete-locks", DeleteLocksArgs(
        targets={"storage": runtime_storage.account.id, "log-analytics": observability.workspace_id,
                 **({"model": model.resource_id} if settings.model.creates_account else {})},
        # Every component wired above, whatever is added later: a lock created before some part of
        # the stack would be deleted after it.
        after=[part for part in list(globals().values()) if isinstance(part, pulumi.ComponentResource)]))

# The stack's outputs: what operators and the ops scripts (ops/) read with `pulumi stack output`.
outputs: dict[str, object] = {
    "resourceGroup": group.name,
    "logicAppName": logic_app.name,
    "logicAppHostName": logic_app.default_host_name,
    "chatClientUrl": logic_app.chat_client_url,
    "a2aEndpoint": logic_app.a2a_endpoint,
    "agentCardUrl": logic_app.agent_card_url,
    "tenantId": decisions.tenant_id,
    "clientId": app_registration.client_id,
    "identifierUri": app_registration.identifier_uri,
    "graphScopes": list(decisions.graph_scopes.names),
    # An administrator's step (make grant-sign-in): consent to graphScopes, assign signInAssignments.
    "adminConsentUrl": app_registration.admin_consent_url,
    "signInAssignments": app_registration.sign_in_assignments,
    "identityMatrix": decisions.identity_matrix,
    "connectionsNeedingAuthorization": tool_connections.needing_authorization,
    "modelEndpoint": model.endpoint,
    "modelDeployment": model.deployment_name,
    "workflowPackageUrl": package.url,
    "workflowPackageSha256": package.sha256,
    "auditWorkbookId": audit_monitoring.workbook.id,
    "alertRules": sorted(audit_monitoring.alerts),
}
if verification_client:
    outputs |= {
        "verificationClientId": verification_client.client_id,
        "verificationClientAssignments": verification_client.sign_in_assignments,
    }
for output_name, value in outputs.items():
    pulumi.export(output_name, value)
