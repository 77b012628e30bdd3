"""Runs the policy pack in-process against a recorded plan, the way `pulumi preview --policy-pack policy` would.

The Pulumi CLI cannot be downloaded on these machines, so CI and `make plan` judge the offline plan
instead. To give the verdicts the real pack would give, this builds what the engine hands the pack:
each custom resource, with camelCase input props, secrets unwrapped and unknowns as the engine's
sentinels behind the SDK's unknown-checking proxy, goes to every resource policy
(`ResourceValidationArgs`, the analyzer's Analyze call); all of them together go to every stack policy
(`StackValidationArgs` with `PolicyResource`s linked to parents and dependencies, AnalyzeStack). As
in the engine, a stack policy sees each resource's outputs, not its inputs ("AnalyzeStack is called on
the final outputs of each resource", pulumi/pulumi pkg/resource/deploy/step_generator.go): only the
properties the SDK declares as outputs, so a stack policy that reads an input-only property (a
resource group name, a generic resource's type) fails here as it would under the CLI.
A policy that touches an unknown value is reported as the engine reports it: an advisory note that
it cannot run during preview, not a crash and not a pass.

The stack the policies judge is the plan's (its name and config, as the CLI hands them to the pack;
policy/declared.py), with the pack's configuration for it (policy/config/<stack>.json), as the pack
reads it under the CLI.

`python -m policy.harness [stack ...]` runs every stack file (default: all) and exits 1 when a
mandatory policy fails.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from inspect import isawaitable
from pathlib import Path
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi.output import Unknown
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from agent_obo.catalog import CATALOG_FILE
from offline.plan import Plan, Registration, unwrap_secrets
from offline.runner import RunResult, run_stack, stacks
from offline.sdk_classes import property_names, resource_class
from offline.sdk_internals import NotApplicable
from policy.declared import Undeclared, judging, pack_config_for, policy_entry
from policy.pack import POLICIES

# As policy/__main__.py builds the pack: a policy without its own level takes the pack's.
PACK_ENFORCEMENT_LEVEL = EnforcementLevel.MANDATORY


@dataclass(frozen=True)
class Violation:
    urn: str  # "" when a stack policy blames the stack as a whole
    message: str


@dataclass
class PolicyResult:
    name: str
    enforcement_level: EnforcementLevel
    violations: list[Violation] = field(default_factory=list)
    # What the engine reports besides violations: "can't run during preview" and "not applicable".
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.violations

    @property
    def blocks_deployment(self) -> bool:
        return bool(self.violations) and self.enforcement_level == EnforcementLevel.MANDATORY


def engine_struct(registration: Registration) -> struct_pb2.Struct:
    """The registration's inputs as the engine sends them over gRPC: camelCase names, secrets unwrapped,
    unknowns as the engine's sentinel, numbers as doubles."""
    struct = struct_pb2.Struct()
    struct.update(_with_unknown_sentinels(registration.inputs))
    return struct


def analyzer_props(struct: struct_pb2.Struct) -> Any:
    """What a policy reads as `args.props`: the engine's Struct deserialized as the SDK's analyzer does, for
    each policy anew, behind the proxy that raises on reading an unknown value."""
    return unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(struct)))


def _with_unknown_sentinels(value: Any) -> Any:
    if isinstance(value, Unknown):
        return UNKNOWN_STRING_VALUE
    if isinstance(value, dict):
        return {key: _with_unknown_sentinels(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_with_unknown_sentinels(item) for item in value]
    return value


def resource_options(registration: Registration) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=registration.protect,
        ignore_changes=list(registration.ignore_changes),
        delete_before_replace=registration.delete_before_replace,
        aliases=list(registration.aliases),
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=list(registration.additional_secret_outputs),
        parent=registration.parent or None,
    )


PolicyPackConfig = Mapping[str, Any]  # policy/config/<stack>.json: policy name (or "all") -> level or object


