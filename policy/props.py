"""Reading a resource's props the way every policy of the pack does.

Props arrive as the engine sends them: camelCase input names, secrets unwrapped, and during preview some
values unknown (reading one through the SDK's proxy raises). Each check first copies the props into plain
values with UNKNOWN markers, so it can read freely and decide for itself what an unknown means; a missing
property is a violation only where leaving it out is itself the risk (an unsafe Azure default).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import PolicyResource
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)


class _Marker:
    """A value that is not a value: kept distinct from None, False and "" so checks cannot confuse them."""

    def __init__(self, label: str) -> None:
        self._label = label

    def __repr__(self) -> str:
        return self._label


MISSING = _Marker("<missing>")
UNKNOWN = _Marker("<unknown during preview>")
_UNKNOWN_SENTINELS = frozenset({
    UNKNOWN_BOOLEAN_VALUE, UNKNOWN_NUMBER_VALUE, UNKNOWN_STRING_VALUE, UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE, UNKNOWN_ARCHIVE_VALUE, UNKNOWN_OBJECT_VALUE,
})


def plain(value: Any) -> Any:
    """The props as plain dicts and lists, with UNKNOWN where the engine does not know a value yet.

    The SDK's proxy raises on touching an unknown value, even through `in` or `.get`; copying once
    lets every check read freely and decide for itself what an unknown means."""
    if isinstance(value, str):
        return UNKNOWN if value in _UNKNOWN_SENTINELS else value
    if isinstance(value, Mapping):
        copied: dict[str, Any] = {}
        for key in list(iter(value)):
            try:
                copied[key] = plain(value[key])
            except UnknownValueError:
                copied[key] = UNKNOWN
        return copied
    if isinstance(value, Sequence):
        items: list[Any] = []
        for index in range(len(value)):
            try:
                items.append(plain(value[index]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    return value


def props_of(resource: PolicyResource) -> dict[str, Any]:
    return plain(resource.props)


def lookup(tree: Any, dotted: str) -> Any:
    """`lookup(props, "siteConfig.minTlsVersion")`: the value, MISSING (absent or null) or UNKNOWN."""
    current = tree
    for key in dotted.split("."):
        if current is UNKNOWN:
            return UNKNOWN
        if not isinstance(current, dict) or current.get(key) is None:
            return MISSING
        current = current[key]
    return current


def resource_name(props: dict[str, Any], input_key: str) -> Any:
    """A resource's Azure name: its `name` output in a stack policy (which sees outputs, where path parameters such
    as `accountName` do not exist), or the input that names it in a resource policy."""
    name = lookup(props, "name")
    return name if isinstance(name, str) else lookup(props, input_key)


def list_tag(props: Any, name: str) -> Any:
    """A list tag the program split over continuation tags (`write-tools`, `write-tools-2`, ...;
    agent_obo/tool_connections.py `list_tag`), read back whole: the joined value, MISSING or UNKNOWN.
    Every continuation counts, so nothing can hide in `write-tools-7`."""
    from agent_obo.tool_connections import joined_list_tag

    tags = lookup(props, "tags")
    if not isinstance(tags, dict):
        return tags if tags is UNKNOWN else MISSING
    value = joined_list_tag(tags, name)
    return MISSING if value is None else value


def is_known(value: Any) -> bool:
    return value is not MISSING and value is not UNKNOWN


def words(tag_value: Any) -> set[str]:
    """A space-separated tag ("Calendars.Read Mail.Read", or "none" for an empty list) as a set."""
    if not isinstance(tag_value, str) or tag_value.strip() in ("", "none"):
        return set()
    return set(tag_value.split())


def violation(problem: str, remediation: str) -> str:
    """Every message ends with what to change, so the person reading the CI log can act on it."""
    return f"{problem} Remediation: {remediation}"


def known_list(value: Any) -> list[Any]:
    """A list's known elements (unknown ones cannot be judged during preview)."""
    return [item for item in value if is_known(item)] if isinstance(value, list) else []


def _has_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(_has_unknown(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_unknown(item) for item in value)
    return False


def unknown_paths(props: Any, paths: Sequence[str]) -> list[str]:
    """Of the paths a check reads, those the engine does not know yet, wholly or in part."""
    return [path for path in paths if _has_unknown(lookup(props, path))]


def not_yet_checked(where: str, what: Sequence[str]) -> None:
    """Ends a policy that could not judge `what` because the engine does not know it yet (a preview).

    A silent pass would claim a check that never ran. The SDK's UnknownValueError is how a policy says
    so: the engine reports it as an advisory "can't run policy ... during preview" with this message
    (pulumi_policy/policy.py, the analyzer's handler), and the offline harness as a note. `pulumi up`
    runs the pack again before it creates each resource, when values from the resources created before
    it are known. Call it after every check that could run has reported."""
    if what:
        error = UnknownValueError(UNKNOWN_STRING_VALUE, [])
        error.message = f"{where}: not known yet, so not checked in this preview: {'; '.join(what)}"
        raise error
