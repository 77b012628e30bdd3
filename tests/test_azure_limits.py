"""Azure's limits hold before registration (issue 9, item 7): every name fits its type's naming rule and
every resource's tags fit the tag limits, in every stack, in a generated 100-tool catalog on a single
connector, and in the bootstrap program; what cannot fit stops the program naming the value and the limit."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent_obo.azure_limits import MAX_TAG_VALUE, MAX_TAGS, NAME_RULES, name_problem, tag_problems
from agent_obo.catalog import CATALOG_FILE, load_catalog
from agent_obo.errors import SettingsError
from agent_obo.naming import NAME_TYPES, Abbreviated, Names
from agent_obo.prepare import check_azure_limits
from agent_obo.tool_connections import joined_list_tag, list_tag
from agent_obo.tool_inputs import settings_of
from offline.arm_types import TYPES
from offline.large_catalog import large_catalog, large_catalog_yaml
from offline.plan import Plan
from offline.project_copy import project_copy
from offline.runner import run_stack
from policy.declared import pack_config_for
from policy.harness import run_policies
from tests.helpers import settings_of as stack_settings

# Each registered type: the input that names it in Azure and the naming rule it falls under. The azure-native
# types the ARM export knows name themselves as offline/arm_types.py says; the rest are listed here.
# None: the resource has no name of its own (Azure names it, or it is a setting of another resource).
NAMED_BY: dict[str, tuple[str, str] | None] = {
    **{type_: (spec.own_name_input, spec.arm_type) if spec.own_name_input else None for type_, spec in TYPES.items()},
    "azure-native:resources:ResourceGroup": ("resourceGroupName", "Microsoft.Resources/resourceGroups"),
    "azure-native:managedidentity:FederatedIdentityCredential": (
        "federatedIdentityCredentialResourceName",
        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"),
    "azure-native:keyvault:Vault": ("vaultName", "Microsoft.KeyVault/vaults"),
    "azure-native:keyvault:Key": ("keyName", "Microsoft.KeyVault/vaults/keys"),
    "azuread:index/application:Application": ("displayName", "Entra/applications"),
    "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential": (
        "displayName", "Entra/federatedIdentityCredentials"),
    # Generic resources: by their resourceType (below).
    "azure-native:resources:Resource": None,
    "azure-native:storage:BlobServiceProperties": None,  # always `default`
    "azuread:index/servicePrincipal:ServicePrincipal": None,
    "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant": None,
    "azuread:index/appRoleAssignment:AppRoleAssignment": None,
    "azuread:index/applicationIdentifierUri:ApplicationIdentifierUri": None,
    "azuread:index/applicationPreAuthorized:ApplicationPreAuthorized": None,
    "random:index/randomId:RandomId": None,
    "pulumi-python:dynamic:Resource": None,
}
GENERIC_TYPES = {"connections": "Microsoft.Web/connections",
                 "accessPolicies": "Microsoft.Web/connections/accessPolicies"}
ACTION_GROUP_SHORT_NAME = 12  # Microsoft.Insights/actionGroups groupShortName: at most 12 characters


def run_large(tmp_path, size: int = 100, stack: str = "dev", document: dict | None = None):
    """A generated catalog; a `document` without the tool settings the stack files set runs without them."""
    text = json.dumps(document) if document else large_catalog_yaml(size)
    declared = {name for tool in (document or {}).get("tools", []) for name in tool.get("settings", {})}
    unset = {f"agent-obo:{name}": None for name in settings_of(load_catalog()) if name not in declared}
    return run_stack(stack, unset if document else None, project_dir=project_copy(tmp_path, {str(CATALOG_FILE): text}))


@pytest.fixture(scope="module")
def hundred_tools(tmp_path_factory) -> Plan:
    return run_large(tmp_path_factory.mktemp("catalog")).ok()


@pytest.fixture
def access_key_prod(access_key_plans) -> Plan:
    return access_key_plans["prod"]


def limit_problems(plan: Plan) -> list[str]:
    problems = []
    for registration in plan.resources:
        assert registration.type in NAMED_BY, f"{registration.type}: add its naming rule to NAMED_BY"
        named = NAMED_BY[registration.type]
        if registration.type == "azure-native:resources:Resource":
            named = ("resourceName", GENERIC_TYPES[registration.input("resourceType")])
        if named:
            name = registration.input(named[0])
            problem = name_problem(named[1], name) if isinstance(name, str) else None
            if problem:
                problems.append(f"{registration.urn}: {named[0]} = {name!r}: {problem}")
        short_name = registration.input("groupShortName")
        if isinstance(short_name, str) and len(short_name) > ACTION_GROUP_SHORT_NAME:
            problems.append(f"{registration.urn}: groupShortName {short_name!r} over {ACTION_GROUP_SHORT_NAME}")
        tags = registration.input("tags")
        if isinstance(tags, dict):
            storage = registration.type == "azure-native:storage:StorageAccount"
            problems += [f"{registration.urn}: {p}" for p in tag_problems(tags, storage_account=storage)]
    return problems


def test_every_stack_fits_azure_limits(plans, access_key_prod, bootstrap):
    for plan in [*plans.values(), access_key_prod, bootstrap]:
        assert limit_problems(plan) == [], plan.stack


def test_a_hundred_tools_on_one_connector_fit_azure_limits(hundred_tools):
    connections = [r for r in hundred_tools.all("azure-native:resources:Resource")
                   if r.input("resourceType") == "connections"]
    connectors = {c.input("properties.api.id").rsplit("/", 1)[-1] for c in connections}
    assert connectors == {"office365"} and len(connections) == 2
    assert len(hundred_tools.stack_outputs["identityMatrix"]) == 100
    assert limit_problems(hundred_tools) == []
    for connection in connections:
        tags = connection.input("tags")
        assert len(tags) <= MAX_TAGS and all(len(value) <= MAX_TAG_VALUE for value in tags.values())
        assert len(joined_list_tag(tags, "tools").split()) == 50, "every tool is listed across the continuations"


def test_a_hundred_tools_pass_the_policy_pack(hundred_tools):
    """With the per-user writes' exceptions approved, as a team would approve them in policy/config."""
    justified = [tool["name"] for tool in large_catalog(100)["tools"] if tool.get("justification")]
    config = {**pack_config_for("dev"), "connections-as-declared": {"approvedExceptions": justified}}
    failed = [r for r in run_policies(hundred_tools, config=config) if not r.passed]
    assert failed == [], [(r.name, r.violations) for r in failed]


