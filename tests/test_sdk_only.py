"""The benchmark's reference (offline/sdk_only.py): the same resources, registered by the SDK alone."""

from __future__ import annotations

import json

import pulumi_azure_native.web
import pulumi_azuread
import pytest

from offline import sdk_only
from offline.report import to_json
from offline.runner import stacks
from offline.sdk_classes import property_names, resource_class


@pytest.mark.parametrize("stack", stacks())
def test_the_sdk_alone_registers_what_the_plan_registers(plans, tmp_path, stack):
    plan_json = tmp_path / "plan.json"
    plan_json.write_text(json.dumps(to_json(plans[stack])))
    assert sdk_only.differences(plan_json) == []


def test_a_registration_unlike_the_plan_is_named(plans, tmp_path, monkeypatch):
    plan_json = tmp_path / "plan.json"
    plan_json.write_text(json.dumps(to_json(plans["dev"])))
    literal = sdk_only._literal
    # As if the SDK-only program passed one input on differently from how the plan recorded it.
    monkeypatch.setattr(sdk_only, "_literal", lambda value: False if value is True else literal(value))
    found = sdk_only.differences(plan_json)
    assert any(line.endswith("::logic-app-site: inputs differs") for line in found), found


def test_sdk_classes_and_their_property_names():
    assert resource_class("azure-native:web:WebApp") is pulumi_azure_native.web.WebApp
    assert resource_class("azuread:index/application:Application") is pulumi_azuread.Application
    assert resource_class("pulumi-python:dynamic:Resource") is None
    assert resource_class("azure-native:web:NoSuchResource") is None
    assert property_names(pulumi_azure_native.web.WebAppArgs)["resourceGroupName"] == "resource_group_name"
