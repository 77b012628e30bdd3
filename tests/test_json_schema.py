"""agent_obo/json_schema.py gives jsonschema's answer (Draft202012Validator.is_valid) on generated
schemas of the keywords it supports and generated documents, and on the catalog's schema with
mutated catalogs; catalog/tools.schema.json is a valid schema that repeats nothing the code decides."""

from __future__ import annotations

import copy
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from agent_obo import catalog
from agent_obo.azure_limits import NAME_RULES
from agent_obo.connectors import CONNECTORS
from agent_obo.json_schema import ASSERTIONS, Schema, UnsupportedSchema, equal
from agent_obo.yaml_files import read_mapping
from tests.helpers import tool_entry

JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([0.0, 1.0, 2.5, -1.5]),
              st.text(alphabet="ab-_ \n1A", max_size=5)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["a", "b", "c", "A-1"]),
                                                                        inner, max_size=3)),
    max_leaves=8)
TYPES = st.sampled_from(["object", "array", "string", "integer", "number", "boolean", "null"])
PATTERNS = st.sampled_from(["^a", "b", "^[a-z]+(?![\\s\\S])", "^[a-z]+$", "-", "^$"])


def leaf_keywords() -> st.SearchStrategy:
    return st.fixed_dictionaries({}, optional={
        "type": st.one_of(TYPES, st.lists(TYPES, min_size=1, max_size=3, unique=True)),
        "enum": st.lists(JSON, min_size=1, max_size=3),
        "const": JSON,
        "minLength": st.integers(0, 3), "maxLength": st.integers(0, 4), "pattern": PATTERNS,
        "minimum": st.integers(-2, 2), "maximum": st.integers(-2, 2),
        "minItems": st.integers(0, 2), "maxItems": st.integers(0, 3), "uniqueItems": st.booleans(),
        "minProperties": st.integers(0, 2), "maxProperties": st.integers(0, 3),
        "required": st.lists(st.sampled_from(["a", "b", "c"]), max_size=2, unique=True),
        "errorMessage": st.just("words"), "description": st.just("words"),
    })


def schemas(depth: int = 2) -> st.SearchStrategy:
    if depth == 0:
        return st.one_of(st.booleans(), leaf_keywords())
    nested = schemas(depth - 1)
    return st.one_of(
        st.booleans(), leaf_keywords(),
        st.builds(lambda base, props: {**base, "properties": props}, leaf_keywords(),
                  st.dictionaries(st.sampled_from(["a", "b", "c"]), nested, max_size=3)),
        st.builds(lambda base, items: {**base, "items": items}, leaf_keywords(), nested),
        st.builds(lambda base, extra: {**base, "additionalProperties": extra}, leaf_keywords(), nested),
        st.builds(lambda base, names: {**base, "propertyNames": names}, leaf_keywords(), nested),
    )


def rooted_schemas() -> st.SearchStrategy:
    """A schema, or one whose properties reach a definition through $ref (from the top, as #/$defs/... resolves)."""
    return st.one_of(schemas(), st.builds(
        lambda base, target, extra: {**base, "$defs": {"x": target},
                                     "properties": {"a": {"$ref": "#/$defs/x"}, "b": {**extra, "$ref": "#/$defs/x"}}},
        leaf_keywords(), schemas(1), leaf_keywords()))


