"""One validation's verdicts, reported the way the engine reports a policy.

A violation is reported as soon as it is found, with what to change. A value the engine does not know
yet (during preview: an id, a principal, a host name of something not created yet) cannot be judged:
the check notes it and, once everything knowable has been checked, raises the SDK's UnknownValueError,
which the analyzer reports as an advisory "can't run policy ... during preview" naming what it could not
see. So an unknown never passes silently, and never blocks a preview that `pulumi up` will judge with the
real values.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from pulumi_policy import ReportViolation
from pulumi_policy.proxy import UnknownValueError

from policy.declared import Declared, Undeclared, declared
from policy.props import MISSING, UNKNOWN, is_known, lookup, violation


class NotKnownYet(UnknownValueError):
    """What the analyzer reports as "can't run policy ... during preview: <message>" (an advisory diagnostic)."""

    def __init__(self, message: str) -> None:
        Exception.__init__(self, message)
        self.unknown_type_sentinel = ""
        self.props: list[str] = []
        self.message = message


def same_value(value: Any, expected: Any) -> bool:
    """Equal and of the same kind: True is not 1, but 2.0 is 2 (the engine sends every number as a double)."""
    numbers = (int, float)
    if isinstance(value, numbers) and isinstance(expected, numbers) \
            and not isinstance(value, bool) and not isinstance(expected, bool):
        return value == expected
    return value == expected and type(value) is type(expected)


class Check:
    def __init__(self, report_violation: ReportViolation, urn: str | None = None) -> None:
        self._report = report_violation
        self._urn = urn
        self.unseen: list[str] = []

    def fail(self, problem: str, remediation: str, urn: str | None = None) -> None:
        self._report(violation(problem, remediation), urn or self._urn)

    def cannot_see(self, what: str) -> None:
        if what not in self.unseen:
            self.unseen.append(what)

    def declared(self) -> Declared | None:
        """What the stack declares, or None after reporting why it cannot be told (the pack fails closed)."""
        try:
            return declared()
        except Undeclared as reason:
            self.fail(f"What the stack declares cannot be determined, so this plan cannot be judged: {reason}.",
                      "run the pack through `pulumi preview`/`pulumi up` of an agent-obo stack (the engine hands "
                      "it the stack and its config), with valid settings and a readable catalog/tools.yaml.")
            return None

    def known(self, value: Any, what: str) -> bool:
        """False (and noted) when the value is unknown during preview; a missing value is known to be missing."""
        if value is UNKNOWN:
            self.cannot_see(what)
            return False
        return True

    def outside(self, value: Any, allowed: Collection[Any], what: str) -> bool:
        """True when `value` is known not to be one of `allowed`; when either is not known yet, noted, and False."""
        if value is UNKNOWN or UNKNOWN in allowed:
            self.cannot_see(what)
            return False
        return value not in allowed

    def equal(self, props: Any, path: str, expected: Any, problem: str, remediation: str) -> None:
        """The value at `path` is exactly `expected` (a missing value is compared as MISSING)."""
        value = lookup(props, path)
        if self.known(value, path) and not same_value(value, expected):
            self.fail(f"{path} is {value!r}, not {expected!r}: {problem}", remediation)

    def not_value(self, props: Any, path: str, forbidden: Any, problem: str, remediation: str) -> None:
        """The value at `path` is not `forbidden` (where the Azure default is safe, leaving it out is fine)."""
        value = lookup(props, path)
        if self.known(value, path) and value == forbidden:
            self.fail(f"{path} is {value!r}: {problem}", remediation)

    def same_set(self, value: Any, expected: Iterable[str], what: str, remediation: str,
                 missing_is_empty: bool = True) -> None:
        """A list equal to `expected` as a set, each item once; unknown items are noted, never guessed."""
        wanted = set(expected)
        if value is MISSING and missing_is_empty:
            value = []
        if not self.known(value, what):
            return
        if not isinstance(value, list):
            self.fail(f"{what} is {value!r}, not a list of {sorted(wanted)}.", remediation)
            return
        if any(item is UNKNOWN for item in value):
            self.cannot_see(what)
        items = [item for item in value if is_known(item)]
        extra = sorted({repr(item) for item in items if item not in wanted})
        absent = sorted(wanted - set(item for item in items if isinstance(item, str)))
        if UNKNOWN in value:
            absent = []  # an unknown item may be the absent one
        repeated = len(items) != len(set(map(repr, items)))
        if extra or absent or repeated:
            parts = ([f"not declared {', '.join(extra)}"] if extra else []) + \
                    ([f"missing {', '.join(repr(a) for a in absent)}"] if absent else []) + \
                    (["an item repeated"] if repeated else [])
            self.fail(f"{what} differs from what the stack declares ({'; '.join(parts)}).", remediation)

    def done(self) -> None:
        if self.unseen:
            raise NotKnownYet("not known until the resources exist, so not yet checked: " + ", ".join(self.unseen))
