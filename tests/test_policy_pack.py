"""The policy pack as a whole: both stacks pass it, it learns what a stack declares the way it does under the
CLI and fails closed without it, it sees what the engine hands it, and its harness gives the SDK analyzer's
verdicts. What each policy catches is tests/test_policy_mutations.py.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import re
from typing import Any

import pulumi_policy
import pytest
import yaml
from pulumi.output import Unknown

from offline import mocks
from offline.plan import Plan
from offline.runner import PROJECT_DIR, RunResult, stacks
from policy import harness, pack
from policy import tags as tag_policies
from policy.declared import CATALOG_ENV, Undeclared, declared, judging, pack_config_for
from policy.graph_permissions import DELEGATED_SCOPE_IDS
from policy.harness import PolicyResult, Violation, run_policies, verdict_section
from policy.inventory import ALLOWED_TYPES
from tests.helpers import run_with, run_with_catalog, tool_entry, type_accepts_tags
from tests.policy_mutations import FOREIGN, configured, on, set_at

POLICY_DIR = PROJECT_DIR / "policy"
POLICIES = {policy.name: policy for policy in pack.POLICIES}


def names_failing(plan: Plan, config: dict[str, Any] | None = None) -> dict[str, list[str]]:
    return {r.name: [v.message for v in r.violations] for r in run_policies(plan, config=config) if r.violations}


# --- both stacks ---------------------------------------------------------------------------------------

def test_every_stack_passes_every_policy(plan):
    results = run_policies(plan)
    assert [r.name for r in results] == list(POLICIES)
    failed = [r for r in results if not r.passed or r.notes]
    assert not failed, f"stack {plan.stack}:\n{verdict_section(results)}"


def test_a_first_preview_notes_what_it_cannot_see_and_blocks_nothing(first_preview):
    results = {r.name: r for r in run_policies(first_preview)}
    assert not any(r.violations for r in results.values()), verdict_section(results.values())
    # Security checks facing a value unknown until the resources exist say so, as the engine reports it.
    for name, unseen in [("easy-auth", "the chat app's client id"), ("connection-access-policy", "principal id"),
                         ("role-assignments", "scope"), ("app-registration-binding", "runtime identity")]:
        assert any(unseen in note for note in results[name].notes), (name, results[name].notes)
        assert all(note.startswith("can't run during preview: ") for note in results[name].notes)


def test_each_policy_meets_what_it_judges_in_both_stacks(plans):
    judged = {
        "stack-declarations": "azure-native:operationalinsights:Workspace",
        "easy-auth": "azure-native:web:WebAppAuthSettingsV2WithoutSecrets",
        "easy-auth-binding": "azure-native:web:WebApp",
        "app-registration": "azuread:index/application:Application",
        "app-registration-binding": "azuread:index/applicationFederatedIdentityCredential:"
                                    "ApplicationFederatedIdentityCredential",
        "graph-least-privilege": "azuread:index/application:Application",
        "identity-labels": "azure-native:resources:Resource",
        "connections-as-declared": "azure-native:resources:Resource",
        "connection-access-policy": "azure-native:resources:Resource",
        "workflow-package": "pulumi-python:dynamic:Resource",
        "role-assignments": "azure-native:authorization:RoleAssignment",
        "role-assignment-principals": "azure-native:authorization:RoleAssignment",
        "site-hardening": "azure-native:web:WebApp",
        "site-settings-bound": "azure-native:web:WebAppFtpAllowed",
        "storage-hardening": "azure-native:storage:StorageAccount",
        "model-hardening": "azure-native:cognitiveservices:Account",
        "diagnostics": "azure-native:monitor:DiagnosticSetting",
        "audit-alerts": "azure-native:monitor:ActionGroup",
        "tool-run-history": "pulumi-python:dynamic:Resource",
        "private-networking": "azure-native:storage:StorageAccount",
        "zone-redundancy": "azure-native:web:AppServicePlan",
        "health-check": "azure-native:web:WebApp",
        "model-identity": "azure-native:cognitiveservices:Account",
        "delete-locks": "azure-native:storage:StorageAccount",
        "resource-inventory": "azure-native:storage:BlobContainer",
        "known-properties": "azure-native:web:WebApp",
        "required-tags": "azure-native:storage:StorageAccount",
    }
    assert set(judged) == set(POLICIES)
    for plan in plans.values():
        for name, resource_type in judged.items():
            assert plan.all(resource_type), f"{name}: {plan.stack} has no {resource_type}"


# --- what the stack declares, under the CLI and offline -----------------------------------------------

def cli_environment(monkeypatch, plan: Plan) -> None:
    """What the engine puts in the pack's environment (analyzer_plugin.go constructEnv)."""
    monkeypatch.setenv("PULUMI_STACK", plan.stack)
    monkeypatch.setenv("PULUMI_PROJECT", "agent-obo")
    monkeypatch.setenv("PULUMI_DRY_RUN", "true")
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(plan.config))