def policy_config(policy: Policy, document: PolicyPackConfig | None) -> dict[str, Any]:
    """The policy's config as the analyzer hands it over: the schema's defaults, overlaid with the document's."""
    config: dict[str, Any] = {}
    if policy.config_schema is not None:
        config = {key: spec["default"] for key, spec in policy.config_schema.properties.items() if "default" in spec}
    config.update({k: v for k, v in policy_entry(document or {}, policy.name).items() if k != "enforcementLevel"})
    return config


def enforcement_level(policy: Policy, document: PolicyPackConfig | None) -> EnforcementLevel:
    """The policy's level as policy/__main__.py sets it from the stack's configuration (`all`, then by name)."""
    level = policy.enforcement_level or PACK_ENFORCEMENT_LEVEL
    for key in ("all", policy.name):
        configured = policy_entry(document or {}, key).get("enforcementLevel")
        if configured:
            level = EnforcementLevel(configured)
    return level


@cache
def output_names(resource_type: str) -> frozenset[str] | None:
    """The camelCase outputs the SDK declares for a resource type (None when no SDK class is known)."""
    cls = resource_class(resource_type)
    if cls is None:
        return None
    return frozenset(name for name, attribute in property_names(cls).items()
                     if attribute not in ("id", "urn", "pulumi_resource_name", "pulumi_resource_type"))


def output_struct(registration: Registration) -> struct_pb2.Struct:
    """What AnalyzeStack sends for a resource: its outputs (as the provider reports them), secrets unwrapped."""
    names = output_names(registration.type)
    outputs = {key: value for key, value in registration.outputs.items()
               if key != "id" and (names is None or key in names)}
    struct = struct_pb2.Struct()
    struct.update(_with_unknown_sentinels(unwrap_secrets(outputs)))
    return struct


def output_props(registration: Registration) -> Any:
    return analyzer_props(output_struct(registration))


def _stack_resources(registrations: Sequence[Registration]) -> list[PolicyResource]:
    by_urn: dict[str, PolicyResource] = {}
    for registration in registrations:
        by_urn[registration.urn] = PolicyResource(
            registration.type, output_props(registration), registration.urn, registration.name,
            resource_options(registration), None, None, [], {})
    for registration in registrations:
        resource = by_urn[registration.urn]
        resource.parent = by_urn.get(registration.parent)
        resource.dependencies = [by_urn[urn] for urn in registration.dependencies if urn in by_urn]
        resource.property_dependencies = {
            key: [by_urn[urn] for urn in urns if urn in by_urn]
            for key, urns in registration.property_dependencies.items()}
    return list(by_urn.values())


def _validate(policy: ResourceValidationPolicy | StackValidationPolicy, args: Any, report: Callable[..., None],
              result: PolicyResult) -> None:
    """Calls the policy as the analyzer does, turning unknown-value and not-applicable exits into notes."""
    try:
        outcome = policy.validate(args, report)
        if isawaitable(outcome):
            loop = asyncio.new_event_loop()
            try:
                loop.run_until_complete(outcome)
            finally:
                loop.close()
    except UnknownValueError as error:
        result.notes.append(f"can't run during preview: {error.message}")
    except NotApplicable as error:
        result.notes.append(f"not applicable: {error.reason or 'policy does not apply'}")


def run_policies(plan: Plan, policies: Iterable[Policy] = POLICIES, config: PolicyPackConfig | None = None,
                 catalog_path: Path | None = None) -> list[PolicyResult]:
    """Every policy against the plan's custom resources; one result per policy, in the pack's order.
    `config` stands in for the stack's policy/config/<stack>.json; `catalog_path` is the catalog the plan was
    built from (default: catalog/tools.yaml)."""
    judged: PolicyPackConfig | None = config
    if config is None:
        try:
            judged = pack_config_for(plan.stack)
        except Undeclared:
            # As policy/__main__.py: every policy keeps its own level, and each that reads the stack's
            # declarations reads the configuration again and fails closed, saying why.
            judged = None
    if catalog_path is None and plan.project_dir:
        catalog_path = Path(plan.project_dir) / CATALOG_FILE
    with judging(plan.stack, plan.config, catalog_path, judged):
        return _run(plan, policies, {} if judged is None else judged)


