"""The SDK internals the offline harness uses, each because no public API does the same; nothing else
in the project reaches past a public API, so an SDK upgrade that moves one of these breaks here only.

- `run_program_and_wait` is `pulumi.runtime.stack.run_pulumi_func`: it runs a program, then waits for
  every outstanding registration and output, as the language host does. The public
  `pulumi.runtime.run_in_stack` wraps the same call but first makes a root stack of its own, and
  `pulumi.runtime.set_mocks` (the public way to run a program against mocks) has made one already:
  the SDK refuses a second ("Only one root Pulumi Stack may be active at once").
- `forget_pending_outputs` clears `pulumi.runtime.settings.SETTINGS.outputs`, the outputs the SDK
  waits on when a program exits. A run that fails leaves its failed outputs there, bound to its closed
  event loop, and the SDK keeps that set from one run to the next in a process: the next run would wait
  on them ("Event loop is closed"). The SDK's own `pulumi.runtime.mocks.test` clears them the same way
  between tests; no public API does.
- `NotApplicable` is `pulumi_policy.policy._NotApplicableError`, what `args.not_applicable()` raises
  inside a policy. pulumi_policy catches it in its gRPC analyzer and exports neither the class nor a
  way to run a policy outside that server; the policy harness (policy/harness.py), which runs the
  pack in-process against a recorded plan, must catch it to report "not applicable" as the CLI does.
"""

from __future__ import annotations

from pulumi.runtime.settings import SETTINGS
from pulumi.runtime.stack import run_pulumi_func as run_program_and_wait
from pulumi_policy.policy import _NotApplicableError as NotApplicable

__all__ = ["NotApplicable", "forget_pending_outputs", "run_program_and_wait"]


def forget_pending_outputs() -> None:
    SETTINGS.outputs.clear()
