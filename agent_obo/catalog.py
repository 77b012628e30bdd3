"""The tool catalog (catalog/tools.yaml): what each tool is and which identity it runs with.

Loading checks every entry and the rules that keep a "my data" tool from ever running with a shared
identity; every problem is reported at once, naming the tool, the field, the value and what is
allowed, before any resource is registered.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent_obo.argument_schema import schema_problem
from agent_obo.connectors import CONNECTORS, Connector
from agent_obo.errors import SettingsError
from agent_obo.settings import RULES
from agent_obo.write_guard import WriteGuard, check_write_guard, needs_guard, parse_write_guard
from agent_obo.yaml_files import display_path, read_mapping

CATALOG_PATH = Path(__file__).resolve().parent.parent / "catalog" / "tools.yaml"

PER_USER = "per-user"
APP_ONLY = "app-only"
IDENTITIES = (PER_USER, APP_ONLY)
# How a connection's name states its identity mode (`connection_key`).
CONNECTION_SUFFIXES = {PER_USER: "peruser", APP_ONLY: "apponly"}
ACCESS = ("read", "write")
DATA = ("user", "shared")
METHODS = ("get", "post", "put", "patch", "delete")
# Matched against whole values (re.fullmatch): `$` would accept a name ending in a newline.
NAME = re.compile(r"[a-z][a-z0-9_]{2,63}")
SCOPE = re.compile(r"[A-Za-z][A-Za-z0-9_.]{0,127}")
AGENT_PARAMETER = re.compile(r"agentParameters\('([^']+)'\)")
FIELDS = {"name", "description", "connector", "operation", "arguments", "identity", "data", "access",
          "scopes", "requires_confirmation", "justification", "requires_settings", "write_guard"}
OPERATION_PATH = re.compile(r"/[^\x00-\x1f\x7f]*")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The model reads each description to pick a tool, so it must say whose identity the tool uses.
IDENTITY_WORDING = {PER_USER: "signed-in user", APP_ONLY: "as the app"}


def connection_key(api_name: str, identity: str) -> str:
    """The one name of the connection for a connector and an identity mode (`office365-peruser`): its key
    in connections.json, its Pulumi logical name and an app-only connection's Azure name. One connection
    per pair, so the name says which identity every tool on it runs with."""
    return f"{api_name}-{CONNECTION_SUFFIXES[identity]}"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    queries: Mapping[str, Any] = field(default_factory=dict)
    body: Any = None


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    connector: Connector
    operation: Operation
    arguments: Mapping[str, Any]
    identity: str
    data: str
    access: str
    scopes: tuple[str, ...]
    requires_confirmation: bool
    justification: str
    requires_settings: tuple[str, ...]
    write_guard: WriteGuard | None = None  # every app-only write has one (agent_obo/write_guard.py)

    @property
    def connection_reference(self) -> str:
        """The key of the connection it runs on (`connection_key`)."""
        return connection_key(self.connector.api_name, self.identity)


@dataclass(frozen=True)
class Catalog:
    tools: tuple[Tool, ...]

    def names(self) -> list[str]:
        return [tool.name for tool in self.tools]

    def without(self, disabled: Iterable[str]) -> Catalog:
        disabled = set(disabled)
        unknown = sorted(disabled - set(self.names()))
        if unknown:
            raise SettingsError("stack disables tools the catalog does not have", [
                f"agent-obo:disabledTools = {json.dumps(sorted(disabled))}: {', '.join(map(repr, unknown))} "
                f"not in catalog/tools.yaml; allowed: {', '.join(self.names())}"])
        return Catalog(tuple(tool for tool in self.tools if tool.name not in disabled))

    def per_user_scopes(self) -> tuple[str, ...]:
        """The union of the delegated scopes the per-user tools declare, nothing more."""
        return tuple(sorted({scope for tool in self.tools if tool.identity == PER_USER for scope in tool.scopes}))


def shown(value: Any) -> str:
    """A value as it appears in a message: JSON, whatever YAML made of it."""
    return json.dumps(value, default=str, ensure_ascii=False)


def non_json_values(value: Any, where: str) -> list[tuple[str, str]]:
    """Where the document holds something JSON cannot (YAML dates, binary, sets, NaN, non-text keys):
    everything in a tool ends up in the workflow's JSON."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return []
    if isinstance(value, float):
        return [] if math.isfinite(value) else [(where, f"{value!r} is not a JSON number; allowed: a finite number")]
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in non_json_values(item, f"{where}[{index}]")]
    if isinstance(value, dict):
        found: list[tuple[str, str]] = []
        for key, item in value.items():
            if not isinstance(key, str):
                found.append((where, f"key {key!r} is not text; allowed: text keys (quote it)"))
            else:
                found += non_json_values(item, f"{where}.{key}")
        return found
    return [(where, f"{shown(value)} is a YAML {type(value).__name__}, which JSON cannot hold; allowed: text "
                    "(quote it), numbers, true/false, lists and mappings")]


