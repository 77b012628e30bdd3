"""Bad settings stop the real program before it registers anything, with a message that names the
key, the bad value and what is allowed."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from agent_obo.catalog import load_catalog
from agent_obo.errors import SettingsError
from agent_obo.regions import AZURE_REGIONS
from agent_obo.settings import GUID as GUID_PATTERN
from agent_obo.settings import RULES as PROJECT_RULES
from agent_obo.tool_inputs import setting_rules
from offline.runner import run_program, stack_config, stack_file
from tests.helpers import load_stack_settings, run_with

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
        ["agent-obo:location", "'East US'", "did you mean eastus?", "an Azure public-cloud region name"]),
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
        {"agent-obo:assignmentRequired": True, "agent-obo:allowedGroups": []},
        ["agent-obo:assignmentRequired", "nobody could sign in"]),
    "a setting that no longer exists": (
        {"agent-obo:grantAdminConsent": True},
        ["agent-obo:grantAdminConsent", "no longer a setting", "make grant-sign-in"]),
    "model capacity zero": (
        {"agent-obo:modelCapacity": 0},
        ["agent-obo:modelCapacity", "0", "an integer from 1 to 1000"]),
    "the same user listed twice": (
        {"agent-obo:allowedUsers": ["0b7c5a3e-2f41-4d8a-9c6e-1a2b3c4d5e6f"] * 2},
        ["agent-obo:allowedUsers", "lists an item twice"]),
    "the same group twice in other letter cases": (
        {"agent-obo:allowedGroups": ["0b7c5a3e-2f41-4d8a-9c6e-1a2b3c4d5e6f", "0B7C5A3E-2F41-4D8A-9C6E-1A2B3C4D5E6F"]},
        ["agent-obo:allowedGroups", "lists an item twice (perhaps in another letter case)"]),
    "a wildcard token audience": (
        {"agent-obo:additionalTokenAudiences": ["api://*"]},
        ["agent-obo:additionalTokenAudiences", "'api://*' not allowed", "without '*'"]),
    "a wildcard in an audience's host": (
        {"agent-obo:additionalTokenAudiences": ["https://*.contoso.com"]},
        ["'https://*.contoso.com' not allowed"]),
    "Microsoft Graph as a token audience": (
        {"agent-obo:additionalTokenAudiences": ["https://graph.microsoft.com"]},
        ["'https://graph.microsoft.com' not allowed", "not a Microsoft service's"]),
    "Azure Resource Manager as a token audience": (
        {"agent-obo:additionalTokenAudiences": ["https://management.azure.com/"]},
        ["'https://management.azure.com/' not allowed"]),
    **{f"a Microsoft audience written {audience!r}": (
        {"agent-obo:additionalTokenAudiences": [audience]},
        ["agent-obo:additionalTokenAudiences", f"{audience!r} not allowed", "not a Microsoft service's"])
       for audience in ["https://GRAPH.MICROSOFT.COM", "https://Graph.Microsoft.com/", "https://graph.microsoft.com.",
                        "https://api.loganalytics.io", "https://x@vault.azure.net", "https://contoso.azure-api.net"]},
    **{f"model {what} {value!r}": ({f"agent-obo:model{what.capitalize()}": value},
                                   [f"agent-obo:model{what.capitalize()} = {value!r}",
                                    "a letter or digit at either end"])
       for what, values in (("name", ["gpt-4.1-mini.", "-gpt", "gpt-"]), ("version", ["-1", ".inf", "2025-04-14."]))
       for value in values},
    "more alert receivers than an action group takes": (
        {"agent-obo:alertEmailReceivers": [f"ops{index}@contoso.com" for index in range(1001)]},
        ["agent-obo:alertEmailReceivers = '1001 items'", "at most 1000 items"]),
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


# --- the class, not the examples: every setting, generated bad values ---------------------------

# The project's settings and the catalog's tool settings: the same whole-value rules and messages.
RULES = {**PROJECT_RULES, **setting_rules(load_catalog())}

DEV_CONFIG = stack_config(stack_file("dev").get("config"))
GUID_SAMPLE = "0b7c5a3e-2f41-4d8a-9c6e-1a2b3c4d5e6f"
# A valid value for every setting whose dev value is empty, so each can be made bad in every way.
VALID_SAMPLES = {
    "existingModelEndpoint": "https://shared-oai.openai.azure.com/",
    "existingModelResourceId": f"/subscriptions/{GUID_SAMPLE}/resourceGroups/rg-ai/providers/"
                               "Microsoft.CognitiveServices/accounts/shared-oai",
    "appOwners": json.dumps([GUID_SAMPLE]),
    # Every verification user must be allowed to sign in (a cross-field rule).
    "allowedUsers": json.dumps([*json.loads(DEV_CONFIG["agent-obo:verificationUsers"]), GUID_SAMPLE]),
    "allowedGroups": json.dumps([GUID_SAMPLE]),
    "additionalTokenAudiences": json.dumps(["api://custom-client"]),
    "disabledTools": json.dumps(["list_my_files"]),
    # The network settings (agent_obo/network.py); each needs privateNetworking (network_context).
    "networkAddressSpace": "10.42.0.0/23",
    "integrationSubnetPrefix": "10.42.0.0/26",
    "privateEndpointSubnetPrefix": "10.42.0.64/27",
    "existingIntegrationSubnetId": f"/subscriptions/{GUID_SAMPLE}/resourceGroups/rg-hub/providers/"
                                   "Microsoft.Network/virtualNetworks/vnet-spoke/subnets/snet-apps",
    "existingPrivateEndpointSubnetId": f"/subscriptions/{GUID_SAMPLE}/resourceGroups/rg-hub/providers/"
                                       "Microsoft.Network/virtualNetworks/vnet-spoke/subnets/snet-pe",
    "existingPrivateDnsZoneIds": json.dumps([
        f"/subscriptions/{GUID_SAMPLE}/resourceGroups/rg-hub/providers/Microsoft.Network/privateDnsZones/{zone}"
        for zone in ("privatelink.blob.core.windows.net", "privatelink.queue.core.windows.net",
                     "privatelink.table.core.windows.net", "privatelink.openai.azure.com")]),
    "storageFirewallIpRanges": json.dumps(["203.0.113.7"]),
}


def network_context(key: str) -> dict[str, str]:
    """The other settings a network setting is only valid with."""
    from agent_obo.network import EXISTING_SUBNET_KEYS, NETWORK_KEYS

    if key not in NETWORK_KEYS:
        return {}
    context = {"agent-obo:privateNetworking": "true"}
    if key in EXISTING_SUBNET_KEYS:
        context.update({f"agent-obo:{k}": VALID_SAMPLES[k] for k in EXISTING_SUBNET_KEYS})
    return context
# Characters that change how a value displays without showing themselves: a right-to-left override, a
# zero-width space, a line separator, a private-use character, a Hangul filler (a letter that renders blank).
HIDDEN = ["\u202e", "\u200b", "\u2028", "\ue000", "\u3164"]
WHITESPACE = ["\n", "\r\n", "\r", "\t", " ", "\x0b", "\x0c", "\x85", "\u2028", "\u00a0"]


NIL_GUID = "00000000-0000-0000-0000-000000000000"


def placeholders(good: str) -> list[str]:
    """Ids that name nothing, for a setting that holds an id: the nil GUID (a placeholder left in), with braces."""
    return [NIL_GUID, f"{{{good}}}"] if GUID_PATTERN.fullmatch(good) else []


def valid_sample(key: str) -> str:
    return VALID_SAMPLES.get(key, DEV_CONFIG[f"agent-obo:{key}"])


def bad_values(key: str) -> list[str]:
    """Values of every shape a careless operator (or a folded YAML scalar) produces for this setting."""
    rule, good = RULES[key], valid_sample(key)
    if rule.kind == "integer":
        return [f"{good}\n", f" {good}", f"{good} ", "1.0", "1e1", "0x10", "\u0663", "1_0", "", "true", "-1"]
    if rule.kind == "boolean":
        return ["yes", "TRUE", "true\n", " false", "1", "", "on"]
    if rule.kind == "array":
        item = json.loads(good)[0]
        return [json.dumps([item + "\n"]), json.dumps([" " + item]), json.dumps([item, item]), "[1]",
                json.dumps(item), "{}", "not json", json.dumps([[item]]), json.dumps([item + "\u2028"]),
                *(json.dumps([item[:1] + hidden + item[1:]]) for hidden in HIDDEN),  # the JSON escapes them
                *(json.dumps([placeholder]) for placeholder in placeholders(item))]
    values = [good + "\n", good + " ", " " + good, good + "\r\n", good[:1] + "\n" + good[1:], good + "\x00",
              *(good[:1] + hidden + good[1:] for hidden in HIDDEN), *placeholders(good)]
    if not rule.may_be_empty:
        values.append("")
    return values


CASES = [(key, value) for key in sorted(RULES) for value in bad_values(key)]


@pytest.mark.parametrize("key, value", CASES, ids=[f"{k}={v!r}" for k, v in CASES])
def test_every_setting_refuses_every_malformed_value(key, value):
    config = {**DEV_CONFIG, **network_context(key), f"agent-obo:{key}": value}
    if key in ("existingModelEndpoint", "existingModelResourceId"):
        config["agent-obo:modelSource"] = "existing"
    with pytest.raises(SettingsError) as raised:
        load_stack_settings(config, "dev")
    message = str(raised.value)
    assert f"agent-obo:{key} = " in message, message


@pytest.mark.parametrize("key", sorted(RULES))
def test_every_setting_accepts_its_valid_sample(key):
    config = {**DEV_CONFIG, **network_context(key), f"agent-obo:{key}": valid_sample(key)}
    if key in ("existingModelEndpoint", "existingModelResourceId"):
        config.update({"agent-obo:modelSource": "existing",
                       "agent-obo:existingModelEndpoint": VALID_SAMPLES["existingModelEndpoint"],
                       "agent-obo:existingModelResourceId": VALID_SAMPLES["existingModelResourceId"]})
    load_stack_settings(config, "dev")


TEXT_SETTINGS = sorted(key for key, rule in RULES.items() if rule.kind == "string" and not rule.allowed)


@pytest.mark.parametrize("key", TEXT_SETTINGS)
def test_a_right_to_left_override_in_any_text_setting_is_named(key):
    """Config that reaches the program from elsewhere than the stack file (Pulumi ESC, --config-file),
    which the stack file's reader never saw."""
    good = valid_sample(key)
    config = {**DEV_CONFIG, **network_context(key), f"agent-obo:{key}": good[:1] + "\u202e" + good[1:]}
    with pytest.raises(SettingsError) as raised:
        load_stack_settings(config, "dev")
    assert f"agent-obo:{key} = " in str(raised.value) and "U+202E is not allowed (RIGHT-TO-LEFT OVERRIDE)" in str(
        raised.value)


