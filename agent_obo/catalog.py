"""The tool catalog (catalog/tools.yaml): what each tool is and which identity it runs with.

Loading checks the catalog in two layers and reports every problem at once, naming the tool, the
field, the value and what is allowed, before any resource is registered:
- its shape, against catalog/tools.schema.json (types, allowed values, required and unknown
  fields, patterns; editors read the same schema), with agent_obo/json_schema.py;
- the rules between fields, here: a "my data" tool never runs with a shared identity, writes are
  confirmed and guarded (agent_obo/write_guard.py), per-user tools run on connectors that support
  it and list their scopes, the arguments are a valid schema the operation matches, and what a
  tool declares for the stack (its settings and storage, agent_obo/tool_inputs.py) fits the rest.

The schema always comes from this checkout, never from beside the catalog being read: the policy
pack reads a pull request's catalog as data (policy/declared.py), and that data cannot bring a
looser schema along.
"""

from __future__ import annotations

import copy
import difflib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from agent_obo.argument_schema import schema_problem
from agent_obo.connectors import CONNECTORS, Connector
from agent_obo.errors import SettingsError
from agent_obo.json_files import read_json
from agent_obo.json_schema import Failure, Schema, shown
from agent_obo.path_segments import SAFE_VALUE_WORDS, argument_problem, named, path_read, pattern_problem, safe_value
from agent_obo.settings import REMOVED_SETTINGS, RULES
from agent_obo.tool_inputs import HOST_CONTAINER_PREFIXES, READ, RESERVED_CONTAINERS, StorageAccess, ToolSetting
from agent_obo.workflow_references import (
    calls,
    expressions,
    has_expression,
    references,
    strings,
    unterminated,
    without_expressions,
)
from agent_obo.write_guard import WriteGuard, check_write_guard, needs_guard, write_guard_from
from agent_obo.yaml_files import PROJECT_DIR, display_path, parse_mapping, read_text

CATALOG_FILE = Path("catalog", "tools.yaml")  # in the project directory
CATALOG_PATH = PROJECT_DIR / CATALOG_FILE
SCHEMA_PATH = CATALOG_PATH.with_name("tools.schema.json")
SCHEMA_DOCUMENT: dict[str, Any] = read_json(SCHEMA_PATH, "the tool catalog's schema")
SCHEMA = Schema(SCHEMA_DOCUMENT)
_TOOL = SCHEMA_DOCUMENT["$defs"]["tool"]["properties"]

