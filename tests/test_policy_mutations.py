"""Every policy catches the changes it is for, on both stacks' real plans (tests/policy_mutations.py lists them)."""

from __future__ import annotations

import pytest

from offline.plan import Plan
from policy.harness import run_policies
from policy.pack import POLICIES
from tests.policy_mutations import CASES, Case

BY_NAME = {policy.name: policy for policy in POLICIES}
PARAMS = [(stack, case) for case in CASES for stack in case.stacks]


def violations(plan: Plan, policy_name: str) -> list[str]:
    [result] = run_policies(plan, [BY_NAME[policy_name]])
    for message in (v.message for v in result.violations):
        assert "Remediation: " in message, f"{policy_name} gave no remediation: {message}"
    return [v.message for v in result.violations]


@pytest.mark.parametrize("stack,case", PARAMS, ids=[f"{c.policy}: {c.id} [{s}]" for s, c in PARAMS])
def test_the_policy_catches_the_change(plans, stack: str, case: Case):
    found = violations(case.change(plans[stack]), case.policy)
    assert any(case.expected in message for message in found), f"expected {case.expected!r} in {found}"


def test_every_policy_has_cases_and_every_case_a_policy():
    assert {case.policy for case in CASES} == set(BY_NAME)
    assert len({(case.policy, case.id) for case in CASES}) == len(CASES)
    covered = {stack for case in CASES for stack in case.stacks}
    assert covered == {"dev", "prod"}