PATTERNED = sorted(key for key, rule in RULES.items() if rule.kind in ("string", "array") and not rule.allowed)


@pytest.mark.parametrize("key", PATTERNED)
def test_a_value_ending_in_a_newline_never_passes(key):
    """What a folded YAML scalar (`>`) gives: `$`-anchored patterns would accept it."""
    good = valid_sample(key)
    bad = json.dumps([json.loads(good)[0] + "\n"]) if RULES[key].kind == "array" else good + "\n"
    with pytest.raises(SettingsError, match=f"agent-obo:{key}"):
        load_stack_settings({**DEV_CONFIG, f"agent-obo:{key}": bad}, "dev")


# Characters that read as an ASCII letter or digit: Python's \w and \d match them, and so does [a-z] under
# re.IGNORECASE (the Kelvin sign, the long s and the dotless i lower-case or upper-case to ASCII).
def look_alikes(text: str) -> Iterator[str]:
    swapped: list[str] = []
    for index, character in enumerate(text):
        if character.isascii() and character.isdigit():
            swapped.append(chr(0x660 + int(character)))  # ARABIC-INDIC DIGIT
        elif character.isascii() and character.isalpha():
            swapped.append(chr(ord(character) + 0xFEE0))  # FULLWIDTH LATIN LETTER
        swapped += {"k": ["\u212a"], "s": ["\u017f"], "i": ["\u0131"]}.get(character.lower(), [])
        yield from (text[:index] + other + text[index + 1:] for other in swapped)
        swapped.clear()


