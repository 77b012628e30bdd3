"""Host storage: keyless by default, Learn's connection-string path one setting away, and its key a
secret everywhere the engine keeps it."""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
from typing import Any

import pytest

from agent_obo.errors import SettingsError
from offline.plan import Plan, is_secret_value
from offline.runner import stacks
from policy.declared import pack_config_for
from policy.harness import run_policies
from tests.helpers import APP_SETTINGS, ROLE, SITE, STORAGE, app_settings, run_with, settings_of

FILE_SHARE = "azure-native:storage:FileShare"
IDENTITY_SETTINGS = ("AzureWebJobsStorage__credential", "AzureWebJobsStorage__managedIdentityResourceId",
                     "AzureWebJobsStorage__blobServiceUri", "AzureWebJobsStorage__queueServiceUri",
                     "AzureWebJobsStorage__tableServiceUri")
KEY_SETTINGS = ("AzureWebJobsStorage", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING")
STORAGE_ACCOUNT_CONTRIBUTOR = "17d1049b-9a84-46fb-8f53-869881c3d3ab"
STORAGE_BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"


@pytest.fixture(params=stacks())
def access_key_plan(request, access_key_plans) -> Plan:
    return access_key_plans[request.param]


def offline_key(plan: Plan) -> str:
    """The account key the offline mocks hand out for this plan's storage account (offline/mocks.py)."""
    account = plan.one(STORAGE).inputs["accountName"]
    return base64.b64encode(f"offline-key-{account}".encode()).decode()


def plain_parts(value: Any) -> list[str]:
    """Every string in a value outside its secret-marked parts: what state shows without decryption."""
    if is_secret_value(value):
        return []
    if isinstance(value, dict):
        return [text for item in value.values() for text in plain_parts(item)] + [str(k) for k in value]
    if isinstance(value, list):
        return [text for item in value for text in plain_parts(item)]
    return [str(value)]


# Every hardening flag of the runtime account, written out rather than read from the program's constant
# (components/storage_hardening.py cites Learn for each): flip one there and this fails.
HARDENED = {
    "kind": "StorageV2",
    "minimumTlsVersion": "TLS1_2",
    "enableHttpsTrafficOnly": True,
    "allowBlobPublicAccess": False,
    "defaultToOAuthAuthentication": True,
    "allowCrossTenantReplication": False,
}
SHARED_KEYS = {"managedIdentity": False, "accessKey": True}  # only the connection-string mode needs keys


@pytest.mark.parametrize("mode", SHARED_KEYS)
@pytest.mark.parametrize("stack", stacks())
def test_the_runtime_account_is_hardened_in_both_host_storage_modes(stack, mode, plans, access_key_plans):
    plan = plans[stack] if mode == "managedIdentity" else access_key_plans[stack]
    settings = settings_of(stack)
    account = plan.one(STORAGE)
    assert {flag: account.input(flag) for flag in HARDENED} == HARDENED
    assert account.input("allowSharedKeyAccess") is SHARED_KEYS[mode]
    assert account.input("sku.name") == ("Standard_ZRS" if settings.zone_redundant else "Standard_LRS")
    if settings.network is None:
        assert account.input("publicNetworkAccess") == "Enabled" and account.input("networkRuleSet") is None
    else:
        ranges = settings.network.storage_firewall_ip_ranges
        assert account.input("publicNetworkAccess") == ("Enabled" if ranges else "Disabled")
        assert account.input("networkRuleSet") == {
            "defaultAction": "Deny", "bypass": "None", "virtualNetworkRules": [],
            "ipRules": [{"iPAddressOrRange": cidr.removesuffix("/32"), "action": "Allow"} for cidr in ranges]}
    containers = plan.all("azure-native:storage:BlobContainer")
    assert containers and all(container.input("publicAccess") == "None" for container in containers)


def test_keyless_by_default(plan):
    settings = app_settings(plan)
    assert plan.one(STORAGE).inputs["allowSharedKeyAccess"] is False
    assert set(IDENTITY_SETTINGS) <= set(settings)
    assert not [name for name in settings if name.startswith("WEBSITE_CONTENT") or name == "AzureWebJobsStorage"]
    assert plan.all(FILE_SHARE) == []


def test_no_mode_grants_storage_account_contributor(plan, access_key_plan):
    # Its listKeys and write actions would let the runtime read keys and turn shared keys back on.
    for each in (plan, access_key_plan):
        roles = [r.inputs["roleDefinitionId"] for r in each.all(ROLE)]
        assert not [role for role in roles if role.endswith(STORAGE_ACCOUNT_CONTRIBUTOR)], each.stack


def test_access_key_follows_learn(access_key_plan):
    plan = access_key_plan
    settings = app_settings(plan)
    account = plan.one(STORAGE).inputs
    share = plan.one(FILE_SHARE)
    assert account["allowSharedKeyAccess"] is True
    assert settings["WEBSITE_CONTENTSHARE"] == share.inputs["shareName"]
    assert share.inputs["accountName"] == account["accountName"]
    expected = (f"DefaultEndpointsProtocol=https;AccountName={account['accountName']};"
                f"AccountKey={offline_key(plan)};EndpointSuffix=core.windows.net")
    assert [settings[name] for name in KEY_SETTINGS] == [expected, expected]
    assert not set(IDENTITY_SETTINGS) & set(settings)


def test_access_key_runtime_identity_reads_only_the_package(access_key_plan):
    plan = access_key_plan
    runtime = [r for r in plan.all(ROLE) if r.name.startswith("runtime-storage-runtime-")]
    package_container = plan.one("azure-native:storage:BlobContainer", "runtime-storage-packages")
    assert [(r.inputs["roleDefinitionId"].rsplit("/", 1)[-1], r.inputs["scope"]) for r in runtime] == [
        (STORAGE_BLOB_DATA_READER, package_container.outputs["id"])]


def test_the_site_waits_for_its_content_share_and_its_storage_role(access_key_plan):
    from tests.helpers import storage_roles, waits_for

    site, share = access_key_plan.one(SITE), access_key_plan.one(FILE_SHARE)
    assert share.urn in site.dependencies
    roles = storage_roles(access_key_plan)
    assert roles and {r.urn for r in roles} <= waits_for(access_key_plan, site)


def test_the_account_key_is_never_plain(access_key_plan):
    plan = access_key_plan
    key = offline_key(plan)
    assert "properties" in plan.one(APP_SETTINGS).secret_input_paths
    for registration in plan:
        leaks = [text for text in plain_parts(registration.raw_inputs) if key in text]
        assert not leaks, f"{registration.urn} has the account key in plain inputs"
    plain_outputs = {k: v for k, v in plan.stack_outputs.items() if k not in plan.secret_outputs}
    assert key not in json.dumps(plain_outputs, default=str)


def test_component_outputs_carry_no_key(access_key_plan):
    key = offline_key(access_key_plan)
    for component in access_key_plan.all(custom=False):
        assert key not in json.dumps(component.outputs, default=str), component.urn


def test_unknown_mode_is_refused_before_any_resource():
    result = run_with({"agent-obo:hostStorageAuthentication": "AccessKey"})
    assert isinstance(result.error, SettingsError)
    assert result.plan.registrations == []
    message = str(result.error)
    for part in ("agent-obo:hostStorageAuthentication", "'AccessKey'", "managedIdentity, accessKey"):
        assert part in message


# --- what the stack declares to the policy pack ----------------------------------------------------

def verdicts(plan: Plan, config: dict | None = None) -> dict[str, int]:
    return {result.name: len(result.violations) for result in run_policies(plan, config=config)}


def pinned_access_key(plan: Plan) -> dict:
    """The pack's configuration for the stack with the accessKey declaration approved: a reviewed pack change."""
    document = copy.deepcopy(pack_config_for(plan.stack))
    document["stack-declarations"]["pinned"]["hostStorageAuthentication"] = "accessKey"
    return document


def test_access_key_stack_passes_the_pack_once_the_pack_pins_it(access_key_plan):
    assert not any(verdicts(access_key_plan, pinned_access_key(access_key_plan)).values())
    # The stack file alone cannot switch to keys: the pack pins the managed identity mode (judged on the
    # workspace and on the site: stack-declarations' two anchors).
    assert verdicts(access_key_plan) == {**{name: 0 for name in verdicts(access_key_plan)}, "stack-declarations": 2}


def test_shared_keys_fail_on_a_stack_that_does_not_declare_them(access_key_plan):
    # The same resources judged as a managedIdentity stack: what a component edited to use keys,
    # without the stack declaring it, would produce. The pack reads the declaration from the stack's
    # config, as the engine hands it over (policy/declared.py).
    undeclared = dataclasses.replace(access_key_plan, config={
        **access_key_plan.config, "agent-obo:hostStorageAuthentication": "managedIdentity"})
    results = {result.name: [v.message for v in result.violations] for result in run_policies(undeclared)}
    assert any("allowSharedKeyAccess" in m for m in results["storage-hardening"]), results["storage-hardening"]
    for name in KEY_SETTINGS:
        assert any(repr(name) in m for m in results["site-hardening"]), (name, results["site-hardening"])


def test_declaration_allows_only_the_two_host_storage_settings(access_key_plan):
    from tests.policy_mutations import on

    def smuggle(inputs: dict) -> None:
        settings = inputs["properties"]
        settings["EXPORT_STORAGE"] = settings["AzureWebJobsStorage"]
        settings["WEBSITE_CONTENTAZUREFILECONNECTIONSTRING"] += ";SharedAccessSignature=sv=2024&sig=abc"

    mutated = on("app-settings-appsettings", smuggle)(access_key_plan)
    # Each smuggled key, and the setting the table does not declare.
    assert verdicts(mutated, pinned_access_key(mutated))["site-hardening"] == 3


def test_the_connection_string_is_the_stacks_own_accounts(access_key_plan):
    from tests.policy_mutations import on, setting

    elsewhere = "DefaultEndpointsProtocol=https;AccountName=stotherteam;AccountKey=abc=;EndpointSuffix=core.windows.net"
    mutated = on("app-settings-appsettings", setting("AzureWebJobsStorage", elsewhere))(access_key_plan)
    [result] = [r for r in run_policies(mutated, config=pinned_access_key(mutated)) if r.name == "site-settings-bound"]
    assert any("App setting AzureWebJobsStorage is 'stotherteam', not the runtime storage account" in v.message
               for v in result.violations), result.violations
