"""Private networking, zone redundancy, the health check and delete locks: each switch both ways on
each stack, the bad inputs refused before registration, the order things are created in, and the
policies that hold each stack to what it declares."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from agent_obo.errors import SettingsError
from agent_obo.health_workflow import HEALTH_CHECK_PATH
from offline.plan import Plan, Registration
from ops import protected_resources
from policy.declared import pack_config_for
from policy.harness import run_policies
from tests.helpers import SITE, STORAGE, run_with
from tests.policy_mutations import messages, replaced, set_at, without

PLAN = "azure-native:web:AppServicePlan"
MODEL = "azure-native:cognitiveservices:Account"
VNET = "azure-native:network:VirtualNetwork"
SUBNET = "azure-native:network:Subnet"
ENDPOINT = "azure-native:network:PrivateEndpoint"
ZONE_GROUP = "azure-native:network:PrivateDnsZoneGroup"
ZONE = "azure-native:privatedns:PrivateZone"
LINK = "azure-native:privatedns:VirtualNetworkLink"
LOCK = "azure-native:authorization:ManagementLockByScope"
NETWORK_TYPES = (VNET, SUBNET, ENDPOINT, ZONE_GROUP, ZONE, LINK, "azure-native:network:NetworkSecurityGroup")

PRIVATE = {"agent-obo:privateNetworking": True, "agent-obo:disabledTools": ["get_shared_runbook"]}
SUB = "/subscriptions/0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0/resourceGroups/rg-hub/providers/Microsoft.Network"
HUB_INTEGRATION = f"{SUB}/virtualNetworks/vnet-spoke/subnets/snet-apps"
HUB_ENDPOINTS = f"{SUB}/virtualNetworks/vnet-spoke/subnets/snet-pe"
HUB_ZONES = [f"{SUB}/privateDnsZones/privatelink.{zone}" for zone in
             ("blob.core.windows.net", "queue.core.windows.net", "table.core.windows.net", "openai.azure.com")]


@pytest.fixture(scope="module")
def runs() -> dict[str, Plan]:
    cases = {
        "dev-private": ("dev", PRIVATE),
        "prod-public": ("prod", {"agent-obo:privateNetworking": False}),
        "prod-private-ingress": ("prod", {"agent-obo:publicIngress": False}),
        "prod-access-key": ("prod", {"agent-obo:hostStorageAuthentication": "accessKey"}),
        "prod-hub": ("prod", {"agent-obo:existingIntegrationSubnetId": HUB_INTEGRATION,
                              "agent-obo:existingPrivateEndpointSubnetId": HUB_ENDPOINTS}),
        "prod-hub-zones": ("prod", {"agent-obo:existingIntegrationSubnetId": HUB_INTEGRATION,
                                    "agent-obo:existingPrivateEndpointSubnetId": HUB_ENDPOINTS,
                                    "agent-obo:existingPrivateDnsZoneIds": HUB_ZONES}),
        "prod-deploy-ip": ("prod", {"agent-obo:storageFirewallIpRanges": ["203.0.113.7", "198.51.100.0/28"]}),
        "dev-zone-redundant": ("dev", {"agent-obo:zoneRedundant": True, "agent-obo:alwaysReadyInstances": 3}),
    }
    return {case: run_with(overrides, stack=stack).ok() for case, (stack, overrides) in cases.items()}


def site_settings(plan: Plan) -> dict[str, Any]:
    from tests.helpers import app_settings

    return app_settings(plan)


def endpoints(plan: Plan) -> dict[str, tuple[str, str]]:
    """Endpoint name -> (groupId, target resource id)."""
    found = {}
    for endpoint in plan.all(ENDPOINT):
        (connection,) = endpoint.inputs["privateLinkServiceConnections"]
        (group,) = connection["groupIds"]
        found[endpoint.inputs["privateEndpointName"]] = (group, connection["privateLinkServiceId"])
    return found


def zone_of(plan: Plan, endpoint_name: str) -> str:
    (group,) = [g for g in plan.all(ZONE_GROUP) if g.inputs["privateEndpointName"] == endpoint_name]
    (config,) = group.inputs["privateDnsZoneConfigs"]
    return config["privateDnsZoneId"]


# --- prod: private by default --------------------------------------------------------------------------

def test_prod_network_has_two_subnets_inside_its_space(plans):
    prod = plans["prod"]
    assert prod.one(VNET).inputs["addressSpace"] == {"addressPrefixes": ["10.42.0.0/24"]}
    integration = prod.one(SUBNET, "network-integration-subnet").inputs
    endpoint_subnet = prod.one(SUBNET, "network-private-endpoint-subnet").inputs
    assert integration["addressPrefix"] == "10.42.0.0/26"
    assert [d["serviceName"] for d in integration["delegations"]] == ["Microsoft.Web/serverFarms"]
    assert endpoint_subnet["addressPrefix"] == "10.42.0.64/27" and not endpoint_subnet.get("delegations")
    assert "subnets" in prod.one(VNET).ignore_changes  # the subnets are their own resources


def test_prod_storage_and_model_are_private(plans):
    prod = plans["prod"]
    account = prod.one(STORAGE).inputs
    assert account["publicNetworkAccess"] == "Disabled"
    assert account["networkRuleSet"] == {"defaultAction": "Deny", "bypass": "None", "ipRules": [],
                                         "virtualNetworkRules": []}
    model = prod.one(MODEL).inputs
    assert model["properties"]["publicNetworkAccess"] == "Disabled"
    assert model["properties"]["networkAcls"]["defaultAction"] == "Deny"
    assert model["identity"] == {"type": "SystemAssigned"}


def test_prod_endpoints_each_register_in_a_linked_zone(plans):
    prod = plans["prod"]
    account_id = prod.one(STORAGE).resource_id
    model_id = prod.one(MODEL).resource_id
    found = endpoints(prod)
    assert sorted(found.values()) == sorted([("blob", account_id), ("queue", account_id), ("table", account_id),
                                             ("account", model_id)])
    zones = {z.resource_id: z.inputs["privateZoneName"] for z in prod.all(ZONE)}
    assert sorted(zones.values()) == ["privatelink.blob.core.windows.net", "privatelink.openai.azure.com",
                                      "privatelink.queue.core.windows.net", "privatelink.table.core.windows.net"]
    for name, (group, _) in found.items():
        zone = zones[zone_of(prod, name)]
        assert group in zone or (group == "account" and "openai" in zone), (name, zone)
    vnet_id = prod.one(VNET).resource_id
    assert sorted(link.inputs["privateZoneName"] for link in prod.all(LINK)) == sorted(zones.values())
    assert {link.inputs["virtualNetwork"]["id"] for link in prod.all(LINK)} == {vnet_id}
    assert not [link for link in prod.all(LINK) if link.inputs["registrationEnabled"]]


def test_prod_site_is_integrated_and_routes_everything_through_the_network(plans):
    prod = plans["prod"]
    site = prod.one(SITE)
    assert site.inputs["virtualNetworkSubnetId"] == prod.one(SUBNET, "network-integration-subnet").resource_id
    assert site.input("siteConfig.vnetRouteAllEnabled") is True
    assert site.inputs["outboundVnetRouting"] == {"applicationTraffic": True, "contentShareTraffic": False}
    assert site.inputs["publicNetworkAccess"] == "Enabled"  # chat and A2A stay public behind Easy Auth
    assert "WEBSITE_CONTENTOVERVNET" not in site_settings(prod)  # no content share in the keyless mode


def test_the_site_starts_after_its_endpoints_and_their_dns(plans):
    prod = plans["prod"]
    site = prod.one(SITE)
    needed = [r.urn for r in prod.all(ENDPOINT) + prod.all(ZONE_GROUP)]
    assert set(needed) <= set(site.dependencies)


def test_network_pieces_come_in_order(plans):
    prod = plans["prod"]
    integration = prod.one(SUBNET, "network-integration-subnet")
    assert integration.urn in prod.one(SUBNET, "network-private-endpoint-subnet").dependencies
    links = {link.urn for link in prod.all(LINK)}
    for endpoint in prod.all(ENDPOINT):
        assert links <= set(endpoint.dependencies), endpoint.name


# --- each switch, both ways ------------------------------------------------------------------------------

def test_dev_is_public_by_default(plans):
    dev = plans["dev"]
    assert not [r for r in dev.resources if r.type in NETWORK_TYPES]
    assert dev.one(STORAGE).inputs["publicNetworkAccess"] == "Enabled"
    assert "networkRuleSet" not in dev.one(STORAGE).inputs
    assert dev.one(MODEL).inputs["properties"]["publicNetworkAccess"] == "Enabled"
    site = dev.one(SITE).inputs
    assert "virtualNetworkSubnetId" not in site and "outboundVnetRouting" not in site


def test_dev_can_be_private(runs):
    plan = runs["dev-private"]
    assert plan.one(STORAGE).inputs["publicNetworkAccess"] == "Disabled"
    assert len(endpoints(plan)) == 4
    assert plan.one(SITE).inputs["virtualNetworkSubnetId"]


def test_prod_can_be_public(runs):
    plan = runs["prod-public"]
    assert not [r for r in plan.resources if r.type in NETWORK_TYPES]
    assert plan.one(STORAGE).inputs["publicNetworkAccess"] == "Enabled"


def test_private_ingress_puts_the_site_behind_its_own_endpoint(runs):
    plan = runs["prod-private-ingress"]
    site = plan.one(SITE)
    assert site.inputs["publicNetworkAccess"] == "Disabled"
    (name,) = [n for n, (group, _) in endpoints(plan).items() if group == "sites"]
    assert endpoints(plan)[name][1] == site.resource_id
    zones = {z.resource_id: z.inputs["privateZoneName"] for z in plan.all(ZONE)}
    assert zones[zone_of(plan, name)] == "privatelink.azurewebsites.net"
    (site_endpoint,) = [e for e in plan.all(ENDPOINT) if e.inputs["privateEndpointName"] == name]
    assert site.urn in site_endpoint.dependencies


def test_access_key_on_a_private_network_mounts_its_share_over_the_network(runs):
    plan = runs["prod-access-key"]
    account_id = plan.one(STORAGE).resource_id
    assert ("file", account_id) in endpoints(plan).values()
    assert "privatelink.file.core.windows.net" in {z.inputs["privateZoneName"] for z in plan.all(ZONE)}
    assert site_settings(plan)["WEBSITE_CONTENTOVERVNET"] == "1"
    assert plan.one(SITE).inputs["outboundVnetRouting"]["contentShareTraffic"] is True


def test_existing_network_by_id(runs):
    plan = runs["prod-hub"]
    assert plan.all(VNET) == [] and plan.all(SUBNET) == []
    assert plan.one(SITE).inputs["virtualNetworkSubnetId"] == HUB_INTEGRATION
    assert {e.inputs["subnet"]["id"] for e in plan.all(ENDPOINT)} == {HUB_ENDPOINTS}
    # Zones created here are linked to the existing network.
    assert {link.inputs["virtualNetwork"]["id"] for link in plan.all(LINK)} == {f"{SUB}/virtualNetworks/vnet-spoke"}


def test_existing_zones_by_id(runs):
    plan = runs["prod-hub-zones"]
    assert plan.all(ZONE) == [] and plan.all(LINK) == []
    assert {zone_of(plan, name) for name in endpoints(plan)} == set(HUB_ZONES)


def test_deploying_ips_pass_the_storage_firewall(runs):
    account = runs["prod-deploy-ip"].one(STORAGE).inputs
    assert account["publicNetworkAccess"] == "Enabled"
    assert account["networkRuleSet"]["defaultAction"] == "Deny"
    assert [rule["iPAddressOrRange"] for rule in account["networkRuleSet"]["ipRules"]] == [
        "203.0.113.7", "198.51.100.0/28"]
    # The stack file alone cannot open the firewall: the pack pins the stack's storageFirewallIpRanges.
    results = {r.name: [v.message for v in r.violations] for r in run_policies(runs["prod-deploy-ip"])}
    assert {name for name, found in results.items() if found} == {"stack-declarations"}
    assert all("agent-obo:storageFirewallIpRanges is ['203.0.113.7', '198.51.100.0/28']" in m
               for m in results["stack-declarations"]), results["stack-declarations"]
    # Pinned in a reviewed change of the pack, exactly the declared IPs pass (tests/policy_mutations.py
    # has an undeclared one fail).
    approved = copy.deepcopy(pack_config_for("prod"))
    approved["stack-declarations"]["pinned"]["storageFirewallIpRanges"] = ["203.0.113.7", "198.51.100.0/28"]
    assert [r.name for r in run_policies(runs["prod-deploy-ip"], config=approved) if r.violations] == []


# --- resilience ------------------------------------------------------------------------------------------

def test_prod_is_zone_redundant(plans):
    prod = plans["prod"]
    plan_inputs = prod.one(PLAN).inputs
    assert plan_inputs["zoneRedundant"] is True and plan_inputs["sku"]["capacity"] == 3
    assert plan_inputs["name"].endswith("-zr")
    assert prod.one(SITE).input("siteConfig.minimumElasticInstanceCount") >= 3
    assert prod.one(STORAGE).inputs["sku"] == {"name": "Standard_ZRS"}


def test_zone_redundancy_both_ways(plans, runs):
    dev = plans["dev"]
    assert dev.one(PLAN).inputs["zoneRedundant"] is False and "capacity" not in dev.one(PLAN).inputs["sku"]
    assert dev.one(STORAGE).inputs["sku"] == {"name": "Standard_LRS"}
    redundant = runs["dev-zone-redundant"]
    assert redundant.one(PLAN).inputs["zoneRedundant"] is True
    assert redundant.one(STORAGE).inputs["sku"] == {"name": "Standard_ZRS"}
    # Another plan name: Azure fixes zone redundancy at creation, so switching replaces the plan.
    assert redundant.one(PLAN).inputs["name"] == dev.one(PLAN).inputs["name"] + "-zr"


def test_every_stack_has_a_health_check_and_no_auth_exclusion_for_it(plan):
    site = plan.one(SITE)
    assert site.input("siteConfig.healthCheckPath") == HEALTH_CHECK_PATH
    auth = plan.one("azure-native:web:WebAppAuthSettingsV2WithoutSecrets")
    excluded = auth.input("globalValidation.excludedPaths")
    assert not [p for p in excluded if HEALTH_CHECK_PATH.startswith(p.rstrip("*")) or p in ("/", "/*")]


# --- locks -------------------------------------------------------------------------------------------------

def test_prod_locks_its_stateful_resources_last(plans):
    prod = plans["prod"]
    locks = prod.all(LOCK)
    targets = {prod.one(STORAGE).resource_id, prod.one(MODEL).resource_id,
               prod.one("azure-native:operationalinsights:Workspace").resource_id}
    assert {lock.inputs["scope"] for lock in locks} == targets
    others = {r.urn for r in prod.resources if r.type != LOCK}
    for lock in locks:
        assert lock.inputs["level"] == "CanNotDelete" and lock.protect
        # Depends on everything else: created last, destroyed first.
        assert others <= set(lock.dependencies), sorted(others - set(lock.dependencies))


def test_unprotected_stacks_have_no_locks(plans):
    assert plans["dev"].all(LOCK) == []


def test_teardown_lists_the_locks_among_what_it_unprotects(plans):
    protected = protected_resources.protected_resources(plans["prod"])
    assert {r.name for r in protected if r.type == LOCK} == {"delete-locks-storage", "delete-locks-model",
                                                             "delete-locks-log-analytics"}
    assert protected[0].type == LOCK  # unprotected first, so destroy can remove them first


# --- bad input never reaches Azure --------------------------------------------------------------------------

BAD_NETWORK = {
    "address settings without privateNetworking": (
        "dev", {"agent-obo:networkAddressSpace": "10.1.0.0/24"},
        ["agent-obo:networkAddressSpace", "'10.1.0.0/24'", "only allowed when privateNetworking is true"]),
    "private ingress without a network": (
        "dev", {"agent-obo:publicIngress": False}, ["agent-obo:publicIngress", "needs privateNetworking true"]),
    "subnet outside the space": (
        "prod", {"agent-obo:networkAddressSpace": "10.50.0.0/24", "agent-obo:integrationSubnetPrefix": "10.51.0.0/26",
                 "agent-obo:privateEndpointSubnetPrefix": "10.50.0.64/27"},
        ["agent-obo:integrationSubnetPrefix", "'10.51.0.0/26'", "outside networkAddressSpace (10.50.0.0/24)"]),
    "overlapping subnets": (
        "prod", {"agent-obo:privateEndpointSubnetPrefix": "10.42.0.32/27"},
        ["agent-obo:privateEndpointSubnetPrefix", "'10.42.0.32/27'",
         "overlaps integrationSubnetPrefix (10.42.0.0/26)"]),
    "integration subnet too small for the burst": (
        "prod", {"agent-obo:integrationSubnetPrefix": "10.42.0.0/27", "agent-obo:maximumElasticWorkerCount": 20},
        ["agent-obo:integrationSubnetPrefix", "'10.42.0.0/27'", "at least 45 addresses"]),
    "endpoint subnet too small": (
        "prod", {"agent-obo:privateEndpointSubnetPrefix": "10.42.0.64/29"},
        ["agent-obo:privateEndpointSubnetPrefix", "'10.42.0.64/29'", "/28 or larger"]),
    "public address space": (
        "prod", {"agent-obo:networkAddressSpace": "20.0.0.0/24"},
        ["agent-obo:networkAddressSpace", "'20.0.0.0/24'", "not a private range"]),
    "host bits set": (
        "prod", {"agent-obo:integrationSubnetPrefix": "10.42.0.5/26"},
        ["agent-obo:integrationSubnetPrefix", "'10.42.0.5/26'", "no host bits set"]),
    "one existing subnet only": (
        "prod", {"agent-obo:existingIntegrationSubnetId": HUB_INTEGRATION},
        ["agent-obo:existingPrivateEndpointSubnetId", "required when existingIntegrationSubnetId is set"]),
    "existing subnet and an address plan": (
        "prod", {"agent-obo:existingIntegrationSubnetId": HUB_INTEGRATION,
                 "agent-obo:existingPrivateEndpointSubnetId": HUB_ENDPOINTS,
                 "agent-obo:networkAddressSpace": "10.9.0.0/24"},
        ["agent-obo:networkAddressSpace", "only allowed when the stack creates its network"]),
    "the same subnet twice": (
        "prod", {"agent-obo:existingIntegrationSubnetId": HUB_INTEGRATION,
                 "agent-obo:existingPrivateEndpointSubnetId": HUB_INTEGRATION},
        ["agent-obo:existingPrivateEndpointSubnetId", "the same subnet"]),
    "not a subnet id": (
        "prod", {"agent-obo:existingIntegrationSubnetId": f"{SUB}/virtualNetworks/vnet-spoke",
                 "agent-obo:existingPrivateEndpointSubnetId": HUB_ENDPOINTS},
        ["agent-obo:existingIntegrationSubnetId", "a subnet resource id"]),
    "zones missing one": (
        "prod", {"agent-obo:existingPrivateDnsZoneIds": HUB_ZONES[:3]},
        ["agent-obo:existingPrivateDnsZoneIds", "missing privatelink.openai.azure.com"]),
    "a zone the stack does not use": (
        "prod", {"agent-obo:existingPrivateDnsZoneIds": [
            *HUB_ZONES, f"{SUB}/privateDnsZones/privatelink.vaultcore.azure.net"]},
        ["agent-obo:existingPrivateDnsZoneIds", "'privatelink.vaultcore.azure.net' is not one this stack uses"]),
    "private deploying address": (
        "prod", {"agent-obo:storageFirewallIpRanges": ["10.0.0.4"]},
        ["agent-obo:storageFirewallIpRanges", "'10.0.0.4' not allowed", "public IPv4"]),
    "a /31 deploying range": (
        "prod", {"agent-obo:storageFirewallIpRanges": ["203.0.113.6/31"]},
        ["agent-obo:storageFirewallIpRanges", "'203.0.113.6/31' not allowed", "not /31"]),
    "a single address written as a /32 range, which Azure refuses": (
        "prod", {"agent-obo:storageFirewallIpRanges": ["203.0.113.7/32"]},
        ["agent-obo:storageFirewallIpRanges", "'203.0.113.7/32' not allowed", "a single address as a.b.c.d"]),
    "zone redundancy below three instances": (
        "dev", {"agent-obo:zoneRedundant": True},
        ["agent-obo:alwaysReadyInstances", "below 3 while zoneRedundant is true"]),
    "a managed blob connector against private storage": (
        "dev", {"agent-obo:privateNetworking": True},
        ["'get_shared_runbook'", "agent-obo:disabledTools", "privateNetworking"]),
}


@pytest.mark.parametrize("stack, overrides, expected", BAD_NETWORK.values(), ids=BAD_NETWORK.keys())
def test_bad_network_settings_fail_before_any_resource(stack, overrides, expected):
    result = run_with(overrides, stack=stack)
    assert isinstance(result.error, SettingsError), result.error
    assert result.plan.registrations == []
    for part in expected:
        assert part in str(result.error), (part, str(result.error))


# --- the policies hold each stack to what it declares ---------------------------------------------------------

def test_every_network_switch_sets_only_known_properties(runs):
    from policy.known_properties import KNOWN_PROPERTIES_POLICY

    for case, plan in runs.items():
        [result] = run_policies(plan, [KNOWN_PROPERTIES_POLICY])
        assert result.violations == [], (case, result.violations)


def named(plan: Plan, type_: str) -> Registration:
    return plan.one(type_)


BREAKS = {
    "storage open to every network": (
        "private-networking", lambda p: replaced(p, "runtime-storage-account", lambda i: (
            i.update(publicNetworkAccess="Enabled"), i["networkRuleSet"].update(defaultAction="Allow"))),
        "reachable from any network"),
    "trusted-service bypass": (
        "private-networking", lambda p: replaced(p, "runtime-storage-account", set_at("networkRuleSet.bypass",
                                                                                    "AzureServices")),
        "nothing in this stack needs"),
    "a missing storage endpoint": (
        "private-networking", lambda p: without(p, lambda r: r.name == "private-endpoints-st-queue"), "queue"),
    "an endpoint without its DNS record": (
        "private-networking", lambda p: without(p, lambda r: r.name == "private-endpoints-st-blob-dns"), "blob"),
    "a public model": (
        "private-networking", lambda p: replaced(p, "agent-model-account", set_at("properties.publicNetworkAccess",
                                                                                  "Enabled")),
        "Model account public network access"),
    "a site outside the network": (
        "private-networking", lambda p: replaced(p, "logic-app-site", lambda i: i.pop("virtualNetworkSubnetId")),
        "not integrated"),
    "outbound traffic not routed": (
        "private-networking", lambda p: replaced(p, "logic-app-site", lambda i: (
            i.pop("outboundVnetRouting"), i["siteConfig"].update(vnetRouteAllEnabled=False))),
        "not routed through"),
    "a plan in one zone": ("zone-redundancy", lambda p: replaced(p, "logic-app-plan", set_at("zoneRedundant", False)),
                           "zoneRedundant is False"),
    "too few instances": ("zone-redundancy", lambda p: replaced(
        p, "logic-app-site", set_at("siteConfig.minimumElasticInstanceCount", 2)), "one per zone"),
    "locally redundant storage": ("zone-redundancy", lambda p: replaced(
        p, "runtime-storage-account", set_at("sku.name", "Standard_LRS")), "one zone"),
    "no health check": ("health-check", lambda p: replaced(
        p, "logic-app-site", lambda i: i["siteConfig"].pop("healthCheckPath")), "no health check path"),
    "a model without identity": ("model-identity", lambda p: replaced(
        p, "agent-model-account", lambda i: i.pop("identity")), "no managed identity"),
    "an unlocked storage account": ("delete-locks", lambda p: without(p, lambda r: r.name == "delete-locks-storage"),
                                    "has no CanNotDelete lock"),
    "a lock Pulumi may delete": ("delete-locks", lambda p: _unprotected(p, "delete-locks-model"),
                                 "not protected in Pulumi state"),
}


def _unprotected(plan: Plan, name: str) -> Plan:
    import dataclasses

    return dataclasses.replace(plan, registrations=[
        dataclasses.replace(r, protect=False) if r.name == name else r for r in plan.registrations])


@pytest.mark.parametrize("policy, breaking, expected", BREAKS.values(), ids=BREAKS.keys())
def test_each_break_fails_its_policy_on_prod(plans, policy, breaking, expected):
    assert messages(plans["prod"], policy) == []
    found = messages(breaking(plans["prod"]), policy)
    assert found and any(expected in message for message in found), found


def test_private_ingress_policy(runs):
    plan = runs["prod-private-ingress"]
    assert messages(plan, "private-networking") == []
    public = replaced(plan, "logic-app-site", set_at("publicNetworkAccess", "Enabled"))
    assert any("publicIngress false" in m for m in messages(public, "private-networking"))
    unreachable = without(plan, lambda r: r.type == ENDPOINT and "logic" in r.inputs["privateEndpointName"])
    assert any("sites" in m for m in messages(unreachable, "private-networking"))


def test_a_stack_that_declares_nothing_private_is_not_held_to_it(plans, runs):
    for plan in (plans["dev"], runs["prod-public"]):
        assert messages(plan, "private-networking") == []
    assert messages(plans["dev"], "zone-redundancy") == [] and messages(plans["dev"], "delete-locks") == []


def test_without_declarations_the_pack_is_strictest(plans):
    # A hand-run `pulumi preview --policy-pack policy` without --policy-pack-config: dev fails.
    undeclared = {name: {} for name in ("private-networking", "zone-redundancy", "delete-locks")}
    import dataclasses

    plain_dev = dataclasses.replace(plans["dev"], config={})
    results = {r.name: r for r in run_policies(plain_dev, config=undeclared)}
    for name in undeclared:
        assert results[name].violations, name