# The owner tag is free text in any script; every other patterned setting is an id, a name or an address.
ASCII_ONLY = [key for key in PATTERNED if key != "owner"]


@pytest.mark.parametrize("key", ASCII_ONLY)
def test_a_look_alike_letter_or_digit_never_passes(key):
    """`rg-hub` with a fullwidth h (U+FF48), or a DNS zone id with a long s (U+017F) in `resourceGroups`, would
    name another resource than the one a reviewer reads (or none), anywhere in an id: each position is tried."""
    rule, good = RULES[key], valid_sample(key)
    items = json.loads(good) if rule.kind == "array" else [good]
    context = {**DEV_CONFIG, **network_context(key)}
    if key in ("existingModelEndpoint", "existingModelResourceId"):
        context.update({"agent-obo:modelSource": "existing",
                        "agent-obo:existingModelEndpoint": VALID_SAMPLES["existingModelEndpoint"],
                        "agent-obo:existingModelResourceId": VALID_SAMPLES["existingModelResourceId"]})
    passed = []
    for bad in look_alikes(items[0]):
        value = json.dumps([bad, *items[1:]]) if rule.kind == "array" else bad
        try:
            load_stack_settings({**context, f"agent-obo:{key}": value}, "dev")
            passed.append(bad)
        except SettingsError:
            pass
    assert not passed, passed


