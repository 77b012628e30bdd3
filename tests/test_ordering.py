"""Nothing starts before what it needs, nothing points at what does not exist yet (the engine creates a
resource only after every resource it depends on)."""

from __future__ import annotations

from tests.helpers import APP_SETTINGS, ROLE, SITE, app_settings, storage_roles, waits_for

GENERIC = "azure-native:resources:Resource"


def test_the_site_waits_for_the_runtime_identitys_storage_roles(plan):
    roles = storage_roles(plan)
    assert len(roles) == 3
    assert {r.urn for r in roles} <= waits_for(plan, plan.one(SITE))


def test_the_site_carries_no_app_settings_and_one_resource_carries_them_all(plan):
    assert plan.one(SITE).input("siteConfig.appSettings") is None
    settings = plan.one(APP_SETTINGS)
    assert settings.input("name") == plan.one(SITE).input("name")
    assert "WEBSITE_RUN_FROM_PACKAGE" in app_settings(plan) and "AzureWebJobsStorage__credential" in app_settings(plan)


def test_no_setting_routes_traffic_before_the_access_it_needs(plan):
    before_settings = waits_for(plan, plan.one(APP_SETTINGS))
    policies = [r for r in plan.all(GENERIC) if r.input("resourceType") == "accessPolicies"]
    assert len(policies) == len([r for r in plan.all(GENERIC) if r.input("resourceType") == "connections"])
    grants = [r for r in plan.all(ROLE)]  # model access, runbook reader, storage roles, package upload
    for needed in policies + grants:
        assert needed.urn in before_settings, needed.name


def test_easy_auth_turns_on_after_the_settings_it_names(plan):
    auth = plan.one("azure-native:web:WebAppAuthSettingsV2WithoutSecrets")
    assert plan.one(APP_SETTINGS).urn in waits_for(plan, auth)
