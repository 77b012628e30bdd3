"""Pulumi.yaml declares every project setting, the catalog every tool setting; every stack file is valid and
says only what it should."""

from __future__ import annotations

import pytest

from agent_obo.catalog import load_catalog
from agent_obo.settings import RULES
from agent_obo.tool_inputs import settings_of
from offline.runner import project_settings, stack_config, stack_file, stacks
from tests.helpers import load_stack_settings

DECLARED = project_settings()["config"]
TOOL_SETTINGS = settings_of(load_catalog())


def test_pulumi_yaml_declares_exactly_the_settings_the_program_reads():
    assert set(DECLARED) == set(RULES)


def test_tool_settings_are_declared_in_the_catalog_only():
    assert TOOL_SETTINGS and not set(TOOL_SETTINGS) & set(DECLARED)


@pytest.mark.parametrize("key", sorted(RULES))
def test_each_setting_has_type_description_and_default(key):
    spec = DECLARED[key]
    assert spec["type"] == RULES[key].kind
    assert spec.get("description")
    # Who is accountable, who gets the alerts and which tenant it lives in differ per environment: every
    # stack must say them.
    if key not in ("owner", "alertEmailReceivers", "tenantId"):
        assert "default" in spec, key
    if spec["type"] == "array":
        assert spec["items"] == {"type": "string"}


def test_defaults_pass_the_settings_own_rules():
    # The settings without a usable default: whom the environment belongs to, whom its alerts reach,
    # who may sign in (assignment is required unless a stack says otherwise), and its tenant.
    config = stack_config({"owner": "someone@contoso.com", "alertEmailReceivers": ["ops@contoso.com"],
                           "allowedGroups": ["2e7a4c19-8d3b-4f65-a0c2-9b1d6e3f5a84"],
                           "tenantId": "9b2e4f10-7c3a-4a58-b1d6-2f8e0c5a9d47"})
    load_stack_settings(config, "dev")


@pytest.mark.parametrize("stack", stacks())
def test_stack_file_uses_only_declared_namespaced_keys_and_is_valid(stack):
    values = stack_file(stack).get("config") or {}
    for key in values:
        namespace, _, name = key.partition(":")
        assert namespace == "agent-obo" and (name in DECLARED or name in TOOL_SETTINGS), key
    settings = load_stack_settings(stack_config(values), stack)
    assert settings.environment == stack


def test_there_are_two_environments_that_differ_where_they_should():
    dev = load_stack_settings(stack_config(stack_file("dev")["config"]), "dev")
    prod = load_stack_settings(stack_config(stack_file("prod")["config"]), "prod")
    assert (dev.plan_sku, prod.plan_sku) == ("WS1", "WS2")
    assert dev.maximum_elastic_worker_count < prod.maximum_elastic_worker_count
    assert dev.log_retention_days < prod.log_retention_days
    assert (dev.protect_stateful_resources, prod.protect_stateful_resources) == (False, True)
    # Both require assignment (dev to a test group); neither lets the chat app hold the tools' scopes.
    assert dev.sign_in.assignment_required and prod.sign_in.assignment_required
    assert dev.sign_in.allowed_groups and prod.sign_in.allowed_groups
    assert not set(dev.sign_in.allowed_groups) & set(prod.sign_in.allowed_groups)
    assert not dev.sign_in.delegate_tool_scopes and not prod.sign_in.delegate_tool_scopes