@settings(max_examples=600, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(schema=rooted_schemas(), document=JSON)
def test_the_answer_is_jsonschema_s(schema, document):
    if isinstance(schema, bool):  # a boolean schema: where a keyword holds it (the top is always a mapping here)
        schema, document = {"properties": {"x": schema}}, {"x": document}
    ours = Schema(schema)
    assert (ours.failures(document) == []) == Draft202012Validator(schema).is_valid(document), (schema, document)


def test_json_equality_tells_true_from_one():
    assert equal(1, 1.0) and equal([1, {"a": 2}], [1.0, {"a": 2.0}])
    assert not equal(True, 1) and not equal([False], [0]) and not equal({"a": 1}, {"a": True})


def test_a_keyword_it_does_not_check_is_refused_when_the_schema_is_loaded():
    for keyword in ("oneOf", "patternProperties", "if", "format", "$dynamicRef"):
        with pytest.raises(UnsupportedSchema, match=re.escape(keyword)):
            Schema({"properties": {"a": {keyword: {}}}})
    with pytest.raises(UnsupportedSchema, match="points nowhere"):
        Schema({"$ref": "#/$defs/missing"})


# --- the catalog's schema ----------------------------------------------------------------------------------

SCHEMA = catalog.SCHEMA_DOCUMENT
DOCUMENT = json.loads(json.dumps(read_mapping(catalog.CATALOG_PATH, "the tool catalog")))


def test_the_catalog_schema_is_a_valid_draft_2020_12_schema_of_checked_keywords():
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert Draft202012Validator(SCHEMA).is_valid(DOCUMENT)
    assert catalog.SCHEMA.failures(DOCUMENT) == []
    assert _keywords(SCHEMA) - ASSERTIONS <= {"$schema", "$comment", "$defs", "title", "description", "errorMessage"}


def _keywords(schema) -> set[str]:
    found: set[str] = set()
    if isinstance(schema, dict):
        found |= set(schema)
        for key in ("properties", "$defs"):
            for sub in (schema.get(key) or {}).values():
                found |= _keywords(sub)
        for key in ("items", "additionalProperties", "propertyNames"):
            if isinstance(schema.get(key), dict):
                found |= _keywords(schema[key])
    return found


def _refs(schema):
    if isinstance(schema, dict):
        if "$ref" in schema:
            yield schema
        for value in schema.values():
            yield from _refs(value)


def test_every_ref_stands_alone_so_draft_07_editors_read_it_the_same():
    """Draft-07 (what the YAML language server implements) ignores a $ref's siblings; 2020-12 applies them."""
    assert all(set(node) == {"$ref"} for node in _refs(SCHEMA))


def test_the_catalog_names_the_schema_for_editors():
    first = catalog.CATALOG_PATH.read_text("utf-8").splitlines()[0]
    assert first == f"# yaml-language-server: $schema=./{catalog.SCHEMA_PATH.name}"


def test_the_schema_states_what_the_code_decides_without_a_second_copy():
    tool = SCHEMA["$defs"]["tool"]["properties"]
    assert tool["connector"]["enum"] == sorted(CONNECTORS)
    assert {catalog.PER_USER, catalog.APP_ONLY} == set(catalog.IDENTITIES)
    container = SCHEMA["$defs"]["storage"]["properties"]["container"]
    rule = NAME_RULES["Microsoft.Storage/storageAccounts/blobServices/containers"]
    assert container["pattern"] == f"^{rule.pattern}(?![\\s\\S])"
    assert (container["minLength"], container["maxLength"]) == (rule.minimum, rule.maximum)


def _patterns(schema):
    if isinstance(schema, dict):
        if isinstance(schema.get("pattern"), str):
            yield schema["pattern"]
        for value in schema.values():
            yield from _patterns(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _patterns(value)


@pytest.mark.parametrize("pattern", sorted(set(_patterns(SCHEMA))))
def test_every_pattern_matches_whole_values_only(pattern):
    """JSON Schema patterns are searched, not matched: each is anchored at both ends, and at the end without $,
    which in Python also matches before a final line break."""
    assert pattern.startswith("^") and pattern.endswith("(?![\\s\\S])") and "$" not in pattern


MUTATIONS = st.tuples(st.sampled_from([t["name"] for t in DOCUMENT["tools"]]),
                      st.sampled_from(["name", "description", "connector", "identity", "access", "scopes",
                                       "operation", "arguments", "settings", "storage", "write_guard", "extra"]),
                      JSON)


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(mutation=MUTATIONS)
def test_the_catalog_schema_answers_as_jsonschema_on_mutated_catalogs(mutation):
    name, field, value = mutation
    document = copy.deepcopy(DOCUMENT)
    tool_entry(document, name)[field] = value
    assert (catalog.SCHEMA.failures(document) == []) == Draft202012Validator(SCHEMA).is_valid(document)