def test_under_the_cli_the_pack_reads_the_stack_and_config_the_engine_hands_it(plans, monkeypatch):
    for plan in plans.values():
        cli_environment(monkeypatch, plan)
        stack = declared()
        with judging(plan.stack, plan.config):
            assert declared() == stack
        assert stack.stack == plan.stack and stack.settings.environment == plan.stack
        assert stack.pack_config == pack_config_for(plan.stack)


@pytest.mark.parametrize("environment,reason", [
    ({}, "PULUMI_STACK is not set"),
    ({"PULUMI_STACK": "dev"}, "no config"),
    ({"PULUMI_STACK": "dev", "PULUMI_CONFIG": json.dumps({"agent-obo:owner": "x"})}, "invalid settings"),
], ids=["outside a stack", "no config", "invalid settings"])
def test_without_a_determinable_stack_the_pack_fails_closed(plans, monkeypatch, environment, reason):
    for key in ("PULUMI_STACK", "PULUMI_CONFIG"):
        monkeypatch.delenv(key, raising=False)
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(Undeclared, match=reason):
        declared()
    # What the served pack then reports for a whole plan: tests/test_policy_cli.py.


def test_an_unreadable_catalog_fails_closed(plans, monkeypatch, tmp_path):
    cli_environment(monkeypatch, plans["dev"])
    monkeypatch.setenv(CATALOG_ENV, str(tmp_path / "missing.yaml"))
    with pytest.raises(Undeclared, match=r"missing\.yaml"):
        declared()
    (tmp_path / "bad.yaml").write_text("tools: [{name: 1}]\n")
    monkeypatch.setenv(CATALOG_ENV, str(tmp_path / "bad.yaml"))
    with pytest.raises(Undeclared, match="catalog"):
        declared()


def test_the_catalog_comes_from_agent_obo_catalog_when_set(plans, monkeypatch, tmp_path):
    """CI judges a pull request's catalog with the base branch's pack: the path is data, the code the pack's."""
    document = yaml.safe_load((PROJECT_DIR / "catalog" / "tools.yaml").read_text())
    tool_entry(document, "list_my_files")["scopes"] = ["Files.Read", "Files.Read.All"]
    (tmp_path / "tools.yaml").write_text(yaml.safe_dump(document))
    cli_environment(monkeypatch, plans["dev"])
    monkeypatch.setenv(CATALOG_ENV, str(tmp_path / "tools.yaml"))
    assert "Files.Read.All" in declared().catalog.per_user_scopes()
    monkeypatch.delenv(CATALOG_ENV)
    assert "Files.Read.All" not in declared().catalog.per_user_scopes()


def test_settings_the_pack_does_not_know_are_noted_not_guessed(plans):
    newer = configured(someFutureSetting="x")(plans["dev"])
    [result] = run_policies(newer, [POLICIES["stack-declarations"]])
    assert result.passed and any("agent-obo:someFutureSetting" in note for note in result.notes), result
    assert not names_failing(newer)


def test_an_unreadable_pack_configuration_fails_closed(tmp_path):
    (tmp_path / "dev.json").write_text("{not json")
    with pytest.raises(Undeclared, match=r"dev\.json"):
        pack_config_for("dev", tmp_path)
    assert pack_config_for("nosuchstack", tmp_path) == {}


def test_the_harness_fails_closed_on_an_unreadable_pack_configuration(plans, tmp_path, monkeypatch):
    # As the pack served by the CLI (policy/__main__.py): no policy relaxed, and every policy that reads the
    # stack's declarations fails, saying why; not a traceback (CI runs `python -m policy.harness`).
    from policy import declared as declared_module

    (tmp_path / "dev.json").write_text('{"stack-declarations": {"pined": {}}}')
    unreadable = functools.partial(pack_config_for, config_dir=tmp_path)
    monkeypatch.setattr(harness, "pack_config_for", unreadable)
    monkeypatch.setattr(declared_module, "pack_config_for", unreadable)
    results = {result.name: result for result in run_policies(plans["dev"])}
    assert all(result.enforcement_level == pulumi_policy.EnforcementLevel.MANDATORY for result in results.values())
    violations = results["stack-declarations"].violations
    assert violations and all("dev.json" in v.message and "pined" in v.message for v in violations), violations
    assert harness.main(["dev"], run_stack=lambda stack: RunResult(plans[stack], None)) == 1