PER_USER = "per-user"
APP_ONLY = "app-only"
IDENTITIES: tuple[str, ...] = tuple(_TOOL["identity"]["enum"])
ACCESS: tuple[str, ...] = tuple(_TOOL["access"]["enum"])
DATA: tuple[str, ...] = tuple(_TOOL["data"]["enum"])
FIELDS = frozenset(_TOOL)
# How a connection's name states its identity mode (`connection_key`).
CONNECTION_SUFFIXES = {PER_USER: "peruser", APP_ONLY: "apponly"}
# The language ignores the case of function names, and allows a space before `(`.
AGENT_PARAMETER = re.compile(r"agentParameters\s*\(\s*'([^']+)'\s*\)", re.IGNORECASE)
# What an operation's expressions may call (learn.microsoft.com/azure/logic-apps/workflow-definition-language-
# functions-reference): the model's arguments, the tool's declared parameters, and functions of their arguments
# alone. Any other function reads what the tool's declaration does not show a reviewer, and sends it wherever the
# operation goes: the request's headers (currentRequest(): Easy Auth puts the signed-in user's own tokens there,
# X-MS-TOKEN-AAD-*), app settings, the chat (trigger*), another action's results (another tool's: a user's mail),
# variables, the workflow itself, callback URLs.
OPERATION_FUNCTIONS = (
    "agentParameters", "parameters",
    "concat", "endsWith", "formatNumber", "guid", "indexOf", "lastIndexOf", "length", "nthIndexOf", "replace",
    "slice", "split", "startsWith", "substring", "toLower", "toUpper", "trim",
    "contains", "empty", "first", "intersection", "join", "last", "skip", "take", "union",
    "and", "equals", "greater", "greaterOrEquals", "if", "less", "lessOrEquals", "not", "or",
    "array", "base64", "base64ToString", "bool", "coalesce", "createArray", "decodeBase64", "decodeUriComponent",
    "encodeUriComponent", "float", "int", "json", "string", "uriComponent", "uriComponentToString",
    "add", "div", "max", "min", "mod", "mul", "rand", "range", "sub",
    "addDays", "addHours", "addMinutes", "addSeconds", "addToTime", "convertFromUtc", "convertTimeZone",
    "convertToUtc", "dateDifference", "dayOfMonth", "dayOfWeek", "dayOfYear", "formatDateTime", "getFutureTime",
    "getPastTime", "parseDateTime", "startOfDay", "startOfHour", "startOfMonth", "subtractFromTime", "ticks",
    "utcNow", "uriHost", "uriPath", "uriPathAndQuery", "uriPort", "uriQuery", "uriScheme",
)
_OPERATION_FUNCTIONS = frozenset(name.lower() for name in OPERATION_FUNCTIONS)
# A path a reviewer reads as the operation it runs: plain segments. '.', '..', '//' or an encoded '.', '/', '\' or
# '%' would reach another operation of the connector than the one written (its send-mail beside its read-mail).
_PATH_TRICK = re.compile(r"//|\\|[?#]|%(?:2e|2f|5c|25)|(?:^|/)\.{1,2}(?:/|\Z)", re.IGNORECASE)
# What a path's own text may hold (_PATH_ODD: anything else): ASCII letters, digits and the characters RFC 3986
# allows in a segment unescaped, less ';' (a parameter, "..;" is a parent segment to some servers) and '%': an
# escape is decoded by whoever reads the path, and may decode to a look-alike of '.' or '/' (U+FF0E as %EF%BC%8E).
# Other text is written @{encodeUriComponent('...')}, where it is checked as a value (agent_obo/path_segments.py).
_PATH_ODD = re.compile(r"[^A-Za-z0-9._~!\$&'()*+,=:@/-]")
# The connectors' "Send an HTTP request" operations (Office 365 Outlook's and Office 365 Users' /codeless/httprequest,
# SharePoint's /datasets/{site}/httprequest, ...) call whatever URL and method their body names, with the
# connection's identity: the path a reviewer reads says nothing about the operation.
_PASS_THROUGH = re.compile(r"(?:^|/)httprequest(?:/|\Z)", re.IGNORECASE)
# A permission that only reads (learn.microsoft.com/graph/permissions-reference: <Resource>.Read,
# <Resource>.ReadBasic, with .All, .Shared or .Selected).
READ_SCOPE = re.compile(r"[A-Za-z]+(?:\.[A-Za-z]+)*\.Read(?:Basic)?(?:\.(?:All|Shared|Selected))*")
# A tool whose name says "my" is about the signed-in user's own data, whatever else its entry says, and its
# description says so: the model picks tools by these words.
USER_DATA_WORDING = "signed-in user's own"
# Words of a tool's name that say the data is the signed-in user's own: the model picks tools by their names, and
# so does a reviewer. A name segment that is one of USER_DATA_WORDS, or starts with "my" (`mycalendar`) or "own"
# (`ownevents`), except ordinary words that merely start so (mysql, owner); after a verb glued to it as well
# (`getmycalendar`), where "me" and "self" stay ordinary ("readme" is a file).
USER_DATA_WORDS = ("my", "me", "mine", "own", "myself", "self")
ORDINARY_WORDS = frozenset({"mysql", "myriad", "mystery", "mysteries", "mysterious", "mystic", "myth", "myths",
                            "mythical", "mythology"})
