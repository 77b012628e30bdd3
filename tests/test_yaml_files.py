"""Every YAML file the project reads is read strictly: bad YAML stops the run before any resource,
naming the file and the line, without a traceback; both parsers (libyaml, pure Python) agree."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from agent_obo import yaml_files
from agent_obo.errors import SettingsError
from agent_obo.stack_files import check_project_files, stack_values
from agent_obo.yaml_files import PROJECT_DIR, PureStrictLoader, StrictLoader, parse_yaml, read_yaml
from offline.project_copy import project_copy
from offline.runner import run_program, run_stack, stack_config, stack_file

LOADERS = [pytest.param(StrictLoader, id="libyaml"), pytest.param(PureStrictLoader, id="pure-python")]

# (document, line the message must name, words it must say)
BAD_DOCUMENTS = {
    "duplicate key at the top": ("a: 1\nb: 2\na: 3\n", 3, "set twice"),
    "duplicate key in a list item": ("tools:\n  - name: x\n    scopes: [A]\n    scopes: [B]\n", 4,
                                     "'scopes' is set twice"),
    "duplicate key in a flow mapping": ("a: {b: 1, b: 2}\n", 1, "'b' is set twice"),
    "duplicate key spelled as YAML booleans": ("True: 1\ntrue: 2\n", 2, "set twice"),
    "duplicate key, one quoted": ("key: 1\n'key': 2\n", 2, "set twice"),
    "alias": ("a: &x [Calendars.Read]\nb: *x\n", 1, "aliases"),
    "merge key": ("base: &b {scopes: [A]}\ntool:\n  <<: *b\n", 3, "merge keys"),
    "merge key without alias": ("tool:\n  <<: {scopes: [A]}\n", 2, "merge keys"),
    "tab indentation": ("a:\n\tb: 1\n", 2, "tab character"),
    "tab after spaces": ("a:\n  b: 1\n \tc: 2\n", 3, "tab character"),
    "unclosed flow list": ("a: [1, 2\nb: 3\n", 2, "expected ','"),
    "bad indentation": ("a:\n  b: 1\n c: 2\n", 3, "line"),
    "control character": ("a: \x07\n", 1, "U+0007 is not allowed"),
    "a character YAML refuses": ("a: 1\nb: \ufffe\n", 2, "YAML refuses"),
    # Characters that change how a line displays without showing themselves, wherever they stand.
    "a right-to-left override in a comment": ("a: 1\nb: 2  # \u202e}x{\n", 2,
                                              "column 9: character U+202E is not allowed"),
    "a zero-width space in a key": ("owner: x\nowner\u200b: y\n", 2, "U+200B is not allowed (ZERO WIDTH SPACE)"),
    "a line separator in a value": ("a: 1\nb: 'x\u2028y'\n", 2, "U+2028 is not allowed"),
    "a Hangul filler, a letter that renders blank": ("a: 1\nowner: \u3164\n", 2, "U+3164 is not allowed"),
    "a variation selector": ("a: 1\nb: x\ufe0f\n", 2, "U+FE0F is not allowed"),
    "a byte order mark after the start": ("a: 1\nb: \ufeffx\n", 2, "U+FEFF is not allowed"),
    "two documents": ("a: 1\n---\nb: 2\n", 2, "single document"),
    "list as a key": ("? [a]\n: 1\n", 1, "plain value"),
    # Unquoted values YAML 1.1 (this program) and YAML 1.2 (the CLI, editors) read differently.
    **{f"{value!r} read two ways": (f"a: 1\nb: {value}\n", 2, f"{value!r} is read as")
       for value in ["yes", "No", "on", "OFF", "0x10", "036", "0o36", "1_000", "1:30", "1e3", "-2E+5", "+0b1"]},
    "a key read two ways": ("yes: 1\n", 1, "'yes' is read as True"),
}


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("text, line, words", BAD_DOCUMENTS.values(), ids=list(BAD_DOCUMENTS))
def test_bad_yaml_is_refused_with_file_and_line(loader, text, line, words):
    with pytest.raises(SettingsError) as raised:
        parse_yaml(text, "somewhere/file.yaml", "a test file", loader=loader)
    message = str(raised.value)
    assert f"somewhere/file.yaml line {line}" in message, message
    assert words in message, message
    assert "Traceback" not in message


@pytest.mark.parametrize("loader", LOADERS)
def test_good_yaml_reads_as_safe_load_reads_it(loader):
    text = (PROJECT_DIR / "catalog" / "tools.yaml").read_text("utf-8")
    assert parse_yaml(text, "tools.yaml", "catalog", loader=loader) == yaml.safe_load(text)


@pytest.mark.parametrize("loader", LOADERS)
def test_an_escaped_hidden_character_is_refused_naming_where(loader):
    """Written as an escape, the character is not in the text: the parsed value still holds it."""
    with pytest.raises(SettingsError) as raised:
        parse_yaml('tools:\n  - description: "Reads the signed-in user\'s mail\\u202e"\n', "tools.yaml", "the catalog",
                   loader=loader)
    assert "tools.yaml: tools[0].description: character U+202E is not allowed" in str(raised.value)


@pytest.mark.parametrize("loader", LOADERS)
def test_printable_text_in_any_script_is_read(loader):
    text = "owner: Größe 日本語 עברית 🙂\u00a0team\n"
    assert parse_yaml(text, "f.yaml", "a test file", loader=loader) == {"owner": "Größe 日本語 עברית 🙂\u00a0team"}


def test_the_fast_parser_is_used_where_pyyaml_has_it():
    if yaml.__with_libyaml__:
        assert issubclass(StrictLoader, yaml.CSafeLoader)


def test_not_utf8_names_the_line_and_byte(tmp_path):
    path = tmp_path / "tools.yaml"
    path.write_bytes("tools:\n  - name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(SettingsError) as raised:
        read_yaml(path, "the tool catalog")
    message = str(raised.value)
    assert "line 2, column 14" in message and "0xe9" in message and "UTF-8" in message


def test_utf8_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "file.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert read_yaml(path, "a file") == {"a": 1}


def test_a_file_saved_under_another_name_is_named(tmp_path):
    (tmp_path / "tools.yml").write_text("tools: []\n")
    with pytest.raises(SettingsError) as raised:
        read_yaml(tmp_path / "tools.yaml", "the tool catalog")
    message = str(raised.value)
    assert "tools.yaml: no such file" in message and "tools.yml" in message and "rename it" in message


def test_no_yaml_read_bypasses_the_strict_reader():
    """The class, not the examples: a new file read with yaml.safe_load would silently keep duplicate keys."""
    offenders = []
    for source in PROJECT_DIR.rglob("*.py"):
        relative = source.relative_to(PROJECT_DIR)
        skipped = relative.parts[0] in {".venv", "tests", "build"} or "venv" in relative.parts
        if skipped or source.name == "yaml_files.py":
            continue
        if re.search(r"yaml\.(safe_)?load\(|yaml\.load_all\(|yaml\.safe_load_all\(", source.read_text("utf-8")):
            offenders.append(str(relative))
    assert offenders == []


# --- through the real program ----------------------------------------------------------------------

def _run_with_catalog_text(text: str | bytes, tmp_path: Path, name: str = "tools.yaml"):
    """The program with catalog/tools.yaml replaced by `text`, saved as catalog/<name>."""
    project = project_copy(tmp_path, {"catalog/tools.yaml": None})
    (project / "catalog" / name).write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return run_stack("dev", project_dir=project)


CATALOG_TEXT = (PROJECT_DIR / "catalog" / "tools.yaml").read_text("utf-8")
SECOND_SCOPES = CATALOG_TEXT.replace("    scopes: [Calendars.Read]\n",
                                     "    scopes: [Calendars.Read]\n    scopes: [Calendars.ReadWrite]\n", 1)

BAD_CATALOGS = {
    "scopes written twice": (SECOND_SCOPES, ["'scopes' is set twice"]),
    "tab indentation": (CATALOG_TEXT.replace("    connector: office365\n", "\tconnector: office365\n", 1), ["tab"]),
    "syntax error": (CATALOG_TEXT.replace("scopes: [Mail.Read]", "scopes: [Mail.Read", 1), ["not valid YAML"]),
    "not UTF-8": (CATALOG_TEXT.encode("utf-8").replace(b"user's own calendar", b"user\x92s calendar"),
                  ["not UTF-8", "0x92"]),
    "empty": ("", ["`tools` must be a non-empty list"]),
    "a list at the top": ("- name: x\n", ["the top level is list"]),
    "an unknown top-level key": (CATALOG_TEXT + "tool:\n  - name: stray\n", ["top-level key 'tool'"]),
}


@pytest.mark.parametrize("text, expected", BAD_CATALOGS.values(), ids=list(BAD_CATALOGS))
def test_bad_catalog_file_stops_the_program_before_any_resource(text, expected, tmp_path):
    result = _run_with_catalog_text(text, tmp_path)
    assert isinstance(result.error, SettingsError), result.error
    message = str(result.error)
    assert "tools.yaml" in message, message
    for fragment in expected:
        assert fragment in message, message
    assert result.plan.registrations == []


def test_catalog_saved_under_another_name_names_the_expected_path(tmp_path):
    result = _run_with_catalog_text(CATALOG_TEXT, tmp_path, name="tools.yml")
    assert isinstance(result.error, SettingsError), result.error
    assert "tools.yaml: no such file" in str(result.error) and "tools.yml" in str(result.error)
    assert result.plan.registrations == []


def _project_copy(tmp_path: Path, stack_text: str) -> Path:
    for name in ("__main__.py", "Pulumi.yaml"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    (tmp_path / "Pulumi.dev.yaml").write_text(stack_text)
    return tmp_path


DEV_TEXT = (PROJECT_DIR / "Pulumi.dev.yaml").read_text("utf-8")
BAD_STACK_FILES = {
    "a setting written twice": (DEV_TEXT + "  agent-obo:planSku: WS3\n", "'agent-obo:planSku' is set twice"),
    "the same setting with and without namespace": (DEV_TEXT + "  planSku: WS3\n", "are the same setting"),
    "tab indentation": (DEV_TEXT + "\tagent-obo:logRetentionDays: 60\n", "tab character"),
    # What the CLI (YAML 1.2) reads otherwise than this program did (YAML 1.1): the plan and the deployment differ.
    "protection switched on with yes": (DEV_TEXT.replace("protectStatefulResources: false",
                                                        "protectStatefulResources: yes"), "'yes' is read as True"),
    "an octal-looking retention": (DEV_TEXT.replace("logRetentionDays: 30", "logRetentionDays: 036"),
                                   "'036' is read as 30"),
    "a hexadecimal burst limit": (DEV_TEXT.replace("maximumElasticWorkerCount: 3", "maximumElasticWorkerCount: 0x3"),
                                  "'0x3' is read as 3"),
    "a setting with no value": (DEV_TEXT.replace("owner: platform-team@contoso.com", "owner:"),
                                "'agent-obo:owner' has no value"),
    "a setting set to null": (DEV_TEXT.replace("owner: platform-team@contoso.com", "owner: ~"),
                              "'agent-obo:owner' has no value"),
    "a list where one value belongs": (DEV_TEXT.replace("owner: platform-team@contoso.com", "owner: [a, b]"),
                                       "is a list where Pulumi.yaml declares one string value"),
    "a mapping where one value belongs": (DEV_TEXT.replace("planSku: WS1", "planSku: {size: WS1}"),
                                          "is a mapping where Pulumi.yaml declares one string value"),
    "a number where a boolean belongs": (DEV_TEXT.replace("protectStatefulResources: false",
                                                         "protectStatefulResources: 0"), "is a number where"),
    "a float where a number belongs": (DEV_TEXT.replace("logRetentionDays: 30", "logRetentionDays: 30.0"),
                                       "is a number where Pulumi.yaml declares one integer value"),
    "one value where a list belongs": (DEV_TEXT.replace("allowedGroups:\n    -", "allowedGroups:\n     "),
                                       "where Pulumi.yaml declares a list"),
    "a misspelled top-level key": (DEV_TEXT.replace("config:", "confg:") + "config: {}\n",
                                   "top-level key 'confg' is read by nothing; did you mean config?"),
    "config from a Pulumi ESC environment": ("environment:\n  - platform/dev\n" + DEV_TEXT,
                                             "`environment` imports a Pulumi ESC environment's config"),
    # No project setting is a secret: the program would hand a secret value on in plain text.
    **{f"{key} set as a secret": (re.sub(rf"(?m)^  agent-obo:{key}: .*$", "", DEV_TEXT).rstrip("\n")
                                  + f"\n  agent-obo:{key}: {{secure: v1:AAAA}}\n",
                                  f"'agent-obo:{key}' is a secret (`secure:`), but no setting of this project is one")
       for key in ("planSku", "secureAgentRunHistory", "operationsTeamId")},
}


@pytest.mark.parametrize("text, words", BAD_STACK_FILES.values(), ids=list(BAD_STACK_FILES))
def test_bad_stack_file_is_refused_by_the_offline_runner(text, words, tmp_path):
    project = _project_copy(tmp_path, text)
    result = run_stack("dev", project_dir=project)
    assert isinstance(result.error, SettingsError) and words in str(result.error), result.error
    assert result.plan.registrations == []


@pytest.mark.parametrize("text, words", BAD_STACK_FILES.values(), ids=list(BAD_STACK_FILES))
def test_bad_stack_file_is_refused_by_the_program_itself(text, words, tmp_path):
    """Under `pulumi up` the CLI reads the stack file and hands the program only the merged config:
    the program reads the file beside it again, so a duplicate cannot slip through the CLI either."""
    project = _project_copy(tmp_path, text)
    config = stack_config(stack_file("dev").get("config"))  # what a CLI would hand over
    result = run_program("dev", config, project_dir=project)
    assert isinstance(result.error, SettingsError) and words in str(result.error), result.error
    assert "Pulumi.dev.yaml" in str(result.error)
    assert result.plan.registrations == []


def test_a_stack_without_a_file_here_is_fine_for_the_program(tmp_path):
    """Config from Pulumi ESC or another --config-file: no stack file beside the program to check."""
    project = project_copy(tmp_path, {"Pulumi.dev.yaml": None})
    check_project_files("dev", project)
    assert stack_values("dev", "agent-obo", project) is None
    result = run_program("dev", stack_config(stack_file("dev").get("config")), project_dir=project)
    assert result.error is None, result.error


def test_a_duplicate_in_pulumi_yaml_is_refused(tmp_path):
    text = (PROJECT_DIR / "Pulumi.yaml").read_text("utf-8").replace(
        "    default: WS1\n", "    default: WS1\n    default: WS3\n", 1)
    (tmp_path / "Pulumi.yaml").write_text(text)
    with pytest.raises(SettingsError, match="'default' is set twice"):
        check_project_files("dev", tmp_path)


def test_a_missing_stack_file_names_the_known_stacks():
    result = run_stack("staging")
    assert isinstance(result.error, SettingsError)
    assert "Pulumi.staging.yaml: no such file" in str(result.error) and "dev, prod" in str(result.error)


def test_yaml_files_module_names_project_paths_relative():
    assert yaml_files.display_path(PROJECT_DIR / "catalog" / "tools.yaml") == "catalog/tools.yaml"


# --- the repository's JSON files: the same strictness ----------------------------------------------------

BAD_JSON = {
    "a key twice": ('{"a": 1, "b": {"c": 1, "c": 2}}', "'c' is set twice"),
    "NaN": ('{"a": NaN}', "NaN is not a JSON number"),
    "a syntax error": ('{"a": 1,}', "line 1, column 9"),
    "a right-to-left override written": ('{"a": {"b": "x\u2067y"}}', "line 1, column 15: character U+2067"),
    "a right-to-left override escaped": ('{"a": {"b": ["x\\u202ey"]}}', "a.b[0]: character U+202E is not allowed"),
    "a zero-width joiner escaped in a key": ('{"a\\u200d": 1}', "the key a\u200d: character U+200D"),
}


@pytest.mark.parametrize("text, words", BAD_JSON.values(), ids=list(BAD_JSON))
def test_bad_json_is_refused_naming_the_file(text, words):
    from agent_obo.json_files import parse_json

    with pytest.raises(SettingsError) as raised:
        parse_json(text, "workflows/x.json", "a workflow file")
    assert "workflows/x.json" in str(raised.value) and words in str(raised.value)


def test_a_duplicate_key_in_a_workflow_stops_the_program(tmp_path):
    workflow = "workflows/obo-agent/workflow.json"
    text = (PROJECT_DIR / workflow).read_text("utf-8")
    doubled = text.replace('"kind": "Agent"\n}', '"kind": "Agent",\n  "kind": "Stateful"\n}')
    assert '"kind": "Stateful"' in doubled
    result = run_stack("dev", project_dir=project_copy(tmp_path, {workflow: doubled}))
    assert isinstance(result.error, SettingsError) and "'kind' is set twice" in str(result.error)
    assert result.plan.registrations == []


def test_a_duplicate_key_in_the_pack_s_configuration_fails_closed(tmp_path):
    from policy import declared

    (tmp_path / "dev.json").write_text('{"stack-declarations": {}, "stack-declarations": {"pinned": {}}}')
    with pytest.raises(declared.Undeclared, match="set twice"):
        declared.pack_config_for("dev", tmp_path)


PINS = {"tenantId": "9b2e4f10-7c3a-4a58-b1d6-2f8e0c5a9d47"}
# A pack configuration nothing would read (the pins silently dropped) or the pack would crash on: each fails closed,
# naming the key, the value and what is allowed.
BAD_PACK_CONFIGS = {
    "a misspelled policy": ({"stack-declaration": {"pinned": PINS}}, "did you mean stack-declarations?"),
    "a misspelled property": ({"stack-declarations": {"pined": PINS}}, "stack-declarations.pined is read by nothing"),
    "an unknown level": ({"all": "mandatroy"}, 'all.enforcementLevel = "mandatroy": allowed: advisory, mandatory'),
    "a level in other letters": ({"stack-declarations": {"enforcementLevel": "Mandatory", "pinned": PINS}},
                                 'enforcementLevel = "Mandatory"'),
    "a number for an entry": ({"stack-declarations": 5}, "stack-declarations = 5: allowed: an enforcement level"),
    "pins as an empty list": ({"stack-declarations": {"pinned": []}}, "stack-declarations.pinned = []: allowed: an "
                                                                       "object"),
    "exceptions as text": ({"connections-as-declared": {"approvedExceptions": "office365"}},
                           'approvedExceptions = "office365": allowed: a list of strings'),
}


@pytest.mark.parametrize("document, words", BAD_PACK_CONFIGS.values(), ids=list(BAD_PACK_CONFIGS))
def test_a_pack_configuration_nothing_would_read_fails_closed(document, words, tmp_path):
    from policy import declared

    (tmp_path / "dev.json").write_text(json.dumps(document))
    with pytest.raises(declared.Undeclared) as raised:
        declared.pack_config_for("dev", tmp_path)
    assert words in str(raised.value) and "dev.json" in str(raised.value), str(raised.value)


def test_every_pack_configuration_of_the_project_is_read_whole():
    from policy import declared

    for path in sorted((PROJECT_DIR / "policy" / "config").glob("*.json")):
        assert declared.pack_config_problems(json.loads(path.read_text())) == [], path


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("text, value", [
    ("a: '0x10'", "0x10"), ('a: "yes"', "yes"), ("a: 16", 16), ("a: -3", -3), ("a: 2025-04-14", "2025-04-14"),
    ("a: 2025-04-14T10:00:00Z", "2025-04-14T10:00:00Z"), ("a: 0.5", 0.5), ("a: true", True), ("a: FALSE", False),
    ("a: |\n  yes\n", "yes\n")])
def test_values_both_yaml_versions_read_alike_are_read(loader, text, value):
    """Quoted text, plain decimals, YAML 1.2's booleans; dates as the text written, as the CLI reads them."""
    assert parse_yaml(text, "f.yaml", "a test file", loader=loader) == {"a": value}


def test_a_hidden_character_in_the_catalog_stops_the_program(tmp_path):
    """A description that reads as one thing in review and says another to the model."""
    catalog = "catalog/tools.yaml"
    text = (PROJECT_DIR / catalog).read_text("utf-8")
    changed = text.replace("signed-in user", "signed-in\u2066 user", 1)
    assert changed != text
    result = run_stack("dev", project_dir=project_copy(tmp_path, {catalog: changed}))
    assert isinstance(result.error, SettingsError) and "U+2066 is not allowed" in str(result.error)
    assert result.plan.registrations == []


def test_a_directory_where_a_json_file_belongs_is_refused_cleanly(tmp_path):
    from agent_obo.json_files import read_json

    (tmp_path / "host.json").mkdir()
    with pytest.raises(SettingsError, match=r"host\.json: Is a directory"):
        read_json(tmp_path / "host.json", "workflow project file host.json")
