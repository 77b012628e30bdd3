"""Is a tool's argument schema a valid JSON Schema (draft 2020-12)? The same answer as jsonschema's
`Draft202012Validator.check_schema`, without importing jsonschema for the schemas tools use.

A tool's arguments are a small schema: an object of typed, described properties. For schemas made
only of the keywords below, this checks each keyword exactly as the 2020-12 meta-schema does (its
type, and `pattern` compiling as a regular expression, as check_schema's format check does); any
other keyword hands the whole schema to jsonschema itself. The answers agree (a property-based test
compares them); the difference is time: importing jsonschema costs more than planning a catalog.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

SIMPLE_TYPES = frozenset({"array", "boolean", "integer", "null", "number", "object", "string"})


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _non_negative_integer(value: Any) -> bool:
    # The meta-schema's nonNegativeInteger: an integer, which JSON Schema says 1.0 is too.
    return _number(value) and float(value).is_integer() and value >= 0


def _type(value: Any) -> bool:
    if isinstance(value, str):
        return value in SIMPLE_TYPES
    return (isinstance(value, list) and len(value) > 0 and all(isinstance(t, str) and t in SIMPLE_TYPES for t in value)
            and len(set(value)) == len(value))


def _regex(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        re.compile(value)
    except re.error:
        return False
    return True


def _unique_strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value) and len(set(value)) == len(value)


# keyword -> check of its value (None: the value is itself a schema, checked recursively)
KEYWORDS: dict[str, Callable[[Any], bool] | None] = {
    "type": _type,
    "description": lambda value: isinstance(value, str),
    "title": lambda value: isinstance(value, str),
    "format": lambda value: isinstance(value, str),
    "default": lambda value: True,
    "enum": lambda value: isinstance(value, list),
    "minimum": _number, "maximum": _number, "exclusiveMinimum": _number, "exclusiveMaximum": _number,
    "minLength": _non_negative_integer, "maxLength": _non_negative_integer,
    "minItems": _non_negative_integer, "maxItems": _non_negative_integer,
    "uniqueItems": lambda value: isinstance(value, bool),
    "pattern": _regex,
    "required": _unique_strings,
    "items": None,
    "additionalProperties": None,
    "properties": None,  # a mapping of schemas
}


class _Unsupported(Exception):
    """A keyword outside the subset: jsonschema decides."""


def _problem(schema: Any, where: str) -> str | None:
    if isinstance(schema, bool):
        return None
    if not isinstance(schema, Mapping):
        return f"{where}: {schema!r} is not a schema (an object or a boolean)"
    for keyword, value in schema.items():
        if keyword not in KEYWORDS:
            raise _Unsupported(keyword)
        check = KEYWORDS[keyword]
        if keyword == "properties":
            if not isinstance(value, Mapping):
                return f"{where}.properties: {value!r} is not an object"
            for name, subschema in value.items():
                found = _problem(subschema, f"{where}.properties.{name}")
                if found:
                    return found
        elif check is None:
            found = _problem(value, f"{where}.{keyword}")
            if found:
                return found
        elif not check(value):
            return f"{where}.{keyword}: {value!r} is not valid for {keyword!r}"
    return None


def schema_problem(schema: Any) -> str | None:
    """Why `schema` is not a valid draft 2020-12 JSON Schema, or None when it is."""
    try:
        return _problem(schema, "schema")
    except _Unsupported:
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError

        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as error:
            return str(error.message)
        return None