def test_every_derived_name_has_a_rule():
    properties = {name for name, value in vars(Names).items() if isinstance(value, (property, Abbreviated))}
    assert properties == set(NAME_TYPES), "a name without its Azure type in agent_obo/naming.py NAME_TYPES"
    assert set(NAME_TYPES.values()) <= set(NAME_RULES)


def test_names_fit_with_the_longest_environment():
    """The stack name is 2-8 characters: every derived name fits at 8."""
    names = Names(environment="abcdefgh", suffix="abcdef")
    for prop, arm_type in NAME_TYPES.items():
        assert name_problem(arm_type, getattr(names, prop)) is None, prop
    assert name_problem("Microsoft.Web/serverfarms", names.plan_for(zone_redundant=True)) is None
    for target, group in (("st", "blob"), ("st", "queue"), ("st", "table"), ("oai", "account")):
        assert name_problem("Microsoft.Network/privateEndpoints", names.private_endpoint(target, group)) is None


# --- values that cannot fit stop the program, naming the value and the limit -------------------------

def test_a_name_over_its_type_s_limit_is_refused_naming_value_and_limit():
    names = Names(environment="environmentnamethatistoolong", suffix="abcdef")
    with pytest.raises(SettingsError) as raised:
        check_azure_limits(names, stack_settings("dev"), [])
    message = str(raised.value)
    assert "Azure name storage_account = 'stagentoboenvironmentnamethatistoolongabcdef'" in message
    assert "a storage account name has 3-24" in message


