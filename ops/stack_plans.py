"""What the ops scripts share: a stack's offline plan (for its URNs), its deployed outputs, and
running the Pulumi CLI."""

from __future__ import annotations

import argparse
import functools
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec

from offline.plan import Plan
from offline.runner import PROJECT_DIR, RunResult, stacks

PULUMI_INSTALL = "https://www.pulumi.com/docs/install/"


class PlanUnavailable(Exception):
    """No plan or outputs to read; `exit_code` is what the script exits with."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


Arguments = ParamSpec("Arguments")


def stack_parser(module: str, description: str, *, reads_outputs: bool = False) -> argparse.ArgumentParser:
    """An ops script's command line, `python -m <module> <stack>`; with `reads_outputs`, `--outputs FILE`
    stands in for the deployed stack's outputs (deployed_outputs)."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=description)
    parser.add_argument("stack", help="stack name (Pulumi.<stack>.yaml)")
    if reads_outputs:
        parser.add_argument("--outputs", type=Path, help="`pulumi stack output --json` saved to a file, instead "
                            "of running the pulumi CLI")
    return parser


def deployed_outputs(args: argparse.Namespace) -> dict[str, Any]:
    """The outputs of the stack a stack_parser(reads_outputs=True) command line names: its --outputs file,
    or what the pulumi CLI answers."""
    if args.outputs is None:
        return stack_outputs(args.stack)
    outputs = json.loads(args.outputs.read_text())
    if not isinstance(outputs, dict):
        raise PlanUnavailable(f"{args.outputs} holds {type(outputs).__name__}, not the object of a stack's outputs", 2)
    return outputs


def ends_without_a_plan(main: Callable[Arguments, int]) -> Callable[Arguments, int]:
    """An ops script's `main`: a stack whose plan or outputs cannot be had ends the script with the
    problem's message and exit code, wherever it is found."""
    @functools.wraps(main)
    def run(*args: Arguments.args, **kwargs: Arguments.kwargs) -> int:
        try:
            return main(*args, **kwargs)
        except PlanUnavailable as problem:
            print(f"error: {problem}", file=sys.stderr)
            return problem.exit_code
    return run


def plan_for(stack: str, run_stack: Callable[[str], RunResult]) -> Plan:
    """The stack's offline plan: the same program as the deployed state, so the same URNs."""
    if stack not in stacks():
        raise PlanUnavailable(f"no stack file Pulumi.{stack}.yaml; stacks: {', '.join(stacks())}", 2)
    result = run_stack(stack)
    if result.error is not None:
        raise PlanUnavailable(f"the program fails for stack {stack}, so its URNs are unknown: {result.error}", 1)
    return result.plan


def stack_outputs(stack: str) -> dict[str, Any]:
    """The deployed stack's outputs (`pulumi stack output --json`): what Azure actually named and
    created, which the offline plan can only stand in for. Secret outputs stay masked."""
    if stack not in stacks():
        raise PlanUnavailable(f"no stack file Pulumi.{stack}.yaml; stacks: {', '.join(stacks())}", 2)
    command = ["pulumi", "stack", "output", "--json", "--stack", stack]
    try:
        done = subprocess.run(command, cwd=PROJECT_DIR, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise PlanUnavailable(f"the pulumi CLI is not on PATH ({PULUMI_INSTALL})", 127) from None
    if done.returncode != 0:
        raise PlanUnavailable(f"`{' '.join(command)}` failed (exit {done.returncode}): {done.stderr.strip()}", 1)
    try:
        outputs = json.loads(done.stdout)
    except json.JSONDecodeError as problem:
        raise PlanUnavailable(f"`{' '.join(command)}` printed no JSON: {problem}", 1) from None
    if not isinstance(outputs, dict):
        raise PlanUnavailable(f"`{' '.join(command)}` printed {type(outputs).__name__}, not an object", 1)
    return outputs


def run_pulumi(command: list[str]) -> int:
    """Runs pulumi in the project directory, where Pulumi.yaml and the policy pack are."""
    try:
        return subprocess.run(command, cwd=PROJECT_DIR, check=False).returncode
    except FileNotFoundError:
        print(f"error: the pulumi CLI is not on PATH ({PULUMI_INSTALL})", file=sys.stderr)
        return 127