_LEADING_VERB = re.compile(r"(?:get|list|read|find|search|fetch|show|view|check|send|post|create|add|set|update|"
                           r"write|delete|remove)(?=.)")


def user_data_word(name: str) -> str | None:
    """The segment of a tool's name that says the data is the signed-in user's own, or None."""
    for segment in name.split("_"):
        verb = _LEADING_VERB.match(segment)
        rest = segment[verb.end():] if verb else ""
        if segment in USER_DATA_WORDS or _possessive(segment) or rest == "mine" or _possessive(rest):
            return segment
    return None


def _possessive(word: str) -> bool:
    return (word.startswith("my") or (word.startswith("own") and not word.startswith("owner"))) and \
        word not in ORDINARY_WORDS


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

    def parameters_read(self) -> set[str]:
        """The names it reads with @parameters('x') (agent_obo/workflow_references.py reads them so)."""
        return {name for text in strings([self.path, self.queries, self.body]) for expression in expressions(text)
                for function, name in references(expression) if function == "parameters" and name}


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
    write_guard: WriteGuard | None = None  # every app-only write has one (agent_obo/write_guard.py)
    settings: tuple[ToolSetting, ...] = ()  # its own stack settings (agent_obo/tool_inputs.py)
    storage: StorageAccess | None = None  # the runtime storage container the app's identity reaches for it

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
                found += non_json_values(item, f"{where}.{key}" if where else key)
        return found
    return [(where, f"{shown(value)} is a YAML {type(value).__name__}, which JSON cannot hold; allowed: text "
                    "(quote it), numbers, true/false, lists and mappings")]


def load_catalog(path: Path = CATALOG_PATH) -> Catalog:
    """The catalog at `path`. The program and the policy pack each load it; where both run in one process
    (`make plan`, the tests), the same bytes are parsed once and each caller gets a copy of its own."""
    return copy.deepcopy(_parsed_catalog(path, read_text(path, "the tool catalog")))


@lru_cache(maxsize=8)
def _parsed_catalog(path: Path, text: str) -> Catalog:
    return parse_catalog(parse_mapping(text, path, "the tool catalog"), source=display_path(path))


# --- layer 1: the shape (catalog/tools.schema.json) --------------------------------------------------

def _tool_label(entries: list[Any], index: int) -> str:
    entry = entries[index]
    name = entry.get("name") if isinstance(entry, Mapping) else None
    return f"tool {name!r}" if isinstance(name, str) else f"tools[{index}]"


def _shape_problem(failure: Failure, entries: list[Any], source: str) -> str:
    path = failure.path
    if len(path) < 2:  # the document itself, or its `tools`
        if failure.kind == "unknown":
            return f"{source}: top-level key {path[0]!r} is not read by the program; allowed: tools"
        return f"{source}: `tools` must be a non-empty list of tools"
    index = path[1]
    assert isinstance(index, int)
    where = _tool_label(entries, index) + "".join(f".{part}" if isinstance(part, str) else f"[{part}]"
                                                  for part in path[2:])
    return failure.problem(where)


def parse_catalog(document: Any, source: str = "catalog/tools.yaml") -> Catalog:
    if not isinstance(document, Mapping):
        raise SettingsError(f"catalog {source} is invalid", [f"{source}: `tools` must be a non-empty list of tools"])
    problems = [f"{source} {where}: {why}" for where, why in non_json_values(dict(document), "")]
    if problems:
        raise SettingsError(f"catalog {source} is invalid", problems)
    failures = SCHEMA.failures(dict(document))
    entries = document.get("tools")
    if any(len(failure.path) < 2 for failure in failures) or not isinstance(entries, list):
        raise SettingsError(f"catalog {source} is invalid",
                            list(dict.fromkeys(_shape_problem(f, [], source) for f in failures if len(f.path) < 2)))
    problems = list(dict.fromkeys(_shape_problem(failure, entries, source) for failure in failures))
    misshapen = {failure.path[1] for failure in failures}
    tools = [tool for index, entry in enumerate(entries) if index not in misshapen
             if (tool := _parse_tool(entry, _tool_label(entries, index), problems)) is not None]
    problems += _catalog_problems(tools)
    if problems:
        raise SettingsError(f"catalog {source} is invalid", problems)
    return Catalog(tuple(tools))


