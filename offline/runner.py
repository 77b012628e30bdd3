"""Runs the real __main__.py for one stack under the offline mocks, the way the Pulumi CLI runs it.

Config is assembled as the CLI assembles it: Pulumi.yaml defaults, then the stack file, every
value in the CLI's string form (booleans lower-case, lists as JSON). The program runs in a fresh
context, so several stacks can run in one process without sharing Pulumi's runtime state.

`mode` says what the resources answer (offline/engine.py): `up` every output known, `first` a new
stack's first preview, `update` the preview of a change against a `baseline` run of the deployed stack.
"""

from __future__ import annotations

import asyncio
import contextvars
import runpy
import threading
from collections.abc import Collection, Coroutine, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pulumi
from google.protobuf import json_format
from pulumi.runtime import get_root_resource, rpc
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.proto import resource_pb2

from agent_obo.errors import SettingsError
from agent_obo.stack_files import is_secure, project_file, stack_config, stack_path, stack_values, stacks
from agent_obo.yaml_files import PROJECT_DIR, read_mapping
from offline import engine
from offline.mocks import AzureMocks
from offline.plan import Plan, Registration
from offline.sdk_internals import forget_pending_outputs, run_program_and_wait

T = TypeVar("T")


def project_settings(project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    return project_file(project_dir)


def stack_file(stack: str, project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    return read_mapping(stack_path(stack, project_dir), f"stack file of {stack!r}")


class RecordingMonitor(MockMonitor):
    """Keeps every registration request (the mocks alone never see resource options) and what was
    answered, and, in a preview mode, answers as the engine and the providers answer during
    `pulumi preview`.

    The SDK calls the monitor from its executor threads; whatever needs an event loop (the SDK's
    (de)serialization of properties) runs on the program's own loop (`_on_program_loop`)."""

    def __init__(self, mocks: pulumi.runtime.Mocks, loop: asyncio.AbstractEventLoop, mode: str = "up",
                 baseline: Plan | None = None):
        self.answering = _Answering(mocks)
        super().__init__(self.answering)
        if mode not in engine.MODES:
            raise ValueError(f"mode {mode!r}: allowed: {', '.join(engine.MODES)}")
        if (mode == "update") != (baseline is not None):
            raise ValueError("an update preview, and only an update preview, diffs against a baseline run")
        self.loop = loop
        self.mode = mode
        self.requests: list[Any] = []
        self.answers: dict[str, tuple[str, dict[str, Any]]] = {}  # by URN: the id and state a resource answered
        self.invokes: dict[str, Any] = {}
        self.component_outputs: dict[str, dict[str, Any]] = {}
        deployed = {r.urn: engine.DeployedResource(r.type, r.resource_id, r.raw_inputs, r.outputs,
                                                   r.replacement_trigger)
                    for r in (baseline.resources if baseline else [])}
        self.diff = engine.UpdateDiff(deployed)
        self.steps = self.diff.steps  # by URN: what the preview would do to each resource
        self.baseline_urns = {r.urn for r in baseline.registrations} if baseline else set()

    def _on_program_loop(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result()

    def RegisterResource(self, request):
        if self.mode == "up" or request.type == "pulumi:pulumi:Stack" or not request.custom:
            response = super().RegisterResource(request)
            if request.custom:
                resource_id, state = self.answering.last.answer
                self.answers[response.urn] = (resource_id or "", _with_unknowns(dict(state)))
            if self.mode == "update" and not request.custom:
                self.steps[response.urn] = engine.Step(
                    engine.SAME if response.urn in self.baseline_urns else engine.CREATE)
        else:
            response = self._on_program_loop(self._register_for_preview(request))
        if request.type != "pulumi:pulumi:Stack":
            self.requests.append((request, response.urn))
        return response

    async def _register_for_preview(self, request):
        urn = self.make_urn(request.parent, request.type, request.name)
        inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
        trigger = _value(request.replacement_trigger) if request.HasField("replacement_trigger") else None
        if self.mode == "first":
            step = engine.Step(engine.CREATE)
        else:
            step = self.diff.step(urn, request.type, inputs, trigger, list(request.replace_with),
                                  list(request.replaceOnChanges))
        answered_id, answered = self.mocks.new_resource(pulumi.runtime.MockResourceArgs(
            typ=request.type, name=request.name, inputs=engine.with_placeholders(inputs),
            provider=request.provider, resource_id=request.importId, custom=True))
        resource_id, state = engine.answer(step, request.type, inputs, answered_id, answered,
                                           self.diff.deployed.get(urn))
        self.steps[urn] = step
        self.answers[urn] = (resource_id or "", _with_unknowns(state))
        properties = await rpc.serialize_properties(state, {})
        return resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id or "", object=properties)

    def Invoke(self, request):
        response = super().Invoke(request)
        if response.HasField("return"):
            self.invokes[request.tok] = self._on_program_loop(_deserialized(getattr(response, "return")))
        return response

    def RegisterResourceOutputs(self, request):
        self.component_outputs[request.urn] = self._on_program_loop(_deserialized(request.outputs))
        return super().RegisterResourceOutputs(request)


class _Answering(pulumi.runtime.Mocks):
    """The mocks, keeping what each executor thread's last resource was answered: the SDK's monitor
    registers a resource within one call on one thread, and hands back only the serialized answer."""

    def __init__(self, mocks: pulumi.runtime.Mocks):
        self.mocks = mocks
        self.last = threading.local()

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        self.last.answer = self.mocks.new_resource(args)
        return self.last.answer

    def call(self, args: pulumi.runtime.MockCallArgs) -> Any:
        return self.mocks.call(args)


async def _deserialized(properties: Any, keep_unknowns: bool = True) -> dict[str, Any]:
    return rpc.deserialize_properties(properties, keep_unknowns=keep_unknowns)


def _registration(request: Any, urn: str, monitor: RecordingMonitor) -> Registration:
    trigger = _value(request.replacement_trigger) if request.HasField("replacement_trigger") else None
    answered = monitor.answers.get(urn) if request.custom else None
    outputs = dict(answered[1]) if answered else dict(monitor.component_outputs.get(urn, {}))
    step = monitor.steps.get(urn, engine.Step(engine.CREATE))
    return Registration(
        urn=urn,
        type=request.type,
        name=request.name,
        custom=request.custom,
        parent=request.parent,
        raw_inputs=rpc.deserialize_properties(request.object, keep_unknowns=True),
        protect=request.protect,
        # The SDK collects these in sets: sorted, so that two runs compare equal.
        dependencies=sorted(request.dependencies),
        property_dependencies={key: sorted(deps.urns) for key, deps in sorted(request.propertyDependencies.items())},
        delete_before_replace=request.deleteBeforeReplace,
        replace_on_changes=list(request.replaceOnChanges),
        ignore_changes=list(request.ignoreChanges),
        replacement_trigger=trigger,
        replace_with=list(request.replace_with),
        aliases=sorted(str(alias) for alias in request.aliases),
        additional_secret_outputs=sorted(request.additionalSecretOutputs),
        outputs=outputs,
        resource_id=(answered[0] or None) if answered else None,
        step=step,
    )


def in_program_order(registrations: list[Registration], construction: Mapping[tuple[str, str], int]
                     ) -> list[Registration]:
    """The component tree, depth first, each level in the order the program constructed it (type and
    name where two came from the same place): the same program and inputs give the same order,
    whatever the hash seed or the order Azure's answers arrive in."""
    by_urn = {r.urn: r for r in registrations}
    children: dict[str, list[Registration]] = {}
    for registration in registrations:
        children.setdefault(registration.parent if registration.parent in by_urn else "", []).append(registration)

    def key(registration: Registration) -> tuple[int, str, str, str]:
        return (construction.get((registration.type, registration.name), len(construction)),
                registration.type, registration.name, registration.urn)

    ordered: list[Registration] = []

    def walk(parent: str) -> None:
        for child in sorted(children.get(parent, []), key=key):
            ordered.append(child)
            walk(child.urn)

    walk("")
    return ordered


def _with_unknowns(value: Any) -> Any:
    """Recorded outputs with the providers' unknown marker as the SDK's Unknown, as inputs have it."""
    if value == engine.UNKNOWN:
        return pulumi.output.UNKNOWN
    if isinstance(value, dict):
        return {key: _with_unknowns(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_unknowns(item) for item in value]
    return value


def _value(proto_value: Any) -> Any:
    return json_format.MessageToDict(proto_value)


@dataclass
class RunResult:
    plan: Plan  # complete, or what was registered before the error
    error: BaseException | None

    def ok(self) -> Plan:
        if self.error is not None:
            raise self.error
        return self.plan


def run_program(stack: str, config: Mapping[str, str], project_dir: Path = PROJECT_DIR, mode: str = "up",
                baseline: Plan | None = None, mocks: pulumi.runtime.Mocks | None = None, *,
                secret_keys: Collection[str] = ()) -> RunResult:
    """Runs the __main__.py of `project_dir` once; returns the plan, or the error the program stopped
    with together with whatever it registered before that (tests assert it registered nothing).
    `mode` and `baseline`: see the module docstring. `mocks`: what Azure and Entra answer (default
    AzureMocks(); a test passes its own to see the program meet another answer). `secret_keys`: the config keys
    the CLI would name secret."""
    return contextvars.Context().run(_run_in_fresh_context, stack, dict(config), project_dir, mode, baseline,
                                     mocks if mocks is not None else AzureMocks(), list(secret_keys))


def _run_in_fresh_context(stack: str, config: dict[str, str], project_dir: Path, mode: str,
                          baseline: Plan | None, mocks: pulumi.runtime.Mocks, secret_keys: list[str]) -> RunResult:
    project = project_settings(project_dir)["name"]
    loop = asyncio.new_event_loop()  # before set_mocks: the root stack's futures belong to it
    asyncio.set_event_loop(loop)
    monitor = RecordingMonitor(mocks, loop, mode, baseline)
    pulumi.runtime.set_all_config(config, secret_keys)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=mode != "up", monitor=monitor)
    resolved: dict[str, Any] = {}
    secret: set[str] = set()

    construction: dict[tuple[str, str], int] = {}

    def remember_construction(args: pulumi.ResourceTransformationArgs) -> None:
        # Resources are constructed in program order, synchronously; their registrations arrive in
        # whatever order their inputs resolve. The plan is ordered by construction.
        construction.setdefault((args.type_, args.name), len(construction))

    def program():
        pulumi.runtime.register_stack_transformation(remember_construction)
        runpy.run_path(str(project_dir), run_name="__main__")
        exported = dict(getattr(get_root_resource(), "outputs", {}))  # the root stack's pulumi.export()s

        async def resolve_outputs():
            for key, value in exported.items():
                output = pulumi.Output.from_input(value)
                resolved[key] = await output.future(with_unknowns=True)
                if await output.is_secret():
                    secret.add(key)

        return resolve_outputs()

    error: BaseException | None = None
    try:
        loop.run_until_complete(run_program_and_wait(program))
    except BaseException as exc:
        error = exc
    finally:
        # The monitor's calls ran on the loop's executor threads: end them now rather than in garbage
        # collection at interpreter exit.
        loop.run_until_complete(loop.shutdown_default_executor())
        # This run's exit is here: the next run must not wait on what it left pending (after the loop's
        # last run above, which can track new ones).
        forget_pending_outputs()
        loop.close()
        asyncio.set_event_loop(None)

    registrations = in_program_order([_registration(request, urn, monitor) for request, urn in monitor.requests],
                                     construction)
    registered = {registration.urn for registration in registrations}
    deleted = [r for r in (baseline.registrations if baseline else []) if r.urn not in registered]
    plan = Plan(stack=stack, registrations=registrations, stack_outputs=resolved, secret_outputs=secret,
                config=dict(config), mode=mode, deleted=deleted, invokes=dict(monitor.invokes),
                project_dir=str(project_dir))
    return RunResult(plan=plan, error=error)


def _stack_file_values(stack: str, project_dir: Path) -> dict[str, Any]:
    values = stack_values(stack, project_settings(project_dir)["name"], project_dir)
    if values is None:
        known = ", ".join(stacks(project_dir)) or "none"
        raise SettingsError(f"stack {stack!r} has no stack file", [
            f"{stack_path(stack, project_dir).name}: no such file in {project_dir}; stacks with a file: {known}"])
    return values


def run_stack(stack: str, overrides: Mapping[str, Any] | None = None,
              project_dir: Path = PROJECT_DIR, mode: str = "up", baseline: Plan | None = None,
              mocks: pulumi.runtime.Mocks | None = None) -> RunResult:
    """Runs a stack file as the CLI would, optionally with some keys changed (for failure tests).
    An override of None removes the key, from the stack file and from the Pulumi.yaml defaults.
    A stack file the CLI could not read, or would read differently, stops it before the program runs.
    `project_dir`: the project whose __main__.py, stack files, catalog and workflows/ run (a test
    changes one of them in a copy: offline/project_copy.py); `mocks`: see run_program."""
    try:
        values = _stack_file_values(stack, project_dir)
    except SettingsError as error:
        return RunResult(plan=Plan(stack=stack, registrations=[], stack_outputs={}, secret_outputs=set()),
                         error=error)
    values.update({key: value for key, value in (overrides or {}).items() if value is not None})
    config = stack_config(values, project_dir)
    for key, value in (overrides or {}).items():
        if value is None:
            config.pop(key, None)
    # The CLI names the keys set with --secret to the program (their values stay ciphertext here).
    secret_keys = sorted(key if ":" in key else f"{project_settings(project_dir)['name']}:{key}"
                         for key, value in values.items() if is_secure(value))
    return run_program(stack, config, project_dir, mode, baseline, mocks, secret_keys=secret_keys)