@hypothesis_settings(max_examples=300, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(sorted(RULES)), value=st.text(max_size=40))
def test_any_text_in_any_setting_is_refused_cleanly_or_accepted(key, value):
    """Whatever the value, the result is a settings object or a SettingsError naming the key: never a crash."""
    try:
        load_stack_settings({**DEV_CONFIG, f"agent-obo:{key}": value}, "dev")
    except SettingsError as error:
        assert f"agent-obo:{key}" in str(error) or "agent-obo:" in str(error)


@hypothesis_settings(max_examples=200, deadline=None, derandomize=True)
@given(key=st.sampled_from(sorted(k for k, r in RULES.items() if r.kind == "string" and not r.allowed)),
       edge=st.sampled_from(WHITESPACE), before=st.booleans())
def test_whitespace_at_either_end_of_a_text_setting_is_refused(key, edge, before):
    good = valid_sample(key)
    value = edge + good if before else good + edge
    with pytest.raises(SettingsError, match=f"agent-obo:{key}"):
        load_stack_settings({**DEV_CONFIG, f"agent-obo:{key}": value}, "dev")


@hypothesis_settings(max_examples=200, deadline=None, derandomize=True)
@given(text=st.text(alphabet="0123456789 -+._\n\u0663e", max_size=6))
def test_integers_are_ascii_decimal_or_refused(text):
    try:
        settings = load_stack_settings({**DEV_CONFIG, "agent-obo:logRetentionDays": text}, "dev")
    except SettingsError:
        return
    assert text.isascii() and text.lstrip("-").isdigit() and settings.log_retention_days == int(text)


# --- regions ----------------------------------------------------------------------------------------

REGION_TYPOS = {"eastsu2": "eastus2", "East US 2": "eastus2", "eastus-2": "eastus2", "westeurop": "westeurope",
                "swedencentrl": "swedencentral", "EASTUS": "eastus", "uk south": "uksouth"}


@pytest.mark.parametrize("typo, meant", REGION_TYPOS.items())
def test_a_mistyped_region_is_refused_with_a_suggestion(typo, meant):
    with pytest.raises(SettingsError) as raised:
        load_stack_settings({**DEV_CONFIG, "agent-obo:location": typo}, "dev")
    assert f"agent-obo:location = {typo!r}" in str(raised.value)
    assert f"did you mean {meant}?" in str(raised.value)


@pytest.mark.parametrize("word", ["mars", "global", "europe", "eastus2euap", "usgovvirginia", "chinaeast2"])
def test_names_that_are_not_public_cloud_regions_are_refused(word):
    with pytest.raises(SettingsError, match="agent-obo:location"):
        load_stack_settings({**DEV_CONFIG, "agent-obo:location": word}, "dev")