def optional_settings() -> tuple[str, ...]:
    """The stack settings a tool can require: those that may be left empty."""
    return tuple(sorted(key for key, rule in RULES.items() if rule.may_be_empty or rule.kind == "array"))


def load_catalog(path: Path = CATALOG_PATH) -> Catalog:
    document = read_mapping(path, "the tool catalog")
    return parse_catalog(document, source=display_path(path))


def parse_catalog(document: Mapping[str, Any], source: str = "catalog/tools.yaml") -> Catalog:
    problems: list[str] = []
    entries = document.get("tools") if isinstance(document, Mapping) else None
    if not isinstance(entries, list) or not entries:
        raise SettingsError(f"{source} is invalid", [f"{source}: `tools` must be a non-empty list of tools"])
    for unknown in sorted(set(document) - {"tools"}, key=str):
        problems.append(f"{source}: top-level key {unknown!r} is not read by the program; allowed: tools")
    problems += [f"{source} {where}: {why}" for where, why in non_json_values(entries, "tools")]
    if problems:
        raise SettingsError(f"catalog {source} is invalid", problems)
    tools = []
    for index, entry in enumerate(entries):
        tool = _parse_tool(entry, f"tools[{index}]", problems)
        if tool is not None:
            tools.append(tool)
    seen: dict[str, int] = {}
    for tool in tools:
        seen[tool.name] = seen.get(tool.name, 0) + 1
    for name, count in sorted(seen.items()):
        if count > 1:
            problems.append(f"tool {name!r}: name used by {count} tools; allowed: each name once")
    if problems:
        raise SettingsError(f"catalog {source} is invalid", problems)
    return Catalog(tuple(tools))


def _parse_tool(entry: Any, where: str, problems: list[str]) -> Tool | None:
    if not isinstance(entry, Mapping):
        problems.append(f"{where}: must be a mapping of tool fields")
        return None
    # Values straight from YAML: Any until checked below.
    name: Any = entry.get("name")
    label = f"tool {name!r}" if isinstance(name, str) else where
    before = len(problems)

    def bad(field_name: str, value: Any, allowed: str) -> None:
        problems.append(f"{label}.{field_name} = {shown(value)}: {allowed}")

    for unknown in sorted(set(entry) - FIELDS, key=str):
        bad(unknown, entry[unknown], f"unknown field; allowed fields: {', '.join(sorted(FIELDS))}")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        bad("name", name, "allowed: 3-64 lower-case letters, digits or '_', starting with a letter")
    identity: Any = entry.get("identity")
    access: Any = entry.get("access")
    data: Any = entry.get("data")
    if identity not in IDENTITIES:
        bad("identity", identity, "allowed values: " + ", ".join(IDENTITIES))
    if access not in ACCESS:
        bad("access", access, "allowed values: " + ", ".join(ACCESS))
    if data not in DATA:
        bad("data", data, "allowed values: user (the signed-in user's own data), shared")

    description: Any = entry.get("description")
    if not isinstance(description, str) or not 20 <= len(description.strip()) <= 300:
        bad("description", description, "allowed: 20-300 characters saying what data the tool touches")
    elif CONTROL.search(description.replace("\n", " ")):
        bad("description", description, "allowed: printable text (line breaks allowed, no other control characters)")
    elif isinstance(identity, str) and identity in IDENTITY_WORDING and IDENTITY_WORDING[identity] not in description:
        bad("description", description, f"a {identity} tool's description must say "
                                        f"{IDENTITY_WORDING[identity]!r} so the model knows whose identity it uses")

    connector_name = entry.get("connector")
    connector = CONNECTORS.get(connector_name) if isinstance(connector_name, str) else None
    if connector is None:
        bad("connector", entry.get("connector"), "allowed values: " + ", ".join(sorted(CONNECTORS)))
    elif identity == PER_USER and not connector.per_user_capable:
        capable = ", ".join(sorted(c.api_name for c in CONNECTORS.values() if c.per_user_capable))
        bad("identity", identity, f"connector {connector.api_name!r} ({connector.display_name}) does not support "
                                  f"per-user (delegated) connections; per-user needs one of: {capable}")

    scopes = entry.get("scopes", [])
    if not isinstance(scopes, list) or not all(isinstance(s, str) and SCOPE.fullmatch(s) for s in scopes):
        bad("scopes", scopes, "allowed: a list of Microsoft Graph delegated scope names such as Calendars.Read")
        scopes = []
    elif identity == PER_USER and not scopes:
        bad("scopes", scopes, "a per-user tool must list the delegated scopes it needs (least privilege)")
    elif identity == APP_ONLY and scopes:
        bad("scopes", scopes, "an app-only tool uses no delegated scopes; leave it empty")
    elif len(set(scopes)) != len(scopes):
        bad("scopes", scopes, "lists a scope twice; each scope once")

    justification = entry.get("justification", "")
    if not isinstance(justification, str) or CONTROL.search(justification.replace("\n", " ")):
        bad("justification", justification, "allowed: text explaining the exception")
        justification = ""
    confirmation = entry.get("requires_confirmation", False)
    if not isinstance(confirmation, bool):
        bad("requires_confirmation", confirmation, "allowed: true or false")
    if access == "write" and confirmation is not True:
        bad("requires_confirmation", confirmation, "a write tool must require the user's explicit confirmation")
    if data == "user" and access == "read" and identity == APP_ONLY and not justification.strip():
        bad("identity", identity, "reads of the signed-in user's own data run per-user; "
                                  "an app-only exception needs a non-empty `justification`")
    if access == "write" and identity == PER_USER and not justification.strip():
        bad("identity", identity, "writes run app-only after confirmation; "
                                  "a per-user exception needs a non-empty `justification`")

    operation = _parse_operation(entry.get("operation"), label, problems)
    guard = parse_write_guard(entry["write_guard"], label, problems) if "write_guard" in entry else None
    check_write_guard(identity, access, "write_guard" in entry, guard, "arguments" in entry,
                      [operation.path, operation.queries, operation.body] if operation else entry.get("operation"),
                      label, problems)
    if guard is not None and needs_guard(identity, access):
        arguments = guard.arguments()
    else:
        arguments = entry.get("arguments", {"type": "object", "properties": {}})
    _check_arguments(arguments, operation, label, problems)
    settings = entry.get("requires_settings", [])
    optional = optional_settings()
    if not isinstance(settings, list) or not all(isinstance(s, str) and s in optional for s in settings):
        bad("requires_settings", settings, "allowed: a list of the stack settings that may be left empty, "
                                           f"by name without namespace: {', '.join(optional)}")
        settings = []
    elif len(set(settings)) != len(settings):
        bad("requires_settings", settings, "lists a setting twice; each setting once")

    if len(problems) > before or connector is None or operation is None:
        return None
    return Tool(name=name, description=description.strip(), connector=connector, operation=operation,
                arguments=arguments, identity=identity, data=data, access=access, scopes=tuple(scopes),
                requires_confirmation=confirmation, justification=justification.strip(),
                requires_settings=tuple(settings), write_guard=guard)


