"""One run of the real program per stack file per test session; tests read the recorded plans."""

from __future__ import annotations

import pytest

from offline.plan import Plan
from offline.runner import RunResult, run_stack, stacks

STACKS = stacks()


@pytest.fixture(scope="session")
def plans() -> dict[str, Plan]:
    return {stack: run_stack(stack).ok() for stack in STACKS}


@pytest.fixture(params=STACKS)
def plan(request, plans) -> Plan:
    return plans[request.param]


@pytest.fixture(scope="session")
def first_previews() -> dict[str, Plan]:
    """Each stack file as its first `pulumi preview` runs it: computed outputs unknown (offline/engine.py)."""
    return {stack: run_stack(stack, mode="first").ok() for stack in STACKS}


@pytest.fixture(params=STACKS)
def first_preview(request, first_previews) -> Plan:
    return first_previews[request.param]


def add_calendar_write_scope(document: dict) -> None:
    """A catalog change every stack previews: a per-user tool asks for one more delegated scope."""
    tool_entry(document, "get_my_upcoming_events")["scopes"] = ["Calendars.Read", "Calendars.ReadWrite"]


@pytest.fixture(scope="session")
def rescoped_plans(tmp_path_factory) -> dict[str, Plan]:
    """Each stack file with `add_calendar_write_scope` applied, every output known (as `pulumi up` runs it)."""
    return {stack: run_with_catalog(add_calendar_write_scope, tmp_path_factory.mktemp(f"rescoped-{stack}"),
                                    stack=stack).ok()
            for stack in STACKS}


@pytest.fixture(scope="session")
def update_previews(plans, tmp_path_factory) -> dict[str, Plan]:
    """Each stack file as the pull-request preview of a catalog change against it shows it: outputs of
    what the change updates in place unknown (offline/engine.py)."""
    return {stack: run_with_catalog(add_calendar_write_scope, tmp_path_factory.mktemp(f"catalog-{stack}"),
                                    stack=stack, mode="update", baseline=plans[stack]).ok()
            for stack in STACKS}


@pytest.fixture(params=STACKS)
def update_preview(request, update_previews) -> Plan:
    return update_previews[request.param]


def run_with(overrides: dict, stack: str = "dev", mode: str = "up", baseline: Plan | None = None) -> RunResult:
    """The dev stack with some settings changed, run through the real program."""
    return run_stack(stack, overrides, mode=mode, baseline=baseline)


def run_with_catalog(mutate, tmp_path, overrides: dict | None = None, stack: str = "dev", mode: str = "up",
                     baseline: Plan | None = None) -> RunResult:
    """The real program with a changed copy of catalog/tools.yaml (`mutate` edits its parsed YAML)."""
    from unittest import mock

    import yaml

    from agent_obo import catalog

    document = yaml.safe_load(catalog.CATALOG_PATH.read_text())
    mutate(document)
    path = tmp_path / "tools.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    with mock.patch.object(catalog, "CATALOG_PATH", path):
        return run_stack(stack, overrides, mode=mode, baseline=baseline)


def tool_entry(document: dict, name: str) -> dict:
    (entry,) = [tool for tool in document["tools"] if tool["name"] == name]
    return entry


def load_stack_settings(config, stack: str = "dev", secret_keys=()):
    """load_settings with the rules of this checkout's tool settings (catalog/tools.yaml), as prepare() calls it."""
    from agent_obo.catalog import load_catalog
    from agent_obo.settings import load_settings
    from agent_obo.tool_inputs import setting_rules

    return load_settings(config, stack, secret_keys, tool_settings=setting_rules(load_catalog()))
