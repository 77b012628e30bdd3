"""Pulumi.yaml and Pulumi.<stack>.yaml, read the way the Pulumi CLI reads them, but strictly.

Under `pulumi up` the CLI reads these files and hands the program the merged config; the program
reads them again here only to refuse what the CLI would let through silently: a key set twice (YAML
keeps the last), or the same setting written both as `planSku:` and `agent-obo:planSku:` (the CLI
reads both as `agent-obo:planSku`, one wins), or a Pulumi ESC import (`environment:`, whose values no
reviewer of the file sees). A stack whose config comes from elsewhere (`pulumi config set` with
`--config-file`) simply has no file here to check. The offline runner builds its config from the same
functions, so both paths refuse the same files.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agent_obo.errors import SettingsError
from agent_obo.yaml_files import PROJECT_DIR, display_path, read_mapping

_PROJECT_FILES: dict[tuple[Path, int, int], dict[str, Any]] = {}


def project_file(project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    """Pulumi.yaml: the project's name, runtime and declared settings (read once per version of the file)."""
    path = project_dir / "Pulumi.yaml"
    try:
        stat = path.stat()
        key = (path.resolve(), stat.st_mtime_ns, stat.st_size)
    except OSError:
        key = None
    if key in _PROJECT_FILES:
        return copy.deepcopy(_PROJECT_FILES[key])
    document = _read_project_file(path)
    if key is not None:
        _PROJECT_FILES[key] = copy.deepcopy(document)
    return document


def _read_project_file(path: Path) -> dict[str, Any]:
    document = read_mapping(path, "the Pulumi project file", empty_ok=False)
    name = document.get("name")
    if not isinstance(name, str) or not name:
        raise SettingsError("the Pulumi project file has no name", [
            f"{display_path(path)}: `name` = {name!r}; allowed: the project's name"])
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise SettingsError("the Pulumi project file declares its settings wrongly", [
            f"{display_path(path)}: `config` must be a mapping of setting names to their declarations"])
    return document


def stack_path(stack: str, project_dir: Path = PROJECT_DIR) -> Path:
    return project_dir / f"Pulumi.{stack}.yaml"


# The keys of a stack file the Pulumi CLI reads (pulumi.com/docs/iac/concepts/projects/project-file, "Stack
# settings file"). `environment` (Pulumi ESC) is not among those allowed here: it adds config that the offline plan,
# the tests and a reviewer of this file never see, and the pack's pins then judge values nobody reviewed here.
STACK_FILE_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt")
# What a value of each type Pulumi.yaml declares may be written as, exactly (True is no integer here). Text may be a
# whole number (the CLI passes it as written); not a float (`1.10` would arrive as 1.1).
_WRITTEN_AS = {"string": (str, int), "integer": (int, str), "boolean": (bool, str), "array": (list,)}
_KIND_NAMES = {str: "text", int: "number", float: "number", bool: "boolean", list: "list", dict: "mapping",
               bytes: "binary"}


