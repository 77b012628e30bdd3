"""A tool's operation path stays the operation written, whatever value fills it: every value an expression puts
in a path is one segment, never '.', '..' or empty, whoever chooses it (agent_obo/path_segments.py)."""

from __future__ import annotations

import copy

import pytest

from agent_obo.catalog import CATALOG_PATH, parse_catalog
from agent_obo.errors import SettingsError
from agent_obo.path_segments import argument_problem, path_read, pattern_problem
from agent_obo.yaml_files import read_mapping
from tests.helpers import assert_catalog_refused, tool_entry

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
    "a multi-line pattern": (EVENT, {"type": "string", "pattern": "(?m)^a$"}, "a global flag"),
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
    # look-alikes of '.' and '/' a server may normalise (NFKC, UTS #46, Windows best fit)
    "a full-width dot": (EVENT, {"type": "string", "pattern": "^[a-z\uff0e]{1,9}$"}, "U+FF0E"),
    "a full-width dot in an enum": (EVENT, {"type": "string", "enum": ["\uff0e\uff0e"]}, "enum holds"),
    "a two dot leader in an enum": (EVENT, {"type": "string", "enum": ["\u2025"]}, "enum holds"),
    "a full-width slash": (EVENT, {"type": "string", "pattern": "^[a-z\uff0f]{1,9}$"}, "U+FF0F"),
    "a division slash": (EVENT, {"type": "string", "pattern": "^[a-z\u2215]{1,9}$"}, "U+2215"),
    "a yen sign (a backslash in Japanese code pages)": (EVENT, {"type": "string", "pattern": "^[a-z\u00a5]{1,9}$"},
                                                         "U+00A5"),
    # what JSON Schema's regular expressions (ECMA-262) read otherwise than Python
    "\\A and \\Z, letters in ECMA-262": (EVENT, {"type": "string", "pattern": "\\A[a-z]{1,9}\\Z"}, "\\A"),
    "a possessive quantifier": (EVENT, {"type": "string", "pattern": "^[a-z]{1,9}+$"}, "possessive"),
    "an atomic group": (EVENT, {"type": "string", "pattern": "^(?>[a-z]{1,9})$"}, "atomic group"),
    "a global (?i)": (EVENT, {"type": "string", "pattern": "(?i)^[a-z]{1,9}$"}, "global flag"),
    "a verbose (?x)": (EVENT, {"type": "string", "pattern": "(?x)^[a-z]{1,9} $"}, "global flag"),
    "a local flag": (EVENT, {"type": "string", "pattern": "^(?i:[a-z]{1,9})$"}, "inline flag"),
    "a conditional": (EVENT, {"type": "string", "pattern": "^(a)?(?(1)[a-z]|[0-9]){1,9}$"}, "conditional"),
    "a named group": (EVENT, {"type": "string", "pattern": "^(?P<n>[a-z]{1,9})$"}, "named group"),
    "a pattern Python cannot read (ECMA-262's [^])": (EVENT, {"type": "string", "pattern": "^[^]{1,9}$"},
                                                      "not a regular expression Python reads"),
    "an unbalanced group": (EVENT, {"type": "string", "pattern": "^(a$"}, "not a regular expression Python reads"),
    # the path's own text
    "a full-width parent as text": ("/v1.0/me/events/\uff0e\uff0e/sendMail", None, "holds U+FF0E"),
    "a division slash as text": ("/v1.0/me\u2215sendMail", None, "holds U+2215"),
    "an escape as text": ("/v1.0/me/%EF%BC%8E%EF%BC%8E/x", None, "holds %"),
    "a matrix parameter parent": ("/v1.0/me/..;/x", None, "holds ;"),
    "a NUL escape": ("/v1.0/me/..%00/x", None, "holds %"),
    "a full-width parent as a constant": ("/v1.0/me/@{encodeUriComponent('\uff0e\uff0e')}/x", None,
                                          "not one path segment"),
    "an unterminated expression": ("/v1.0/me/@{encodeUriComponent('a')", None, "without its closing"),
    "Office 365's Send an HTTP request": ("/codeless/httprequest", None, "Send an HTTP request"),
    "SharePoint's Send an HTTP request": ("/datasets/@{encodeUriComponent('site')}/HttpRequest", None,
                                          "Send an HTTP request"),
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
    assert_catalog_refused(_profile_with(path, argument), ["tool 'get_my_profile'.operation.path = ", words])


ACCEPTED = {
    "a Graph id": (EVENT, GRAPH_ID),
    "any case and spacing": ("/v1.0/me/events/@{ ENCODEURICOMPONENT ( AgentParameters ( 'id' ) ) }/x", GRAPH_ID),
    "an enum": (EVENT, {"type": "string", "enum": ["inbox", "archive"]}),
    "an integer": (EVENT, {"type": "integer", "minimum": 1}),
    "dots allowed, bounded": (EVENT, {"type": "string", "pattern": "^[a-z][a-z.]{0,63}$"}),
    "dots allowed, bounded by maxLength": (EVENT, {"type": "string", "pattern": "^[a-z.]*[a-z][a-z.]*$",
                                                   "maxLength": 64}),
    "a constant": ("/beta/poster/@{encodeURIComponent('Flow bot')}/x", None),
    "a non-ASCII constant": ("/beta/poster/@{encodeURIComponent('Donn\u00e9es')}/x", None),
    "Unicode digits": (EVENT, {"type": "string", "pattern": "^\\d{1,9}$"}),
    "Unicode word characters": (EVENT, {"type": "string", "pattern": "^\\w{1,64}$"}),
    "a backreference": (EVENT, {"type": "string", "pattern": "^([a-z])\\1{1,9}$"}),
    "a Graph path with an address": ("/v1.0/users/someone@contoso.com/drive/root:/Reports:/children", None),
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
    assert_catalog_refused(_runbook_with_setting(spec), ["setting 'folder' is read as a path segment", words])


def test_a_required_setting_of_plain_segments_is_accepted_in_a_path():
    assert parse_catalog(_runbook_with_setting({"pattern": "[a-z]+"})).tools


def test_the_look_alikes_hold_every_character_whose_compatibility_form_is_unsafe():
    import unicodedata

    from agent_obo.path_segments import LOOK_ALIKES, UNSAFE_CHARACTERS
    normalised = {chr(code) for code in range(0x80, 0x110000)
                  if any(c in (form := unicodedata.normalize("NFKC", chr(code))) for c in UNSAFE_CHARACTERS)
                  or (form and set(form) == {"."})}
    assert normalised <= set(LOOK_ALIKES)


def test_a_query_name_is_not_an_expression():
    document = copy.deepcopy(DOCUMENT)
    entry = tool_entry(document, "get_my_profile")
    entry["operation"]["queries"] = {"@{agentParameters('x')}": "1"}
    entry["arguments"] = {"type": "object", "properties": {"x": {"type": "string", "description": "x"}}}
    with pytest.raises(SettingsError, match="a workflow expression as a name"):
        parse_catalog(document)


def test_the_forms_a_path_expression_may_take():
    assert path_read("encodeURIComponent(encodeURIComponent(parameters('x')))") == ("parameters", "x")
    assert path_read("encodeUriComponent('it''s')") == ("constant", "it's")
    assert path_read("agentParameters('x')") is None
    assert argument_problem({"type": "boolean"}) is None
    assert pattern_problem("[0-9]+", whole=True) is None