@pytest.mark.parametrize("region", sorted(AZURE_REGIONS))
def test_every_listed_region_is_accepted(region):
    assert load_stack_settings({**DEV_CONFIG, "agent-obo:location": region}, "dev").location == region


def test_a_mistyped_region_never_reaches_azure():
    result = run_with({"agent-obo:location": "eastsu2"})
    assert isinstance(result.error, SettingsError) and "did you mean eastus2?" in str(result.error)
    assert result.plan.registrations == []


# --- keys the program would never read --------------------------------------------------------------

LOOK_ALIKES = {
    "agent_obo:planSku": "did you mean agent-obo:planSku?",
    "agentobo:planSku": "did you mean agent-obo:planSku?",
    "agent-obo :planSku": "did you mean agent-obo:planSku?",
    "Agent-Obo:planSku": "did you mean agent-obo:planSku?",
    "agent-ob:planSku": "did you mean agent-obo:planSku?",
    "agent.obo:logRetentionDays": "did you mean agent-obo:logRetentionDays?",
    "azure-native:location": "set agent-obo:location instead",
    "azure:location": "set agent-obo:location instead",
    "azure-native:subscriptonId": "did you mean azure-native:subscriptionId?",
    "azuread:tenantID": "did you mean azuread:tenantId?",
    "azure-nativ:subscriptionId": "read by nothing in this program",
    "myteam:costCenter": "read by nothing in this program",
}


@pytest.mark.parametrize("key, words", LOOK_ALIKES.items())
def test_keys_nothing_reads_are_refused(key, words):
    with pytest.raises(SettingsError) as raised:
        load_stack_settings({**DEV_CONFIG, key: "WS2"}, "dev")
    message = str(raised.value)
    assert f"{key} = 'WS2'" in message and words in message, message


TENANT = DEV_CONFIG["agent-obo:tenantId"]
GOOD_PROVIDER_SETTINGS = {
    "azure-native:subscriptionId": GUID_SAMPLE,
    "azure-native:tenantId": TENANT,
    "azuread:tenantId": TENANT.upper(),  # the same tenant in other letters
    "azure-native:clientId": GUID_SAMPLE,
    "azure-native:useOidc": "true",
    "azuread:useOidc": "false",
    "azure-native:environment": "public",
    "azuread:environment": "global",
    "azure-native:msiEndpoint": "http://169.254.169.254/metadata/identity/oauth2/token",
    "azuread:clientCertificatePath": "/etc/ssl/private/deployer.pfx",
    "pulumi:tags": "{}",
}


@pytest.mark.parametrize("key, value", GOOD_PROVIDER_SETTINGS.items())
def test_provider_and_cli_settings_are_allowed(key, value):
    load_stack_settings({**DEV_CONFIG, key: value}, "dev")


# A provider setting's value: the providers read it only once the deployment runs, so it is checked here first.
BAD_PROVIDER_SETTINGS = {
    "azure-native:subscriptionId": ["not-a-guid", "00000000-0000-0000-0000-000000000000", f"{GUID_SAMPLE}\n",
                                    f"{{{GUID_SAMPLE}}}", GUID_SAMPLE.replace("-", "")],
    "azuread:clientId": ["my-app", "00000000-0000-0000-0000-000000000000"],
    "azure-native:partnerId": [" "],
    "azure-native:useOidc": ["yes", "1", "[true]", "True "],
    "azuread:useCli": ["on"],
    "azure-native:environment": ["usgovernment", "china", "Public", "mars"],
    "azuread:environment": ["usgovernment", "dod", "china"],
    "azure-native:auxiliaryTenantIds": ["notalist", json.dumps([GUID_SAMPLE]), json.dumps([TENANT])],
    "azure-native:msiEndpoint": ["169.254.169.254", "ftp://x", "https://attacker.example/token",
                                 "http://169.254.169.254.attacker.example/metadata/identity/oauth2/token"],
    "azure-native:oidcRequestUrl": ["https://attacker.example/token"],
    "azuread:oidcRequestUrl": ["https://pipelines.actions.githubusercontent.com/x"],
    "azuread:clientCertificatePath": [" /etc/ssl/x.pfx", "/etc/ssl/x.pfx\n"],
}
BAD_PROVIDER_CASES = [(key, value) for key, values in BAD_PROVIDER_SETTINGS.items() for value in values]


