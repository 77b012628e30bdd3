"""The connections the catalog needs: one per connector and identity mode, each labelled three ways.

A connection's identity is visible in its name suffix (`-peruser` / `-apponly`), its display name
prefix ("[per-user] ..." / "[app-only] ...") and its tags, so "which identity does this tool use"
is one glance away in the portal, in the plan and in connections.json (the module's "mixed
identity confusion" row).

A per-user entry in connections.json carries `runtimeSource: "Dynamic"` and
`dynamicConnectionProxyUrl` twice, at the entry's top level and under `connectionProperties`,
because Microsoft's readers and writers disagree on where they go and none is documented:
- the portal designer writes them nested under `connectionProperties` (Azure/LogicAppsUX
  libs/designer-v2/src/lib/ui/panel/connectionsPanel/createConnection/createConnectionInternal.tsx,
  applyNewConnection);
- the VS Code extension writes them at the top level ("Flatten dynamic properties to the top
  level", apps/vs-code-designer/src/app/utils/codeless/connection.ts, getConnectionReference), and
  its overview reads the top level first and the nested form "for backward compatibility"
  (apps/vs-code-react/src/app/overview/services/workflowService.ts);
- the standalone designer's chat-client helper reads only the top level (apps/Standalone/src/designer/
  app/AzureLogicAppsDesigner/Services/WorkflowAndArtifacts.tsx, fetchOBOData);
- the Logic Apps runtime's own reader is closed source.
Written both ways, a reader of either form finds both values; both come from the same app setting,
so they cannot disagree. Deploy-verify that the runtime accepts the entry (it accepts each form alone,
since each Microsoft tool's output deploys).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agent_obo.azure_limits import MAX_TAG_VALUE, MAX_TAGS
from agent_obo.catalog import APP_ONLY, PER_USER, Catalog, connection_key
from agent_obo.connectors import Connector
from agent_obo.errors import SettingsError

LABELS = {PER_USER: "[per-user]", APP_ONLY: "[app-only]"}
# Per-user connections: the designer's dynamic connection, undocumented (github.com/Azure/LogicAppsUX,
# libs/logic-apps-shared, base/connection.ts); the typed 2016-06-01 API has no `features`.
PER_USER_API_VERSION = "2018-07-01-preview"
# App-only with the managed identity: Learn's Standard multi-authentication example
# (learn.microsoft.com/azure/logic-apps/create-managed-service-identity, "parameterValueSet") creates
# the V2 connection with this version.
MANAGED_IDENTITY_API_VERSION = "2018-07-01-preview"
APP_ONLY_API_VERSION = "2016-06-01"  # app-only OAuth (a service account): the connection API's stable version
DYNAMIC_USER_INVOKED = "DynamicUserInvoked"
# A per-user connection's name ends in a random generation id of this many bytes (components/tool_connections.py).
GENERATION_BYTES = 4


def scope_fingerprint(scopes: tuple[str, ...]) -> str:
    return hashlib.sha256(" ".join(sorted(scopes)).encode()).hexdigest()[:8]


@dataclass(frozen=True)
class ConnectionSpec:
    connector: Connector
    identity: str
    tools: tuple[str, ...]
    scopes: tuple[str, ...]  # per-user: the union of its tools' delegated scopes
    write_tools: tuple[str, ...] = ()  # its tools that write
    exceptions: tuple[str, ...] = ()  # its tools whose identity breaks the rules, with a justification

    @property
    def reference(self) -> str:
        """Its key in connections.json, its Pulumi logical name and an app-only connection's Azure name;
        stable across scope changes. A per-user connection's Azure name ends in a random generation id
        instead (components/tool_connections.py): renewed whenever its scopes change, or on demand, so
        that a new connection never collides with the one it replaces."""
        return connection_key(self.connector.api_name, self.identity)

    @property
    def longest_name(self) -> str:
        """Its Azure name (components/tool_connections.py), for a per-user one in the form every
        generation takes: what the naming rules are checked on."""
        return f"{self.reference}-{'f' * 2 * GENERATION_BYTES}" if self.per_user else self.reference

    @property
    def per_user(self) -> bool:
        return self.identity == PER_USER

    @property
    def fingerprint(self) -> str:
        return scope_fingerprint(self.scopes) if self.per_user else "none"

    @property
    def display_name(self) -> str:
        return f"{LABELS[self.identity]} {self.connector.display_name}"

    @property
    def authentication(self) -> str:
        if self.per_user:
            return "delegated (signed-in user)"
        return "managed identity" if self.connector.managed_identity else "service account (OAuth)"

    @property
    def needs_authorization(self) -> bool:
        """Every OAuth connection waits for one sign-in after deployment: a per-user one for its
        validation and consent (Learn, set-up-on-behalf-of-user-flow: "any sign-in exists only for
        validation or consent"; chat users then sign in at first use), an app-only one for the
        service account it then always acts as. Managed-identity connections need none."""
        return self.per_user or self.connector.managed_identity is None

    @property
    def signs_in(self) -> str:
        """Who signs in once to authorize it (`make authorize-connections`)."""
        if self.per_user:
            return ("an operator, once, for validation and consent (Learn: the creator's sign-in; no tool "
                    "runs as them); each chat user then signs in at first use")
        return f"the service account every call then runs as, with its {self.connector.display_name} access"

    def authorization_entry(self, azure_name: Any, resource_id: Any) -> dict[str, Any]:
        """Its entry in the `connectionsNeedingAuthorization` stack output: what the operator and
        ops/authorize_connections.py need. A per-user connection's Azure name ends in its random
        generation id, so the name and id come from the deployed resource."""
        return {
            "connection": self.reference,
            "azureName": azure_name,
            "resourceId": resource_id,
            "connector": self.connector.api_name,
            "identityMode": self.identity,
            "authentication": self.authentication,
            "signsIn": self.signs_in,
        }

    @property
    def api_version(self) -> str:
        if self.per_user:
            return PER_USER_API_VERSION
        return MANAGED_IDENTITY_API_VERSION if self.connector.managed_identity else APP_ONLY_API_VERSION

    def setting(self, name: str) -> str:
        return f"{self.reference}_{name}"

    def app_setting_names(self) -> tuple[str, ...]:
        names = ("connectionId", "connectionRuntimeUrl") + (("dynamicConnectionProxyUrl",) if self.per_user else ())
        return tuple(self.setting(name) for name in names)

    def tags(self, base: Mapping[str, str]) -> dict[str, str]:
        """The connection's tags, always inside Azure's limits (agent_obo/azure_limits.py): each list is
        split over continuation tags (`tools`, `tools-2`, ...) where it outgrows one tag value; when
        that would pass the limit on tags, `tools` (listed whole by the identityMatrix output) becomes
        a count and a digest; the lists the policy pack reads stay whole, or the program stops."""
        fixed = {**base, "identity-mode": self.identity, "scope-fingerprint": self.fingerprint,
                 "authentication": self.authentication}
        lists = {"scopes": self.scopes, "write-tools": self.write_tools, "justified-exceptions": self.exceptions}
        tags = {**fixed, **list_tag("tools", self.tools)}
        for name, items in lists.items():
            tags.update(list_tag(name, items))
        if len(tags) > MAX_TAGS:
            digest = hashlib.sha256(" ".join(self.tools).encode()).hexdigest()[:12]
            tags = {**fixed, "tools": f"{len(self.tools)} tools, sha256 {digest}; the identityMatrix output lists them"}
            for name, items in lists.items():
                tags.update(list_tag(name, items))
        if len(tags) > MAX_TAGS:
            raise SettingsError(f"connection {self.reference} needs more tags than Azure allows", [
                f"connection {self.reference}: its write-tools and justified-exceptions lists need {len(tags)} tags "
                f"with the stack's own; Azure allows at most {MAX_TAGS} per resource (tag values at most "
                f"{MAX_TAG_VALUE} characters); allowed: fewer or shorter-named tools on this connector and identity"])
        return tags

    def properties(self, subscription_id: str, location: str) -> dict[str, Any]:
        """Microsoft.Web/connections properties: the designer's (LogicAppsUX base/connection.ts) for a per-user
        connection, Learn's managedIdentityAuth parameter set (create-managed-service-identity) for one that
        signs in with the managed identity."""
        properties: dict[str, Any] = {
            "api": {"id": managed_api_id(subscription_id, location, self.connector.api_name)},
            "displayName": self.display_name,
        }
        if self.per_user:
            properties["features"] = DYNAMIC_USER_INVOKED
        elif self.connector.managed_identity:
            properties["parameterValueSet"] = {"name": self.connector.managed_identity.parameter_value_set,
                                               "values": {}}
        return properties

    def connections_json_entry(self) -> dict[str, Any]:
        """Its managedApiConnections entry; values come from app settings set by the program."""
        entry: dict[str, Any] = {
            "api": {"id": "/subscriptions/@{appsetting('WORKFLOWS_SUBSCRIPTION_ID')}/providers/Microsoft.Web/"
                          f"locations/@{{appsetting('WORKFLOWS_LOCATION_NAME')}}/managedApis/{self.connector.api_name}"},
            "connection": {"id": f"@appsetting('{self.setting('connectionId')}')"},
            "connectionRuntimeUrl": f"@appsetting('{self.setting('connectionRuntimeUrl')}')",
            "authentication": {"type": "ManagedServiceIdentity"},
        }
        if self.per_user:
            # (undocumented) the runtime resolves a per-user connection for each chat user through
            # this proxy; both placements, for every reader (the module docstring says why).
            dynamic = {"runtimeSource": "Dynamic",
                       "dynamicConnectionProxyUrl": f"@appsetting('{self.setting('dynamicConnectionProxyUrl')}')"}
            entry.update(dynamic)
            entry["connectionProperties"] = dict(dynamic)
        elif self.connector.managed_identity:
            entry["connectionProperties"] = {"authentication": {
                "type": "ManagedServiceIdentity", "audience": self.connector.managed_identity.audience}}
        return entry


def list_tag(name: str, items: Sequence[str]) -> dict[str, str]:
    """A list as space-separated words in tag `name`, continued in `name-2`, `name-3`, ... so that no
    value passes Azure's limit; "none" for an empty list. Tool and scope names never contain a space."""
    chunks: list[str] = []
    for item in items:
        if chunks and len(chunks[-1]) + 1 + len(item) <= MAX_TAG_VALUE:
            chunks[-1] += " " + item
        else:
            chunks.append(item)
    chunks = chunks or ["none"]
    return {(name if index == 0 else f"{name}-{index + 1}"): chunk for index, chunk in enumerate(chunks)}


CONTINUATION = re.compile(r"-([2-9]|[1-9][0-9]+)")


def joined_list_tag(tags: Mapping[str, Any], name: str) -> Any:
    """The words of a list tag and its continuations, in order, as one space-separated value (what
    `list_tag` split); None when the tag is absent. Reads every `name-<n>` present, gaps or not."""
    if name not in tags:
        return None
    parts = [(1, tags[name])]
    parts += [(int(key[len(name) + 1:]), value) for key, value in tags.items()
              if key.startswith(name) and CONTINUATION.fullmatch(key[len(name):])]
    values = [value for _, value in sorted(parts, key=lambda part: part[0])]
    if not all(isinstance(value, str) for value in values):
        return next(value for value in values if not isinstance(value, str))  # an unknown part: the whole is unknown
    words = [word for value in values for word in value.split() if word != "none"]
    return " ".join(words) if words else "none"


def managed_api_id(subscription_id: str, location: str, api_name: str) -> str:
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Web/locations/{location}/managedApis/{api_name}"


def connection_specs(catalog: Catalog) -> list[ConnectionSpec]:
    """One connection per (connector, identity), in catalog order."""
    grouped: dict[tuple[str, str], list] = {}
    for tool in catalog.tools:
        grouped.setdefault((tool.connector.api_name, tool.identity), []).append(tool)
    specs = []
    for tools in grouped.values():
        first = tools[0]
        scopes = tuple(sorted({s for t in tools for s in t.scopes}))
        specs.append(ConnectionSpec(
            connector=first.connector, identity=first.identity, tools=tuple(t.name for t in tools),
            scopes=scopes, write_tools=tuple(t.name for t in tools if t.access == "write"),
            exceptions=tuple(t.name for t in tools if t.justification)))
    return specs