def test_the_pack_configuration_pins_the_security_settings_of_every_stack():
    """A new stack file needs its pins in the pack first: a reviewed change of policy/config/."""
    for stack in stacks():
        pinned = pack_config_for(stack)["stack-declarations"]["pinned"]
        assert {"tenantId", "assignmentRequired", "allowedUsers", "allowedGroups", "appOwners", "excludedPaths",
                "additionalTokenAudiences", "delegateToolScopesToChatApp", "hostStorageAuthentication",
                "verificationUsers", "privateNetworking", "publicIngress", "storageFirewallIpRanges",
                "alertEmailReceivers"} <= set(pinned)


# --- the stack's explicit relaxations ------------------------------------------------------------------

def test_a_stack_relaxes_a_policy_only_in_the_packs_configuration(plans):
    broken = on("logic-app-site", set_at("httpsOnly", False))(plans["dev"])
    document = copy.deepcopy(pack_config_for("dev"))
    mandatory = {r.name: r for r in run_policies(broken, config=document)}["site-hardening"]
    assert mandatory.blocks_deployment
    document["site-hardening"] = "advisory"
    relaxed = {r.name: r for r in run_policies(broken, config=document)}["site-hardening"]
    assert relaxed.violations and not relaxed.blocks_deployment
    assert "; advisory" in verdict_section([relaxed])
    document = {**pack_config_for("dev"), "all": {"enforcementLevel": "disabled"}, "site-hardening": "mandatory"}
    results = {r.name: r for r in run_policies(broken, config=document)}
    assert results["site-hardening"].blocks_deployment and results["easy-auth"].passed


# The entry point relaxes from the stack's file as served: tests/test_policy_cli.py.


# --- what the pack sees: the engine's shapes ------------------------------------------------------------

# The harness gives the verdicts of the pack served as the CLI serves it: tests/test_policy_cli.py.


def test_stack_policies_see_outputs_resource_policies_inputs(plans):
    seen: dict[str, dict[str, Any]] = {}

    def capture_stack(args, report_violation):
        seen.update({f"stack:{r.name}": dict(r.props) for r in args.resources})

    def capture_resource(args, report_violation):
        seen[f"resource:{args.name}"] = dict(args.props)

    policies = [pulumi_policy.StackValidationPolicy(name="spy-stack", description="records", validate=capture_stack),
                pulumi_policy.ResourceValidationPolicy(name="spy", description="records", validate=capture_resource)]
    run_policies(plans["dev"], policies)
    assert "accountName" in seen["resource:runtime-storage-account"]
    assert "accountName" not in seen["stack:runtime-storage-account"]  # a path parameter, not an output
    assert seen["stack:runtime-storage-account"]["name"].startswith("stagentobo")
    assert "principalId" in seen["stack:runtime-identity"]  # computed by Azure
    assert "resourceType" not in seen["stack:office365-peruser"]
    assert seen["stack:office365-peruser"]["type"] == "Microsoft.Web/connections"


def test_a_policy_that_reads_an_unknown_is_reported_as_the_engine_reports_it(plans):
    def reads_directly(args, report_violation):
        if args.resource_type == "azure-native:web:WebApp" and args.props["httpsOnly"] is not True:
            report_violation("not https")

    careless = pulumi_policy.ResourceValidationPolicy(
        name="careless", description="reads props without guarding unknowns", validate=reads_directly)
    [result] = run_policies(on("logic-app-site", set_at("httpsOnly", Unknown()))(plans["dev"]), [careless])
    assert result.passed and len(result.notes) == 1 and result.notes[0].startswith("can't run during preview: ")
    assert ".httpsOnly" in result.notes[0]


