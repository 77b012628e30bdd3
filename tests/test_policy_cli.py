"""The pack served exactly as `pulumi preview --policy-pack policy` starts it, spoken to over gRPC.

The CLI cannot be downloaded here, so this does what it does (pulumi/pulumi sdk/go/common/resource/plugin/
analyzer_plugin.go and sdk/python/dist/pulumi-analyzer-policy-python): run `python -u -m pulumi.policy
<engine> .` in the pack's folder with the project's virtualenv, the stack's name and config in the
environment (PULUMI_STACK, PULUMI_CONFIG, ...), read the port it prints, then call GetAnalyzerInfo,
ConfigureStack, Analyze for every resource (inputs) and AnalyzeStack (outputs). One process per stack, as
under the CLI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import yaml
from pulumi.runtime.proto import (
    analyzer_pb2,
    analyzer_pb2_grpc,
    plugin_pb2,  # noqa: F401 - registers the types the analyzer messages use
)

from offline.plan import Plan
from offline.runner import PROJECT_DIR
from policy import bundle, harness
from policy.pack import POLICIES
from tests.policy_mutations import FOREIGN, on, set_at

POLICY_DIR = PROJECT_DIR / "policy"


def serve(environment: dict[str, str], pack_dir: Path = POLICY_DIR,
          python: str = sys.executable) -> tuple[subprocess.Popen[bytes], analyzer_pb2_grpc.AnalyzerStub]:
    process = subprocess.Popen(
        [python, "-u", "-m", "pulumi.policy", "127.0.0.1:1", "."], cwd=pack_dir,
        env={key: value for key, value in os.environ.items() if not key.startswith("PULUMI_")} | environment,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    line = process.stdout.readline().decode().strip()
    if not line.isdigit():
        process.kill()
        errors = process.stderr.read().decode() if process.stderr else ""
        raise AssertionError(f"the pack did not start: {line!r} {errors}")
    channel = grpc.insecure_channel(f"127.0.0.1:{line}")
    return process, analyzer_pb2_grpc.AnalyzerStub(channel)


@pytest.fixture(scope="module")
def served_dev(plans) -> Iterator[tuple[Plan, analyzer_pb2_grpc.AnalyzerStub]]:
    plan = plans["dev"]
    process, stub = serve({"PULUMI_STACK": plan.stack, "PULUMI_PROJECT": "agent-obo", "PULUMI_DRY_RUN": "true",
                           "PULUMI_ORGANIZATION": "organization", "PULUMI_CONFIG": json.dumps(plan.config)})
    try:
        yield plan, stub
    finally:
        process.kill()
        process.wait()


LEVELS = {analyzer_pb2.ADVISORY: "ADVISORY", analyzer_pb2.MANDATORY: "MANDATORY", analyzer_pb2.DISABLED: "DISABLED"}


def diagnostics(stub: analyzer_pb2_grpc.AnalyzerStub, plan: Plan) -> set[tuple[str, str, str, str]]:
    """(policy, urn, message, level) of every diagnostic the served pack gives the plan: inputs to Analyze,
    outputs to AnalyzeStack, as the engine sends them. The service prefixes each message with the policy's
    description, and a resource policy's diagnostic names no urn (the resource analyzed is the one)."""
    def entry(diagnostic, urn: str) -> tuple[str, str, str, str]:
        return (diagnostic.policyName, diagnostic.urn or urn, diagnostic.message.split("\n", 1)[-1],
                LEVELS.get(diagnostic.enforcementLevel, "?"))

    found = set()
    for registration in plan.resources:
        response = stub.Analyze(analyzer_pb2.AnalyzeRequest(
            type=registration.type, urn=registration.urn, name=registration.name,
            properties=harness.engine_struct(registration)))
        found |= {entry(d, registration.urn) for d in response.diagnostics}
    response = stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=[
        analyzer_pb2.AnalyzerResource(
            type=r.type, urn=r.urn, name=r.name, properties=harness.output_struct(r), parent=r.parent,
            dependencies=r.dependencies, options=analyzer_pb2.AnalyzerResourceOptions(protect=r.protect),
            propertyDependencies={k: analyzer_pb2.AnalyzerPropertyDependencies(urns=v)
                                  for k, v in r.property_dependencies.items()})
        for r in plan.resources]))
    return found | {entry(d, "") for d in response.diagnostics}


