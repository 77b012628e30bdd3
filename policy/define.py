"""How each policy of the pack is defined: mandatory, described by its validation's docstring, sourced.

A validation reports through a Check (policy/checks.py), made for each call and finished after it: what the
engine could not tell yet during a preview is reported once, after everything knowable was judged.
Every policy blocks a preview or update it finds a violation in: the pack's one enforcement level, stated
here; a stack relaxes a policy only in its own policy/config/<stack>.json (pack.relax), which a reviewer
sees. What a policy enforces is the docstring of its validation, so the rule the CLI shows and the code
that checks it sit together. Each policy cites the Microsoft page it enforces (`url`) and says what to
change (`remediation`); a resource policy may name the resource types it judges (`judges`) and is then
not called for any other.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy.checks import Check

ENFORCEMENT_LEVEL = EnforcementLevel.MANDATORY
ResourceValidation = Callable[[ResourceValidationArgs, Check], None]
StackValidation = Callable[[StackValidationArgs, Check], None]


def resource_policy(name: str, validate: ResourceValidation, *, url: str, remediation: str,
                    judges: Collection[str] | None = None) -> ResourceValidationPolicy:
    """A mandatory policy called once per resource (of the `judges` types only, when given)."""
    types = None if judges is None else frozenset(judges)

    def judged(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if types is None or args.resource_type in types:
            _run(validate, args, report_violation)
    return ResourceValidationPolicy(name=name, description=_description(name, validate), validate=judged,
                                    enforcement_level=ENFORCEMENT_LEVEL, url=url, remediation_steps=remediation)


def stack_policy(name: str, validate: StackValidation, *, url: str, remediation: str) -> StackValidationPolicy:
    """A mandatory policy called once with every resource of the stack."""
    def judged(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        _run(validate, args, report_violation)
    return StackValidationPolicy(name=name, description=_description(name, validate), validate=judged,
                                 enforcement_level=ENFORCEMENT_LEVEL, url=url, remediation_steps=remediation)


def _description(name: str, validate: Callable[..., None]) -> str:
    """The validation's docstring as one paragraph: what the engine shows for the policy."""
    doc = inspect.getdoc(validate)
    if not doc:
        raise ValueError(f"policy {name}: its validation has no docstring to describe it")
    return " ".join(doc.split())


def _run(validate: Callable[[Any, Check], None], args: Any, report_violation: ReportViolation) -> None:
    check = Check(report_violation)
    validate(args, check)
    check.done()