# --- layer 2: the rules between fields ----------------------------------------------------------------

def _parse_tool(entry: Mapping[str, Any], label: str, problems: list[str]) -> Tool | None:
    """A tool whose shape is valid, checked against the rules its fields must keep together."""
    before = len(problems)

    def bad(field_name: str, value: Any, allowed: str) -> None:
        problems.append(f"{label}.{field_name} = {shown(value)}: {allowed}")

    name, identity, access, data = entry["name"], entry["identity"], entry["access"], entry["data"]
    description: str = entry["description"].strip()
    if IDENTITY_WORDING[identity] not in description:
        bad("description", entry["description"], f"a {identity} tool's description must say "
                                                 f"{IDENTITY_WORDING[identity]!r} so the model knows whose "
                                                 "identity it uses")
    word = user_data_word(name)
    if word is not None and data != "user":
        bad("data", data, f"the name {name!r} says the signed-in user's own data ({word!r}); allowed: user, or "
                          f"rename it without {', '.join(USER_DATA_WORDS)} or a word starting with \"my\" or "
                          "\"own\", for data every user shares")
    if identity == PER_USER and IDENTITY_WORDING[APP_ONLY] in description:
        bad("description", entry["description"], f"a per-user tool's description may not say "
                                                 f"{IDENTITY_WORDING[APP_ONLY]!r}: it runs as the signed-in user")
    if (USER_DATA_WORDING in description) != (data == "user"):
        bad("description", entry["description"],
            f"a tool of {data} data " + ("must say" if data == "user" else "may not say") + f" {USER_DATA_WORDING!r}, "
            "so the model and the reviewer read whose data it is")
    connector = CONNECTORS[entry["connector"]]
    if identity == PER_USER and not connector.per_user_capable:
        capable = ", ".join(sorted(c.api_name for c in CONNECTORS.values() if c.per_user_capable))
        bad("identity", identity, f"connector {connector.api_name!r} ({connector.display_name}) does not support "
                                  f"per-user (delegated) connections; per-user needs one of: {capable}")

    scopes = entry.get("scopes", [])
    # OpenID Connect's own scopes (learn.microsoft.com/entra/identity-platform/scopes-oidc; sign-in asks for them,
    # graph_scopes.LOGIN_SCOPES, which imports this module): as a tool's scope they stand in for the one it needs.
    from agent_obo.graph_scopes import OPENID_CONNECT_SCOPES

    sign_in_only = [scope for scope in scopes if scope.lower() in OPENID_CONNECT_SCOPES]
    if sign_in_only:
        bad("scopes", scopes, f"{', '.join(sign_in_only)}: OpenID Connect scopes, which every sign-in asks for itself "
                              "and which reach no data; allowed: the Microsoft Graph permissions the operation needs, "
                              "such as Calendars.Read")
    elif identity == PER_USER and not scopes:
        bad("scopes", scopes, "a per-user tool must list the delegated scopes it needs (least privilege)")
    elif identity == APP_ONLY and scopes:
        bad("scopes", scopes, "an app-only tool uses no delegated scopes; leave it empty")
    elif access == "read" and (writing := [scope for scope in scopes if not READ_SCOPE.fullmatch(scope)]):
        verb = "is not a permission that only reads" if len(writing) == 1 else "are not permissions that only read"
        bad("scopes", scopes, f"a read tool asks only for permissions that read; {', '.join(writing)} {verb}; "
                              "allowed: Read and ReadBasic permissions such as Calendars.Read, Files.Read.All or "
                              "User.ReadBasic.All")

    justification = entry.get("justification", "").strip()
    confirmation = entry.get("requires_confirmation", False)
    if access == "write" and confirmation is not True:
        bad("requires_confirmation", confirmation, "a write tool must require the user's explicit confirmation")
    if data == "user" and access == "read" and identity == APP_ONLY and not justification:
        bad("identity", identity, "reads of the signed-in user's own data run per-user; "
                                  "an app-only exception needs a `justification`")
    if access == "write" and identity == PER_USER and not justification:
        bad("identity", identity, "writes run app-only after confirmation; "
                                  "a per-user exception needs a `justification`")

    raw_operation = entry["operation"]
    operation = Operation(method=raw_operation["method"], path=raw_operation["path"],
                          queries=dict(raw_operation.get("queries", {})), body=raw_operation.get("body"))
    _check_operation_text(operation, label, problems)
    guard = write_guard_from(entry["write_guard"]) if "write_guard" in entry else None
    check_write_guard(identity, access, "write_guard" in entry, guard, "arguments" in entry,
                      [operation.path, operation.queries, operation.body], label, problems)
    if guard is not None and needs_guard(identity, access):
        arguments = guard.arguments()
    else:
        arguments = entry.get("arguments", {"type": "object", "properties": {}})
    _check_arguments(arguments, operation, label, problems)
    _check_literal_text(entry, label, problems)
    settings = _settings(entry.get("settings", {}), operation, label, problems)
    storage = _storage(entry.get("storage"), connector, identity, access, operation, label, problems)
    _check_parameters_read(operation, settings, storage, label, problems)
    if isinstance(arguments, Mapping):
        _check_path_reads(operation, arguments, settings, label, problems)

    if len(problems) > before:
        return None
    return Tool(name=name, description=description, connector=connector, operation=operation,
                arguments=arguments, identity=identity, data=data, access=access, scopes=tuple(scopes),
                requires_confirmation=confirmation, justification=justification, write_guard=guard,
                settings=settings, storage=storage)