def test_the_served_pack_lists_its_policies(served_dev):
    _, stub = served_dev
    info = stub.GetAnalyzerInfo(analyzer_pb2.google_dot_protobuf_dot_empty__pb2.Empty())
    assert info.name == "agent-obo-policies"
    assert [p.name for p in info.policies] == [p.name for p in POLICIES]
    assert all(p.url.startswith("https://") for p in info.policies)
    stub.ConfigureStack(analyzer_pb2.AnalyzerStackConfigureRequest(stack="dev", project="agent-obo"))


def test_the_served_pack_passes_the_stack_and_gives_the_harness_s_verdicts(served_dev):
    plan, stub = served_dev
    assert diagnostics(stub, plan) == set()
    broken = plan
    for change in (on("logic-app-site", set_at("httpsOnly", False)),
                   on("chat-app-runtime-identity-credential", set_at("subject", FOREIGN)),
                   on("office365-peruser", set_at("tags.identity-mode", "app-only")),
                   on("easy-auth-authsettings", set_at("globalValidation.excludedPaths", ["/*"]))):
        broken = change(broken)
    from_harness = {(r.name, v.urn, v.message, r.enforcement_level.value.upper())
                    for r in harness.run_policies(broken) for v in r.violations}
    assert len({policy for policy, *_ in from_harness}) >= 5
    assert diagnostics(stub, broken) == from_harness


def test_a_pack_started_without_the_stacks_config_blocks_everything(plans):
    process, stub = serve({"PULUMI_STACK": "dev", "PULUMI_PROJECT": "agent-obo", "PULUMI_DRY_RUN": "true"})
    try:
        # Mandatory violations, no pass. The policies that compare with the declarations say why; those
        # that condition on a declaration hold the stack to the strictest (dev then fails private
        # networking, zone redundancy and locks).
        verdicts = diagnostics(stub, plans["dev"])
        assert verdicts and all(level == "MANDATORY" for *_, level in verdicts)
        undetermined = {policy for policy, _, message, _ in verdicts if "cannot be determined" in message}
        assert {"stack-declarations", "easy-auth", "app-registration", "graph-least-privilege", "role-assignments",
                "connection-access-policy", "site-hardening", "workflow-package"} <= undetermined
        assert all("PULUMI_CONFIG is empty" in message for _, _, message, _ in verdicts
                   if "cannot be determined" in message)
    finally:
        process.kill()
        process.wait()


def test_the_published_bundle_runs_on_its_own(plans, tmp_path):
    """What `pulumi policy publish` uploads from build/policy-pack: the pack with what it imports, nothing
    from around it (the project folder is not on its path)."""
    out = bundle.build(tmp_path / "policy-pack")
    project = yaml.safe_load((out / "PulumiPolicy.yaml").read_text())
    assert project["runtime"]["options"]["virtualenv"] == "venv"
    assert (out / "requirements.txt").read_text() == (PROJECT_DIR / "requirements.txt").read_text()
    plan = plans["prod"]
    process, stub = serve({"PULUMI_STACK": plan.stack, "PULUMI_PROJECT": "agent-obo", "PULUMI_DRY_RUN": "true",
                           "PULUMI_CONFIG": json.dumps(plan.config), "PYTHONSAFEPATH": "1"}, pack_dir=out)
    try:
        assert diagnostics(stub, plan) == set()
        broken = on("chat-app-sp", set_at("appRoleAssignmentRequired", False))(plan)
        assert {name for name, *_ in diagnostics(stub, broken)} == {"app-registration", "app-registration-binding"}
    finally:
        process.kill()
        process.wait()


def test_the_served_pack_relaxes_only_what_the_stack_s_file_relaxes(tmp_path):
    """policy/__main__.py as the CLI starts it, from a published bundle whose config/dev.json relaxes one
    policy: the served pack reports that one advisory and every other mandatory."""
    out = bundle.build(tmp_path / "policy-pack")
    (out / "policy" / "config" / "dev.json").write_text(json.dumps({"required-tags": "advisory"}))
    process, stub = serve({"PULUMI_STACK": "dev", "PULUMI_PROJECT": "agent-obo", "PYTHONSAFEPATH": "1"}, pack_dir=out)
    try:
        info = stub.GetAnalyzerInfo(analyzer_pb2.google_dot_protobuf_dot_empty__pb2.Empty())
        assert info.name == "agent-obo-policies" and [p.name for p in info.policies] == [p.name for p in POLICIES]
        levels = {policy.name: LEVELS[policy.enforcementLevel] for policy in info.policies}
        assert levels.pop("required-tags") == "ADVISORY"
        assert set(levels.values()) == {"MANDATORY"}
    finally:
        process.kill()
        process.wait()
