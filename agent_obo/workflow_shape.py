"""The shape of the hand-written workflow project (workflows/), checked before anything is rendered from it.

workflows/ holds only what no other source decides: host.json, parameters.json, the agent workflow's
trigger and instructions, and the model entry of connections.json. Everything that says which identity
a call runs with is generated from the tool catalog (agent_obo/workflow_tools.py, tool_connections.py),
so a hand-written file may not add it: no other workflow (it could call the tools' connections with
any operation), no other action beside the one Agent action (an HTTP action could send the chat
anywhere), no hand-written tool or managed connection, no connection that authenticates with a key
kept in the repository, and no expression in the workflow that reads more than a parameter or an app
setting (the request's headers carry the signed-in user's tokens). Every problem is reported at once,
naming the file, where in it, the value and what is allowed; nothing is registered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent_obo.errors import SettingsError
from agent_obo.health_workflow import WORKFLOW_SCHEMA
from agent_obo.json_schema import Failure, Schema, shown
from agent_obo.workflow_references import calls, expressions, has_expression, located_keys, located_strings

# The extension bundle of Logic Apps Standard (learn.microsoft.com/azure/logic-apps/edit-app-settings-host-settings,
# "host.json"); Functions' own bundle lacks the workflow runtime.
WORKFLOW_BUNDLE = "Microsoft.Azure.Functions.ExtensionBundle.Workflows"
# Parameter types of parameters.json (learn.microsoft.com/azure/logic-apps/parameterize-workflow-app). The
# secure ones are left out: their value would sit in the repository; a secret reaches a workflow through an
# app setting.
PARAMETER_TYPES = ["String", "Int", "Float", "Bool", "Array", "Object"]
# What an expression in a hand-written workflow file may call: the values the references check resolves.
HAND_WRITTEN_FUNCTIONS = frozenset({"parameters", "appsetting"})

_OBJECT = {"type": "object", "errorMessage": "a mapping"}
SCHEMAS: dict[str, dict[str, Any]] = {
    "host.json": {
        "type": "object", "required": ["version", "extensionBundle"], "errorMessage": "a mapping of host settings",
        "properties": {
            "version": {"const": "2.0"},
            "extensionBundle": {
                "type": "object", "required": ["id", "version"], "additionalProperties": False,
                "errorMessage": f"a mapping of id ({WORKFLOW_BUNDLE}) and version",
                "properties": {"id": {"const": WORKFLOW_BUNDLE},
                               "version": {"type": "string", "pattern": r"^[\[(][0-9.*, ]+[\])](?![\s\S])",
                                           "errorMessage": "a version range such as [1.*, 2.0.0)"}}},
            "extensions": {"type": "object", "errorMessage": "a mapping", "properties": {"workflow": {
                "type": "object", "errorMessage": "a mapping",
                "properties": {"Settings": _OBJECT, "settings": _OBJECT}}}},
        },
    },
    "connections.json": {
        "type": "object", "required": ["agentConnections"], "additionalProperties": False,
        "errorMessage": "a mapping of agentConnections and managedApiConnections",
        "properties": {
            "agentConnections": {
                "type": "object", "required": ["agent"], "additionalProperties": False,
                "errorMessage": "exactly the model connection `agent` (the Agent action's modelConfigurations name it)",
                "properties": {"agent": {
                    "type": "object", "required": ["type", "endpoint", "resourceId", "authentication"],
                    "additionalProperties": False,
                    "errorMessage": "a mapping of type, displayName, endpoint, resourceId and authentication",
                    "properties": {
                        "type": {"const": "model"},
                        "displayName": {"type": "string", "errorMessage": "text"},
                        "endpoint": {"type": "string", "pattern": r"^@appsetting\('[^']+'\)(?![\s\S])",
                                     "errorMessage": "@appsetting('<name>'): the program sets the model's endpoint"},
                        "resourceId": {"type": "string", "pattern": r"^@appsetting\('[^']+'\)(?![\s\S])",
                                       "errorMessage": "@appsetting('<name>'): the program sets the model's id"},
                        "authentication": {
                            "type": "object", "required": ["type"], "additionalProperties": False,
                            "errorMessage": "{\"type\": \"ManagedServiceIdentity\"}: the site's identity, no key",
                            "properties": {"type": {"const": "ManagedServiceIdentity"}}},
                    }}}},
            "managedApiConnections": {
                "type": "object", "maxProperties": 0,
                "errorMessage": "{} (generated from catalog/tools.yaml, which decides each connection's identity)"},
        },
    },
    "parameters.json": {
        "type": "object", "errorMessage": "a mapping of parameter names to {type, value}",
        "propertyNames": {"pattern": "^[A-Za-z][A-Za-z0-9_]{0,79}(?![\\s\\S])",
                          "errorMessage": "a parameter name: 1-80 letters, digits or '_', starting with a letter"},
        "additionalProperties": {
            "type": "object", "required": ["type", "value"], "additionalProperties": False,
            "errorMessage": "a mapping of type and value",
            "properties": {"type": {"enum": PARAMETER_TYPES}, "value": True}},
    },
    "workflow.json": {
        "type": "object", "required": ["definition", "kind"], "additionalProperties": False,
        "errorMessage": "a mapping of definition and kind",
        "properties": {
            "kind": {"const": "Agent"},
            "definition": {
                "type": "object", "required": ["$schema", "contentVersion", "triggers", "actions"],
                "additionalProperties": False,
                "errorMessage": "a mapping of $schema, contentVersion, triggers, actions, outputs and parameters",
                "properties": {
                    "$schema": {"const": WORKFLOW_SCHEMA},
                    "contentVersion": {"type": "string", "errorMessage": "text such as 1.0.0.0"},
                    "triggers": {
                        "type": "object", "minProperties": 1, "maxProperties": 1,
                        "errorMessage": "exactly one trigger: a Request trigger of kind Agent",
                        "additionalProperties": {
                            "type": "object", "required": ["type", "kind", "inputs"], "additionalProperties": False,
                            "errorMessage": "a Request trigger of kind Agent",
                            "properties": {"type": {"const": "Request"}, "kind": {"const": "Agent"},
                                           "inputs": _OBJECT}}},
                    "actions": {
                        "type": "object", "minProperties": 1, "maxProperties": 1,
                        "errorMessage": "exactly one action, the Agent (its tools are generated from "
                                        "catalog/tools.yaml; any other action would run outside them)",
                        "additionalProperties": {
                            # Closed: the runtime reads a definition's names without regard to case (its JSON is read
                            # into .NET types), so an open mapping would take "Type" or "Tools" beside or for
                            # "type" and "tools".
                            "type": "object", "required": ["type", "inputs"], "additionalProperties": False,
                            "errorMessage": "an Agent action",
                            "properties": {
                                "type": {"const": "Agent"},
                                "inputs": {
                                    "type": "object", "required": ["parameters", "modelConfigurations"],
                                    "additionalProperties": False,
                                    "errorMessage": "a mapping of parameters and modelConfigurations",
                                    "properties": {
                                        "parameters": {
                                            "type": "object", "required": ["messages"],
                                            "errorMessage": "a mapping of the agent's parameters",
                                            "properties": {"messages": {"type": "array", "minItems": 1,
                                                                        "errorMessage": "a list of messages"},
                                                           "agentModelSettings": _OBJECT}},
                                        "modelConfigurations": {
                                            "type": "object", "minProperties": 1,
                                            "errorMessage": "a mapping of model configurations, each naming the "
                                                            "model connection",
                                            "additionalProperties": {
                                                "type": "object", "required": ["referenceName"],
                                                "errorMessage": "a mapping with referenceName: agent",
                                                "properties": {"referenceName": {"const": "agent"}}}}}},
                                "tools": {"type": "object", "maxProperties": 0,
                                          "errorMessage": "{} (generated from catalog/tools.yaml, which decides "
                                                          "each tool's identity)"},
                                "runAfter": _OBJECT,
                                "limit": _OBJECT,
                            }}},
                    "outputs": _OBJECT,
                    "parameters": _OBJECT,
                }},
        },
    },
}
_SCHEMAS = {name: Schema(schema) for name, schema in SCHEMAS.items()}


def _problem(file: str, failure: Failure) -> str:
    where = f"workflows/{file} " + ".".join(str(part) for part in failure.path) if failure.path else f"workflows/{file}"
    return failure.problem(where, unknown="not allowed here")


def _expression_problems(file: str, document: Any) -> list[str]:
    problems = [f"workflows/{file} {path or '(top)'} key {shown(key)}: a workflow expression as a name; allowed: "
                "plain names" for path, key in located_keys(document) if has_expression(key)]
    for path, text in located_strings(document):
        called = sorted({function for expression in expressions(text) for function, _ in calls(expression)}
                        - HAND_WRITTEN_FUNCTIONS)
        if called:
            functions = ", ".join(f"{function}()" for function in called)
            problems.append(f"workflows/{file} {path} = {shown(text, limit=120)}: calls {functions}; "
                            "allowed in a hand-written file: parameters('<name>') and appsetting('<name>') only (the "
                            "request's headers carry the signed-in user's tokens; what a tool reads is declared in "
                            "catalog/tools.yaml)")
    return problems


def check_project_shape(documents: Mapping[str, Any], agent_workflow: str, derived: tuple[str, ...] = ()) -> None:
    """Refuses the hand-written project (`documents`: each file by its path inside workflows/) unless it has
    exactly the shape above. `derived`: workflow folders the program adds itself."""
    problems = []
    for path, document in sorted(documents.items()):
        folder, _, file = path.rpartition("/")
        if folder in derived:
            continue  # refused where it is derived (agent_obo/workflow_files.py add_health_workflow)
        if folder and folder != agent_workflow:
            problems.append(f"workflows/{path}: a workflow the program does not know; it could call the tools' "
                            "connections with any operation and identity, outside catalog/tools.yaml; allowed: "
                            f"workflows/{agent_workflow}/ alone (a tool is added in the catalog)")
            continue
        failures = _SCHEMAS[file].failures(document)
        problems += list(dict.fromkeys(_problem(path, failure) for failure in failures))
        if not failures and file in ("workflow.json", "connections.json", "parameters.json"):
            problems += _expression_problems(path, document)
    if problems:
        raise SettingsError("the workflow project (workflows/) is not shaped as the program reads it", problems)