def _texts(value: Any, where: str) -> list[tuple[str, str]]:
    """(where, text) for every string of an operation part, mapping keys included."""
    if isinstance(value, str):
        return [(where, value)]
    if isinstance(value, Mapping):
        return [found for key, item in value.items()
                for found in [(f"{where} key", str(key)), *_texts(item, f"{where}.{key}")]]
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in _texts(item, f"{where}[{index}]")]
    return []


def _check_operation_text(operation: Operation, label: str, problems: list[str]) -> None:
    """The operation reads only what its entry declares, and its path is the operation a reviewer reads."""
    parts = [*_texts(operation.path, "path"), *_texts(dict(operation.queries), "queries"),
             *_texts(operation.body, "body")]
    for where, text in parts:
        called = sorted({function for expression in expressions(text) for function, _ in calls(expression)})
        outside = [function for function in called if function not in _OPERATION_FUNCTIONS]
        if outside:
            problems.append(f"{label}.operation.{where} = {shown(text)}: calls {', '.join(f + '()' for f in outside)}, "
                            "which reads what the tool does not declare (request headers carry the user's tokens, "
                            "app settings, the chat, other tools' results); allowed: agentParameters(), "
                            "parameters() and functions of their arguments alone, such as utcNow(), addDays(), "
                            "concat() or encodeUriComponent() (agent_obo/catalog.py OPERATION_FUNCTIONS)")
    for where, text in parts:
        if where.endswith(" key") and has_expression(text):
            problems.append(f"{label}.operation.{where} = {shown(text)}: a workflow expression as a name; the model "
                            "would choose which query parameter or body field the tool sets; allowed: plain names")
        if unterminated(text):
            problems.append(f"{label}.operation.{where} = {shown(text)}: an '@{{' expression without its closing "
                            "'}'; allowed: complete @{...} expressions")
    literal = without_expressions(operation.path)
    odd = sorted(set(_PATH_ODD.findall(literal)))
    if odd:
        problems.append(f"{label}.operation.path = {shown(operation.path)}: holds {' '.join(map(named, odd))} as "
                        "text, which a server may decode or normalise into another segment ('%2e' and a full-width "
                        "dot U+FF0E become '.'); allowed as text: ASCII letters, digits and - . _ ~ ! $ & ' ( ) * + , "
                        "= : @ /; any other value is written @{encodeUriComponent('...')}")
    if _PASS_THROUGH.search(literal):
        problems.append(f"{label}.operation.path = {shown(operation.path)}: a connector's \"Send an HTTP request\" "
                        "operation, which calls whatever URL and method its body names with the connection's "
                        "identity; allowed: the connector's own operation for what the tool does")
    if _PATH_TRICK.search(literal):
        problems.append(f"{label}.operation.path = {shown(operation.path)}: reaches another operation than the one "
                        "written; allowed: plain segments, no '.' or '..' segment, no '//', '?', '#' or '\\', no "
                        "percent-encoded '.', '/', '\\' or '%' (query parameters go in operation.queries)")
    if "@@" in operation.path or re.search(r"[{}]", literal):
        problems.append(f"{label}.operation.path = {shown(operation.path)}: '@@', '{{' or '}}' outside an expression, "
                        "which the runtime may read as an expression; allowed: plain segments and "
                        "@{encodeUriComponent(...)} expressions")
    for expression in expressions(operation.path):
        if path_read(expression) is None:
            problems.append(f"{label}.operation.path = {shown(operation.path)}: @{{{expression}}} could add path "
                            "segments ('..', '../x', or an escape decoded again); allowed in a path: "
                            "@{encodeUriComponent(agentParameters('<argument>'))}, "
                            "@{encodeUriComponent(parameters('<setting>'))} or @{encodeUriComponent('<text>')}, "
                            "with encodeUriComponent once or twice and no other function "
                            "(agent_obo/path_segments.py)")


