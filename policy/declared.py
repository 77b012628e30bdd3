"""What the stack under judgement declares, derived the way the program derives it.

A policy sees resources, not the stack's settings. Under the Pulumi CLI the engine starts the pack with
the stack's name and its whole config (Pulumi.yaml defaults, the stack file, ESC environments, secrets
decrypted) in the environment, exactly as the program receives it (pulumi/pulumi
sdk/go/common/resource/plugin/analyzer_plugin.go, constructEnv: PULUMI_STACK, PULUMI_CONFIG). From those
and the tool catalog this module derives, with agent_obo's own functions, what every security-relevant
value must be: the settings validated by agent_obo.settings, the enabled tools, their connections, the
Microsoft Graph scopes. A policy compares the plan with that, so it cannot drift from the program.

The pack's own configuration for the stack, policy/config/<stack>.json, sits beside the policies and is read
by the pack itself (no command-line flag can loosen it): the settings it pins for the stack, the
exceptions it approves, and any policy the stack explicitly relaxes (Pulumi's --policy-pack-config format).

The catalog is read from $AGENT_OBO_CATALOG when set (CI sets it when it judges a pull request with the
base branch's pack), otherwise from the catalog beside the pack. Only data is read from there: the code
that derives comes from the pack's own checkout, so a change cannot rewrite its own judge.

Anything that cannot be determined (no stack, invalid settings, unreadable catalog) raises Undeclared,
which every policy reports as a mandatory violation: the pack fails closed.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pulumi.runtime

from agent_obo.catalog import CATALOG_PATH, Catalog, load_catalog
from agent_obo.entra import issuer
from agent_obo.errors import SettingsError
from agent_obo.graph_scopes import required_scope_names
from agent_obo.json_files import read_json
from agent_obo.provider_settings import NAMESPACES as PROVIDER_NAMESPACES
from agent_obo.provider_settings import SECRETS as CREDENTIALS
from agent_obo.settings import PROJECT, RULES, Settings, load_settings
from agent_obo.tool_connections import ConnectionSpec, connection_specs
from agent_obo.tool_inputs import setting_rules

CATALOG_ENV = "AGENT_OBO_CATALOG"
CONFIG_DIR = Path(__file__).resolve().parent / "config"


class Undeclared(Exception):
    """The pack cannot tell what the stack declares, so it cannot judge the plan."""


@dataclass(frozen=True)
class StackUnderJudgement:
    """Which stack the pack judges: its name, its config as the CLI hands it over, and its catalog."""

    stack: str
    config: Mapping[str, str]
    catalog_path: Path
    pack_config: Mapping[str, Any] | None = None  # None: policy/config/<stack>.json


def pack_config_for(stack: str, config_dir: Path | None = None) -> dict[str, Any]:
    """<config_dir>/<stack>.json (default policy/config/), {} when the stack has none."""
    path = (config_dir or CONFIG_DIR) / f"{stack}.json"
    if not path.exists():
        return {}
    try:
        document = read_json(path, "the pack's configuration")
    except SettingsError as error:
        raise Undeclared(f"the pack's configuration {path} cannot be read: {error}") from None
    if not isinstance(document, dict):
        raise Undeclared(f"the pack's configuration {path} is not a JSON object")
    problems = pack_config_problems(document)
    if problems:
        raise Undeclared(f"the pack's configuration {path} is invalid: " + "; ".join(problems))
    return document


ENFORCEMENT_LEVELS = ("advisory", "mandatory", "remediate", "disabled")  # pulumi_policy.EnforcementLevel


def pack_config_problems(document: Mapping[str, Any]) -> list[str]:
    """What in a pack configuration nothing would read, or would crash on: a policy name or property with a typo
    (`stack-declaration`, `pined`) would silently drop the stack's pins, an unknown level or a non-object entry would
    stop the pack with a traceback. Each problem names the key, the value and what is allowed."""
    from policy.connections import CONNECTIONS_POLICY
    from policy.graph import GRAPH_POLICY
    from policy.pack import POLICIES
    from policy.stack_declarations import POLICY_NAME

    # Each policy's properties, with the JSON type each holds; a policy not listed takes none.
    properties: dict[str, dict[str, type]] = {POLICY_NAME: {"pinned": dict},
                                              CONNECTIONS_POLICY: {"approvedExceptions": list},
                                              GRAPH_POLICY: {"allowedBroadScopes": list}}
    names = ["all", *(policy.name for policy in POLICIES)]
    problems = []
    for key, value in document.items():
        if key not in names:
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            problems.append(f"{key!r} is no policy of the pack, so nothing reads it; {hint}allowed: all or a policy's "
                            "name (policy/pack.py)")
            continue
        entry = {"enforcementLevel": value} if isinstance(value, str) else value
        if not isinstance(entry, dict):
            problems.append(f"{key} = {json.dumps(value)}: allowed: an enforcement level or an object")
            continue
        for name, item in entry.items():
            allowed = properties.get(key, {})
            if name == "enforcementLevel":
                if item not in ENFORCEMENT_LEVELS:
                    problems.append(f"{key}.enforcementLevel = {json.dumps(item)}: allowed: "
                                    + ", ".join(ENFORCEMENT_LEVELS))
            elif name not in allowed:
                problems.append(f"{key}.{name} is read by nothing; allowed: enforcementLevel"
                                + "".join(f", {known}" for known in allowed))
            elif not isinstance(item, allowed[name]) or (
                    isinstance(item, list) and not all(isinstance(element, str) for element in item)):
                problems.append(f"{key}.{name} = {json.dumps(item)}: allowed: "
                                + ("an object of setting names and values" if allowed[name] is dict
                                   else "a list of strings"))
    return problems


def policy_entry(document: Mapping[str, Any], name: str) -> dict[str, Any]:
    """One policy's entry, as Pulumi reads a policy pack config: a bare level, or an object."""
    value = document.get(name, {})
    return {"enforcementLevel": value} if isinstance(value, str) else dict(value)


