"""The guard on every app-only write: the model picks from the catalog's choices, never writes the text.

The threat: the agent reads untrusted content (inbound mail, shared files) in the same conversation
in which it may call an app-only write. A crafted mail can steer the model into calling the write
with text of the attacker's choosing (a phishing link, or the user's own mail pasted into a shared
channel), and the write runs as the app, not as the user. A sentence in the tool description
("requires confirmation") is only a request to that same model.

The guard, which the catalog rules impose on every app-only write tool:
- the model supplies only keys from allow-lists the catalog declares (`write_guard.choices`);
  the arguments schema is generated from them and admits nothing else;
- the written text is the catalog's own labels for those keys, looked up by the workflow at run
  time: a key outside the allow-list fails the lookup and nothing is written, whatever the model
  sends and whether or not the runtime enforces the schema;
- every write names the requesting user (`{requester}`), taken from the header Easy Auth sets on
  the request (X-MS-CLIENT-PRINCIPAL-NAME; clients cannot set it), HTML-encoded; without a signed-in
  user the lookup fails and nothing is written;
- the operation may not read `agentParameters(...)` directly, so no model text reaches the write.

What remains possible for a steered model: a false status drawn from the allow-list, attributed to
the user whose conversation was steered (the audit trail and the channel both show who). That is
the trade chosen over an approval card (docs/audit-and-troubleshooting.md explains why).

The guard's shape (at most four choices, 2-30 keys each, and labels of letters, digits, spaces and
`, . ; ( ) + -` only: no markup, quotes, links or expressions) is part of the catalog's schema
(catalog/tools.schema.json, `$defs/write_guard`), checked before the rules here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agent_obo.workflow_references import strings

PLACEHOLDER = re.compile(r"\{(choice:[^{}]*|requester)\}")
CHOICE_PLACEHOLDER = re.compile(r"\{choice:([^{}]*)\}")
REQUESTER = "{requester}"
# Whatever its case or spacing: the language ignores the case of function names.
AGENT_PARAMETERS = re.compile(r"agentParameters\s*\(", re.IGNORECASE)
# What the write's HTML may hold: text in these tags, without attributes. No comment, style or attribute can
# hide the requester's name or carry a link.
ALLOWED_TAGS = frozenset({"p", "b", "i", "strong", "em", "br", "ul", "ol", "li"})
TAG = re.compile(r"<\s*/?\s*([^\s/>]*)([^>]*)>|<!--")
# Easy Auth sets these headers on every request it lets through, and strips any a client sends
# (learn.microsoft.com/azure/app-service/configure-authentication-user-identities); the Logic Apps
# labs course reads them inside an agent tool with currentRequest() (Azure/logicapps-labs,
# docs/logicapps-ai-course/04_agent_functionality/07-add-security-filters-for-agent-knowledge-trimming.md).
PRINCIPAL_NAME_HEADER = "X-MS-CLIENT-PRINCIPAL-NAME"
# No `?`: a request without a signed-in user fails the expression, and nothing is written.
REQUESTER_EXPRESSION = (
    f"replace(replace(replace(currentRequest()['headers']['{PRINCIPAL_NAME_HEADER}'], "
    "'&', '&amp;'), '<', '&lt;'), '>', '&gt;')"
)


@dataclass(frozen=True)
class Choice:
    name: str
    description: str
    values: tuple[tuple[str, str], ...]  # (key, label), in catalog order

    @property
    def keys(self) -> list[str]:
        return [key for key, _ in self.values]

    def lookup_expression(self) -> str:
        """The label for the model's key; an unknown key fails the action (no `?`)."""
        table = json.dumps(dict(self.values), separators=(",", ":"))
        return f"json('{table}')[agentParameters('{self.name}')]"