@pytest.mark.parametrize("key, value", BAD_PROVIDER_CASES, ids=[f"{k}={v!r}" for k, v in BAD_PROVIDER_CASES])
def test_a_bad_provider_setting_is_refused_naming_key_value_and_what_is_allowed(key, value):
    with pytest.raises(SettingsError) as raised:
        load_stack_settings({**DEV_CONFIG, key: value}, "dev")
    message = str(raised.value)
    assert f"{key} = " in message and "allowed" in message, message


@pytest.mark.parametrize("namespace", ["azure-native", "azuread"])
def test_a_provider_in_another_tenant_than_the_stack_declares_is_refused(namespace):
    """The providers would register the app and its grants in one tenant while Easy Auth trusts the other's tokens."""
    with pytest.raises(SettingsError) as raised:
        load_stack_settings({**DEV_CONFIG, f"{namespace}:tenantId": GUID_SAMPLE}, "dev")
    assert f"{namespace}:tenantId = '{GUID_SAMPLE}': another tenant than agent-obo:tenantId ({TENANT})" in str(
        raised.value)


@pytest.mark.parametrize("key", ["metadataHost"])
@pytest.mark.parametrize("namespace", ["azure-native", "azuread"])
def test_a_provider_pointed_at_other_endpoints_is_refused(namespace, key):
    with pytest.raises(SettingsError) as raised:
        load_stack_settings({**DEV_CONFIG, f"{namespace}:{key}": "attacker.example.com"}, "dev")
    assert f"{namespace}:{key} = 'attacker.example.com': points the provider at other endpoints" in str(raised.value)


CREDENTIALS = [f"{namespace}:{key}" for namespace in ("azure-native", "azuread") for key in
               ("clientSecret", "clientCertificatePassword", "oidcToken", "oidcRequestToken")] + [
               "azuread:clientCertificate"]


@pytest.mark.parametrize("key", CREDENTIALS)
def test_a_provider_credential_in_plain_text_is_refused_without_showing_it(key):
    with pytest.raises(SettingsError) as raised:
        load_stack_settings({**DEV_CONFIG, key: "hunter2-plain"}, "dev")
    message = str(raised.value)
    assert f"{key} = '[not shown]': a credential in plain text" in message and "hunter2" not in message, message


@pytest.mark.parametrize("key", CREDENTIALS)
def test_a_provider_credential_set_as_a_secret_is_allowed(key):
    load_stack_settings({**DEV_CONFIG, key: "hunter2"}, "dev", secret_keys={key})


def test_every_credential_the_providers_read_is_known_as_one():
    """A credential a newer provider reads (a name with secret, token, password or certificate in it) must be in
    provider_settings.SECRETS, or it would be checked as plain text and could sit in a stack file in clear."""
    from agent_obo.provider_settings import NAMESPACES, SECRETS, provider_settings

    looks_secret = {key for namespace in NAMESPACES for key in provider_settings(namespace)
                    if re.search(r"secret|token|password|certificate", key, re.IGNORECASE)
                    and not key.endswith(("Path", "Url", "Id"))}
    assert looks_secret - SECRETS == set()


def test_a_plain_credential_in_a_stack_file_stops_the_program_before_any_resource():
    result = run_with({"azure-native:clientSecret": "hunter2-plain"})
    assert isinstance(result.error, SettingsError) and "a credential in plain text" in str(result.error)
    assert "hunter2" not in str(result.error) and result.plan.registrations == []


def test_a_provider_secret_in_a_stack_file_is_handed_over_as_a_secret():
    """`{secure: ...}` in a stack file: the CLI names the key secret to the program, and so does the offline runner
    (stopped by another setting, so that the test need not plan the whole stack)."""
    result = run_with({"azure-native:clientSecret": {"secure": "v1:AAAA"}, "agent-obo:planSku": "WS9"})
    assert "agent-obo:planSku = 'WS9'" in str(result.error) and "azure-native:clientSecret" not in str(result.error)