def test_each_policy_reads_its_own_copy_of_a_resources_inputs(plans):
    # The engine sends a resource's inputs once; the analyzer deserializes them anew for each policy, so
    # a policy that changes what it reads cannot change what the next one judges.
    seen: list[Any] = []

    def rewrites(args, report_violation):
        if args.name == "logic-app-site":
            args.props["httpsOnly"] = False

    def reads(args, report_violation):
        if args.name == "logic-app-site":
            seen.append(args.props["httpsOnly"])

    policies = [pulumi_policy.ResourceValidationPolicy(name=name, description=name, validate=validate)
                for name, validate in (("rewrites", rewrites), ("reads", reads))]
    run_policies(plans["dev"], policies)
    assert seen == [True]


# --- the pack's own parts ------------------------------------------------------------------------------

def test_policies_are_named_described_levelled_and_sourced():
    assert len(POLICIES) == len(pack.POLICIES)
    for policy in pack.POLICIES:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", policy.name), policy.name
        assert len(policy.description) > 80 and policy.remediation_steps, policy.name
        assert policy.enforcement_level == pulumi_policy.EnforcementLevel.MANDATORY, policy.name
        assert policy.url and re.match(r"https://(learn\.microsoft\.com|www\.pulumi\.com)/", policy.url), policy.name


def test_pack_project_files():
    project = yaml.safe_load((POLICY_DIR / "PulumiPolicy.yaml").read_text())
    # The project's own virtualenv: the pack imports agent_obo, and so needs its requirements.
    assert project["runtime"] == {"name": "python", "options": {"virtualenv": "../.venv"}}
    assert (POLICY_DIR / project["runtime"]["options"]["virtualenv"]).resolve() == PROJECT_DIR / ".venv"
    assert project["description"].strip()


def test_graph_permission_ids_agree_with_the_offline_tenant():
    """Two copies of Microsoft's permission ids (learn.microsoft.com/graph/permissions-reference)."""
    assert DELEGATED_SCOPE_IDS == mocks.GRAPH_DELEGATED_SCOPES


def test_required_tags_are_tags_the_program_sets(plans):
    for tag in tag_policies.REQUIRED_TAGS:
        assert plans["dev"].one("azure-native:storage:StorageAccount").input(f"tags.{tag}"), tag


def test_taggable_types_match_the_sdk(plans):
    for resource_type in tag_policies.TAGGABLE_TYPES:
        assert type_accepts_tags(resource_type), f"{resource_type} takes no tags in the SDK"
    planned = {r.type for plan in plans.values() for r in plan.resources if r.type.startswith("azure-native:")}
    missing = {t for t in planned if type_accepts_tags(t)} - tag_policies.TAGGABLE_TYPES
    assert not missing, f"taggable types the pack does not check: {sorted(missing)}"


def test_the_inventory_allows_every_type_the_program_registers_and_nothing_unused(plans):
    access_key = run_with({"agent-obo:hostStorageAuthentication": "accessKey"}).ok()
    planned = {r.type for plan in [*plans.values(), access_key] for r in plan.resources}
    assert planned == set(ALLOWED_TYPES), "policy/inventory.py must list exactly the types the program creates"


def test_known_properties_lists_every_azure_native_type_and_every_path_the_program_sets(
        plans, first_previews, update_previews, access_key_plans):
    """The table is what the components set, in every stack and mode: a component that sets a new property fails
    here, naming it, until the table (a reviewed change of the pack) has it."""
    from policy.known_properties import KNOWN_PROPERTIES, KNOWN_PROPERTIES_POLICY

    runs = [*plans.values(), *first_previews.values(), *update_previews.values(), *access_key_plans.values()]
    assert {r.type for plan in runs for r in plan.resources if r.type.startswith("azure-native:")} == \
        set(KNOWN_PROPERTIES)
    for plan in runs:
        [result] = run_policies(plan, [KNOWN_PROPERTIES_POLICY])
        assert result.violations == [], (plan.stack, plan.mode, result.violations)


# --- one-file edits through the real program -----------------------------------------------------------

def test_a_catalog_edit_running_a_my_data_tool_as_the_app_needs_the_packs_approval(tmp_path):
    def flip(document: dict) -> None:
        tool = tool_entry(document, "get_my_profile")
        tool.update(identity="app-only", scopes=[], justification="faster than the per-user connection",
                    description=tool["description"].replace("read with the signed-in user's permissions",
                                                            "read as the app"))

    plan = run_with_catalog(flip, tmp_path).ok()  # the program accepts a justified exception
    failing = names_failing(plan)
    assert any("'get_my_profile'" in m for m in failing["connections-as-declared"]), failing
    approved = copy.deepcopy(pack_config_for("dev"))
    approved["connections-as-declared"] = {"approvedExceptions": ["get_my_profile"]}
    assert "connections-as-declared" not in names_failing(plan, approved)


