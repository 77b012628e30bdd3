"""A tool's operation path stays the operation written, whatever value fills it: every value an expression puts
in a path is one segment, never '.', '..' or empty, whoever chooses it (agent_obo/path_segments.py)."""

from __future__ import annotations

import copy

import pytest

from agent_obo.catalog import CATALOG_PATH, parse_catalog
from agent_obo.errors import SettingsError
from agent_obo.path_segments import argument_problem, path_read, pattern_problem
from agent_obo.yaml_files import read_mapping
from tests.helpers import tool_entry

DOCUMENT = read_mapping(CATALOG_PATH, "the tool catalog")
EVENT = "/v1.0/me/events/@{encodeUriComponent(agentParameters('id'))}/x"
GRAPH_ID = {"type": "string", "pattern": "^[A-Za-z0-9=_-]{1,255}$"}


def _profile_with(path: str, argument: dict | None = None) -> dict:
    document = copy.deepcopy(DOCUMENT)
    entry = tool_entry(document, "get_my_profile")
    entry["operation"]["path"] = path
    if argument is not None:
        entry["arguments"] = {"type": "object", "required": ["id"],
                              "properties": {"id": {**argument, "description": "The event's id."}}}
    return document


def _runbook_with_setting(spec: dict) -> dict:
    document = copy.deepcopy(DOCUMENT)
    entry = tool_entry(document, "get_shared_runbook")
    entry["operation"]["path"] += "/@{encodeUriComponent(parameters('folder'))}"
    entry["settings"] = {"folder": {"description": "the folder", "example": "abc", **spec}}
    return document


