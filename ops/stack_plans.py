"""What the ops scripts share: a stack's offline plan (for its URNs) and running the Pulumi CLI."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

from offline.plan import Plan
from offline.runner import PROJECT_DIR, RunResult, stacks


class PlanUnavailable(Exception):
    """No plan to read URNs from; `exit_code` is what the script exits with."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def plan_for(stack: str, run_stack: Callable[[str], RunResult]) -> Plan:
    """The stack's offline plan: the same program as the deployed state, so the same URNs."""
    if stack not in stacks():
        raise PlanUnavailable(f"no stack file Pulumi.{stack}.yaml; stacks: {', '.join(stacks())}", 2)
    result = run_stack(stack)
    if result.error is not None:
        raise PlanUnavailable(f"the program fails for stack {stack}, so its URNs are unknown: {result.error}", 1)
    return result.plan


def run_pulumi(command: list[str]) -> int:
    """Runs pulumi in the project directory, where Pulumi.yaml and the policy pack are."""
    try:
        return subprocess.run(command, cwd=PROJECT_DIR, check=False).returncode
    except FileNotFoundError:
        print("error: the pulumi CLI is not on PATH (https://www.pulumi.com/docs/install/)", file=sys.stderr)
        return 127
