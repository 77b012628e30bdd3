"""The program under preview semantics: a new stack's first `pulumi preview`, where providers answer
with the inputs in the output shape and every computed output and id unknown (offline/engine.py).

Every stack file runs once in this mode per session (tests/conftest.py `first_previews`).
"""

from __future__ import annotations

import re

import pytest
from pulumi.output import Unknown

from offline import engine
from offline.mocks import AzureMocks
from offline.plan import Plan
from offline.runner import run_stack
from policy.connections import CONNECTIONS_AS_DECLARED
from policy.harness import run_policies
from tests.helpers import CONNECTION, app_settings, run_with


def shape(plan: Plan) -> dict[str, tuple]:
    """Each registration by URN with the options and dependencies the engine acts on."""
    return {r.urn: (r.type, r.custom, r.parent, r.protect, sorted(r.dependencies), r.delete_before_replace,
                    sorted(r.replace_with), sorted(r.ignore_changes), r.aliases) for r in plan.registrations}


def test_a_first_preview_registers_exactly_what_a_deployment_registers(first_preview, plans):
    deployed = plans[first_preview.stack]
    assert shape(first_preview) == shape(deployed)
    assert all(r.step.operation == engine.CREATE for r in first_preview.registrations)


def test_a_first_preview_leaves_nothing_known_that_azure_computes(first_preview):
    unknown_ids = [r.name for r in first_preview.resources if r.resource_id is not None]
    assert unknown_ids == []
    site = first_preview.one("azure-native:web:WebApp")
    assert isinstance(site.outputs["defaultHostName"], Unknown)
    assert isinstance(site.outputs["identity"]["principalId"], Unknown)
    # A list in, a map out: azure-native cannot map it, so the whole value is unknown.
    assert isinstance(site.outputs["identity"]["userAssignedIdentities"], Unknown)
    assert site.outputs["identity"]["type"] == site.input("identity.type")


# Stack outputs Azure or Entra compute: unknown until the first deployment.
# resourceGroup is known: the group exists before the program runs (the bootstrap creates it).
COMPUTED_OUTPUTS = ("logicAppHostName", "chatClientUrl", "a2aEndpoint", "agentCardUrl",
                    "clientId", "identifierUri", "adminConsentUrl", "modelEndpoint", "workflowPackageUrl")


def agrees(previewed, deployed) -> bool:
    """Every part of a previewed value is unknown or what the deployment gives: never wrong."""
    if isinstance(previewed, Unknown):
        return True
    if isinstance(previewed, dict):
        return isinstance(deployed, dict) and previewed.keys() == deployed.keys() and \
            all(agrees(previewed[key], deployed[key]) for key in previewed)
    if isinstance(previewed, list):
        return isinstance(deployed, list) and len(previewed) == len(deployed) and \
            all(agrees(p, d) for p, d in zip(previewed, deployed, strict=True))
    return previewed == deployed


def test_stack_outputs_are_unknown_where_azure_decides_and_right_everywhere_else(first_preview, plans):
    deployed = plans[first_preview.stack].stack_outputs
    outputs = first_preview.stack_outputs
    assert set(outputs) == set(deployed)
    for key in COMPUTED_OUTPUTS:
        assert isinstance(outputs[key], Unknown), key
    for key, value in outputs.items():
        assert agrees(value, deployed[key]), key
    assert outputs["logicAppName"] == deployed["logicAppName"]  # the site's name is an input


def test_connection_runtime_values_stay_unknown_until_the_connections_exist(first_preview, plans):
    settings = app_settings(first_preview)
    runtime_settings = [name for name in app_settings(plans[first_preview.stack])
                        if name.endswith(("_connectionRuntimeUrl", "_dynamicConnectionProxyUrl", "_connectionId"))]
    assert runtime_settings
    for name in runtime_settings:
        assert isinstance(settings[name], Unknown), (name, settings[name])


class _AzureWithoutRuntimeUrls(AzureMocks):
    """Azure answering a connection without connectionRuntimeUrl (say, a connection of the wrong kind)."""

    def _azure_native_resources_Resource(self, name, inputs):
        resource_id, outputs = super()._azure_native_resources_Resource(name, inputs)
        outputs["properties"].pop("connectionRuntimeUrl", None)
        return resource_id, outputs


def test_a_deployment_stops_when_azure_reports_no_runtime_url_rather_than_writing_an_empty_setting():
    result = run_stack("dev", mocks=_AzureWithoutRuntimeUrls())
    assert isinstance(result.error, ValueError)
    assert "Azure reported no properties.connectionRuntimeUrl" in str(result.error)
    assert "kind V2" in str(result.error)


