"""agent-obo-bootstrap: reads the settings and wires the state backend and the pipeline identities.

Its outputs are what the team copies into the repository's GitHub variables and what
`pulumi login` / `pulumi stack init --secrets-provider` take (docs/operations.md).
"""

import pulumi
from bootstrap_settings import load_settings, names_for
from pipeline_identity import PipelineIdentity, PipelineIdentityArgs, deploy_grants, preview_grants
from pulumi_azure_native import authorization
from state_backend import PulumiStateBackend, PulumiStateBackendArgs

settings = load_settings(pulumi.Config())
client = authorization.get_client_config()
names = names_for(client.subscription_id, settings.location)
deployment_scope = settings.deployment_scope or f"/subscriptions/{client.subscription_id}"
deployment_subscription_id = deployment_scope.rsplit("/", 1)[-1]

backend = PulumiStateBackend("state", PulumiStateBackendArgs(
    resource_group_name=names.resource_group, storage_account_name=names.storage_account,
    key_vault_name=names.key_vault, location=settings.location, subscription_id=client.subscription_id,
    tenant_id=client.tenant_id, soft_delete_days=settings.state_soft_delete_days, tags=settings.tags,
    operator_principal_ids=list(settings.state_operators)))

preview = PipelineIdentity("pipeline-preview", PipelineIdentityArgs(
    identity_name=names.preview_identity, resource_group_name=backend.resource_group_name,
    location=settings.location, subscription_id=client.subscription_id, subjects=settings.preview_subjects,
    grants=preview_grants(deployment_scope, backend.container_id, backend.key_id), tags=settings.tags))

deploy = PipelineIdentity("pipeline-deploy", PipelineIdentityArgs(
    identity_name=names.deploy_identity, resource_group_name=backend.resource_group_name,
    location=settings.location, subscription_id=client.subscription_id, subjects=settings.deploy_subjects,
    grants=deploy_grants(deployment_scope, settings.deployment_access, backend.container_id, backend.key_id),
    tags=settings.tags))

pulumi.export("backendUrl", backend.backend_url)
pulumi.export("secretsProvider", backend.secrets_provider)
pulumi.export("stateStorageAccount", backend.account_name)
pulumi.export("deploymentScope", deployment_scope)
pulumi.export("deploymentAccess", settings.deployment_access)
pulumi.export("previewPrincipalId", preview.principal_id)
pulumi.export("deployPrincipalId", deploy.principal_id)
pulumi.export("federatedSubjects", {"preview": settings.preview_subjects, "deploy": settings.deploy_subjects})
# Repository variables (Settings > Secrets and variables > Actions > Variables) the workflows read.
pulumi.export("githubVariables", {
    "AZURE_TENANT_ID": client.tenant_id,
    "AZURE_SUBSCRIPTION_ID": deployment_subscription_id,
    "AZURE_PREVIEW_CLIENT_ID": preview.client_id,
    "AZURE_DEPLOY_CLIENT_ID": deploy.client_id,
    "PULUMI_BACKEND_URL": backend.backend_url,
    "PULUMI_STATE_STORAGE_ACCOUNT": backend.account_name,
})
