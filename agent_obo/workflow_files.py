"""The Logic Apps project that goes into the package: workflows/ as written, plus what is derived.

workflows/ holds the hand-written parts (host.json, parameters.json, each workflow's trigger and
instructions, the model entry of connections.json). Rendering fills in, per stack, the parts that
other sources of truth decide and nothing else:
- the Agent action's model fields, from the stack settings;
- the Agent action's `tools`, `managedApiConnections` in connections.json and the tools' parameters
  in parameters.json (agent_obo/tool_inputs.py), from the tool catalog;
- the health workflow App Service's health check pings, and the host.json setting that lets the ping
  in (agent_obo/health_workflow.py).
The same inputs always render the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agent_obo.errors import SettingsError
from agent_obo.health_workflow import HEALTH_WORKFLOW, HOST_SETTING, health_workflow
from agent_obo.json_files import read_json
from agent_obo.settings import ModelSettings
from agent_obo.workflow_shape import check_project_shape
from agent_obo.workflow_tools import secure_data
from agent_obo.yaml_files import PROJECT_DIR

WORKFLOWS = Path("workflows")  # in the project directory
WORKFLOWS_DIR = PROJECT_DIR / WORKFLOWS
PROJECT_FILES = ("host.json", "connections.json", "parameters.json")
AGENT_WORKFLOW = "obo-agent"


def _dump(document: Any) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def read_project(source: Path = WORKFLOWS_DIR) -> dict[str, Any]:
    """Every JSON file of the project folder, by its path inside the package."""
    documents = {name: read_json(source / name, f"workflow project file {name}") for name in PROJECT_FILES}
    for workflow in sorted({AGENT_WORKFLOW, *(p.parent.name for p in source.glob("*/workflow.json"))}):
        documents[f"{workflow}/workflow.json"] = read_json(source / workflow / "workflow.json",
                                                           f"workflow {workflow}")
    return documents


def agent_action(workflow: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The workflow's one Agent action (the loop the tools belong to)."""
    agents = [(name, action) for name, action in workflow["definition"]["actions"].items()
              if action.get("type") == "Agent"]
    if len(agents) != 1:
        raise ValueError(f"a conversational agent workflow needs exactly one Agent action, found "
                         f"{[name for name, _ in agents]}")
    return agents[0]


