"""What the program reads from Azure and Microsoft Entra before it registers anything.

`prepare()` (agent_obo/prepare.py) takes these answers through a `Lookups` object, so that all it
decides can be checked without running Pulumi. `AzureLookups` asks through the providers' invokes:
what __main__.py passes under `pulumi up`, and what the offline mocks answer (offline/mocks.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import pulumi_azuread as azuread
from pulumi_azure_native import authorization, resources

from agent_obo.graph_scopes import GRAPH_APP_ID, GraphServicePrincipal


@dataclass(frozen=True)
class Deployer:
    """Who runs the deployment, as the providers' sign-ins see it."""
    subscription_id: str
    arm_tenant_id: str  # the tenant azure-native is signed in to
    entra_tenant_id: str  # the tenant azuread is signed in to
    object_id: str
    principal_type: str  # "User" (az login) or "ServicePrincipal" (a pipeline identity): role assignments say which


@dataclass(frozen=True)
class ResourceGroup:
    name: str
    id: str


class Lookups(Protocol):
    def deployer(self) -> Deployer: ...

    def resource_group(self, name: str) -> ResourceGroup:
        """The group, or an exception saying why it cannot be read (not found, forbidden)."""
        ...

    def graph(self) -> GraphServicePrincipal: ...


class AzureLookups:
    """The lookups as invokes of azure-native and azuread, answered by the signed-in tenant."""

    def deployer(self) -> Deployer:
        azure = authorization.get_client_config()
        entra = azuread.get_client_config()
        as_service_principal = azuread.get_service_principals(object_ids=[entra.object_id], ignore_missing=True)
        return Deployer(subscription_id=azure.subscription_id, arm_tenant_id=azure.tenant_id,
                        entra_tenant_id=entra.tenant_id, object_id=entra.object_id,
                        principal_type="ServicePrincipal" if as_service_principal.service_principals else "User")

    def resource_group(self, name: str) -> ResourceGroup:
        group = resources.get_resource_group(resource_group_name=name)
        return ResourceGroup(name=group.name, id=group.id)

    def graph(self) -> GraphServicePrincipal:
        graph = azuread.get_service_principal(client_id=GRAPH_APP_ID)
        return GraphServicePrincipal(object_id=graph.object_id, delegated_scope_ids=graph.oauth2_permission_scope_ids)
