"""The Microsoft Graph delegated scopes the app registration requests and the tenant consents to.

Exactly the sign-in scopes plus the union of what the per-user tools declare: no more (least
privilege), no less (no consent prompts mid-chat). Names are resolved to ids through the tenant's
Graph service principal before anything is registered, so a misspelled scope stops the plan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pulumi_azuread as azuread

from agent_obo.catalog import PER_USER, Catalog
from agent_obo.errors import SettingsError

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
SIGN_IN_SCOPES = ("User.Read", "openid", "profile", "offline_access")


@dataclass(frozen=True)
class GraphScopes:
    service_principal_object_id: str
    ids: Mapping[str, str]  # scope name -> permission id, for exactly the required scopes

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self.ids))


def required_scope_names(catalog: Catalog) -> tuple[str, ...]:
    return tuple(sorted(set(SIGN_IN_SCOPES) | set(catalog.per_user_scopes())))


def _graph_service_principal() -> tuple[str, Mapping[str, str]]:
    graph = azuread.get_service_principal(client_id=GRAPH_APP_ID)
    return graph.object_id, graph.oauth2_permission_scope_ids


def resolve_graph_scopes(catalog: Catalog,
                         lookup: Callable[[], tuple[str, Mapping[str, str]]] = _graph_service_principal
                         ) -> GraphScopes:
    object_id, known = lookup()
    required = required_scope_names(catalog)
    unknown = [name for name in required if name not in known]
    if unknown:
        problems = []
        for name in unknown:
            tools = [t.name for t in catalog.tools if t.identity == PER_USER and name in t.scopes]
            problems.append(f"scope {name!r} (declared by {', '.join(tools) or 'sign-in'}): not a delegated "
                            "permission of Microsoft Graph in this tenant; allowed: a Graph delegated scope "
                            "name such as Calendars.Read (names are case-sensitive)")
        raise SettingsError("catalog/tools.yaml asks for unknown Microsoft Graph scopes", problems)
    return GraphScopes(service_principal_object_id=object_id, ids={name: known[name] for name in required})
