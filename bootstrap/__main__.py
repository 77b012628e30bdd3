"""agent-obo-bootstrap: reads the settings and wires the state backend and each environment's pipeline.

Its outputs are what the team sets as GitHub variables (per repository and per GitHub environment)
and what `pulumi login` / `pulumi stack init --secrets-provider` take (docs/operations.md).
"""

import sys
from pathlib import Path

# The parent project's modules: its environments (one per stack file), the names it gives them, the
# role ids. The CLI runs this file from bootstrap/, where they are not importable by default.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pulumi
import pulumi_azuread as azuread
from bootstrap_settings import PREVIEW_SUFFIX, load_settings, names_for
from pipeline_identity import EnvironmentPipeline, EnvironmentPipelineArgs, GraphServicePrincipal
from pulumi_azure_native import authorization
from state_backend import BOOTSTRAP_STATE, PulumiStateBackend, PulumiStateBackendArgs

from agent_obo.environments import environments
from agent_obo.graph_scopes import GRAPH_APP_ID
from agent_obo.settings import read_secret_config_keys, read_stack_config
from agent_obo.stack_files import check_project_files

# The stack file read strictly (duplicate keys, secrets where none belong), then every setting checked.
check_project_files(pulumi.get_stack(), Path(__file__).resolve().parent)
config = read_stack_config()
settings = load_settings(config, environments(Path(__file__).resolve().parent.parent), read_secret_config_keys(config))
client = authorization.get_client_config()
names = names_for(client.subscription_id, settings.location)
graph = azuread.get_service_principal(client_id=GRAPH_APP_ID)

backend = PulumiStateBackend("state", PulumiStateBackendArgs(
    resource_group_name=names.resource_group, storage_account_name=names.storage_account,
    key_vault_name=names.key_vault, location=settings.location, subscription_id=client.subscription_id,
    tenant_id=client.tenant_id, soft_delete_days=settings.state_soft_delete_days, tags=settings.tags,
    environments=[env.name for env in settings.environments], operator_principal_ids=list(settings.state_operators)))

pipelines = {
    env.name: EnvironmentPipeline(f"env-{env.name}", EnvironmentPipelineArgs(
        environment=env.name, group_name=env.resource_group(client.subscription_id), group_location=env.location,
        group_tags=settings.environment_tags(env.name), identity_group_name=backend.resource_group_name,
        location=settings.location, subscription_id=client.subscription_id,
        deploy_identity_name=names.identity(env.name, "deploy"),
        preview_identity_name=names.identity(env.name, "preview"),
        deploy_subject=settings.deploy_subject(env.name), preview_subject=settings.preview_subject(env.name),
        state_container_id=backend.containers[env.name].id, secrets_key_id=backend.keys[env.name].id,
        delete_locks=env.delete_locks,
        graph=GraphServicePrincipal(object_id=graph.object_id, app_role_ids=graph.app_role_ids),
        tags=settings.tags))
    for env in settings.environments
}

pulumi.export("stateStorageAccount", backend.account_name)
# The bootstrap's own state: `pulumi login` and `pulumi stack init --secrets-provider` (docs).
pulumi.export("bootstrapBackendUrl", backend.backend_urls[BOOTSTRAP_STATE])
pulumi.export("bootstrapSecretsProvider", backend.secrets_providers[BOOTSTRAP_STATE])
pulumi.export("environments", {
    name: {
        "resourceGroup": pipeline.group.name,
        "backendUrl": backend.backend_urls[name],
        "secretsProvider": backend.secrets_providers[name],
        "deployPrincipalId": pipeline.deploy.principal_id,
        "previewPrincipalId": pipeline.preview.principal_id,
        "subjects": {"deploy": settings.deploy_subject(name), "preview": settings.preview_subject(name)},
    }
    for name, pipeline in pipelines.items()
})
# GitHub variables the workflows read: the repository's (Settings > Secrets and variables > Actions >
# Variables), and each GitHub environment's (Settings > Environments > <name> > Environment variables),
# which a job of that environment sees instead of a repository variable of the same name.
pulumi.export("githubVariables", {
    "AZURE_TENANT_ID": client.tenant_id,
    "AZURE_SUBSCRIPTION_ID": client.subscription_id,
    "PULUMI_STATE_STORAGE_ACCOUNT": backend.account_name,
})
pulumi.export("githubEnvironmentVariables", {
    github_environment: {"AZURE_CLIENT_ID": identity.client_id, "PULUMI_BACKEND_URL": backend.backend_urls[name]}
    for name, pipeline in pipelines.items()
    for github_environment, identity in ((name, pipeline.deploy), (name + PREVIEW_SUFFIX, pipeline.preview))
})