@dataclass(frozen=True)
class WriteGuard:
    choices: tuple[Choice, ...]

    def arguments(self) -> dict[str, Any]:
        """The only arguments the model may fill: one allow-listed key per choice."""
        return {
            "type": "object",
            "properties": {
                choice.name: {
                    "type": "string",
                    "enum": choice.keys,
                    "description": f"{choice.description} One of: "
                                   + "; ".join(f"{key} ({label})" for key, label in choice.values) + ".",
                } for choice in self.choices
            },
            "required": [choice.name for choice in self.choices],
            "additionalProperties": False,
        }

    def render(self, value: Any) -> Any:
        """The operation with each placeholder replaced by its run-time lookup."""
        if isinstance(value, str):
            by_name = {choice.name: choice for choice in self.choices}

            def expand(match: re.Match[str]) -> str:
                if match.group(0) == REQUESTER:
                    return "@{" + REQUESTER_EXPRESSION + "}"
                return "@{" + by_name[match.group(1)[len("choice:"):]].lookup_expression() + "}"

            return PLACEHOLDER.sub(expand, value)
        if isinstance(value, Mapping):
            return {key: self.render(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.render(item) for item in value]
        return value


def needs_guard(identity: str, access: str) -> bool:
    return identity == "app-only" and access == "write"


def write_guard_from(value: Mapping[str, Any]) -> WriteGuard:
    """`write_guard: {choices: {<name>: {description, values: {<key>: <label>}}}}`, its shape already checked."""
    return WriteGuard(tuple(Choice(name, spec["description"].strip(), tuple(spec["values"].items()))
                            for name, spec in value["choices"].items()))


def check_write_guard(identity: Any, access: Any, guard_given: bool, guard: WriteGuard | None,
                      arguments_given: bool, operation_parts: Any, label: str, problems: list[str]) -> None:
    """The rules that make every app-only write follow the guarded pattern, and only those use it."""
    text = json.dumps(operation_parts)
    placeholders = PLACEHOLDER.findall(text)
    if not needs_guard(identity, access):
        if guard_given:
            problems.append(f"{label}.write_guard: only app-only writes take a write_guard; this tool is "
                            f"{identity} {access}")
        if placeholders:
            problems.append(f"{label}.operation uses {', '.join('{' + p + '}' for p in placeholders)}: "
                            "placeholders are only for app-only writes with a write_guard")
        return
    if not guard_given:
        problems.append(
            f"{label}.write_guard: missing; an app-only write must declare write_guard.choices: the model picks "
            "allow-listed keys, the written text comes from the catalog and names the requesting user "
            "(the model also reads untrusted mail and must not compose what the app writes)")
        return
    if arguments_given:
        problems.append(f"{label}.arguments: not allowed on a guarded write; its arguments are generated "
                        "from write_guard.choices")
    markup = sorted({tag.group(0) for written in strings(operation_parts) for tag in TAG.finditer(written)
                     if tag.group(0) == "<!--" or tag.group(1).lower() not in ALLOWED_TAGS
                     or tag.group(2).strip() not in ("", "/")})
    if markup:
        problems.append(f"{label}.operation writes {', '.join(markup)}: markup that can hide the requester or carry "
                        f"a link; allowed: text in {', '.join(sorted(ALLOWED_TAGS))} tags without attributes")
    if AGENT_PARAMETERS.search(text):
        problems.append(f"{label}.operation reads agentParameters(...) directly; allowed in a guarded write: "
                        "{choice:<name>} and {requester} placeholders only")
    if guard is None:
        return
    declared = {choice.name for choice in guard.choices}
    used = set(CHOICE_PLACEHOLDER.findall(text))
    for name in sorted(used - declared):
        problems.append(f"{label}.operation uses {{choice:{name}}}, which write_guard.choices does not declare; "
                        f"declared: {', '.join(sorted(declared))}")
    for name in sorted(declared - used):
        problems.append(f"{label}.write_guard.choices.{name}: declared but the operation never uses "
                        f"{{choice:{name}}}")
    if REQUESTER not in text:
        problems.append(f"{label}.operation: a guarded write must name the requesting user; put {REQUESTER} in "
                        "what it writes")