def test_the_pack_takes_a_provider_credential_as_the_secret_it_must_be():
    """The engine does not tell the pack which config values are secret: a credential the program accepted as a secret
    must not make the pack refuse the stack, nor appear in its message."""
    from agent_obo.catalog import CATALOG_PATH
    from policy.declared import _derive

    config = {**DEV_CONFIG, "azure-native:clientSecret": "hunter2", "azuread:oidcToken": "eyJ-token"}
    declared = _derive("dev", json.dumps(config, sort_keys=True), str(CATALOG_PATH), "{}")
    assert declared.settings.tenant_id == TENANT


@pytest.mark.parametrize("key", sorted(RULES))
def test_no_project_setting_may_be_a_secret(key):
    """The program reads its config whole and passes values on in plain text: a value set as a secret would lose its
    protection without a word. Whatever the value, it is refused and never shown."""
    config = {**DEV_CONFIG, **network_context(key), f"agent-obo:{key}": valid_sample(key)}
    with pytest.raises(SettingsError) as raised:
        load_stack_settings(config, "dev", secret_keys={f"agent-obo:{key}"})
    assert f"agent-obo:{key} = [secret]: set as a secret, but no setting of this project is one" in str(raised.value)


@pytest.mark.parametrize("key", ["azure-native:subscriptionId", "azuread:tenantId"])
def test_a_hidden_character_in_a_provider_setting_is_refused(key):
    with pytest.raises(SettingsError) as raised:
        load_stack_settings({**DEV_CONFIG, key: "3c1f8a52-6b0e-4d7f-9a24-8e5b1c0d7f36\u200b"}, "dev")
    assert f"{key} = " in str(raised.value) and "U+200B is not allowed" in str(raised.value)


def test_a_namespace_look_alike_stops_the_program_before_any_resource():
    result = run_with({"agent_obo:planSku": "WS3"})
    assert isinstance(result.error, SettingsError) and "did you mean agent-obo:planSku?" in str(result.error)
    assert result.plan.registrations == []


def test_azure_native_location_stops_the_program_naming_agent_obo_location():
    result = run_with({"azure-native:location": "westeurope"})
    assert isinstance(result.error, SettingsError)
    assert "azure-native:location = 'westeurope'" in str(result.error) and "agent-obo:location" in str(result.error)
    assert result.plan.registrations == []


def test_secret_values_never_appear_in_a_message():
    with pytest.raises(SettingsError) as raised:
        load_stack_settings({**DEV_CONFIG, "azure-native:clientSecrett": "hunter2-very-secret"}, "dev",
                      secret_keys={"azure-native:clientSecrett"})
    assert "hunter2" not in str(raised.value) and "[secret]" in str(raised.value)


class _ReadsRecorded(dict):
    """A settings dict that records which keys are read (dict(...) copies it without reading any)."""

    def __init__(self, values):
        super().__init__(values)
        self.read = set()

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)


def test_every_setting_is_read_into_the_typed_settings():
    """Each field reads the setting of its name (agent_obo/settings.py, "the typed result"): a setting added to RULES
    that no field or derived value reads would be validated, then silently ignored."""
    from agent_obo.settings import _build

    settings = load_stack_settings(DEV_CONFIG, "dev")
    values = _ReadsRecorded({**settings.raw, "privateNetworking": True})  # the network's settings are read only then
    _build(values, "dev", tuple(settings.tool_settings))
    assert set(PROJECT_RULES) - values.read == set(), "settings no typed field reads"


@pytest.mark.parametrize("audience", ["https://contoso.com/agent-client", "https://agents.contoso.com",
                                      "https://microsoft-fans.example.org", "api://agent-client"])
def test_a_custom_clients_audience_is_accepted(audience):
    settings = load_stack_settings({**DEV_CONFIG, "agent-obo:additionalTokenAudiences": json.dumps([audience])}, "dev")
    assert settings.raw["additionalTokenAudiences"] == (audience,)