def _check_path_reads(operation: Operation, arguments: Mapping[str, Any], settings: tuple[ToolSetting, ...],
                      label: str, problems: list[str]) -> None:
    """Every value a path reads is path-safe (agent_obo/path_segments.py), whoever chooses it. The storage
    account's name is the program's own (lower-case letters and digits); an undeclared setting or argument is
    named by _check_parameters_read and _check_arguments."""
    where = f"{label}.operation.path = {shown(operation.path)}"
    declared = {setting.name: setting for setting in settings}
    properties = arguments.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    for expression in expressions(operation.path):
        read = path_read(expression)
        if read is None:
            continue
        kind, name = read
        if kind == "constant":
            if not safe_value(name):
                problems.append(f"{where}: the text {name!r} is not one path segment; allowed: text that is "
                                f"{SAFE_VALUE_WORDS}")
        elif kind == "agentparameters" and name in properties:
            problem = argument_problem(properties[name])
            if problem:
                problems.append(f"{where}: argument {name!r}, which the model fills, is read as a path segment, "
                                f"but {problem}; allowed: an argument whose schema admits only values "
                                f"{SAFE_VALUE_WORDS} (an anchored pattern such as ^[A-Za-z0-9_=-]{{1,255}}$, an "
                                "enum, or an integer)")
        elif kind == "parameters" and name in declared:
            setting = declared[name]
            problem = pattern_problem(setting.pattern, whole=True) if _compiles(setting.pattern) else None
            if not setting.required:
                problem = "it is optional, and an unset setting is empty"
            if problem:
                problems.append(f"{where}: setting {name!r} is read as a path segment, but {problem}; allowed: a "
                                f"required setting whose pattern admits only values {SAFE_VALUE_WORDS}")


