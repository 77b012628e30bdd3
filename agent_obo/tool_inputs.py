"""What a tool needs from the stack besides its connection, declared once in its catalog entry.

- `settings`: stack settings of its own (`agent-obo:<name>`). From each declaration the program derives
  the setting's rule (checked whole, with the messages every setting has: agent_obo/settings.py),
  whether a stack must set it while the tool is enabled, the app setting that carries the value to
  the site, and the parameters.json entry the operation reads (`@parameters('<name>')`).
- `storage`: a blob container of the runtime storage account that the app's identity reaches for
  the tool. From it the program derives the container (created for every tool of the catalog,
  enabled or not: the data outlives a switch), one role assignment for the site's identity on that
  container alone, Storage Blob Data Reader or Contributor (enabled tools only), and the parameter
  that names the account.

Every app setting derived here starts with TOOL_: whatever a catalog entry declares, it cannot set
one of the platform's own settings (WEBSITE_*, AzureWebJobs*, FUNCTIONS_*, ...), which change how
the site runs or signs users in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent_obo.azure_limits import NIL_GUID
from agent_obo.naming import PACKAGE_CONTAINER
from agent_obo.settings import Rule

if TYPE_CHECKING:
    from agent_obo.catalog import Catalog

APP_SETTING_PREFIX = "TOOL_"
READ, WRITE = "read", "write"
# Containers of the runtime storage account that are not a tool's to reach: the workflow package's
# (and "packages", the end of its Pulumi name in components/runtime_storage.py, where a tool's
# container is named by its own name), the Functions host's own (learn.microsoft.com/azure/
# azure-functions/storage-considerations: azure-webjobs-hosts, azure-webjobs-secrets; scm-releases),
# and the Logic Apps runtime's, which hold run history: Microsoft documents no list; the runtime names
# its storage flow<hash of the app>... (a community reading of the runtime's tables: dev.to/imdj,
# "Inside Logic Apps Standard"), so the whole prefix is refused, the safer default.
RESERVED_CONTAINERS = (PACKAGE_CONTAINER, "packages")
HOST_CONTAINER_PREFIXES = ("azure-webjobs-", "scm-", "flow")


def app_setting_name(parameter: str) -> str:
    """`operationsTeamId` -> `TOOL_OPERATIONS_TEAM_ID`."""
    return APP_SETTING_PREFIX + re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", parameter).upper()


def _whole_value(pattern: str) -> str:
    """The declared pattern, and what every text setting holds to: no space at either end, no control
    characters (a folded YAML scalar's line break, a pasted tab), not the nil GUID (a placeholder left in,
    whatever id the setting holds)."""
    return rf"(?=\S)(?!(?s:.*)[\x00-\x1f\x7f])(?!{NIL_GUID}\Z)(?:{pattern})(?<=\S)"


@dataclass(frozen=True)
class ToolSetting:
    name: str  # agent-obo:<name> in the stack; the operation reads @parameters('<name>')
    description: str  # what the value is, as a noun phrase
    pattern: str  # what the whole value must match
    example: str
    required: bool = True  # the stack must set it while the tool is enabled

    @property
    def app_setting(self) -> str:
        return app_setting_name(self.name)

    def rule(self) -> Rule:
        return Rule("string", pattern=re.compile(_whole_value(self.pattern)),
                    hint=f"{self.description}, such as {self.example}", may_be_empty=True)


@dataclass(frozen=True)
class StorageAccess:
    container: str  # in the runtime storage account
    access: str  # READ or WRITE

    @property
    def parameter(self) -> str:
        """`runbooks` -> `runbooksStorageAccount`: the parameter holding the account's name."""
        first, *rest = self.container.split("-")
        return first + "".join(part.capitalize() for part in rest) + "StorageAccount"

    @property
    def app_setting(self) -> str:
        return app_setting_name(self.parameter)


@dataclass(frozen=True)
class ContainerGrant:
    """The site's identity on one container: one role per container, whichever tools declare it."""

    connection: str  # the app-only connection of its first tool: the calls that use the site's identity
    container: str
    access: str  # the most any of its tools declares: write includes read
    tools: tuple[str, ...]

    @property
    def name(self) -> str:
        """Its Pulumi logical name (`azureblob-apponly-runbooks-reader`)."""
        return f"{self.connection}-{self.container}-{'reader' if self.access == READ else 'writer'}"

    @property
    def description(self) -> str:
        verb = "read" if self.access == READ else "read and write"
        return f"{self.connection}: its app-only tools {verb} blob container {self.container} with the site's identity"


def tool_containers(catalog: Catalog) -> tuple[str, ...]:
    """Every container the catalog's tools declare, enabled or not, in catalog order."""
    return tuple(dict.fromkeys(tool.storage.container for tool in catalog.tools if tool.storage))


def container_grants(catalog: Catalog) -> list[ContainerGrant]:
    """One grant per container the enabled tools declare, at the most any of them declares: a second role
    assignment of the same identity, role and scope is one Azure refuses (RoleAssignmentExists)."""
    grouped: dict[str, list[Any]] = {}
    for tool in catalog.tools:
        if tool.storage:
            grouped.setdefault(tool.storage.container, []).append(tool)
    return [ContainerGrant(tools[0].connection_reference, container,
                           WRITE if any(t.storage.access == WRITE for t in tools) else READ,
                           tuple(t.name for t in tools))
            for container, tools in grouped.items()]


def tool_parameters(catalog: Catalog) -> dict[str, str]:
    """parameters.json entries the enabled tools read: parameter name -> the app setting holding its value."""
    parameters: dict[str, str] = {}
    for tool in catalog.tools:
        if tool.storage:
            parameters[tool.storage.parameter] = tool.storage.app_setting
        for setting in tool.settings:
            parameters[setting.name] = setting.app_setting
    return parameters


def parameters_json(catalog: Catalog) -> dict[str, Any]:
    """The generated part of workflows/parameters.json: each parameter reads its app setting."""
    return {name: {"type": "String", "value": f"@appsetting('{app_setting}')"}
            for name, app_setting in tool_parameters(catalog).items()}


def settings_of(catalog: Catalog) -> dict[str, ToolSetting]:
    """Every setting the catalog's tools declare, enabled or not, by name."""
    return {setting.name: setting for tool in catalog.tools for setting in tool.settings}


def setting_rules(catalog: Catalog) -> Mapping[str, Rule]:
    """The stack-config rule of every tool setting (agent_obo/settings.py load_settings)."""
    return {name: setting.rule() for name, setting in settings_of(catalog).items()}
