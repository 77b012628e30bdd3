"""Everything the program decides before it registers its first resource.

Bad input stops here, so nothing reaches Azure: the stack settings, the tool catalog and the Graph
scopes it needs are all checked first, and the workflow package is built from them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azuread as azuread
from pulumi_azure_native import authorization

from agent_obo.naming import Names, names_for
from agent_obo.package import Package, build_package
from agent_obo.settings import Settings, load_settings, read_stack_config
from agent_obo.workflow_files import render_project


@dataclass(frozen=True)
class Deployment:
    settings: Settings
    names: Names
    subscription_id: str
    tenant_id: str
    deployer_object_id: str
    workflow_files: dict[str, bytes]
    package: Package


def prepare() -> Deployment:
    settings = load_settings(read_stack_config(), pulumi.get_stack())
    azure = authorization.get_client_config()
    entra = azuread.get_client_config()
    files = render_project(settings.model, tools={}, managed_connections={})
    return Deployment(
        settings=settings,
        names=names_for(azure.subscription_id, settings.environment, settings.location),
        subscription_id=azure.subscription_id,
        tenant_id=entra.tenant_id,
        deployer_object_id=entra.object_id,
        workflow_files=files,
        package=build_package(files),
    )
