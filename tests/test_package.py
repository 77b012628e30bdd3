"""The workflow package: deterministic bytes, a content-derived name, the project's files inside."""

from __future__ import annotations

import base64
import io
import json
import zipfile

from agent_obo.package import FIXED_TIMESTAMP, build_package
from agent_obo.settings import ModelSettings
from agent_obo.workflow_files import WORKFLOWS_DIR, render_project
from tests.helpers import package_files, workflow

MODEL = ModelSettings(source="create", name="gpt-4.1-mini", version="2025-04-14", deployment_name="agent-model",
                      deployment_sku="GlobalStandard", capacity=10, existing_endpoint="", existing_resource_id="")


def test_same_files_give_the_same_bytes_and_name():
    first = build_package(render_project(MODEL, tools={}, managed_connections={}))
    second = build_package(render_project(MODEL, tools={}, managed_connections={}))
    assert first.content == second.content
    assert first.blob_name == second.blob_name


def test_any_changed_file_gives_a_new_name():
    files = render_project(MODEL, tools={}, managed_connections={})
    original = build_package(files)
    for path in files:
        changed = dict(files)
        changed[path] = files[path] + b" "
        assert build_package(changed).blob_name != original.blob_name, path


def test_entries_are_sorted_and_stamped_alike():
    package = build_package({"b.json": b"{}", "a/workflow.json": b"{}", "host.json": b"{}"})
    with zipfile.ZipFile(io.BytesIO(package.content)) as archive:
        entries = archive.infolist()
    assert [e.filename for e in entries] == ["a/workflow.json", "b.json", "host.json"]
    assert {e.date_time for e in entries} == {FIXED_TIMESTAMP}
    assert {e.external_attr >> 16 for e in entries} == {0o100644}


def test_the_plan_package_is_a_logic_apps_project(plan):
    files = package_files(plan)
    assert sorted(files) == ["connections.json", "health/workflow.json", "host.json", "obo-agent/workflow.json",
                             "parameters.json"]
    host = json.loads(files["host.json"])
    assert host["version"] == "2.0"
    assert host["extensionBundle"] == {"id": "Microsoft.Azure.Functions.ExtensionBundle.Workflows",
                                       "version": "[1.*, 2.0.0)"}


def test_the_plan_package_matches_its_recorded_hash(plan):
    blob = plan.one("pulumi-python:dynamic:Resource")
    content = base64.b64decode(blob.input("content_base64"))
    import hashlib

    assert hashlib.sha256(content).hexdigest() == blob.input("sha256")
    assert plan.stack_outputs["workflowPackageSha256"] == blob.input("sha256")


def test_parameters_and_connections_use_only_allowed_expressions(plan):
    files = package_files(plan)
    for name in ("parameters.json", "connections.json"):
        text = files[name].decode()
        expressions = [part.split("(")[0] for part in text.split("@")[1:]]
        allowed = {"appsetting"} if name == "parameters.json" else {"appsetting", "parameters", "{appsetting"}
        assert set(expressions) <= allowed, (name, set(expressions))


def test_the_workflow_is_a_conversational_agent_on_the_model_connection(plan):
    files = package_files(plan)
    workflow = json.loads(files["obo-agent/workflow.json"])
    assert workflow["kind"] == "Agent"
    trigger = workflow["definition"]["triggers"]["When_a_new_chat_session_starts"]
    assert trigger["type"] == "Request" and trigger["kind"] == "Agent"
    (agent,) = [a for a in workflow["definition"]["actions"].values() if a["type"] == "Agent"]
    assert agent["inputs"]["modelConfigurations"]["model1"]["referenceName"] == "agent"
    connections = json.loads(files["connections.json"])
    model = connections["agentConnections"]["agent"]
    assert model["type"] == "model"
    assert model["authentication"] == {"type": "ManagedServiceIdentity"}
    assert model["endpoint"] == "@appsetting('agent_openAIEndpoint')"
    assert model["resourceId"] == "@appsetting('agent_ResourceID')"


def test_model_fields_come_from_the_stack(plans):
    for plan in plans.values():
        (agent,) = [a for a in workflow(plan)["definition"]["actions"].values() if a["type"] == "Agent"]
        deployment = plan.one("azure-native:cognitiveservices:Deployment")
        assert agent["inputs"]["parameters"]["deploymentId"] == deployment.input("deploymentName")
        assert agent["inputs"]["parameters"]["agentModelSettings"]["deploymentModelProperties"]["name"] == \
            deployment.input("properties.model.name")


def test_instructions_follow_the_modules_best_practices(plan):
    (agent,) = [a for a in workflow(plan)["definition"]["actions"].values() if a["type"] == "Agent"]
    (system,) = [m for m in agent["inputs"]["parameters"]["messages"] if m["role"] == "system"]
    text = system["content"].lower()
    assert "permission" in text and "suggest a fix" in text          # clear feedback
    assert "never repeat secrets" in text                            # sensitive data
    assert "explicit yes" in text and "before any tool that writes" in text  # confirm writes
    assert "429" in text                                             # rate limits


def test_hand_written_instructions_survive_rendering():
    source = json.loads((WORKFLOWS_DIR / "obo-agent/workflow.json").read_text())
    rendered = json.loads(render_project(MODEL, tools={}, managed_connections={})["obo-agent/workflow.json"])
    name = "Workplace_assistant"
    assert rendered["definition"]["actions"][name]["inputs"]["parameters"]["messages"] == \
        source["definition"]["actions"][name]["inputs"]["parameters"]["messages"]
    (trigger_name, trigger), = source["definition"]["triggers"].items()
    assert rendered["definition"]["triggers"] == {
        trigger_name: {**trigger, "runtimeConfiguration": {"secureData": {"properties": ["inputs", "outputs"]}}}}
