"""The stack's declarations themselves: determinable, and for the settings the pack pins, unchanged.

Every other policy compares the plan with what the stack declares; this one judges the declarations.
The pack's configuration for a stack (policy/config/<stack>.json, `stack-declarations.pinned`) pins the
security-relevant settings of that stack (its tenant, who may sign in, the excluded paths, the token
audiences, delegated scopes, host storage, run-history protection, network exposure...). A stack file
edited alone, by an attacker or a tired operator, then fails here: changing a pinned setting takes a
reviewed change of the pack as well (two files, two reviews; CI judges pull requests with the base
branch's pack).

It is judged on the Log Analytics workspace, the first resource every run registers, so a violation
stops `pulumi up` before anything is created or changed (stack policies only run once every resource
has been registered), and again on the site, which every stack has, so removing one of the two does
not skip it. Source for the pattern: Pulumi's guidance on policy configuration per stack
(www.pulumi.com/docs/using-pulumi/crossguard/configuration/).
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import ResourceValidationArgs

from policy.checks import Check
from policy.declared import Declared
from policy.define import resource_policy
from policy.easy_auth import unsafe_excluded_paths
from policy.resource_types import LOG_ANALYTICS_WORKSPACE, SITE

ANCHORS = frozenset({LOG_ANALYTICS_WORKSPACE, SITE})
POLICY_NAME = "stack-declarations"


def _comparable(value: Any) -> Any:
    return [_comparable(v) for v in value] if isinstance(value, list | tuple) else value


def validate_stack_declarations(args: ResourceValidationArgs, check: Check) -> None:
    """What the stack declares can be determined (the engine hands the pack the stack and its config, the settings are
    valid, the catalog readable), its excluded paths stay under /runtime/, and every setting the pack pins for the
    stack (policy/config/<stack>.json) has the pinned value: a stack file cannot loosen sign-in, consent or storage
    keys on its own."""
    stack = check.declared()
    if stack is not None:
        _check_pins(check, stack)
        bad_paths = unsafe_excluded_paths(stack.settings.sign_in.excluded_paths)
        if bad_paths:
            check.fail(f"agent-obo:excludedPaths declares {bad_paths}: a wildcard or traversal reaches beyond the "
                       "runtime's own APIs.", "exclude only paths under /runtime/ (e.g. /runtime/*).")
        if stack.ignored_settings:
            check.cannot_see("settings this version of the pack does not know: " + ", ".join(stack.ignored_settings))


def _check_pins(check: Check, stack: Declared) -> None:
    pinned = stack.policy_config(POLICY_NAME).get("pinned") or {}
    if not isinstance(pinned, dict):
        check.fail(f"policy/config/{stack.stack}.json: {POLICY_NAME}.pinned is not an object.",
                   "pin settings as {\"setting name\": value}.")
        return
    for key, expected in sorted(pinned.items()):
        if key not in stack.settings.raw:
            check.fail(f"policy/config/{stack.stack}.json pins {key!r}, which is not a setting.",
                       "pin settings by their names in Pulumi.yaml or, for a tool's own, in catalog/tools.yaml.")
            continue
        actual = _comparable(stack.settings.raw.get(key))
        wanted = _comparable(expected)
        if key == "tenantId" and isinstance(actual, str) and isinstance(wanted, str):
            actual, wanted = actual.lower(), wanted.lower()
        if actual != wanted:
            check.fail(f"agent-obo:{key} is {actual!r} in stack {stack.stack!r}, but the pack pins {wanted!r}: a "
                       "security-relevant setting changed in the stack file alone.",
                       f"revert it, or change the pin in policy/config/{stack.stack}.json in a reviewed change of "
                       "the pack first.")


STACK_DECLARATIONS = resource_policy(
    POLICY_NAME, validate_stack_declarations, judges=ANCHORS,
    url="https://www.pulumi.com/docs/using-pulumi/crossguard/configuration/",
    remediation="Change pinned settings together with policy/config/<stack>.json, in reviewed changes.",
)