def test_a_catalog_edit_asking_for_a_tenant_wide_scope_needs_the_packs_approval(tmp_path):
    plan = run_with_catalog(lambda d: tool_entry(d, "get_my_profile")["scopes"].append("User.Read.All"),
                            tmp_path).ok()
    failing = names_failing(plan)
    assert failing.keys() == {"graph-least-privilege"}
    assert any("'User.Read.All'" in m for m in failing["graph-least-privilege"])


def test_a_stack_file_edit_turning_assignment_off_in_prod_is_caught():
    plan = run_with({"agent-obo:assignmentRequired": False}, stack="prod").ok()
    assert names_failing(plan).keys() == {"stack-declarations"}


def test_a_component_edit_asking_for_more_at_sign_in_is_caught(plans):
    login = "identityProviders.azureActiveDirectory.login.loginParameters"
    [parameter] = plans["dev"].one("azure-native:web:WebAppAuthSettingsV2WithoutSecrets").input(login)
    plan = on("easy-auth-authsettings", set_at(login, [parameter + " Mail.ReadWrite"]))(plans["dev"])
    assert names_failing(plan).keys() == {"easy-auth"}


def test_the_program_refuses_a_sign_in_to_another_tenant():
    result = run_with({"agent-obo:tenantId": FOREIGN})
    assert result.plan.registrations == [] or all(not r.custom for r in result.plan.registrations)
    message = str(result.error)
    assert "agent-obo:tenantId" in message and mocks.TENANT_ID in message and "az login --tenant" in message


# --- the harness's report and command --------------------------------------------------------------------

def test_verdict_section_lists_each_policy_with_its_violations_and_notes():
    results = [
        PolicyResult("identity-labels", pulumi_policy.EnforcementLevel.MANDATORY, notes=["can't run during preview"]),
        PolicyResult("site-hardening", pulumi_policy.EnforcementLevel.MANDATORY, [
            Violation("urn:pulumi:dev::agent-obo::agent-obo:web:LogicApp$azure-native:web:WebApp::logic-app-site",
                      "httpsOnly is False. Remediation: set httpsOnly to true."),
            Violation("", "stack-wide. Remediation: fix it."),
        ]),
    ]
    assert verdict_section(results) == "\n".join([
        "Policies:",
        "  PASS  identity-labels (known values; 1 not checked until known, see notes)",
        "        note: can't run during preview",
        "  FAIL  site-hardening (2 violations)",
        "        logic-app-site: httpsOnly is False. Remediation: set httpsOnly to true.",
        "        (stack): stack-wide. Remediation: fix it.",
    ])


def test_harness_command_exits_1_only_when_a_mandatory_policy_fails(plans, capsys):
    broken = dataclasses.replace(on("logic-app-site", set_at("httpsOnly", False))(plans["dev"]))
    runs = {**{stack: RunResult(plan, None) for stack, plan in plans.items()}, "broken": RunResult(broken, None)}

    def main(argv: list[str]) -> int:
        return harness.main(argv, run_stack=lambda stack: runs[stack], stacks=lambda: sorted(plans))

    assert main([]) == 0
    assert capsys.readouterr().out.count("PASS") == len(POLICIES) * len(plans)
    assert main(["dev", "broken"]) == 1
    out = capsys.readouterr().out
    assert "Stack broken:" in out and "  FAIL  site-hardening (1 violations)" in out


@pytest.mark.parametrize("provider", ["Microsoft.Storage", "microsoft.storage", "MICROSOFT.STORAGE"])
def test_a_storage_scope_is_read_whatever_its_case(provider):
    from policy.role_assignments import ACCOUNT, scope_kind

    assert scope_kind(f"/subscriptions/s/resourceGroups/rg/providers/{provider}/storageAccounts/acct") == (
        ACCOUNT, ("acct",))


@pytest.mark.parametrize("provider", ["Micro\u017foft.Storage", "Microsoft.\u017ftorage"])
def test_a_scope_spelled_with_look_alike_letters_is_no_storage_scope(provider):
    """Unicode case folding would match a long s (U+017F) to s: ARM would refuse such a scope, and the
    pack must not read it as the stack's storage either."""
    from policy.role_assignments import scope_kind

    assert scope_kind(f"/subscriptions/s/resourceGroups/rg/providers/{provider}/storageAccounts/acct") is None