@dataclass(frozen=True)
class Declared:
    stack: str
    settings: Settings
    catalog: Catalog  # the tools enabled in this stack
    connections: tuple[ConnectionSpec, ...]
    graph_scopes: frozenset[str]  # what the chat app requests from Microsoft Graph
    ignored_settings: tuple[str, ...]  # config keys this pack's settings code does not know
    pack_config: Mapping[str, Any]  # policy/config/<stack>.json

    def policy_config(self, name: str) -> dict[str, Any]:
        """A policy's properties from the pack's configuration for this stack (no enforcement level)."""
        return {k: v for k, v in policy_entry(self.pack_config, name).items() if k != "enforcementLevel"}

    @property
    def tenant_id(self) -> str:
        return self.settings.tenant_id

    @property
    def issuer(self) -> str:
        """Tokens of this tenant only, v2.0."""
        return issuer(self.tenant_id)

    def connection(self, connector: str, identity: str) -> ConnectionSpec | None:
        for spec in self.connections:
            if spec.connector.api_name == connector and spec.identity == identity:
                return spec
        return None


_judged: ContextVar[StackUnderJudgement | None] = ContextVar("agent_obo_stack_under_judgement", default=None)


@contextmanager
def judging(stack: str, config: Mapping[str, str], catalog_path: Path | None = None,
            pack_config: Mapping[str, Any] | None = None) -> Iterator[None]:
    """Policies called inside judge this stack (the offline harness); outside, the CLI's environment says."""
    token = _judged.set(StackUnderJudgement(stack, dict(config), catalog_path or CATALOG_PATH, pack_config))
    try:
        yield
    finally:
        _judged.reset(token)


def stack_under_judgement() -> StackUnderJudgement:
    explicit = _judged.get()
    if explicit is not None:
        return explicit
    catalog = os.environ.get(CATALOG_ENV)
    return StackUnderJudgement(
        stack=os.environ.get("PULUMI_STACK", ""),
        config=pulumi.runtime.get_config_env(),
        catalog_path=Path(catalog) if catalog else CATALOG_PATH,
    )


def stack_declaration(key: str) -> Any:
    """A choice the stack makes on purpose, which policies condition on, by its setting's name; None when
    what the stack declares cannot be determined (then a policy assumes the strictest, and
    stack-declarations reports why)."""
    try:
        settings = declared().settings
    except Undeclared:
        return None
    network = settings.network
    return {
        "hostStorageAuthentication": settings.host_storage_authentication,
        "secureAgentRunHistory": settings.audit.secure_agent_run_history,
        "privateNetworking": network is not None,
        "publicIngress": network.public_ingress if network else True,
        "storageFirewallIpRanges": network.storage_firewall_ip_ranges if network else (),
        "zoneRedundant": settings.zone_redundant,
        "protectStatefulResources": settings.protect_stateful_resources,
    }[key]


def declared() -> Declared:
    """What the stack under judgement declares; raises Undeclared when that cannot be determined."""
    judged = stack_under_judgement()
    if not judged.stack:
        raise Undeclared("no stack: the pack runs outside `pulumi preview`/`pulumi up` (PULUMI_STACK is not set)")
    pack_config = pack_config_for(judged.stack) if judged.pack_config is None else judged.pack_config
    return _derive(judged.stack, json.dumps(dict(judged.config), sort_keys=True), str(judged.catalog_path),
                   json.dumps(pack_config, sort_keys=True))


@lru_cache(maxsize=32)
def _derive(stack: str, config_json: str, catalog_path: str, pack_config_json: str) -> Declared:
    config: dict[str, str] = json.loads(config_json)
    if not config:
        raise Undeclared(f"stack {stack!r} hands the pack no config (PULUMI_CONFIG is empty)")
    prefix = PROJECT + ":"
    try:
        full_catalog = load_catalog(Path(catalog_path))
        tool_settings = setting_rules(full_catalog)
        # Settings a newer program added are not this pack's to judge; everything it knows it checks.
        ignored = tuple(sorted(key for key in config if key.startswith(prefix)
                               and key[len(prefix):] not in RULES and key[len(prefix):] not in tool_settings))
        known = {key: value for key, value in config.items() if key not in ignored}
        # The engine hands the pack the config without saying which values are secrets. The program, which knows,
        # refuses a provider credential written in plain text (agent_obo/provider_settings.py); here each one is
        # taken as the secret it must be, so that it is never shown and a secret one is not refused.
        credentials = {key for key in known if key.partition(":")[0] in PROVIDER_NAMESPACES
                       and key.partition(":")[2] in CREDENTIALS}
        settings = load_settings(known, stack, credentials, tool_settings=tool_settings)
        catalog = full_catalog.without(settings.disabled_tools)
    except SettingsError as error:
        raise Undeclared(str(error).replace("\n", " ")) from None
    except (OSError, ValueError) as error:
        raise Undeclared(f"the tool catalog {catalog_path} cannot be read: {error}") from None
    return Declared(
        stack=stack,
        settings=settings,
        catalog=catalog,
        connections=tuple(connection_specs(catalog)),
        graph_scopes=frozenset(required_scope_names(
            catalog, delegate_tool_scopes=settings.sign_in.delegate_tool_scopes)),
        ignored_settings=ignored,
        pack_config=json.loads(pack_config_json),
    )