def _compiles(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False  # _settings names it
    return True


# The fields of a tool the workflow carries as text, outside its operation: the runtime evaluates a workflow
# expression wherever it stands in the definition, so one here would read what the operation may not (the request's
# headers, app settings) into the model's prompt. The operation alone reads values (_check_operation_text).
LITERAL_FIELDS = ("description", "arguments", "write_guard")


def _check_literal_text(entry: Mapping[str, Any], label: str, problems: list[str]) -> None:
    for field_name in LITERAL_FIELDS:
        for where, text in _texts(entry.get(field_name), field_name):
            if has_expression(text):
                problems.append(f"{label}.{where} = {shown(text)}: a workflow expression (a value starting with '@', "
                                "or '@{' in text), which the runtime would evaluate into what the model reads; "
                                "allowed: plain text ('@' elsewhere is fine); values are read in operation only")


def _check_arguments(arguments: Any, operation: Operation, label: str, problems: list[str]) -> None:
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
    used = set(AGENT_PARAMETER.findall(json.dumps([operation.path, operation.queries, operation.body])))
    for name in sorted(used - set(properties)):
        problems.append(f"{label}.operation uses agentParameters({name!r}), which its arguments do not define")


def _settings(declared: Mapping[str, Any], operation: Operation, label: str,
              problems: list[str]) -> tuple[ToolSetting, ...]:
    settings = []
    for name, spec in declared.items():
        where = f"{label}.settings.{name}"
        setting = ToolSetting(name=name, description=spec["description"].strip(), pattern=spec["pattern"],
                              example=spec["example"], required=spec.get("required", True))
        if name in RULES or name in REMOVED_SETTINGS:
            problems.append(f"{where}: a setting of the project (Pulumi.yaml) has this name; allowed: a name of "
                            "the tool's own")
        try:
            re.compile(setting.pattern)  # alone first: a pattern such as "x)|(.*" would escape the checks around it
            rule = setting.rule()
        except re.error as error:
            problems.append(f"{where}.pattern = {shown(setting.pattern)}: not a regular expression Python "
                            f"accepts ({error}); allowed: a pattern the whole value must match")
        else:
            if not rule.accepts(setting.example):
                problems.append(f"{where}.example = {shown(setting.example)}: the pattern refuses it (matched whole, "
                                "no space at either end, no control characters); allowed: a value the pattern accepts")
        if name not in operation.parameters_read():
            problems.append(f"{where}: declared, but the operation never reads @parameters('{name}'); "
                            "allowed: the settings the operation reads")
        settings.append(setting)
    return tuple(settings)


def _storage(declared: Mapping[str, Any] | None, connector: Connector, identity: str, access: str,
             operation: Operation, label: str, problems: list[str]) -> StorageAccess | None:
    if declared is None:
        return None
    storage = StorageAccess(container=declared["container"], access=declared["access"])
    where = f"{label}.storage"
    if identity != APP_ONLY:
        problems.append(f"{where} = {shown(declared)}: only app-only tools declare storage: the site's identity "
                        "reaches the container, and a per-user tool acts as the signed-in user")
    if not connector.reads_blob_containers:
        readers = ", ".join(sorted(c.api_name for c in CONNECTORS.values() if c.reads_blob_containers))
        problems.append(f"{where} = {shown(declared)}: connector {connector.api_name!r} does not read blob containers "
                        f"with the app's managed identity; storage needs one of: {readers}")
    if access == READ and storage.access != READ:
        problems.append(f"{where}.access = {shown(storage.access)}: a read tool reaches its container read-only; "
                        "allowed: read")
    if storage.container in RESERVED_CONTAINERS or storage.container.startswith(HOST_CONTAINER_PREFIXES):
        reserved = [*RESERVED_CONTAINERS, *(prefix + "*" for prefix in HOST_CONTAINER_PREFIXES)]
        problems.append(f"{where}.container = {shown(storage.container)}: the workflow package's, the Functions "
                        f"host's or the Logic Apps runtime's own container; allowed: a container of the tool's own, "
                        f"not {', '.join(reserved)}")
    if storage.parameter not in operation.parameters_read():
        problems.append(f"{where}: declared, but the operation never reads @parameters('{storage.parameter}'), "
                        "the storage account's name")
    return storage


def _check_parameters_read(operation: Operation, settings: tuple[ToolSetting, ...], storage: StorageAccess | None,
                           label: str, problems: list[str]) -> None:
    """A tool reads only the parameters it declares, so it carries everything it needs from the stack."""
    own = sorted({setting.name for setting in settings} | ({storage.parameter} if storage else set()))
    for name in sorted(operation.parameters_read() - set(own)):
        close = difflib.get_close_matches(name, own, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        problems.append(f"{label}.operation reads @parameters({name!r}), which the tool does not declare; {hint}"
                        f"allowed: its settings and its storage account ({', '.join(own) or 'none declared'})")


def _catalog_problems(tools: list[Tool]) -> list[str]:
    """The rules between tools."""
    problems = []
    seen: dict[str, int] = {}
    for tool in tools:
        seen[tool.name] = seen.get(tool.name, 0) + 1
    for name, count in sorted(seen.items()):
        if count > 1:
            problems.append(f"tool {name!r}: name used by {count} tools; allowed: each name once")
    declarations: dict[str, tuple[str, ToolSetting]] = {}
    parameters: dict[str, str] = {}  # each parameter a tool declares -> "setting" or "storage"
    app_settings: dict[str, str] = {}  # each derived app setting -> its parameter
    for tool in tools:
        for setting in tool.settings:
            first = declarations.setdefault(setting.name, (tool.name, setting))
            if first[1] != setting:
                problems.append(f"tool {tool.name!r}.settings.{setting.name}: declared differently by tool "
                                f"{first[0]!r}; allowed: one declaration, the same in every tool that uses the setting")
        derived = [(setting.name, setting.app_setting, "setting") for setting in tool.settings]
        if tool.storage:
            derived.append((tool.storage.parameter, tool.storage.app_setting, "storage"))
        for parameter, app_setting, what in derived:
            if parameters.setdefault(parameter, what) != what:
                problems.append(f"tool {tool.name!r}: parameter {parameter!r} is both a setting and a storage "
                                "account's name; allowed: a setting name that does not end in StorageAccount")
            if app_settings.setdefault(app_setting, parameter) != parameter:
                problems.append(f"tool {tool.name!r}: {parameter!r} and {app_settings[app_setting]!r} both become app "
                                f"setting {app_setting}; allowed: names that differ by more than letter case")
    return list(dict.fromkeys(problems + _names_differing_by_case(tools)))


def _names_differing_by_case(tools: list[Tool]) -> list[str]:
    """Parameters and settings whose names differ only in letter case. The workflow definition language matches
    names without regard to case (its function names, Learn's workflow-definition-language-functions-reference;
    Microsoft does not say so of parameter names: the safer reading), and App Service app settings are environment
    variables, case-insensitive on Windows, where Logic Apps Standard runs: a second name in another case is refused
    as a duplicate (`az webapp config appsettings set` answers Conflict; stackoverflow.com/questions/76564468).
    Either way one of the two would read the other's value."""
    first: dict[str, tuple[str, str]] = {}  # lower-cased name -> (its first spelling, who declares it)
    first.update((name.lower(), (name, "the project (Pulumi.yaml)")) for name in [*RULES, *REMOVED_SETTINGS])
    problems = []
    for tool in tools:
        declared = [(setting.name, "setting") for setting in tool.settings]
        if tool.storage:
            declared.append((tool.storage.parameter, f"the parameter of storage container {tool.storage.container!r}"))
        for name, what in declared:
            spelling, owner = first.setdefault(name.lower(), (name, f"tool {tool.name!r}"))
            if spelling != name:
                problems.append(f"tool {tool.name!r}: {what} {name!r} differs only in letter case from {spelling!r} of "
                                f"{owner}; Logic Apps parameters and app settings do not tell them apart; allowed: "
                                "the same spelling for the same setting, or names that differ by more than case")
    return problems
