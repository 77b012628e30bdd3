"""The Microsoft Graph delegated scopes the chat app requests and an administrator consents to.

By default exactly what sign-in needs: Microsoft's agent Easy Auth guide asks only Graph User.Read
of this app, and the per-user connectors sign each user in through the connector's own consent at
first use, not with the chat app's token (docs/operations.md, "The chat app's scopes"). A stack
whose sign-in logs show the chat app obtaining tool tokens sets
`agent-obo:delegateToolScopesToChatApp: true`, which adds exactly the union of the per-user tools'
scopes. Every per-user tool's scope is resolved to its id through the tenant's Graph service
principal either way, before anything is registered, so a misspelled scope stops the plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from agent_obo.catalog import PER_USER, Catalog
from agent_obo.errors import SettingsError

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
# What every sign-in asks for (Easy Auth's login parameters): an OpenID Connect id token with the user's
# profile, and a refresh token (offline_access) so the token store can renew the user's tokens.
LOGIN_SCOPES = ("openid", "profile", "offline_access")
# OpenID Connect's scopes (learn.microsoft.com/entra/identity-platform/scopes-oidc): they reach no data, so a
# tool never declares one (agent_obo/catalog.py).
OPENID_CONNECT_SCOPES = frozenset({*LOGIN_SCOPES, "email"})
# What the chat app requests and an administrator consents to when it delegates no tool scopes: sign-in,
# and reading the signed-in user's own profile (Microsoft's agent Easy Auth guide asks for User.Read).
SIGN_IN_SCOPES = ("User.Read", *LOGIN_SCOPES)


@dataclass(frozen=True)
class GraphServicePrincipal:
    """Microsoft Graph's service principal in the tenant (agent_obo/lookups.py reads it)."""
    object_id: str
    delegated_scope_ids: Mapping[str, str]  # scope name -> permission id


@dataclass(frozen=True)
class GraphScopes:
    service_principal_object_id: str
    ids: Mapping[str, str]  # scope name -> permission id, for exactly the required scopes

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self.ids))


def required_scope_names(catalog: Catalog, *, delegate_tool_scopes: bool) -> tuple[str, ...]:
    """The chat app's Graph delegated scopes: the one derivation the program, the consent script
    (ops/grant_sign_in.py) and the policy pack share."""
    names = set(SIGN_IN_SCOPES)
    if delegate_tool_scopes:
        names |= set(catalog.per_user_scopes())
    return tuple(sorted(names))


def resolve_graph_scopes(catalog: Catalog, graph: GraphServicePrincipal, *, delegate_tool_scopes: bool
                         ) -> GraphScopes:
    known = graph.delegated_scope_ids
    required = required_scope_names(catalog, delegate_tool_scopes=delegate_tool_scopes)
    # The tools' scopes are checked whether or not the chat app requests them: the connectors ask
    # users to consent to them, and a misspelled one would otherwise surface only mid-chat.
    checked = sorted(set(required) | set(catalog.per_user_scopes()))
    unknown = [name for name in checked if name not in known]
    if unknown:
        problems = []
        for name in unknown:
            tools = [t.name for t in catalog.tools if t.identity == PER_USER and name in t.scopes]
            problems.append(f"scope {name!r} (declared by {', '.join(tools) or 'sign-in'}): not a delegated "
                            "permission of Microsoft Graph in this tenant; allowed: a Graph delegated scope "
                            "name such as Calendars.Read (names are case-sensitive)")
        raise SettingsError("catalog/tools.yaml asks for unknown Microsoft Graph scopes", problems)
    return GraphScopes(service_principal_object_id=graph.object_id, ids={name: known[name] for name in required})