def agent_trigger(workflow: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The conversational trigger (type Request, kind Agent)."""
    triggers = [(name, trigger) for name, trigger in workflow["definition"]["triggers"].items()
                if trigger.get("type") == "Request" and trigger.get("kind") == "Agent"]
    if len(triggers) != 1:
        raise ValueError(f"a conversational agent workflow needs exactly one Agent trigger, found "
                         f"{[name for name, _ in triggers]}")
    return triggers[0]


def secure_conversation(workflow: dict[str, Any], secure: bool) -> None:
    """Secure inputs and outputs on the chat trigger and the Agent action, or neither.

    Microsoft documents secure data for Request triggers and for managed connectors
    (learn.microsoft.com/azure/logic-apps/logic-apps-securing-a-logic-app); for the Agent action
    and the Agent-kind trigger it is silent. The designer's own choice: it marks the Agent action
    secure by default and writes `secureData` inputs and outputs on every Agent action it adds
    (Azure/LogicAppsUX PR #7963, `isSecureByDefault` in libs/logic-apps-shared/.../standard/manifest/
    agentloop.ts, applied by addDefaultSecureSettings in libs/designer-v2/.../bjsworkflow/add.ts).
    Without it the whole conversation, tool results included, is readable in run history by anyone
    who may read it. The safer default is on; `secureAgentRunHistory: false` is the other path."""
    _, action = agent_action(workflow)
    _, trigger = agent_trigger(workflow)
    for part in (action, trigger):
        configuration = dict(part.get("runtimeConfiguration") or {})
        configuration.pop("secureData", None)
        if secure:
            configuration.update(secure_data())
        if configuration:
            part["runtimeConfiguration"] = configuration
        else:
            part.pop("runtimeConfiguration", None)


def check_entry_agent_runs_after_trigger(workflow: Mapping[str, Any], agent_name: str) -> None:
    """The entry Agent action runs after the chat trigger has succeeded.

    Every Microsoft writer gives a conversational workflow's entry Agent action
    `"runAfter": {"<trigger>": ["Succeeded"]}` (LogicAppsUX VS Code designer template
    apps/vs-code-designer/src/app/utils/codeless/templates.ts, the labs TransactionRepairAgent
    workflow); in the designer's model an Agent whose runAfter is empty is a hand-off target, not
    the entry, so the agent would never start a chat."""
    triggers = list(workflow["definition"].get("triggers") or {})
    action = workflow["definition"]["actions"][agent_name]
    where = f"workflows/{AGENT_WORKFLOW}/workflow.json action {agent_name!r} runAfter"
    if len(triggers) != 1:
        raise SettingsError("the agent workflow needs exactly one trigger", [
            f"workflows/{AGENT_WORKFLOW}/workflow.json triggers = {triggers}: allowed: one Request trigger of "
            "kind Agent (a new chat session starts the agent)"])
    wanted = {triggers[0]: ["Succeeded"]}
    if action.get("runAfter") != wanted:
        raise SettingsError("the entry agent does not run after the chat trigger", [
            f"{where} = {json.dumps(action.get('runAfter'))}: allowed: {json.dumps(wanted)} (an Agent that does "
            "not run after the trigger is a hand-off target and never starts)"])


def _nodes(actions: Mapping[str, Any], tool: str | None) -> list[tuple[str, str | None]]:
    """(name, the tool it belongs to) of every action at any depth, and of every agent tool."""
    found: list[tuple[str, str | None]] = []
    for name, action in actions.items():
        found.append((name, tool))
        found += _nodes(action.get("actions") or {}, tool)
        for tool_name, definition in (action.get("tools") or {}).items():
            found.append((tool_name, tool_name))
            found += _nodes(definition.get("actions") or {}, tool_name)
    return found


def check_names_unique(workflow: Mapping[str, Any]) -> None:
    """Every trigger, action and agent tool of the workflow has its own name, compared without regard to case as
    the Logic Apps designer compares them (Azure/LogicAppsUX libs/designer-v2/src/lib/core/utils/graph.ts,
    isOperationNameValid; `equals` ignores case), so that a tool named after another tool's audit action
    (`audit_<tool>`), the Agent action or the chat trigger is refused rather than shadowing it. A tool's key and
    its own connector action (`get_my_profile`, `Get_my_profile`) are the one pair generated alike on purpose
    (the monitoring queries join on it)."""
    definition = workflow["definition"]
    nodes = [(name, None) for name in definition.get("triggers") or {}] + _nodes(definition["actions"], None)
    first: dict[str, tuple[str, str | None]] = {}
    problems = []
    for name, tool in nodes:
        seen = first.setdefault(name.lower(), (name, tool))
        if seen == (name, tool) or (tool is not None and seen[1] == tool and tool.lower() == name.lower()):
            continue
        owners = [f"tool {owner!r} of catalog/tools.yaml" if owner else f"workflows/{AGENT_WORKFLOW}/workflow.json"
                  for owner in (tool, seen[1])]
        problems.append(f"{owners[0]}: gives the workflow {name!r}, which {owners[1]} also has as {seen[0]!r}; Logic "
                        "Apps names are compared without regard to case; allowed: a tool name that is not the "
                        "trigger's, the Agent action's or another tool's action name (Audit_<tool>, <Tool>)")
    if problems:
        raise SettingsError("two parts of the agent workflow would have the same name", problems)


def add_health_workflow(documents: dict[str, Any]) -> None:
    """The health workflow and host.json's `extensions.workflow.Settings` entry naming it. Both are derived, so
    the project folder may hold neither: a hand-written one would be a second source for the path the site's
    health check pings. The host reads host.json case-insensitively (Azure Functions host configuration), so
    the entry joins the `Settings` object the project already has instead of a second `settings`."""
    path = f"{HEALTH_WORKFLOW}/workflow.json"
    if path in documents:
        raise SettingsError("the project folder holds the health workflow the program derives", [
            f"workflows/{path}: derived from agent_obo/health_workflow.py (the site's health check pings it); "
            f"allowed: no folder workflows/{HEALTH_WORKFLOW}"])
    workflow = documents["host.json"].setdefault("extensions", {}).setdefault("workflow", {})
    settings_keys = [key for key in workflow if key.lower() == "settings"]
    settings = workflow.setdefault(settings_keys[0] if settings_keys else "Settings", {})
    if len(settings_keys) > 1 or any(key.lower() == HOST_SETTING.lower() for key in settings):
        raise SettingsError("workflows/host.json sets what the program derives", [
            f"workflows/host.json extensions.workflow.Settings.{HOST_SETTING}: derived from agent_obo/"
            "health_workflow.py; allowed: leave it out (and one Settings object)"])
    settings[HOST_SETTING] = HEALTH_WORKFLOW
    documents[path] = health_workflow()


def render_project(model: ModelSettings, tools: Mapping[str, Any], managed_connections: Mapping[str, Any],
                   source: Path = WORKFLOWS_DIR,
                   secure_agent_run_history: bool = True,
                   tool_parameters: Mapping[str, Any] | None = None) -> dict[str, bytes]:
    """`tools`, `managed_connections` and `tool_parameters` are generated from the enabled catalog."""
    documents = read_project(source)
    check_project_shape(documents, AGENT_WORKFLOW, derived=(HEALTH_WORKFLOW,))
    workflow = documents[f"{AGENT_WORKFLOW}/workflow.json"]
    if workflow.get("kind") != "Agent":
        raise SettingsError("workflow is not a conversational agent", [
            f"workflows/{AGENT_WORKFLOW}/workflow.json kind = {workflow.get('kind')!r}: allowed: 'Agent' "
            "(a conversational agent workflow)"])
    name, action = agent_action(workflow)
    check_entry_agent_runs_after_trigger(workflow, name)
    parameters = action["inputs"]["parameters"]
    parameters["deploymentId"] = model.deployment_name
    parameters.setdefault("agentModelSettings", {})["deploymentModelProperties"] = {
        "name": model.name, "format": "OpenAI", "version": model.version}
    action["tools"] = dict(tools)
    check_names_unique(workflow)
    secure_conversation(workflow, secure_agent_run_history)
    documents["connections.json"]["managedApiConnections"] = dict(managed_connections)
    parameters_file = documents["parameters.json"]
    # Compared without regard to case: the runtime's names are (Azure/LogicAppsUX compares every name so).
    derived_names = {name.lower() for name in tool_parameters or {}}
    clashes = sorted(name for name in parameters_file if name.lower() in derived_names)
    if clashes:
        raise SettingsError("workflows/parameters.json declares parameters the catalog's tools declare", [
            f"workflows/parameters.json {name!r}: also derived from a setting or the storage of a tool of "
            "catalog/tools.yaml; allowed: declare it in one place (the tool)" for name in clashes])
    parameters_file.update(tool_parameters or {})
    add_health_workflow(documents)
    return {path: _dump(document) for path, document in sorted(documents.items())}
