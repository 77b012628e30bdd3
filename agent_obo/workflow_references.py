"""Every `parameters('x')` and `appsetting('x')` in the workflow project names something that exists.

The Logic Apps runtime resolves these only when a run reaches them, so a typo ships and fails at
the first chat that needs it. This reads every string of every JSON file of the rendered project
(each workflow.json with the tools the catalog generated, connections.json, parameters.json) as
the workflow definition language does: a value starting with `@` (not `@@`) is one expression, and
`@{...}` inside text is one each (learn.microsoft.com/azure/logic-apps/workflow-definition-language-
functions-reference; "escape @ with @@"). In each expression, a call to `parameters` or `appsetting`
must name, with one quoted literal, a parameter of parameters.json (or of the workflow's own
`definition.parameters`) or an app setting the program sets (agent_obo/app_settings.py).
A name built at run time (`parameters(concat(...))`) cannot be checked, so it is refused.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from agent_obo.errors import SettingsError

PARAMETERS_FILE = "parameters.json"
# The function names are case-insensitive in the workflow definition language; `agentParameters(`
# and `body('x').parameters(` are other things, hence the look-behind.
CALL = re.compile(r"(?<![\w.])(parameters|appsetting)\s*\(", re.IGNORECASE)
LITERAL_ARGUMENT = re.compile(r"\s*'((?:[^']|'')*)'\s*\)")
# Any call: a name directly followed by `(` (spaces allowed), not inside a longer name.
FUNCTION_CALL = re.compile(r"(?<!\w)([^\W\d]\w*)\s*\(")


def _interpolations(text: str) -> Iterator[tuple[int, int]]:
    """Where each `@{...}` of one string value is: the index of its '@' and of its closing brace (the text's
    length when it has none). '@@{' is a literal '@{'."""
    index = 0
    while (start := text.find("@{", index)) >= 0:
        if start > 0 and text[start - 1] == "@":
            index = start + 2
            continue
        end = _closing_brace(text, start + 2)
        yield start, end
        index = end + 1


def expressions(text: str) -> Iterator[str]:
    """The expression parts of one string value of a workflow file."""
    if text.startswith("@@"):
        text = text[1:]  # a literal '@' ... but '@{' interpolation still applies after it
    elif text.startswith("@") and not text.startswith("@{"):
        yield text[1:]
        return
    for start, end in _interpolations(text):
        yield text[start + 2:end]


def without_expressions(text: str, stand_in: str = "x") -> str:
    """The literal text of one string value, each expression replaced by `stand_in`."""
    if text.startswith("@") and not text.startswith(("@{", "@@")):
        return stand_in
    parts: list[str] = []
    index = 0
    for start, end in _interpolations(text):
        parts.append(text[index:start] + stand_in)
        index = end + 1
    return "".join(parts) + text[index:]


def unterminated(text: str) -> bool:
    """Whether an expression of one string value runs to its end without a closing brace."""
    return any(end >= len(text) for _, end in _interpolations(text))


def _closing_brace(text: str, index: int) -> int:
    quoted = False
    while index < len(text):
        char = text[index]
        if char == "'":
            if quoted and text[index + 1:index + 2] == "'":
                index += 2
                continue
            quoted = not quoted
        elif char == "}" and not quoted:
            return index
        index += 1
    return len(text)


def _unquoted(expression: str) -> str:
    """The expression with string literals blanked out, so names inside quotes are not read as calls."""
    return re.sub(r"'(?:[^']|'')*'", lambda m: "'" + " " * (len(m.group()) - 2) + "'", expression)


def calls(expression: str) -> Iterator[tuple[str, str | None]]:
    """(function, argument) for every function call in one expression: the function's name in lower case (the
    language ignores case, and `f (` is a call too) and its argument when that is one quoted literal, else None.
    Names inside quotes are text, not calls."""
    for call in FUNCTION_CALL.finditer(_unquoted(expression)):
        argument = LITERAL_ARGUMENT.match(expression, call.end())
        yield call.group(1).lower(), argument.group(1).replace("''", "'") if argument else None


def references(expression: str) -> Iterator[tuple[str, str | None]]:
    """(function, name) for each parameters/appsetting call; name None when it is not one literal."""
    for call in CALL.finditer(_unquoted(expression)):
        argument = LITERAL_ARGUMENT.match(expression, call.end())
        yield call.group(1).lower(), argument.group(1).replace("''", "'") if argument else None


def located_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a JSON-like value, at any depth, with where it is (`a.b[0]`)."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from located_strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from located_strings(item, f"{path}[{index}]")


def located_keys(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every mapping key in a JSON-like value, at any depth, with the place of its mapping (`a.b[0]`)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield path, str(key)
            yield from located_keys(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from located_keys(item, f"{path}[{index}]")


def has_expression(text: str) -> bool:
    """Whether a string value holds a workflow expression (`@...` or `@{...}`) the runtime would evaluate."""
    return next(expressions(text), None) is not None


def strings(value: Any) -> list[str]:
    """Every string in a JSON-like value (a workflow document, a catalog operation), at any depth."""
    return [text for _, text in located_strings(value)]


def _where(file: str, path: str) -> str:
    tool = re.search(r"\.tools\.([^.]+)\.", path)
    origin = f" (tool {tool.group(1)!r} of catalog/tools.yaml)" if tool else ""
    return f"workflows/{file} {path}{origin}"


def _unknown(kind: str, name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6) or [k for k in known if k.lower() == name.lower()]
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"names no {kind}; {hint}allowed: {', '.join(sorted(known)) or 'none'}"


def check_references(files: Mapping[str, bytes], app_settings: frozenset[str]) -> None:
    """Refuses the project when any reference names a parameter or app setting that does not exist."""
    documents = {path: json.loads(content) for path, content in files.items() if path.endswith(".json")}
    project_parameters = sorted(documents.get(PARAMETERS_FILE) or {})
    problems: list[str] = []
    for file, document in sorted(documents.items()):
        definition = document.get("definition") if isinstance(document, dict) else None
        own = sorted((definition or {}).get("parameters") or {}) if isinstance(definition, dict) else []
        parameters = sorted(set(project_parameters) | set(own))
        for path, text in located_strings(document):
            for expression in expressions(text):
                for function, name in references(expression):
                    shown = f"{_where(file, path)} = {text!r}"
                    if name is None:
                        problems.append(f"{shown}: {function}(...) with a name computed at run time cannot be "
                                        "checked; allowed: one quoted name, such as "
                                        f"{function}('{'operationsTeamId' if function == 'parameters' else 'NAME'}')")
                    elif function == "parameters" and name not in parameters:
                        problems.append(f"{shown}: parameters({name!r}) "
                                        f"{_unknown('parameter of parameters.json', name, parameters)}")
                    elif function == "appsetting" and name not in app_settings:
                        problems.append(f"{shown}: appsetting({name!r}) "
                                        f"{_unknown('app setting the program sets', name, sorted(app_settings))}")
    if problems:
        raise SettingsError("the workflow project references parameters or app settings that do not exist",
                            problems)