def _write_tool(index: int, name_length: int) -> dict[str, Any]:
    name = f"flag_{index:03d}_" + "x" * (name_length - 9)
    return {"name": name, "connector": "office365", "identity": "per-user", "data": "user", "access": "write",
            "requires_confirmation": True, "scopes": ["Mail.ReadWrite"],
            "description": "Flags a message in the signed-in user's own mailbox, with the signed-in user's rights.",
            "justification": "Changes only the signed-in user's own mailbox.",
            "operation": {"method": "post", "path": f"/v3/Mail/Flag/{index}"}}


def test_too_many_policy_tags_stop_the_program_before_any_resource(tmp_path):
    """140 justified per-user writes with 48-character names (the longest a tool may have): the lists
    the policy pack reads need more than 50 tags, and the program says so rather than truncating them."""
    result = run_large(tmp_path, document={"tools": [_write_tool(i, 48) for i in range(140)]})
    assert isinstance(result.error, SettingsError), result.error
    message = str(result.error)
    assert "connection office365-peruser" in message and "at most 50 per resource" in message
    assert result.plan.registrations == []


def test_the_tools_list_gives_way_first(tmp_path):
    """Long enough that every list cannot fit, short enough that the policy's lists can: the tools
    tag becomes a count and a digest (the identityMatrix output lists them whole)."""
    plan = run_large(tmp_path, document={"tools": [_write_tool(i, 40) for i in range(100)]}).ok()
    (connection,) = [r for r in plan.all("azure-native:resources:Resource") if r.input("resourceType") == "connections"]
    tags = connection.input("tags")
    assert re.fullmatch(r"100 tools, sha256 [0-9a-f]{12}; the identityMatrix output lists them", tags["tools"])
    assert len(joined_list_tag(tags, "write-tools").split()) == 100
    assert limit_problems(plan) == []


# --- the list tags ------------------------------------------------------------------------------------

TOOL_NAMES = st.from_regex(r"[a-z][a-z0-9_]{2,63}", fullmatch=True)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(items=st.lists(TOOL_NAMES, max_size=120, unique=True))
def test_a_list_tag_splits_within_limits_and_reads_back_whole(items):
    tags = list_tag("tools", items)
    assert all(len(value) <= MAX_TAG_VALUE for value in tags.values())
    assert joined_list_tag(tags, "tools") == (" ".join(items) if items else "none")


def test_continuations_are_read_whatever_their_gaps_and_order():
    tags = {"write-tools-7": "c", "write-tools": "a", "write-tools-2": "b", "write-toolsx": "not-me"}
    assert joined_list_tag(tags, "write-tools") == "a b c"


def _with_tags(plan: Plan, reference: str, extra: dict[str, str]) -> Plan:
    registrations = []
    for registration in plan.registrations:
        if registration.name == reference and registration.input("resourceType") == "connections":
            registration = copy.deepcopy(registration)
            registration.raw_inputs["tags"].update(extra)
        registrations.append(registration)
    return dataclasses.replace(plan, registrations=registrations)


def test_an_unjustified_write_hidden_in_a_continuation_tag_is_caught(plans):
    plan = _with_tags(plans["dev"], "office365-peruser", {"write-tools-3": "send_my_mail"})
    results = {r.name: r for r in run_policies(plan)}
    assert any("send_my_mail" in v.message for v in results["identity-labels"].violations)


def test_a_continuation_tag_the_catalog_does_not_derive_is_caught(plans):
    plan = _with_tags(plans["dev"], "office365-peruser", {"scopes-2": "Mail.ReadWrite.All"})
    results = {r.name: r for r in run_policies(plan)}
    assert any("scopes-2" in v.message for v in results["connections-as-declared"].violations)


def test_registration_type_map_is_complete_for_the_large_catalog(hundred_tools):
    unknown: set[str] = {r.type for r in hundred_tools.resources} - set(NAMED_BY)
    assert unknown == set()


def test_the_generated_catalog_is_what_the_benchmark_plans():
    assert len(large_catalog(100)["tools"]) == 100