def _run(plan: Plan, policies: Iterable[Policy], config: PolicyPackConfig) -> list[PolicyResult]:
    registrations = plan.resources
    results: list[PolicyResult] = []
    stack_resources: list[PolicyResource] | None = None
    # One Analyze request per resource carries its inputs to every policy: built once, deserialized per policy.
    structs: dict[str, struct_pb2.Struct] = {}
    for policy in policies:
        result = PolicyResult(policy.name, enforcement_level(policy, config))
        results.append(result)
        if result.enforcement_level == EnforcementLevel.DISABLED:
            continue
        settings = policy_config(policy, config)
        if isinstance(policy, ResourceValidationPolicy):
            for registration in registrations:
                def report(message: str, urn: str | None = None, _urn: str = registration.urn,
                           _result: PolicyResult = result) -> None:
                    # As in the SDK: a resource policy's violation always names the resource validated.
                    _result.violations.append(Violation(_urn, message))

                if registration.urn not in structs:
                    structs[registration.urn] = engine_struct(registration)
                args = ResourceValidationArgs(registration.type, analyzer_props(structs[registration.urn]),
                                              registration.urn, registration.name, resource_options(registration),
                                              None, settings)
                _validate(policy, args, report, result)
        elif isinstance(policy, StackValidationPolicy):
            if stack_resources is None:
                stack_resources = _stack_resources(registrations)

            def report_stack(message: str, urn: str | None = None, _result: PolicyResult = result) -> None:
                _result.violations.append(Violation(urn or "", message))

            _validate(policy, StackValidationArgs(stack_resources, settings), report_stack, result)
    return results


def _where(urn: str) -> str:
    return urn.rsplit("::", 1)[-1] if urn else "(stack)"


def verdict_section(results: Iterable[PolicyResult]) -> str:
    """The "Policies:" block `make plan` prints: one PASS/FAIL line per policy, violations indented below."""
    lines = ["Policies:"]
    for result in results:
        unchecked = sum(note.startswith("can't run during preview") for note in result.notes)
        if result.passed and unchecked:
            # The engine's advisory: the known values passed, the unknown ones were not judged.
            lines.append(f"  PASS  {result.name} (known values; {unchecked} not checked until known, see notes)")
        elif result.passed:
            lines.append(f"  PASS  {result.name}")
        else:
            advisory = "" if result.enforcement_level == EnforcementLevel.MANDATORY else \
                f"; {result.enforcement_level.value}"
            lines.append(f"  FAIL  {result.name} ({len(result.violations)} violations{advisory})")
        lines += [f"        {_where(v.urn)}: {v.message}" for v in result.violations]
        lines += [f"        note: {note}" for note in result.notes]
    return "\n".join(lines)


def main(argv: list[str] | None = None, run_stack: Callable[[str], RunResult] = run_stack,
         stacks: Callable[[], list[str]] = stacks) -> int:
    """`run_stack` gives a stack's plan, `stacks` the stack files (tests pass stand-ins)."""
    parser = argparse.ArgumentParser(description="Run the agent-obo policy pack against offline plans.")
    parser.add_argument("stacks", nargs="*", help="stack names (Pulumi.<stack>.yaml); default: every stack file")
    chosen = parser.parse_args(argv).stacks or stacks()
    failed = False
    for stack in chosen:
        run = run_stack(stack)
        print(f"Stack {stack}:")
        if run.error is not None:
            print(f"  error: the program stopped: {run.error}")
            failed = True
            continue
        results = run_policies(run.plan)
        print(verdict_section(results))
        failed |= any(result.blocks_deployment for result in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
