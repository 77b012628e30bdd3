"""The resources a stack protects, and the `pulumi state unprotect` commands `pulumi destroy` needs.

With protectStatefulResources (prod), the runtime storage account and the chat app registration
with its service principal are protected: `pulumi destroy` refuses to delete them, and so refuses
to destroy the environment at all, until their protection is lifted in the state. The CanNotDelete
locks on storage, model and Log Analytics (components/delete_locks.py) are protected too: they are
listed and unprotected first, and since each depends on every other resource `pulumi destroy`
deletes them before anything else, so Azure lets the rest go. Deleting them loses the run history
and runbooks in storage, and the app's client id, user assignments and consent; a recreated
environment gets new ones.

The URNs come from the offline plan of the stack: the same program, so the same URNs as the
deployed state.

Usage:
    python -m ops.protected_resources STACK                       # list, and print the commands
    python -m ops.protected_resources STACK --refuse-if-protected # exit 1 if anything is protected
    python -m ops.protected_resources STACK --unprotect           # run `pulumi state unprotect` for each

Exit codes: 0 done, 1 protected resources block a destroy (--refuse-if-protected) or the offline
plan failed, 2 no such stack, else the exit code of the `pulumi state unprotect` that failed.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Sequence

from offline.plan import Plan, Registration
from offline.runner import RunResult, run_stack
from ops.stack_plans import ends_without_a_plan, plan_for, run_pulumi, stack_parser

LOCK_TYPE = "azure-native:authorization:ManagementLockByScope"


def protected_resources(plan: Plan) -> list[Registration]:
    """Delete locks first: they are what stops Azure itself, and `pulumi destroy` removes them first."""
    protected = [registration for registration in plan if registration.protect]
    return sorted(protected, key=lambda registration: registration.type != LOCK_TYPE)


def unprotect_command(stack: str, urn: str) -> list[str]:
    return ["pulumi", "state", "unprotect", "--stack", stack, "--yes", urn]


def describe(plan: Plan, protected: list[Registration]) -> str:
    if not protected:
        return f"Stack {plan.stack} protects no resources: `pulumi destroy --stack {plan.stack}` needs no unprotect."
    lines = [f"Stack {plan.stack} protects {len(protected)} resource(s):"]
    lines += [f"  {r.type}  {r.name}\n    {r.urn}" for r in protected]
    lines.append(f"Before `pulumi destroy --stack {plan.stack}`, lift the protection:")
    lines += [f"  {shlex.join(unprotect_command(plan.stack, r.urn))}" for r in protected]
    return "\n".join(lines)


@ends_without_a_plan
def main(argv: Sequence[str] | None = None, run_stack: Callable[[str], RunResult] = run_stack,
         run_command: Callable[[list[str]], int] = run_pulumi) -> int:
    """`run_stack` gives the stack's offline plan, `run_command` runs pulumi (tests pass stand-ins)."""
    parser = stack_parser("ops.protected_resources", "List a stack's protected resources and how to unprotect them.")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--refuse-if-protected", action="store_true",
                      help="exit 1 when the stack protects anything (make destroy without UNPROTECT=1)")
    mode.add_argument("--unprotect", action="store_true",
                      help="run `pulumi state unprotect` for each protected resource")
    args = parser.parse_args(argv)

    plan = plan_for(args.stack, run_stack)
    protected = protected_resources(plan)
    print(describe(plan, protected))

    if args.refuse_if_protected and protected:
        print(f"error: refusing to destroy stack {args.stack} while it protects {len(protected)} resource(s); "
              f"`make destroy STACK={args.stack} UNPROTECT=1` lifts the protection first", file=sys.stderr)
        return 1
    if args.unprotect:
        for registration in protected:
            code = run_command(unprotect_command(args.stack, registration.urn))
            if code != 0:
                print(f"error: pulumi state unprotect failed for {registration.urn} (exit {code})", file=sys.stderr)
                return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
