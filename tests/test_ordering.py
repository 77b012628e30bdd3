"""Nothing starts before what it needs, nothing points at what does not exist yet (the engine creates a
resource only after every resource it depends on)."""

from __future__ import annotations

from offline.plan import Plan, Registration
from tests.test_foundation import APP_SETTINGS, SITE, app_settings

ROLE = "azure-native:authorization:RoleAssignment"
GENERIC = "azure-native:resources:Resource"


def waits_for(plan: Plan, resource: Registration) -> set[str]:
    """Everything the engine finishes before it starts `resource`: its dependencies, transitively."""
    by_urn = {r.urn: r for r in plan.registrations}
    seen: set[str] = set()
    pending = list(resource.dependencies) + [u for deps in resource.property_dependencies.values() for u in deps]
    while pending:
        urn = pending.pop()
        if urn in seen or urn not in by_urn:
            continue
        seen.add(urn)
        found = by_urn[urn]
        pending += found.dependencies + [u for deps in found.property_dependencies.values() for u in deps]
        pending += [r.urn for r in plan.children(found)]  # depending on a component means on all of it
    return seen


def storage_roles(plan: Plan) -> list[Registration]:
    return [r for r in plan.all(ROLE) if r.name.startswith("runtime-storage-runtime-")]


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