REFUSED = {
    # the model's argument: encodeUriComponent('..') is '..'
    "a string argument of any value": (EVENT, {"type": "string"}, "needs an enum or a pattern"),
    "a pattern admitting dots": (EVENT, {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"}, "admits '.'"),
    "a pattern admitting '..' by alternation": (EVENT, {"type": "string", "pattern": "^(?:[a-z]{1,9}|\\.\\.)$"},
                                                "admits '..'"),
    "an unanchored pattern": (EVENT, {"type": "string", "pattern": "[a-z]"}, "start it with ^"),
    "an anchor in one branch only": (EVENT, {"type": "string", "pattern": "^a$|^\\.\\.$"}, "start it with ^"),
    "a multi-line pattern": (EVENT, {"type": "string", "pattern": "(?m)^a$"}, "no (?m)"),
    "dots only, longer than probed": (EVENT, {"type": "string", "pattern": "^[a.]+$"}, "of any length"),
    "many dots, counted": (EVENT, {"type": "string", "pattern": "^\\.{300}$"}, "admits '...."),
    "a negated class": (EVENT, {"type": "string", "pattern": "^[^a]{1,9}$"}, "admits / \\ % ? #"),
    "any non-space": (EVENT, {"type": "string", "pattern": "^\\S{1,9}$"}, "admits /"),
    "a percent (decoded twice)": (EVENT, {"type": "string", "pattern": "^[a-z%0-9]{1,9}$"}, "admits %"),
    "an empty value": (EVENT, {"type": "string", "pattern": "^[a-z]*$"}, "admits ''"),
    "a lookahead over anything": (EVENT, {"type": "string", "pattern": "^(?=a)[\\s\\S]{1,9}$"}, "admits /"),
    "an enum with '..'": (EVENT, {"type": "string", "enum": ["a", ".."]}, "enum holds ['..']"),
    "an object argument": (EVENT, {"type": "object"}, "its type is 'object'"),
    "two arguments splitting a segment": (
        "/v1.0/me/events/@{encodeUriComponent(agentParameters('id'))}@{encodeUriComponent(agentParameters('id'))}",
        {"type": "string", "pattern": "^[a-z.]{1,9}$"}, "admits '.'"),
    # the function around it
    "no encoding": ("/v1.0/me/events/@{agentParameters('id')}", GRAPH_ID, "allowed in a path"),
    "a function inside the encoding": ("/v1.0/me/events/@{encodeUriComponent(decodeUriComponent("
                                       "agentParameters('id')))}", GRAPH_ID, "allowed in a path"),
    "encoded three times": ("/v1.0/me/events/@{encodeUriComponent(encodeUriComponent(encodeUriComponent("
                            "agentParameters('id'))))}", GRAPH_ID, "allowed in a path"),
    "a property of the value": ("/v1.0/me/events/@{encodeUriComponent(agentParameters('id'))?['x']}", GRAPH_ID,
                                "allowed in a path"),
    "a second argument to the encoding": ("/v1.0/me/events/@{encodeUriComponent(agentParameters('id'), 'x')}",
                                          GRAPH_ID, "allowed in a path"),
    "an alias of the encoding": ("/v1.0/me/events/@{uriComponent(agentParameters('id'))}", GRAPH_ID,
                                 "allowed in a path"),
    # constants
    "a decoded slash": ("/v1.0/me/@{decodeUriComponent('%2F')}x", None, "allowed in a path"),
    "a concatenated parent": ("/v1.0/me/@{concat('..', '/')}x", None, "allowed in a path"),
    "an encoded parent": ("/v1.0/me/events/@{encodeUriComponent('..')}/x", None, "not one path segment"),
    "an encoded current segment": ("/v1.0/me/events/@{encodeUriComponent('.')}/x", None, "not one path segment"),
    "an encoded empty text": ("/v1.0/me/events/@{encodeUriComponent('')}/x", None, "not one path segment"),
    "a quote escaping the text": ("/v1.0/me/events/@{encodeUriComponent('a'')/x')}/x", None,
                                  "not one path segment"),
    # text the runtime may read as an expression
    "an escaped expression": ("/v1.0/me/events/@@{concat('..','/')}/x", None, "'@@'"),
    "an escape inside a segment": ("/v1.0/me/events/a@@{concat('..','/')}/x", None, "'@@'"),
    "a brace": ("/v1.0/me/events/{id}/x", None, "'@@', '{' or '}'"),
    "a query string": (EVENT + "?y=1", GRAPH_ID, "reaches another operation"),
}


@pytest.mark.parametrize("path, argument, words", REFUSED.values(), ids=list(REFUSED))
def test_a_path_value_that_could_leave_its_segment_is_refused(path, argument, words):
    with pytest.raises(SettingsError) as raised:
        parse_catalog(_profile_with(path, argument))
    assert "tool 'get_my_profile'.operation.path = " in str(raised.value), raised.value
    assert words in str(raised.value), raised.value


ACCEPTED = {
    "a Graph id": (EVENT, GRAPH_ID),
    "any case and spacing": ("/v1.0/me/events/@{ ENCODEURICOMPONENT ( AgentParameters ( 'id' ) ) }/x", GRAPH_ID),
    "an enum": (EVENT, {"type": "string", "enum": ["inbox", "archive"]}),
    "an integer": (EVENT, {"type": "integer", "minimum": 1}),
    "dots allowed, bounded": (EVENT, {"type": "string", "pattern": "^[a-z][a-z.]{0,63}$"}),
    "dots allowed, bounded by maxLength": (EVENT, {"type": "string", "pattern": "^[a-z.]*[a-z][a-z.]*$",
                                                   "maxLength": 64}),
    "a constant": ("/beta/poster/@{encodeURIComponent('Flow bot')}/x", None),
}


@pytest.mark.parametrize("path, argument", ACCEPTED.values(), ids=list(ACCEPTED))
def test_a_path_value_that_stays_one_segment_is_accepted(path, argument):
    assert parse_catalog(_profile_with(path, argument)).tools


@pytest.mark.parametrize("spec, words", [
    ({"pattern": "[a-z.]{1,9}"}, "admits '.'"),
    ({"pattern": "[a-z/]{1,9}"}, "admits /"),
    ({"pattern": "[a-z]{1,9}", "required": False}, "it is optional"),
])
def test_a_setting_read_in_a_path_admits_only_one_segment(spec, words):
    with pytest.raises(SettingsError) as raised:
        parse_catalog(_runbook_with_setting(spec))
    assert "setting 'folder' is read as a path segment" in str(raised.value) and words in str(raised.value)


def test_a_required_setting_of_plain_segments_is_accepted_in_a_path():
    assert parse_catalog(_runbook_with_setting({"pattern": "[a-z]+"})).tools


def test_the_forms_a_path_expression_may_take():
    assert path_read("encodeURIComponent(encodeURIComponent(parameters('x')))") == ("parameters", "x")
    assert path_read("encodeUriComponent('it''s')") == ("constant", "it's")
    assert path_read("agentParameters('x')") is None
    assert argument_problem({"type": "boolean"}) is None
    assert pattern_problem("[0-9]+", whole=True) is None