def _parse_operation(value: Any, label: str, problems: list[str]) -> Operation | None:
    if not isinstance(value, Mapping):
        problems.append(f"{label}.operation = {shown(value)}: allowed: a mapping with method, path, "
                        "optional queries and body")
        return None
    method: Any = value.get("method")
    path: Any = value.get("path")
    queries: Any = value.get("queries", {})
    ok = True
    if method not in METHODS:
        problems.append(f"{label}.operation.method = {shown(method)}: allowed values: {', '.join(METHODS)}")
        ok = False
    if not isinstance(path, str) or not OPERATION_PATH.fullmatch(path):
        problems.append(f"{label}.operation.path = {shown(path)}: allowed: the connector operation's "
                        "path, starting with /, on one line")
        ok = False
    if not isinstance(queries, Mapping):
        problems.append(f"{label}.operation.queries = {shown(queries)}: allowed: a mapping of query names")
        ok = False
    unknown = sorted(set(value) - {"method", "path", "queries", "body"}, key=str)
    if unknown:
        problems.append(f"{label}.operation: unknown fields {unknown}; allowed: method, path, queries, body")
        ok = False
    return Operation(method=method, path=path, queries=dict(queries), body=value.get("body")) if ok else None


def _check_arguments(arguments: Any, operation: Operation | None, label: str, problems: list[str]) -> None:
    if not isinstance(arguments, Mapping) or arguments.get("type") != "object":
        problems.append(f"{label}.arguments = {shown(arguments)}: allowed: a JSON schema of type object")
        return
    problem = schema_problem(arguments)
    if problem:
        problems.append(f"{label}.arguments: not a valid JSON schema: {problem}")
        return
    properties = arguments.get("properties", {})
    for name in arguments.get("required", []):
        if name not in properties:
            problems.append(f"{label}.arguments.required lists {name!r}, which is not in its properties")
    for name, schema in properties.items():
        if not isinstance(schema, Mapping) or not schema.get("description"):
            problems.append(f"{label}.arguments.properties.{name}: needs a description for the model")
    if operation is not None:
        used = set(AGENT_PARAMETER.findall(json.dumps([operation.path, operation.queries, operation.body])))
        for name in sorted(used - set(properties)):
            problems.append(f"{label}.operation uses agentParameters({name!r}), which its arguments do not define")
