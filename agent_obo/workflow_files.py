"""The Logic Apps project that goes into the package: workflows/ as written, plus what is derived.

workflows/ holds the hand-written parts (host.json, parameters.json, each workflow's trigger and
instructions, the model entry of connections.json). Rendering fills in, per stack, the parts that
other sources of truth decide and nothing else:
- the Agent action's model fields, from the stack settings;
- the Agent action's `tools`, and `managedApiConnections` in connections.json, from the tool catalog.
The same inputs always render the same bytes.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Mapping

from agent_obo.settings import ModelSettings

WORKFLOWS_DIR = Path(__file__).resolve().parent.parent / "workflows"
PROJECT_FILES = ("host.json", "connections.json", "parameters.json")
AGENT_WORKFLOW = "obo-agent"


def _dump(document: Any) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def read_project(source: Path = WORKFLOWS_DIR) -> dict[str, Any]:
    """Every JSON file of the project folder, by its path inside the package."""
    documents = {name: json.loads((source / name).read_text("utf-8")) for name in PROJECT_FILES}
    for workflow in sorted(p.parent.name for p in source.glob("*/workflow.json")):
        documents[f"{workflow}/workflow.json"] = json.loads((source / workflow / "workflow.json").read_text("utf-8"))
    return documents


def agent_action(workflow: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The workflow's one Agent action (the loop the tools belong to)."""
    agents = [(name, action) for name, action in workflow["definition"]["actions"].items()
              if action.get("type") == "Agent"]
    if len(agents) != 1:
        raise ValueError(f"a conversational agent workflow needs exactly one Agent action, found "
                         f"{[name for name, _ in agents]}")
    return agents[0]


def render_project(model: ModelSettings, tools: Mapping[str, Any], managed_connections: Mapping[str, Any],
                   source: Path = WORKFLOWS_DIR) -> dict[str, bytes]:
    documents = copy.deepcopy(read_project(source))
    workflow = documents[f"{AGENT_WORKFLOW}/workflow.json"]
    if workflow.get("kind") != "Agent":
        raise ValueError(f"{AGENT_WORKFLOW}/workflow.json must be a conversational agent workflow "
                         f"(kind Agent), not {workflow.get('kind')!r}")
    _, action = agent_action(workflow)
    parameters = action["inputs"]["parameters"]
    parameters["deploymentId"] = model.deployment_name
    parameters.setdefault("agentModelSettings", {})["deploymentModelProperties"] = {
        "name": model.name, "format": "OpenAI", "version": model.version}
    action["tools"] = dict(tools)
    documents["connections.json"]["managedApiConnections"] = dict(managed_connections)
    return {path: _dump(document) for path, document in sorted(documents.items())}
