"""Bad settings stop the real program before it registers anything, with a message that names the
key, the bad value and what is allowed."""

from __future__ import annotations

import pytest

from agent_obo.errors import SettingsError
from offline.runner import run_program, stack_config, stack_file
from tests.conftest import run_with

BAD_SETTINGS = {
    "plan size outside the enum": (
        {"agent-obo:planSku": "WS9"},
        ["agent-obo:planSku", "'WS9'", "allowed values: WS1, WS2, WS3"]),
    "burst limit out of range": (
        {"agent-obo:maximumElasticWorkerCount": 50},
        ["agent-obo:maximumElasticWorkerCount", "50", "an integer from 1 to 20"]),
    "burst limit not an integer": (
        {"agent-obo:maximumElasticWorkerCount": "lots"},
        ["agent-obo:maximumElasticWorkerCount", "'lots'", "not an integer"]),
    "log retention too short": (
        {"agent-obo:logRetentionDays": 7},
        ["agent-obo:logRetentionDays", "7", "an integer from 30 to 730"]),
    "protection not a boolean": (
        {"agent-obo:protectStatefulResources": "yes"},
        ["agent-obo:protectStatefulResources", "'yes'", "true or false"]),
    "region written as a display name": (
        {"agent-obo:location": "East US"},
        ["agent-obo:location", "'East US'", "an Azure region name in lower case"]),
    "always-ready instances above the burst limit": (
        {"agent-obo:alwaysReadyInstances": 5, "agent-obo:maximumElasticWorkerCount": 3},
        ["agent-obo:alwaysReadyInstances", "5", "more than maximumElasticWorkerCount (3)"]),
    "existing model without its endpoint": (
        {"agent-obo:modelSource": "existing"},
        ["agent-obo:existingModelEndpoint", "required when modelSource is existing",
         "agent-obo:existingModelResourceId"]),
    "created model with an existing endpoint": (
        {"agent-obo:existingModelEndpoint": "https://shared-oai.openai.azure.com/"},
        ["agent-obo:existingModelEndpoint", "'https://shared-oai.openai.azure.com/'",
         "only allowed when modelSource is existing"]),
    "existing model with a malformed resource id": (
        {"agent-obo:modelSource": "existing",
         "agent-obo:existingModelEndpoint": "https://shared-oai.openai.azure.com/",
         "agent-obo:existingModelResourceId": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Web/sites/a"},
        ["agent-obo:existingModelResourceId", "Microsoft.CognitiveServices/accounts/<name>"]),
    "misspelled setting": (
        {"agent-obo:planSKU": "WS2"},
        ["agent-obo:planSKU", "unknown setting", "did you mean agent-obo:planSku?"]),
    "owner missing": (
        {"agent-obo:owner": None},
        ["agent-obo:owner", "required and not set"]),
    "group id that is not a GUID": (
        {"agent-obo:allowedGroups": ["ops-team"]},
        ["agent-obo:allowedGroups", "'ops-team'", "Entra group object ids (GUIDs)"]),
    "assignment required but nobody assigned": (
        {"agent-obo:assignmentRequired": True},
        ["agent-obo:assignmentRequired", "nobody could sign in"]),
    "model capacity zero": (
        {"agent-obo:modelCapacity": 0},
        ["agent-obo:modelCapacity", "0", "an integer from 1 to 1000"]),
    "the same user listed twice": (
        {"agent-obo:allowedUsers": ["0b7c5a3e-2f41-4d8a-9c6e-1a2b3c4d5e6f"] * 2},
        ["agent-obo:allowedUsers", "lists an item twice"]),
}


@pytest.mark.parametrize("overrides, expected", BAD_SETTINGS.values(), ids=list(BAD_SETTINGS))
def test_bad_setting_fails_before_any_resource(overrides, expected):
    result = run_with(overrides)
    assert isinstance(result.error, SettingsError), result.error
    message = str(result.error)
    for fragment in expected:
        assert fragment in message, f"{fragment!r} missing from:\n{message}"
    assert result.plan.registrations == [], [r.urn for r in result.plan.registrations]


def test_every_problem_is_reported_at_once():
    result = run_with({"agent-obo:planSku": "WS9", "agent-obo:logRetentionDays": 7})
    assert len(result.error.problems) == 2


def test_stack_name_must_fit_azure_names():
    config = stack_config(stack_file("dev").get("config"))
    result = run_program("Prod-EU-1", config)
    assert isinstance(result.error, SettingsError)
    assert "stack name 'Prod-EU-1'" in str(result.error)
    assert "2-8 lower-case letters or digits" in str(result.error)
    assert result.plan.registrations == []
