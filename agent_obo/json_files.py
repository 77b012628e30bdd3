"""The one way this project reads a JSON file it keeps in the repository (the workflow project's files,
the policy pack's per-stack configuration): strictly, like its YAML (agent_obo/yaml_files.py).

JSON keeps the last of two equal keys silently, as YAML does (and the readers of workflows take keys that
differ only in letter case as equal): a reviewer could read one value of
`runAfter` or `approvedExceptions` while another applies. A key set twice in one object, NaN or
Infinity (not JSON, but Python's reader takes them), characters that change how text displays
without showing themselves (agent_obo/hidden_characters.py), bytes that are not UTF-8 and syntax errors stop
the run, naming the file and where.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agent_obo import hidden_characters
from agent_obo.errors import SettingsError
from agent_obo.yaml_files import display_path, read_text


class _Duplicate(ValueError):
    pass


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    folded: dict[str, str] = {}
    for key, value in pairs:
        # Logic Apps reads a workflow's names into .NET types without regard to case (`"type": "Agent"` and
        # `"Type": "Http"` are one property, the last kept): keys equal but for case are the same key twice
        # (the long s U+017F upper-cases to "S", the Kelvin sign U+212A lower-cases to "k").
        first = folded.setdefault(key.upper().lower(), key)
        if key in document or first != key:
            raise _Duplicate(f"key '{key}' is" if first == key else f"keys '{first}' and '{key}' are one key")
        document[key] = value
    return document


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(text: str, shown: str, what: str) -> Any:
    written = hidden_characters.written_problem(text, shown)
    if written is not None:
        raise SettingsError(f"{what} is not allowed as written", [written])
    try:
        document = json.loads(text, object_pairs_hook=_object, parse_constant=_constant)
    except _Duplicate as duplicate:
        raise SettingsError(f"{what} is not allowed as written", [
            f"{shown}: {duplicate.args[0]} set twice in one object (letter case aside); JSON would "
            "silently keep only the last one: set each key once"]) from None
    except json.JSONDecodeError as error:
        raise SettingsError(f"{what} is not valid JSON", [
            f"{shown} line {error.lineno}, column {error.colno}: {error.msg}"]) from None
    except ValueError as error:
        raise SettingsError(f"{what} is not valid JSON", [f"{shown}: {error}"]) from None
    escaped = hidden_characters.escaped_problems(document, shown)
    if escaped:
        raise SettingsError(f"{what} is not allowed as written", escaped)
    return document


def read_json(path: Path, what: str) -> Any:
    return parse_json(read_text(path, what), display_path(path), what)
