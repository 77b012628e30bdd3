"""Everything the program decides before it registers its first resource.

Bad input stops here, so nothing reaches Azure: the stack settings, the tool catalog, the Graph
scopes it needs and the workflow files are all checked first, and the package is built from them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent_obo.app_settings import AppSettings, site_app_settings
from agent_obo.azure_limits import name_problem, tag_problems
from agent_obo.catalog import CATALOG_FILE, Catalog, load_catalog
from agent_obo.errors import SettingsError
from agent_obo.graph_scopes import GraphScopes, resolve_graph_scopes
from agent_obo.identity_matrix import identity_matrix
from agent_obo.lookups import Lookups, ResourceGroup
from agent_obo.monitoring_queries import QUERIES, Query, load_queries
from agent_obo.naming import NAME_TYPES, Names, names_for
from agent_obo.package import Package, build_package
from agent_obo.settings import Settings, load_settings
from agent_obo.stack_files import check_project_files
from agent_obo.tool_connections import ConnectionSpec, connection_specs
from agent_obo.tool_inputs import ContainerGrant, container_grants, parameters_json, setting_rules, tool_containers
from agent_obo.workflow_files import WORKFLOWS, render_project
from agent_obo.workflow_references import check_references
from agent_obo.workflow_tools import workflow_tools


def environment_group(lookups: Lookups, name: str, location: str) -> ResourceGroup:
    """The environment's resource group, which the bootstrap creates (bootstrap/, docs/operations.md):
    each environment's deploy identity holds its roles on that group only, so it could not create
    the group itself. Read here, before any resource, so a missing group stops the plan with the way
    to create it."""
    try:
        return lookups.resource_group(name)
    except Exception as problem:  # the invoke's error is whatever Azure answered (not found, forbidden)
        raise SettingsError("the environment's resource group cannot be read", [
            f"resource group {name!r}: {problem}; the bootstrap creates one per stack file (docs/operations.md, "
            f"\"Team set-up\"); trying it alone: az group create --name {name} --location {location}"]) from None


@dataclass(frozen=True)
class Decisions:
    """What prepare() decided, for __main__.py to wire: no resource exists yet."""

    settings: Settings
    names: Names
    resource_group: ResourceGroup  # created by the bootstrap, never by the program
    subscription_id: str
    tenant_id: str
    deployer_object_id: str
    deployer_principal_type: str  # "User" or "ServicePrincipal": role assignments must say which
    catalog: Catalog  # the tools enabled in this environment
    connections: list[ConnectionSpec]
    tool_containers: tuple[str, ...]  # runtime storage containers of every catalog tool, enabled or not
    container_grants: list[ContainerGrant]  # the site's identity on the containers of the enabled tools
    graph_scopes: GraphScopes
    identity_matrix: list[dict[str, str]]
    package: Package  # the rendered workflow project, zipped
    queries: list[Query]  # monitoring/queries: the workbook's and the alerts' one source
    app_settings: AppSettings  # every app setting of the site, with where each value comes from


def _check_required_settings(catalog: Catalog, settings: Settings) -> None:
    problems = [
        f"agent-obo:{setting.name} = {settings.tool_settings[setting.name]!r}: required while tool {tool.name!r} is "
        f"enabled ({setting.description}, such as {setting.example}); set it, or switch the tool off with "
        "agent-obo:disabledTools"
        for tool in catalog.tools for setting in tool.settings
        if setting.required and not settings.tool_settings[setting.name]
    ]
    if problems:
        raise SettingsError("enabled tools need settings that are not set", problems)


def _check_private_network_reach(catalog: Catalog, settings: Settings) -> None:
    """A tool's `storage` is read by its managed connector from Microsoft's multitenant connector service:
    with privateNetworking the account refuses public traffic, and Learn says managed connectors cannot
    pass a storage firewall in the same region (connectors-create-api-azureblobstorage, "Access storage
    accounts behind firewalls")."""
    if settings.network is None:
        return
    problems = [
        f"tool {tool.name!r} (connector {tool.connector.api_name}): its managed connector reads blob container "
        f"{tool.storage.container} of the runtime storage from Microsoft's connector service, which the storage "
        "firewall of agent-obo:privateNetworking = true refuses; switch the tool off with agent-obo:disabledTools, "
        "or set privateNetworking to false"
        for tool in catalog.tools if tool.storage
    ]
    if problems:
        raise SettingsError("enabled tools cannot reach a private runtime storage account", problems)


def _check_tenant(settings: Settings, signed_in: dict[str, str]) -> None:
    """The stack declares its tenant; deploying it from a sign-in to another tenant would register its app
    and trust its tokens there."""
    problems = [
        f"agent-obo:tenantId = {settings.tenant_id!r}: {provider} is signed in to tenant {tenant!r}; sign in to "
        f"the stack's tenant (az login --tenant {settings.tenant_id}, or ARM_TENANT_ID), or correct the setting"
        for provider, tenant in signed_in.items() if str(tenant).lower() != settings.tenant_id]
    if problems:
        raise SettingsError("signed in to another tenant than the stack declares", problems)


def check_azure_limits(names: Names, settings: Settings, connections: list[ConnectionSpec],
                       containers: tuple[str, ...] = ()) -> None:
    """Every name the program derives and every tag it sets, against Azure's limits (azure_limits.py)."""
    named = [(f"Azure name {prop}", arm_type, getattr(names, prop)) for prop, arm_type in NAME_TYPES.items()]
    named += [(f"connection {spec.reference}", "Microsoft.Web/connections", spec.longest_name) for spec in connections]
    named += [(f"tool container {container}", "Microsoft.Storage/storageAccounts/blobServices/containers", container)
              for container in containers]
    named.append(("agent-obo:modelDeploymentName", "Microsoft.CognitiveServices/accounts/deployments",
                  settings.model.deployment_name))
    problems = [f"{where} = {value!r}: {problem}" for where, arm_type, value in named
                if (problem := name_problem(arm_type, value))]
    tagged = [("every resource's tags", settings.tags)]
    tagged += [(f"connection {spec.reference}'s tags", spec.tags(settings.tags)) for spec in connections]
    problems += [f"{where}: {problem}" for where, tags in tagged for problem in tag_problems(tags)]
    if problems:
        raise SettingsError("names or tags would not fit Azure's limits", problems)


def prepare(stack: str, config: Mapping[str, Any], lookups: Lookups, *, project_dir: Path,
            secret_keys: Collection[str] = ()) -> Decisions:
    """`config`: every config value of the run, `agent-obo:<key>` -> the CLI's string (`secret_keys` name
    the secret ones, never shown in an error); `lookups`: what Azure and Entra answer (__main__.py passes
    the providers' invokes); `project_dir`: where the stack files, the catalog and workflows/ are."""
    check_project_files(stack, project_dir)
    full_catalog = load_catalog(project_dir / CATALOG_FILE)
    settings = load_settings(dict(config), stack, set(secret_keys), tool_settings=setting_rules(full_catalog))
    catalog = full_catalog.without(settings.disabled_tools)
    queries = load_queries(project_dir / QUERIES)
    _check_required_settings(catalog, settings)
    _check_private_network_reach(catalog, settings)
    graph_scopes = resolve_graph_scopes(catalog, lookups.graph(),
                                        delegate_tool_scopes=settings.sign_in.delegate_tool_scopes)
    connections = connection_specs(catalog)
    files = render_project(
        settings.model,
        tools=workflow_tools(catalog),
        managed_connections={spec.reference: spec.connections_json_entry() for spec in connections},
        source=project_dir / WORKFLOWS,
        secure_agent_run_history=settings.audit.secure_agent_run_history,
        tool_parameters=parameters_json(catalog),
    )
    deployer = lookups.deployer()
    _check_tenant(settings, signed_in={"Microsoft Entra (azuread)": deployer.entra_tenant_id,
                                       "Azure Resource Manager (azure-native)": deployer.arm_tenant_id})
    names = names_for(deployer.subscription_id, settings.environment, settings.location)
    group = environment_group(lookups, names.resource_group, settings.location)
    app_settings = site_app_settings(settings, catalog, connections, subscription_id=deployer.subscription_id,
                                     tenant_id=deployer.entra_tenant_id, resource_group_name=names.resource_group,
                                     content_share_name=names.content_share)
    check_references(files, app_settings.names)
    containers = tool_containers(full_catalog)
    check_azure_limits(names, settings, connections, containers)
    return Decisions(
        settings=settings,
        names=names,
        resource_group=group,
        subscription_id=deployer.subscription_id,
        tenant_id=settings.tenant_id,
        deployer_object_id=deployer.object_id,
        deployer_principal_type=deployer.principal_type,
        catalog=catalog,
        connections=connections,
        tool_containers=containers,
        container_grants=container_grants(catalog),
        graph_scopes=graph_scopes,
        identity_matrix=identity_matrix(catalog, connections),
        package=build_package(files),
        queries=queries,
        app_settings=app_settings,
    )
