"""The one way this project reads a YAML file: strictly, fast, and with errors a person can act on.

Every YAML file the project reads goes through `read_yaml` (the tool catalog, Pulumi.yaml and the
stack files in the program and in the offline runner, the bootstrap project's files). It refuses,
naming the file and the line, and never with a traceback:
- a file that is missing (naming the expected path and any look-alike file beside it), not UTF-8,
  or not YAML (syntax errors, tabs where YAML needs spaces);
- a key written twice in one mapping: YAML keeps the last one silently, so a reviewer could read
  `scopes: [Calendars.Read]` while the program acts on a second `scopes:` further down;
- anchors, aliases and merge keys (`&x`, `*x`, `<<:`): a value that applies somewhere other than
  where it is written, which a reviewer of the diff does not see;
- an unquoted value that YAML 1.1 (PyYAML, this program) and YAML 1.2 (the Pulumi CLI's reader, and the
  YAML language server that checks the catalog as you type) read differently: `yes`/`no`/`on`/`off`
  (booleans in 1.1, text in 1.2), `0x10`, `036`, `0o36`, `1_000`, `1:30`, `1e3` (each a different number,
  or text, in one of them). The program would plan one value while the CLI deploys another, or an
  editor shows one and the program uses another.
- characters that change how text displays without showing themselves (bidirectional overrides,
  zero-width characters, line separators: agent_obo/hidden_characters.py), in comments too.
Dates and times stay the text written (as YAML 1.2 and the CLI read them into untyped values).

libyaml's parser (yaml.CSafeLoader) is used where PyYAML has it, else the pure-Python one; the
checks above live in the constructor, which both share.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode

from agent_obo import hidden_characters
from agent_obo.errors import SettingsError

PROJECT_DIR = Path(__file__).resolve().parent.parent
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MERGE_TAG = "tag:yaml.org,2002:merge"


class _Refused(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


class StrictConstructor:
    """SafeLoader semantics, minus duplicate keys, anchors, aliases and merge keys. A mixin, so that
    the same checks run on libyaml's parser and on the pure-Python one."""

    constructed_objects: dict[Node, Any]
    recursive_objects: dict[Node, Any]

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        # A node met a second time is an alias of an anchored node: the composer shares the node.
        if node in self.constructed_objects or node in self.recursive_objects:
            raise _Refused(node.start_mark.line + 1,
                           "the value anchored here (&name) is used again through an alias (*name); anchors "
                           "and aliases are not allowed: write each value where it applies, so a reviewer "
                           "reads what takes effect")
        return super().construct_object(node, deep=deep)  # type: ignore[misc]

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            first_line: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == MERGE_TAG:
                    raise _Refused(key_node.start_mark.line + 1,
                                   "merge keys (<<) are not allowed: write the keys out, so a reviewer reads "
                                   "what takes effect")
                key = self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:
                    raise _Refused(key_node.start_mark.line + 1, "a mapping key must be a plain value") from None
                line = key_node.start_mark.line + 1
                if key in first_line:
                    raise _Refused(line, f"key {key!r} is set twice in the same mapping (first at line "
                                         f"{first_line[key]}); YAML would silently keep only the last one: "
                                         "set each key once")
                first_line[key] = line
            # The keys were constructed above: let the base class build the mapping from scratch.
            for key_node, _ in node.value:
                self.constructed_objects.pop(key_node, None)
        return super().construct_mapping(node, deep=deep)  # type: ignore[misc]


# YAML 1.2's core schema (yaml.org/spec/1.2.2, 10.3): the plain scalars it reads as booleans and numbers.
_YAML12_BOOL = frozenset({"true", "True", "TRUE", "false", "False", "FALSE"})
_YAML12_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_YAML12_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")
_PLAIN_DECIMAL = re.compile(r"[-+]?(0|[1-9][0-9]*)")


def _plain(node: Node) -> bool:
    """Written without quotes (libyaml says '' for that style, the pure-Python parser None)."""
    return isinstance(node, ScalarNode) and not node.style


def _read_differently(node: Node, as_11: Any) -> _Refused:
    return _Refused(node.start_mark.line + 1,
                    f"{node.value!r} is read as {as_11!r} by YAML 1.1 (this program) but otherwise by YAML 1.2 (the "
                    "Pulumi CLI, editors); allowed: true or false, a decimal number such as 16, or the text in quotes")


def _construct_bool(loader: Any, node: Node) -> bool:
    value = SafeConstructor.construct_yaml_bool(loader, node)
    if _plain(node) and node.value not in _YAML12_BOOL:
        raise _read_differently(node, value)
    return value


def _construct_int(loader: Any, node: Node) -> int:
    value = SafeConstructor.construct_yaml_int(loader, node)
    if _plain(node) and not _PLAIN_DECIMAL.fullmatch(node.value):
        raise _read_differently(node, value)
    return value


def _construct_float(loader: Any, node: Node) -> float:
    value = SafeConstructor.construct_yaml_float(loader, node)
    if _plain(node) and not _YAML12_FLOAT.fullmatch(node.value):
        raise _read_differently(node, value)
    return value


def _construct_str(loader: Any, node: Node) -> str:
    value = SafeConstructor.construct_yaml_str(loader, node)
    if _plain(node) and (_YAML12_INT.fullmatch(value) or _YAML12_FLOAT.fullmatch(value)):
        raise _read_differently(node, value)
    return value


def _construct_timestamp(loader: Any, node: Node) -> str:
    """The text written: YAML 1.2's core schema has no timestamps, and the CLI reads one as text."""
    return str(loader.construct_scalar(node))


