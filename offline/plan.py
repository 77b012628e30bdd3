"""The record of one program run: every registration with its inputs and options, and the outputs.

Tests, the policy harness and `make plan` all read this record; none of them runs the program
again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270"


def is_secret_value(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG_VALUE


KEEP = object()  # what a `rebuilt` replacement answers for a part it leaves as it is


def rebuilt(value: Any, replacement: Callable[[Any], Any]) -> Any:
    """`value` (JSON-like: dicts, lists, scalars) with every part `replacement` answers for replaced by its
    answer; every other dict and list is rebuilt the same way, every other scalar kept."""
    replaced = replacement(value)
    if replaced is not KEEP:
        return replaced
    if isinstance(value, dict):
        return {key: rebuilt(item, replacement) for key, item in value.items()}
    if isinstance(value, list):
        return [rebuilt(item, replacement) for item in value]
    return value


def unwrap_secrets(value: Any) -> Any:
    """The engine's view: secret markers removed, values kept (what a policy pack sees)."""
    return rebuilt(value, lambda part: unwrap_secrets(part.get("value")) if is_secret_value(part) else KEEP)


def secret_paths(value: Any, path: str = "") -> list[str]:
    """Where in a value the secret markers are (e.g. `siteConfig.appSettings[3].value`)."""
    if is_secret_value(value):
        return [path or "."]
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += secret_paths(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += secret_paths(item, f"{path}[{index}]")
    return found


@dataclass
class Registration:
    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    raw_inputs: dict[str, Any]
    protect: bool
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    delete_before_replace: bool
    replace_on_changes: list[str]
    ignore_changes: list[str]
    replacement_trigger: Any
    replace_with: list[str]
    aliases: list[str]
    additional_secret_outputs: list[str]
    outputs: dict[str, Any] = field(default_factory=dict)
    resource_id: str | None = None  # None: unknown until deployed (a preview of its creation)
    step: Any = None  # the offline.engine.Step the run's mode takes (create, same, update, replace)

    @property
    def inputs(self) -> dict[str, Any]:
        return unwrap_secrets(self.raw_inputs)

    def input(self, dotted: str) -> Any:
        """`input("siteConfig.minTlsVersion")`: a nested input, or None where absent."""
        value: Any = self.inputs
        for part in dotted.split("."):
            if not isinstance(value, dict) or part not in value:
                return None
            value = value[part]
        return value

    @property
    def secret_input_paths(self) -> list[str]:
        return secret_paths(self.raw_inputs)


@dataclass
class Plan:
    stack: str
    registrations: list[Registration]
    stack_outputs: dict[str, Any]
    secret_outputs: set[str]
    # The config the program ran with, as the CLI hands it over (`agent-obo:<key>` -> string).
    config: dict[str, str] = field(default_factory=dict)
    mode: str = "up"  # how the resources answered (offline/engine.py MODES)
    # An update preview: what the deployed stack has that this run no longer registers (deleted).
    deleted: list[Registration] = field(default_factory=list)
    # What each invoke the program made answered (token -> result), e.g. who runs the deployment.
    invokes: dict[str, Any] = field(default_factory=dict)
    # The project directory that ran (its catalog is what the policy pack judges the plan against).
    project_dir: str | None = None

    def __iter__(self) -> Iterator[Registration]:
        return iter(self.registrations)

    def all(self, type: str | None = None, custom: bool | None = None) -> list[Registration]:
        return [r for r in self.registrations
                if (type is None or r.type == type) and (custom is None or r.custom == custom)]

    def one(self, type: str, name: str | None = None) -> Registration:
        matches = [r for r in self.all(type) if name is None or r.name == name]
        if len(matches) != 1:
            names = [r.name for r in self.all(type)]
            raise AssertionError(f"expected one {type} named {name!r} in stack {self.stack}, found {names}")
        return matches[0]

    def by_urn(self, urn: str) -> Registration:
        for registration in self.registrations:
            if registration.urn == urn:
                return registration
        raise KeyError(urn)

    def children(self, parent: Registration) -> list[Registration]:
        return [r for r in self.registrations if r.parent == parent.urn]

    @property
    def resources(self) -> list[Registration]:
        """Custom resources only: what Azure and Entra would hold."""
        return self.all(custom=True)
