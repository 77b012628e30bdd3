"""The health check: App Service pings the health workflow the package ships, as Learn documents it for
Standard logic apps (agent_obo/health_workflow.py)."""

from __future__ import annotations

import json
import re

import pytest

from agent_obo.errors import SettingsError
from agent_obo.health_workflow import (
    HEALTH_CHECK_PATH,
    HEALTH_TRIGGER,
    HEALTH_WORKFLOW,
    HOST_SETTING,
    PATH_LIMIT,
    health_workflow,
)
from agent_obo.workflow_files import add_health_workflow, read_project
from tests.helpers import SITE, package_files


def test_the_path_is_the_documented_invoke_path_within_the_limit():
    # Learn: /api/<workflow-name>/triggers/<request-trigger-name>/invoke?api-version=2022-05-01, under 65 characters.
    assert HEALTH_CHECK_PATH == "/api/health/triggers/manual/invoke?api-version=2022-05-01"
    assert len(HEALTH_CHECK_PATH) <= PATH_LIMIT == 64


def test_every_stack_pings_the_workflow_its_package_ships(plan):
    assert plan.one(SITE).input("siteConfig.healthCheckPath") == HEALTH_CHECK_PATH
    files = package_files(plan)
    assert json.loads(files[f"{HEALTH_WORKFLOW}/workflow.json"]) == health_workflow()
    host = json.loads(files["host.json"])
    assert host["extensions"]["workflow"]["Settings"][HOST_SETTING] == HEALTH_WORKFLOW
    # The project's own host setting stays beside it, in the one Settings object.
    assert host["extensions"]["workflow"]["Settings"]["Runtime.ApplicationInsightTelemetryVersion"] == "v2"


def test_the_health_workflow_answers_and_reaches_nothing():
    workflow = health_workflow()
    assert workflow["kind"] == "Stateless"  # a ping a minute per instance leaves no run history
    (trigger_name, trigger), = workflow["definition"]["triggers"].items()
    assert trigger_name == HEALTH_TRIGGER
    assert trigger == {"type": "Request", "kind": "Http", "inputs": {"method": "GET"}}
    assert workflow["definition"]["actions"] == {
        "Response": {"type": "Response", "kind": "Http", "inputs": {"statusCode": 200}, "runAfter": {}}}


def test_a_hand_written_health_workflow_is_refused():
    documents = read_project()
    documents[f"{HEALTH_WORKFLOW}/workflow.json"] = health_workflow()
    with pytest.raises(SettingsError, match=re.escape("derived from agent_obo/health_workflow.py")):
        add_health_workflow(documents)


@pytest.mark.parametrize("host_workflow", [
    {"Settings": {HOST_SETTING: "obo-agent"}},
    {"Settings": {HOST_SETTING.lower(): HEALTH_WORKFLOW}},
    {"Settings": {}, "settings": {"Runtime.ApplicationInsightTelemetryVersion": "v2"}},
], ids=["another workflow", "case variant", "two settings objects"])
def test_host_json_may_not_set_what_is_derived(host_workflow):
    documents = read_project()
    documents["host.json"]["extensions"]["workflow"] = host_workflow
    with pytest.raises(SettingsError, match=re.escape(HOST_SETTING)):
        add_health_workflow(documents)


def test_host_json_without_settings_gets_them():
    documents = read_project()
    documents["host.json"].pop("extensions")
    add_health_workflow(documents)
    assert documents["host.json"]["extensions"]["workflow"] == {"Settings": {HOST_SETTING: HEALTH_WORKFLOW}}
