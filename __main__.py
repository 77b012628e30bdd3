"""agent-obo: reads the stack's settings and wires the components. Nothing else happens here."""

import pulumi

from agent_obo.prepare import prepare
from components.agent_model import AgentModel, AgentModelArgs
from components.logic_app import LogicApp, LogicAppArgs
from components.observability import Observability, ObservabilityArgs
from components.resource_group import ResourceGroupArgs, WorkloadResourceGroup
from components.runtime_identity import RuntimeIdentity, RuntimeIdentityArgs
from components.runtime_storage import RuntimeStorage, RuntimeStorageArgs
from components.workflow_package import WorkflowPackage, WorkflowPackageArgs

deployment = prepare()  # validates settings and catalog; fails before any resource is registered
settings, names, tags = deployment.settings, deployment.names, deployment.settings.tags

group = WorkloadResourceGroup("workload", ResourceGroupArgs(
    name=names.resource_group, location=settings.location, tags=tags))

observability = Observability("observability", ObservabilityArgs(
    resource_group_name=group.name, location=settings.location, workspace_name=names.log_analytics,
    application_insights_name=names.application_insights, retention_in_days=settings.log_retention_days,
    tags=tags))

runtime_identity = RuntimeIdentity("runtime-identity", RuntimeIdentityArgs(
    resource_group_name=group.name, location=settings.location, name=names.runtime_identity, tags=tags))

runtime_storage = RuntimeStorage("runtime-storage", RuntimeStorageArgs(
    resource_group_name=group.name, location=settings.location, account_name=names.storage_account,
    subscription_id=deployment.subscription_id, runtime_principal_id=runtime_identity.principal_id,
    protect=settings.protect_stateful_resources, tags=tags))

model = AgentModel("agent-model", AgentModelArgs(
    resource_group_name=group.name, location=settings.location, account_name=names.openai_account,
    model=settings.model, tags=tags))

package = WorkflowPackage("workflow-package", WorkflowPackageArgs(
    package=deployment.package, blob_endpoint=runtime_storage.blob_endpoint,
    container_name=runtime_storage.package_container.name, container_id=runtime_storage.package_container.id,
    subscription_id=deployment.subscription_id, deployer_object_id=deployment.deployer_object_id))

logic_app = LogicApp("logic-app", LogicAppArgs(
    resource_group_name=group.name, location=settings.location, subscription_id=deployment.subscription_id,
    plan_name=names.plan, site_name=names.logic_app, plan_sku=settings.plan_sku,
    maximum_elastic_worker_count=settings.maximum_elastic_worker_count,
    always_ready_instances=settings.always_ready_instances,
    runtime_identity_id=runtime_identity.id, blob_endpoint=runtime_storage.blob_endpoint,
    queue_endpoint=runtime_storage.queue_endpoint, table_endpoint=runtime_storage.table_endpoint,
    package_url=package.url, application_insights_connection_string=observability.connection_string,
    log_analytics_workspace_id=observability.workspace_id, model_endpoint=model.endpoint,
    model_resource_id=model.resource_id, tags=tags))

pulumi.export("resourceGroup", group.name)
pulumi.export("logicAppName", logic_app.name)
pulumi.export("logicAppHostName", logic_app.default_host_name)
pulumi.export("modelEndpoint", model.endpoint)
pulumi.export("modelDeployment", model.deployment_name)
pulumi.export("workflowPackageUrl", package.url)
pulumi.export("workflowPackageSha256", package.sha256)
