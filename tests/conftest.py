"""One run of the real program per stack file per test session; tests read the recorded plans.

Helpers more than one test file uses are in tests/helpers.py.
"""

from __future__ import annotations

import gc

import pytest

from offline.plan import Plan
from offline.runner import PROJECT_DIR, run_stack, stacks
from tests.helpers import ACCESS_KEY, add_calendar_scope, run_with_catalog

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


@pytest.fixture(scope="session")
def bootstrap() -> Plan:
    """The bootstrap project's example stack (bootstrap/Pulumi.bootstrap.yaml), every output known."""
    return run_stack("bootstrap", project_dir=PROJECT_DIR / "bootstrap").ok()


@pytest.fixture(scope="session")
def access_key_plans() -> dict[str, Plan]:
    """Each stack file with the other host-storage mode: the content share and account keys."""
    return {stack: run_stack(stack, ACCESS_KEY).ok() for stack in STACKS}


@pytest.fixture(scope="session")
def rescoped_plans(tmp_path_factory) -> dict[str, Plan]:
    """Each stack file with `add_calendar_scope` applied, every output known (as `pulumi up` runs it)."""
    return {stack: run_with_catalog(add_calendar_scope, tmp_path_factory.mktemp(f"rescoped-{stack}"),
                                    stack=stack).ok()
            for stack in STACKS}


@pytest.fixture
def rescoped(rescoped_plans) -> Plan:
    """dev with `add_calendar_scope` applied."""
    return rescoped_plans["dev"]


@pytest.fixture(scope="session")
def update_previews(plans, tmp_path_factory) -> dict[str, Plan]:
    """Each stack file as the pull-request preview of a catalog change against it shows it: outputs of
    what the change updates in place unknown (offline/engine.py)."""
    return {stack: run_with_catalog(add_calendar_scope, tmp_path_factory.mktemp(f"catalog-{stack}"),
                                    stack=stack, mode="update", baseline=plans[stack]).ok()
            for stack in STACKS}


@pytest.fixture(params=STACKS)
def update_preview(request, update_previews) -> Plan:
    return update_previews[request.param]


def pytest_runtest_teardown(item) -> None:
    """The test session's choice, not the harness's (offline/ leaves the collector alone): what each test
    leaves behind (the SDK's modules, the recorded plans) mostly lives as long as the session, and
    frozen, the cyclic collector stops scanning it at every collection. A third of the suite's CPU time
    otherwise (62 s against 90 s user time, at about 450 MB)."""
    gc.freeze()
