"""Checks a document against a JSON Schema (draft 2020-12) without importing jsonschema.

The tool catalog's shape is a JSON Schema (catalog/tools.schema.json): editors read it, and every plan
checks the catalog against it. Importing jsonschema costs more than planning a catalog, so this
validates with the keywords below only, with jsonschema's answer for each (a property-based test
compares the two on generated schemas and documents: tests/test_json_schema.py). A schema that uses
any other keyword is refused when it is loaded, never half-checked.

Unlike a yes/no answer, it returns every failure: where (a path of keys and indexes), the value,
and what is allowed there, in words: the failing node's `errorMessage` (the annotation VS Code's
and the YAML language server's schema support shows for a failed node), or words derived from the
keyword that failed.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Keywords that only annotate: they never change whether a document is valid.
ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "$defs", "title", "description", "default", "examples",
                         "errorMessage", "markdownDescription"})
ASSERTIONS = frozenset({"type", "enum", "const", "$ref", "properties", "required", "additionalProperties",
                        "propertyNames", "minProperties", "maxProperties", "items", "minItems", "maxItems",
                        "uniqueItems", "minLength", "maxLength", "pattern", "minimum", "maximum"})
TYPE_WORDS = {"object": "a mapping", "array": "a list", "string": "text", "integer": "an integer",
              "number": "a number", "boolean": "true or false", "null": "null"}

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Failure:
    """One way the document fails the schema.

    kind: "value" (the value at `path` is not allowed), "missing" (a required field, `path` ends with its
    name), "unknown" (a field no schema admits, `path` ends with its name) or "key" (a mapping key
    that is not allowed: `key`, in the mapping at `path`)."""

    path: Path
    kind: str
    value: Any
    allowed: str
    key: Any = None

    def problem(self, where: str, unknown: str = "unknown field") -> str:
        """The failure in a message: `where` it is (file and path, in the caller's words), the value, what is
        allowed; `unknown` says what a field no schema admits is."""
        if self.kind == "missing":
            return f"{where}: missing; {self.allowed}"
        if self.kind == "unknown":
            return f"{where} = {shown(self.value)}: {unknown}; {self.allowed}"
        if self.kind == "key":
            return f"{where}: key {shown(self.key)} not allowed; {self.allowed}"
        return f"{where} = {shown(self.value)}: {self.allowed}"


def shown(value: Any, limit: int | None = None) -> str:
    """A value as it appears in a message: JSON, whatever YAML made of it; cut after `limit` characters."""
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if limit is None or len(text) <= limit else text[:limit - 3] + "..."


class UnsupportedSchema(ValueError):
    """The schema uses a keyword this module does not check."""


def _is_type(value: Any, name: str) -> bool:
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "string":
        return isinstance(value, str)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    # JSON Schema counts 1.0 as an integer.
    return name == "number" or isinstance(value, int) or (math.isfinite(value) and float(value).is_integer())


def equal(one: Any, two: Any) -> bool:
    """JSON equality: true and 1 differ, 1 and 1.0 do not; lists and mappings compared item by item."""
    if isinstance(one, bool) or isinstance(two, bool):
        return type(one) is type(two) and one == two
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(equal(one[key], two[key]) for key in one)
    if isinstance(one, (list, dict)) or isinstance(two, (list, dict)):
        return False
    return bool(one == two)


def _unique(items: Sequence[Any]) -> bool:
    return not any(equal(items[i], items[j]) for i in range(len(items)) for j in range(i + 1, len(items)))


def _listed(values: Sequence[Any]) -> str:
    return ", ".join(value if isinstance(value, str) else repr(value) for value in values)


class Schema:
    """A loaded schema; `failures(document)` lists everything wrong with a document."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.root = schema
        self._check_keywords(schema, "#")

    def _check_keywords(self, schema: Any, where: str) -> None:
        if isinstance(schema, bool):
            return
        if not isinstance(schema, Mapping):
            raise UnsupportedSchema(f"{where}: a schema is a mapping or a boolean")
        unknown = sorted(set(schema) - ANNOTATIONS - ASSERTIONS)
        if unknown:
            raise UnsupportedSchema(f"{where}: keywords {unknown} are not checked by agent_obo/json_schema.py")
        if "pattern" in schema:
            re.compile(schema["pattern"])
        if "$ref" in schema:
            self._resolve(schema["$ref"])
        for name, sub in (schema.get("$defs") or {}).items():
            self._check_keywords(sub, f"{where}/$defs/{name}")
        for name, sub in (schema.get("properties") or {}).items():
            self._check_keywords(sub, f"{where}/properties/{name}")
        for keyword in ("additionalProperties", "propertyNames", "items"):
            if keyword in schema:
                self._check_keywords(schema[keyword], f"{where}/{keyword}")

    def _resolve(self, reference: str) -> Any:
        if not reference.startswith("#/"):
            raise UnsupportedSchema(f"$ref {reference!r}: only references inside the schema (#/...) are resolved")
        node: Any = self.root
        for part in reference[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or part not in node:
                raise UnsupportedSchema(f"$ref {reference!r} points nowhere")
            node = node[part]
        return node

    def failures(self, document: Any) -> list[Failure]:
        return list(self._failures(self.root, document, ()))

    def is_valid(self, document: Any) -> bool:
        return next(iter(self._failures(self.root, document, ())), None) is None

    def allowed(self, schema: Any) -> str:
        """What a schema node allows, in words (its errorMessage, or its type or values)."""
        if isinstance(schema, Mapping):
            if "errorMessage" in schema:
                return "allowed: " + schema["errorMessage"]
            if "$ref" in schema:
                return self.allowed(self._resolve(schema["$ref"]))
            if "enum" in schema:
                return "allowed values: " + _listed(schema["enum"])
            if "const" in schema:
                return f"allowed: only {schema['const']!r}"
            types = schema.get("type")
            if types:
                return "allowed: " + " or ".join(TYPE_WORDS[t] for t in ([types] if isinstance(types, str) else types))
        return "allowed: nothing here" if schema is False else "allowed: anything"

    def _failures(self, schema: Any, value: Any, path: Path) -> Iterator[Failure]:
        if schema is True:
            return
        if schema is False:
            yield Failure(path, "value", value, "allowed: nothing here")
            return
        own: list[Failure] = []  # this node's own failures: all carry its words, so one is reported
        if "$ref" in schema:
            yield from self._failures(self._resolve(schema["$ref"]), value, path)
        types = schema.get("type")
        if types is not None and not any(_is_type(value, t) for t in ([types] if isinstance(types, str) else types)):
            yield Failure(path, "value", value, self.allowed(schema))
            return  # every other keyword is about the right type
        if "enum" in schema and not any(equal(value, option) for option in schema["enum"]):
            own.append(Failure(path, "value", value, self.allowed(schema)))
        if "const" in schema and not equal(value, schema["const"]):
            own.append(Failure(path, "value", value, self.allowed(schema)))
        if isinstance(value, str):
            if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", math.inf) or (
                    "pattern" in schema and not re.search(schema["pattern"], value)):
                own.append(Failure(path, "value", value, self.allowed(schema)))
        elif _is_type(value, "number"):
            if value < schema.get("minimum", -math.inf) or value > schema.get("maximum", math.inf):
                own.append(Failure(path, "value", value, self.allowed(schema)))
        elif isinstance(value, list):
            if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", math.inf) or (
                    schema.get("uniqueItems") is True and not _unique(value)):
                own.append(Failure(path, "value", value, self.allowed(schema)))
            if "items" in schema:
                for index, item in enumerate(value):
                    yield from self._failures(schema["items"], item, (*path, index))
        elif isinstance(value, dict):
            if len(value) < schema.get("minProperties", 0) or len(value) > schema.get("maxProperties", math.inf):
                own.append(Failure(path, "value", value, self.allowed(schema)))
            yield from self._object_failures(schema, value, path)
        yield from own[:1]

    def _object_failures(self, schema: Mapping[str, Any], value: dict[Any, Any], path: Path) -> Iterator[Failure]:
        properties = schema.get("properties") or {}
        for name in schema.get("required") or ():
            if name not in value:
                yield Failure((*path, name), "missing", None, self.allowed(properties.get(name, True)))
        if "propertyNames" in schema:
            for key in value:
                if not self.is_valid_at(schema["propertyNames"], key):
                    yield Failure(path, "key", value[key], self.allowed(schema["propertyNames"]), key=key)
        for key, item in value.items():
            if key in properties:
                yield from self._failures(properties[key], item, (*path, key))
            elif schema.get("additionalProperties") is False:
                yield Failure((*path, key), "unknown", item, "allowed fields: " + _listed(sorted(properties)))
            elif "additionalProperties" in schema:
                yield from self._failures(schema["additionalProperties"], item, (*path, key))

    def is_valid_at(self, schema: Any, value: Any) -> bool:
        return next(iter(self._failures(schema, value, ())), None) is None
