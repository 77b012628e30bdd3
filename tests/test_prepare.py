"""prepare() called directly, without Pulumi: what it decides from the stack's config, the project's files
and what Azure and Entra answer (agent_obo/lookups.py), and that bad input stops it before it asks Azure.
"""

from __future__ import annotations

import pytest
import yaml

from agent_obo.errors import SettingsError
from agent_obo.graph_scopes import GraphServicePrincipal
from agent_obo.lookups import Deployer, ResourceGroup
from agent_obo.naming import names_for
from agent_obo.prepare import Decisions, prepare
from agent_obo.tool_connections import connection_specs
from offline.mocks import DEPLOYER_OBJECT_ID, GRAPH_SERVICE_PRINCIPAL_OBJECT_ID, SUBSCRIPTION_ID, TENANT_ID
from offline.project_copy import project_copy
from offline.runner import PROJECT_DIR, stack_config, stack_file, stacks
from tests.helpers import OfflineLookups, catalog_document, tool_entry


def config_of(stack: str) -> dict[str, str]:
    return stack_config(stack_file(stack).get("config"))


def prepared(stack: str = "dev", lookups: OfflineLookups | None = None, **changes: object) -> Decisions:
    config = {**config_of(stack), **{f"agent-obo:{key}": str(value) for key, value in changes.items()}}
    return prepare(stack, config, lookups or OfflineLookups(), project_dir=PROJECT_DIR)


class Unreachable(OfflineLookups):
    """Azure and Entra asked nothing: bad input must stop prepare() before its first lookup."""

    def deployer(self) -> Deployer:
        raise AssertionError("prepare() asked Azure who deploys before the input was checked")

    def resource_group(self, name: str) -> ResourceGroup:
        raise AssertionError("prepare() read the resource group before the input was checked")

    def graph(self) -> GraphServicePrincipal:
        raise AssertionError("prepare() asked Graph for its scopes before the input was checked")


@pytest.mark.parametrize("stack", stacks())
def test_each_stack_is_prepared_from_its_config_and_what_azure_answers(stack):
    decisions = prepared(stack)
    assert decisions.subscription_id == SUBSCRIPTION_ID and decisions.tenant_id == TENANT_ID
    assert decisions.deployer_object_id == DEPLOYER_OBJECT_ID and decisions.deployer_principal_type == "User"
    assert decisions.names == names_for(SUBSCRIPTION_ID, stack, decisions.settings.location)
    group = decisions.names.resource_group
    assert decisions.resource_group == ResourceGroup(group, f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{group}")
    assert decisions.graph_scopes.service_principal_object_id == GRAPH_SERVICE_PRINCIPAL_OBJECT_ID
    assert decisions.connections == connection_specs(decisions.catalog)
    assert [row["connection"] for row in decisions.identity_matrix] == [
        tool.connection_reference for tool in decisions.catalog.tools]


def test_a_pipeline_identity_deploys_as_a_service_principal():
    class Pipeline(OfflineLookups):
        def deployer(self) -> Deployer:
            deployer = super().deployer()
            return Deployer(deployer.subscription_id, deployer.arm_tenant_id, deployer.entra_tenant_id,
                            deployer.object_id, "ServicePrincipal")

    assert prepared(lookups=Pipeline()).deployer_principal_type == "ServicePrincipal"


@pytest.mark.parametrize("key, value", [("location", "mars"), ("planSku", "WS9"), ("tenantId", "not-a-tenant"),
                                        ("disabledTools", '["no_such_tool"]')])
def test_bad_settings_stop_before_azure_or_entra_is_asked(key, value):
    with pytest.raises(SettingsError) as raised:
        prepared(lookups=Unreachable(), **{key: value})
    assert f"agent-obo:{key}" in str(raised.value)


def test_a_bad_catalog_stops_before_azure_or_entra_is_asked(tmp_path):
    document = catalog_document()
    tool_entry(document, "get_my_profile")["identity"] = "app"


    project = project_copy(tmp_path, {"catalog/tools.yaml": yaml.safe_dump(document, sort_keys=False)})
    with pytest.raises(SettingsError) as raised:
        prepare("dev", config_of("dev"), Unreachable(), project_dir=project)
    assert "get_my_profile" in str(raised.value) and "identity" in str(raised.value)


def test_the_catalog_is_read_from_the_project_directory(tmp_path):
    document = catalog_document()
    tool_entry(document, "get_my_profile")["scopes"] = ["User.Read", "User.ReadBasic.All"]
    project = project_copy(tmp_path, {"catalog/tools.yaml": yaml.safe_dump(document, sort_keys=False)})
    decisions = prepare("dev", config_of("dev"), OfflineLookups(), project_dir=project)
    assert "User.ReadBasic.All" in decisions.catalog.per_user_scopes()
    assert "User.ReadBasic.All" not in prepared().catalog.per_user_scopes()


def test_a_scope_graph_does_not_know_stops_the_plan_naming_the_tool():
    class OlderTenant(OfflineLookups):
        def graph(self) -> GraphServicePrincipal:
            graph = super().graph()
            known = {name: scope_id for name, scope_id in graph.delegated_scope_ids.items() if name != "Calendars.Read"}
            return GraphServicePrincipal(graph.object_id, known)

    with pytest.raises(SettingsError) as raised:
        prepared(lookups=OlderTenant())
    assert "scope 'Calendars.Read' (declared by get_my_upcoming_events)" in str(raised.value)


def test_a_sign_in_to_another_tenant_stops_before_the_group_is_read():
    class OtherTenant(OfflineLookups):
        def deployer(self) -> Deployer:
            deployer = super().deployer()
            return Deployer(deployer.subscription_id, "11111111-2222-3333-4444-555555555555",
                            deployer.entra_tenant_id, deployer.object_id, deployer.principal_type)

        def resource_group(self, name: str) -> ResourceGroup:
            raise AssertionError("the group was read from a sign-in to another tenant")

    with pytest.raises(SettingsError) as raised:
        prepared(lookups=OtherTenant())
    message = str(raised.value)
    assert "Azure Resource Manager (azure-native)" in message and "11111111-2222-3333-4444-555555555555" in message


def test_a_group_the_bootstrap_has_not_created_is_reported_with_the_way_to_create_it():
    class NoGroup(OfflineLookups):
        def resource_group(self, name: str) -> ResourceGroup:
            raise Exception(f"Resource group '{name}' could not be found.")

    with pytest.raises(SettingsError) as raised:
        prepared(lookups=NoGroup())
    message = str(raised.value)
    group = names_for(SUBSCRIPTION_ID, "dev", config_of("dev")["agent-obo:location"]).resource_group
    assert f"Resource group '{group}' could not be found." in message
    assert "the bootstrap creates one per stack file" in message
    assert f"az group create --name {group} --location" in message
