"""Every policy catches the changes it is for, on both stacks' real plans (tests/policy_mutations.py lists them)."""

from __future__ import annotations

import pytest

from offline.plan import Plan
from policy.harness import run_policies
from policy.pack import POLICIES
from tests.policy_mutations import CASES, FIRST_PREVIEW_CASES, NEEDS_KNOWN_OUTPUTS, Case

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


FIRST = [(stack, case) for case in [*CASES, *FIRST_PREVIEW_CASES] for stack in case.stacks]


@pytest.mark.parametrize("stack,case", FIRST, ids=[f"{c.policy}: {c.id} [{s}]" for s, c in FIRST])
def test_in_a_first_preview_the_policy_reports_the_change_or_says_what_it_cannot_see(first_previews, stack, case):
    """A new stack's first preview knows no id, principal or host name yet: each change is a violation, or the policy
    notes what it could not judge. Never a silent pass."""
    try:
        changed = case.change(first_previews[stack])
    except (AttributeError, KeyError, TypeError, ValueError, StopIteration):
        assert (case.policy, case.id) in NEEDS_KNOWN_OUTPUTS, "the change reads an output a first preview lacks"
        return
    [result] = run_policies(changed, [BY_NAME[case.policy]])
    assert result.violations or result.notes, f"{case.policy} passed {case.id!r} silently"
    if result.violations and case.expected:
        assert any(case.expected in v.message for v in result.violations) or result.notes, result.violations


def test_the_cases_listed_as_needing_known_outputs_do_need_them(first_previews):
    for stack, plan in first_previews.items():
        for case in CASES:
            if (case.policy, case.id) in NEEDS_KNOWN_OUTPUTS and stack in case.stacks:
                with pytest.raises((AttributeError, KeyError, TypeError, ValueError, StopIteration)):
                    case.change(plan)
