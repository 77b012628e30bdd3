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


def run_with(overrides: dict, stack: str = "dev") -> RunResult:
    """The dev stack with some settings changed, run through the real program."""
    return run_stack(stack, overrides)