def test_the_policy_pack_passes_every_first_preview_and_says_what_it_could_not_check(first_preview):
    results = {r.name: r for r in run_policies(first_preview)}
    assert {name: r.violations for name, r in results.items() if r.violations} == {}
    said = {name: " ".join(r.notes) for name, r in results.items()}
    per_user = [r.name for r in first_preview.all(CONNECTION) if r.input("properties.features")]
    assert per_user
    for connection in per_user:  # a generation id no one knows before it exists
        assert f"the {connection} connection's name" in said["connections-as-declared"]
    assert "the connection's name suffix" in said["identity-labels"]
    # Access policies are matched to connections by dependency; whom they admit is the site's principal.
    assert "the site's principal id" in said["connection-access-policy"]
    assert "the chat app's client id" in said["easy-auth"]
    assert "the value of app setting office365-peruser_connectionRuntimeUrl" in said["site-hardening"]
    # Locks are matched to what they lock by dependency, known before anything exists.
    assert said["delete-locks"] == ""
    # Values the stack file and the catalog decide are known in a first preview: checked, nothing to say.
    assert said["storage-hardening"] == said["model-hardening"] == said["required-tags"] == ""


def test_a_first_preview_still_catches_a_wrong_principal_on_a_connection_it_cannot_name(first_preview):
    from tests.policy_mutations import replaced, set_at

    # The principal's type is the access policy's own input, judged before it is created (connections-as-declared).
    plan = replaced(first_preview, "office365-peruser-site-access", set_at("properties.principal.type", "User"))
    [result] = run_policies(plan, [CONNECTIONS_AS_DECLARED])
    assert [v.urn.rsplit("::", 1)[-1] for v in result.violations] == ["office365-peruser-site-access"]


# --- what each provider answers, unit by unit (offline/engine.py) -----------------------------------

def test_an_any_typed_output_comes_back_exactly_as_given():
    given = {"api": {"id": "/managedApis/office365"}, "features": "DynamicUserInvoked"}
    answered = {"properties": {**given, "connectionRuntimeUrl": "https://x"}, "name": "c"}
    state = engine.preview_outputs(CONNECTION, {"properties": given, "resourceName": "c"}, answered)
    assert state["properties"] == given  # no connectionRuntimeUrl key at all, as azure-native previews it
    assert state["name"] == engine.UNKNOWN  # the output `name` is not an input of the generic resource


def test_a_typed_output_keeps_its_inputs_and_leaves_the_rest_unknown():
    given = {"kind": "OpenAI", "properties": {"disableLocalAuth": True}}
    answered = {"kind": "OpenAI", "properties": {"disableLocalAuth": True, "endpoint": "https://x"}, "name": "a"}
    state = engine.preview_outputs("azure-native:cognitiveservices:Account", given, answered)
    assert state == {"kind": "OpenAI", "properties": {"disableLocalAuth": True, "endpoint": engine.UNKNOWN},
                     "name": engine.UNKNOWN}


@pytest.mark.parametrize("given", [Unknown(), engine.UNKNOWN])
def test_an_unknown_input_previews_as_an_unknown_output(given):
    state = engine.preview_outputs("azure-native:web:WebApp", {"name": given}, {"name": "site"})
    assert state == {"name": engine.UNKNOWN}


# --- update previews: a change to a deployed stack, as its pull-request preview shows it ------------

def operations(plan: Plan) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for registration in plan.resources:
        found.setdefault(registration.step.operation, set()).add(registration.name)
    return found


def test_a_new_scope_replaces_only_that_connection_its_generation_and_its_access_policy(update_preview):
    done = operations(update_preview)
    assert done[engine.REPLACE] == {
        "office365-peruser-generation", "office365-peruser", "office365-peruser-site-access"}
    # The app registration asks for the scope, the consent grants it, the settings point at the new
    # connection. The site and everything keyed on its principal id stay as they are.
    assert done[engine.UPDATE] <= {"chat-app-app", "chat-app-graph-consent", "app-settings-appsettings"}
    assert "app-settings-appsettings" in done[engine.UPDATE]
    assert update_preview.deleted == []
    site = update_preview.one("azure-native:web:WebApp")
    assert site.step.operation == engine.SAME and not isinstance(site.outputs["identity"]["principalId"], Unknown)


def test_an_update_preview_registers_what_the_change_deploys_and_its_outputs_are_never_wrong(
        update_preview, rescoped_plans):
    deployed = rescoped_plans[update_preview.stack]
    assert shape(update_preview) == shape(deployed)
    for key, value in update_preview.stack_outputs.items():
        assert agrees(value, deployed.stack_outputs[key]), key
    assert update_preview.stack_outputs["logicAppHostName"] == deployed.stack_outputs["logicAppHostName"]


def test_the_policy_pack_passes_every_update_preview(update_preview):
    failing = {r.name: r.violations for r in run_policies(update_preview) if r.blocks_deployment}
    assert failing == {}