def _top_level_problems(document: dict[str, Any], shown: str) -> list[str]:
    problems = []
    for key in document:
        if key == "environment":
            problems.append(f"{shown}: `environment` imports a Pulumi ESC environment's config, which the offline "
                            "plan, the tests and a reviewer of this file cannot see; allowed: the values in `config:` "
                            "(secrets with `pulumi config set --secret`)")
        elif key not in STACK_FILE_KEYS:
            close = difflib.get_close_matches(str(key), STACK_FILE_KEYS, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            problems.append(f"{shown}: top-level key {key!r} is read by nothing; {hint}allowed: "
                            f"{', '.join(STACK_FILE_KEYS)}")
    return problems


# No setting of a project here is a secret: a value set as one would reach resources, the state and the plan in
# plain text all the same (the program reads the config whole), while the stack file suggests it is protected.
NO_SECRET_SETTINGS = ("no setting of this project is one: the program would pass the value on in plain text "
                      "(resources, state, plan); allowed: a plain value (`pulumi config set` without --secret)")


def is_secure(value: Any) -> bool:
    """A value `pulumi config set --secret` wrote: `{secure: <ciphertext>}`. The CLI hands the program the
    plaintext and names the key a secret."""
    return isinstance(value, dict) and set(value) == {"secure"}


def _value_problem(full: str, value: Any, declared: Mapping[str, Any], project_name: str) -> str | None:
    """A value the CLI would pass as something else than the setting's declared type: nothing (`key:` or `~`), or a
    list or mapping where Pulumi.yaml declares text, a number or a boolean (the CLI would pass its JSON)."""
    if value is None:
        return f"{full!r} has no value (`~`, `null` or nothing after the colon); allowed: a value, or remove the key"
    namespace, _, name = full.partition(":")
    if is_secure(value) and namespace == project_name:
        return f"{full!r} is a secret (`secure:`), but {NO_SECRET_SETTINGS}"
    kind = (declared.get(name) or {}).get("type") if namespace == project_name else None
    if kind in _WRITTEN_AS and type(value) not in _WRITTEN_AS[kind] and not is_secure(value):
        return (f"{full!r} = {json.dumps(value, default=str)} is a {_KIND_NAMES.get(type(value), 'value')} where "
                f"Pulumi.yaml declares {'a list' if kind == 'array' else f'one {kind} value'}; allowed: "
                + ("a list" if kind == "array" else f"one {kind} value (quote text that looks like something else)"))
    return None


def stack_values(stack: str, project_name: str, project_dir: Path = PROJECT_DIR) -> dict[str, Any] | None:
    """The stack file's `config:` block with every key namespaced as the CLI namespaces it
    (`planSku` -> `<project>:planSku`), or None when the stack has no file here."""
    path = stack_path(stack, project_dir)
    if not path.is_file():
        return None
    document = read_mapping(path, f"stack file of {stack!r}")
    config = document.get("config") or {}
    shown = display_path(path)
    if not isinstance(config, dict):
        raise SettingsError(f"stack file of {stack!r} is invalid", [
            f"{shown}: `config` = {config!r}; allowed: a mapping of settings to values"])
    declared = project_file(project_dir).get("config") or {}
    values: dict[str, Any] = {}
    written_as: dict[str, str] = {}
    problems = _top_level_problems(document, shown)
    for key, value in config.items():
        if not isinstance(key, str):
            problems.append(f"{shown}: config key {key!r} is not text; allowed: <namespace>:<setting> names")
            continue
        full = key if ":" in key else f"{project_name}:{key}"
        if full in written_as:
            problems.append(f"{shown}: {key!r} and {written_as[full]!r} are the same setting {full!r}; "
                            "set it once")
            continue
        if (problem := _value_problem(full, value, declared, project_name)) is not None:
            problems.append(f"{shown}: {problem}")
        written_as[full] = key
        values[full] = value
    if problems:
        raise SettingsError(f"stack file of {stack!r} is invalid", problems)
    return values


def check_project_files(stack: str, project_dir: Path) -> None:
    """Refuses a project or stack file that the CLI would read differently from how it reads."""
    project = project_file(project_dir)
    stack_values(stack, project["name"], project_dir)


def stacks(project_dir: Path = PROJECT_DIR) -> list[str]:
    """The stacks that have a file here: one per environment."""
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))


def cli_string(value: Any) -> str:
    """A config value as the language host receives it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def stack_config(stack_values: Mapping[str, Any], project_dir: Path = PROJECT_DIR) -> dict[str, str]:
    """Pulumi.yaml defaults overlaid with a stack file's `config:` block, as the CLI hands them over."""
    project = project_file(project_dir)
    name = project["name"]
    config = {f"{name}:{key}": cli_string(spec["default"])
              for key, spec in (project.get("config") or {}).items() if "default" in spec}
    for key, value in (stack_values or {}).items():
        config[key if ":" in key else f"{name}:{key}"] = cli_string(value)
    return config