_CONSTRUCTORS = {
    "tag:yaml.org,2002:bool": _construct_bool,
    "tag:yaml.org,2002:int": _construct_int,
    "tag:yaml.org,2002:float": _construct_float,
    "tag:yaml.org,2002:str": _construct_str,
    "tag:yaml.org,2002:timestamp": _construct_timestamp,
}


class StrictLoader(StrictConstructor, _BaseLoader):
    """libyaml's parser where PyYAML was built with it (yaml.CSafeLoader), with the strict constructor."""


class PureStrictLoader(StrictConstructor, yaml.SafeLoader):
    """The pure-Python parser with the same constructor: the fallback, and what tests compare against."""


for _loader in (StrictLoader, PureStrictLoader):
    for _tag, _constructor in _CONSTRUCTORS.items():
        _loader.add_constructor(_tag, _constructor)


def display_path(path: Path) -> str:
    """A path as the operator knows it: relative to the project when it is inside."""
    try:
        return path.resolve().relative_to(PROJECT_DIR).as_posix()
    except ValueError:
        return str(path)


def _look_alikes(path: Path) -> list[str]:
    """Files beside a missing one that were probably meant to be it (tools.yml, Tools.yaml, tools.yaml.txt)."""
    if not path.parent.is_dir():
        return []
    wanted = path.name.lower()
    stem = wanted.split(".", 1)[0]
    found = []
    for candidate in sorted(path.parent.iterdir()):
        name = candidate.name.lower()
        if candidate.is_file() and candidate.name != path.name and (
                name == wanted or name.split(".", 1)[0] == stem or name.startswith(wanted)):
            found.append(display_path(candidate))
    return found


def read_text(path: Path, what: str) -> str:
    """A file the project keeps, as UTF-8 text without its byte order mark; a missing file (naming any
    look-alike beside it), one that cannot be read, or bytes that are not UTF-8 stop the run. The YAML
    and the JSON readers (agent_obo/json_files.py) both read through it."""
    shown = display_path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        alikes = _look_alikes(path)
        hint = (f"; found {', '.join(alikes)}: the program reads only {shown}, rename it" if alikes
                else f"; create it (the program reads {what} from exactly this path)")
        raise SettingsError(f"{what} not found", [f"{shown}: no such file{hint}"]) from None
    except OSError as error:  # a directory in its place, no permission
        raise SettingsError(f"{what} cannot be read", [f"{shown}: {error.strerror}"]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise SettingsError(f"{what} is not UTF-8", [
            f"{shown} line {line}, column {column}: byte 0x{data[error.start]:02x} is not UTF-8; "
            "allowed: UTF-8 text (save the file as UTF-8)"]) from None
    return text.removeprefix("\ufeff")


def read_yaml(path: Path, what: str) -> Any:
    """The parsed document (None for an empty file). `what` says what the file is, for messages."""
    return parse_yaml(read_text(path, what), display_path(path), what)


def parse_yaml(text: str, shown: str, what: str, loader: type = StrictLoader) -> Any:
    written = hidden_characters.written_problem(text, shown)
    if written is not None:
        raise SettingsError(f"{what} is not allowed as written", [written])
    try:
        document = yaml.load(text, Loader=loader)
    except _Refused as refused:
        raise SettingsError(f"{what} is not allowed as written", [f"{shown} line {refused.line}: {refused.message}"]
                            ) from None
    except yaml.MarkedYAMLError as error:
        raise SettingsError(f"{what} is not valid YAML", [_syntax_problem(error, text, shown)]) from None
    except yaml.YAMLError as error:
        # ReaderError: a character YAML does not allow (control characters), with its position.
        position = getattr(error, "position", None)
        if isinstance(position, int) and position < len(text):
            line = text[:position].count("\n") + 1
            raise SettingsError(f"{what} is not valid YAML", [
                f"{shown} line {line}: character U+{ord(text[position]):04X} is not allowed (YAML refuses "
                "control characters); allowed: printable text"]) from None
        raise SettingsError(f"{what} is not valid YAML", [f"{shown}: {str(error).splitlines()[0]}"]) from None
    escaped = hidden_characters.escaped_problems(document, shown)
    if escaped:
        raise SettingsError(f"{what} is not allowed as written", escaped)
    return document


def _syntax_problem(error: yaml.MarkedYAMLError, text: str, shown: str) -> str:
    mark = error.problem_mark or error.context_mark
    if mark is None:
        return f"{shown}: {error.problem or error}"
    line, column = mark.line + 1, mark.column + 1
    lines = text.splitlines()
    source = lines[mark.line] if mark.line < len(lines) else ""
    if "\t" in source[: mark.column + 1]:
        return (f"{shown} line {line}: a tab character where YAML needs spaces; allowed: indentation with "
                "spaces only")
    problem = error.problem or "not valid YAML"
    context = f" ({error.context})" if error.context else ""
    return f"{shown} line {line}, column {column}: {problem}{context}; the line reads: {source.strip()!r}"


def read_mapping(path: Path, what: str, empty_ok: bool = True) -> dict[str, Any]:
    """A YAML file whose top level must be a mapping (every file this project reads)."""
    return parse_mapping(read_text(path, what), path, what, empty_ok)


def parse_mapping(text: str, path: Path, what: str, empty_ok: bool = True) -> dict[str, Any]:
    """The text of the YAML file at `path`, whose top level must be a mapping."""
    document = parse_yaml(text, display_path(path), what)
    if document is None and empty_ok:
        return {}
    if not isinstance(document, dict):
        raise SettingsError(f"{what} is not a mapping", [
            f"{display_path(path)}: the top level is {type(document).__name__ if document is not None else 'empty'}; "
            "allowed: a mapping of keys to values"])
    return document
