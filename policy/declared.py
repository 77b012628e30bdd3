"""What the stack under judgement declares, derived the way the program derives it.

A policy sees resources, not the stack's settings. Under the Pulumi CLI the engine starts the pack with
the stack's name and its whole config (Pulumi.yaml defaults, the stack file, ESC environments, secrets
decrypted) in the environment, exactly as the program receives it (pulumi/pulumi
sdk/go/common/resource/plugin/analyzer_plugin.go, constructEnv: PULUMI_STACK, PULUMI_CONFIG). From those
and the tool catalog this module derives, with agent_obo's own functions, what every security-relevant
value must be: the settings validated by agent_obo.settings, the enabled tools, their connections, the
Microsoft Graph scopes. A policy compares the plan with that, so it cannot drift from the program.

The catalog is read from $AGENT_OBO_CATALOG when set (CI sets it when it judges a pull request with the
base branch's pack), otherwise from the catalog beside the pack. Only data is read from there: the code
that derives comes from the pack's own checkout, so a change cannot rewrite its own judge.

Anything that cannot be determined (no stack, invalid settings, unreadable catalog) raises Undeclared,
which every policy reports as a mandatory violation: the pack fails closed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pulumi.runtime

from agent_obo.catalog import CATALOG_PATH, Catalog, load_catalog
from agent_obo.errors import SettingsError
from agent_obo.graph_scopes import required_scope_names
from agent_obo.settings import PROJECT, RULES, Settings, load_settings
from agent_obo.tool_connections import ConnectionSpec, connection_specs

CATALOG_ENV = "AGENT_OBO_CATALOG"


class Undeclared(Exception):
    """The pack cannot tell what the stack declares, so it cannot judge the plan."""


@dataclass(frozen=True)
class StackUnderJudgement:
    """Which stack the pack judges: its name, its config as the CLI hands it over, and its catalog."""

    stack: str
    config: Mapping[str, str]
    catalog_path: Path


@dataclass(frozen=True)
class Declared:
    stack: str
    settings: Settings
    catalog: Catalog  # the tools enabled in this stack
    connections: tuple[ConnectionSpec, ...]
    graph_scopes: frozenset[str]  # what the chat app requests from Microsoft Graph
    ignored_settings: tuple[str, ...]  # config keys this pack's settings code does not know

    @property
    def tenant_id(self) -> str:
        return self.settings.tenant_id

    @property
    def issuer(self) -> str:
        """Tokens of this tenant only, v2.0 (components/chat_app_registration.py issuer)."""
        return f"https://login.microsoftonline.com/{self.tenant_id}/v2.0"

    @property
    def consent_scopes(self) -> frozenset[str] | None:
        """The scopes the program grants tenant-wide, or None when the stack leaves consent to an
        administrator (no grant may exist then)."""
        return self.graph_scopes if self.settings.sign_in.grant_admin_consent else None

    def connection(self, connector: str, identity: str) -> ConnectionSpec | None:
        for spec in self.connections:
            if spec.connector.api_name == connector and spec.identity == identity:
                return spec
        return None


_judged: ContextVar[StackUnderJudgement | None] = ContextVar("agent_obo_stack_under_judgement", default=None)


@contextmanager
def judging(stack: str, config: Mapping[str, str], catalog_path: Path | None = None) -> Iterator[None]:
    """Policies called inside judge this stack (the offline harness); outside, the CLI's environment says."""
    token = _judged.set(StackUnderJudgement(stack, dict(config), catalog_path or CATALOG_PATH))
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


def declared() -> Declared:
    """What the stack under judgement declares; raises Undeclared when that cannot be determined."""
    judged = stack_under_judgement()
    return _derive(judged.stack, json.dumps(dict(judged.config), sort_keys=True), str(judged.catalog_path))


@lru_cache(maxsize=16)
def _derive(stack: str, config_json: str, catalog_path: str) -> Declared:
    if not stack:
        raise Undeclared("no stack: the pack runs outside `pulumi preview`/`pulumi up` (PULUMI_STACK is not set)")
    config: dict[str, str] = json.loads(config_json)
    if not config:
        raise Undeclared(f"stack {stack!r} hands the pack no config (PULUMI_CONFIG is empty)")
    prefix = PROJECT + ":"
    # Settings a newer program added are not this pack's to judge; everything it knows it checks.
    ignored = tuple(sorted(key for key in config if key.startswith(prefix) and key[len(prefix):] not in RULES))
    known = {key: value for key, value in config.items() if key not in ignored}
    try:
        settings = load_settings(known, stack)
        catalog = load_catalog(Path(catalog_path)).without(settings.disabled_tools)
    except SettingsError as error:
        raise Undeclared(f"{error}: " + "; ".join(error.problems)) from None
    except (OSError, ValueError) as error:
        raise Undeclared(f"the tool catalog {catalog_path} cannot be read: {error}") from None
    return Declared(
        stack=stack,
        settings=settings,
        catalog=catalog,
        connections=tuple(connection_specs(catalog)),
        graph_scopes=frozenset(required_scope_names(catalog)),
        ignored_settings=ignored,
    )