def test_a_new_tool_description_replaces_only_the_package_and_updates_only_the_settings(plans, tmp_path):
    from tests.helpers import run_with_catalog, tool_entry

    def reword(document: dict) -> None:
        entry = tool_entry(document, "get_my_profile")
        entry["description"] = entry["description"] + " Includes the job title."

    plan = run_with_catalog(reword, tmp_path, mode="update", baseline=plans["dev"]).ok()
    assert operations(plan)[engine.REPLACE] == {"workflow-package-blob"}  # a new blob, then the old one goes
    assert operations(plan)[engine.UPDATE] == {"app-settings-appsettings"}  # WEBSITE_RUN_FROM_PACKAGE


def test_switching_off_a_connections_last_tool_deletes_the_connection_and_its_policy(plans):
    plan = run_with({"agent-obo:disabledTools": ["post_operations_status"]}, mode="update",
                    baseline=plans["dev"]).ok()
    assert {r.name for r in plan.deleted if r.custom} == {"teams-apponly", "teams-apponly-site-access"}
    assert engine.REPLACE not in operations(plan) or operations(plan)[engine.REPLACE] == {"workflow-package-blob"}


def test_a_change_to_the_site_itself_previews_its_principal_keyed_grants_as_replaced(plans):
    """Documented, not fixed: azure-native previews every output of a resource updated in place as
    unknown, so a change to the site itself (here its always-ready instances) shows the access policies
    and role assignments named by its principal id as replaced; `pulumi up` finds the same id and
    replaces nothing. Catalog changes no longer touch the site (components/app_settings.py)."""
    plan = run_with({"agent-obo:alwaysReadyInstances": 2}, mode="update", baseline=plans["dev"]).ok()
    done = operations(plan)
    # The app registration's redirect URI names the site's host name, unknown while the site updates.
    assert done[engine.UPDATE] == {"logic-app-site", "chat-app-app"}
    assert done[engine.REPLACE] == {
        "logic-app-model-access", "azureblob-apponly-runbooks-reader", *(
            f"{connection}-site-access" for connection in (
                "azureblob-apponly", "teams-apponly", "office365-peruser", "onedriveforbusiness-peruser",
                "office365users-peruser"))}


# --- make plan PREVIEW=update: the baseline is the program as committed at a git ref ----------------

def test_a_baseline_is_the_committed_program_run_with_every_output_known(tmp_path, plans):
    import pickle

    from offline import baseline

    out = tmp_path / "plan.pickle"
    assert baseline.main(["dev", str(out)]) == 0
    recorded = pickle.loads(out.read_bytes())
    assert recorded.mode == "up" and shape(recorded) == shape(plans["dev"])


@pytest.mark.parametrize("ref", ["no-such-ref", "--output=/tmp/agent-obo-archive.tar", "HEAD:README.md"])
def test_a_baseline_from_a_ref_that_is_not_a_commit_is_refused(ref):
    from pathlib import Path

    from offline.baseline import baseline_plan

    with pytest.raises(ValueError, match=f"BASE={re.escape(ref)}: not a commit of this repository"):
        baseline_plan("dev", ref)
    assert not Path("/tmp/agent-obo-archive.tar").exists()


# --- every switch, not only the stack files ---------------------------------------------------------

SWITCHES = {
    "access-key host storage, delegated tool scopes, open run history, a tool off, an existing model": {
        "agent-obo:hostStorageAuthentication": "accessKey", "agent-obo:delegateToolScopesToChatApp": True,
        "agent-obo:secureAgentRunHistory": False, "agent-obo:disabledTools": ["post_operations_status"],
        "agent-obo:modelSource": "existing",
        "agent-obo:existingModelEndpoint": "https://shared-oai.openai.azure.com/",
        "agent-obo:existingModelResourceId": "/subscriptions/3c1f8a52-6b0e-4d7f-9a24-8e5b1c0d7f36/resourceGroups/"
                                             "rg-shared-ai/providers/Microsoft.CognitiveServices/accounts/shared-oai"},
}


@pytest.mark.parametrize("overrides", SWITCHES.values(), ids=list(SWITCHES))
def test_every_switch_plans_under_a_first_preview_as_it_deploys(overrides):
    deployed = run_with(overrides).ok()
    previewed = run_with(overrides, mode="first").ok()
    assert shape(previewed) == shape(deployed)
    for key, value in previewed.stack_outputs.items():
        assert agrees(value, deployed.stack_outputs[key]), key
    # The switches differ from what the pack pins for dev: judged as a stack whose pins approve them.
    approved = {"stack-declarations": {"pinned": {}}}
    assert [r.name for r in run_policies(previewed, config=approved) if r.violations] == []
