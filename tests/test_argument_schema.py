"""The argument-schema check gives jsonschema's answer (Draft202012Validator.check_schema) for every
schema, with or without jsonschema: generated schemas of the keywords tools use, valid and not."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from agent_obo.argument_schema import KEYWORDS, schema_problem
from offline.runner import PROJECT_DIR

ANY_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False, allow_infinity=False),
              st.sampled_from([1.0, 2.5, -1.0, 0.0]), st.text(max_size=5),
              st.sampled_from(["object", "string", "integer", "array", "stringy", "[a-", "^x$", "(?P<n>a)"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=6)
KEYWORD_NAMES = st.sampled_from([*KEYWORDS, "minProperties", "$ref", "oneOf", "x-custom"])


def schemas(depth: int = 2) -> st.SearchStrategy:
    leaf = st.dictionaries(KEYWORD_NAMES, ANY_VALUE, max_size=4)
    if depth == 0:
        return st.one_of(st.booleans(), leaf)
    nested = schemas(depth - 1)
    return st.one_of(
        st.booleans(), leaf,
        st.builds(lambda base, props: {**base, "properties": props}, leaf,
                  st.dictionaries(st.text(max_size=4), nested, max_size=3)),
        st.builds(lambda base, items: {**base, "items": items}, leaf, nested),
        st.builds(lambda base, extra: {**base, "additionalProperties": extra}, leaf, nested))


def jsonschema_says_valid(schema) -> bool:
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError:
        return False
    return True


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(schema=schemas())
def test_the_answer_is_jsonschema_s(schema):
    assert (schema_problem(schema) is None) == jsonschema_says_valid(schema), schema


def test_the_catalog_plans_without_importing_jsonschema():
    code = ("import sys; from agent_obo.catalog import load_catalog; load_catalog(); "
            "print('jsonschema' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_DIR, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
