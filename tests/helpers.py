"""What more than one test file uses: running the program with a change, and reading the plan it records.

The fixtures that run each stack file once per session are in tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import yaml

from agent_obo.catalog import CATALOG_FILE
from agent_obo.graph_scopes import GRAPH_APP_ID, GraphServicePrincipal
from agent_obo.lookups import Deployer, ResourceGroup
from offline.mocks import AzureMocks
from offline.plan import Plan
from offline.project_copy import project_copy
from offline.runner import PROJECT_DIR, RunResult, run_stack

# --- running the program with a change ----------------------------------------------------------------

ACCESS_KEY = {"agent-obo:hostStorageAuthentication": "accessKey"}  # the other host-storage mode

def run_with(overrides: dict, stack: str = "dev", mode: str = "up", baseline: Plan | None = None,
             mocks: pulumi.runtime.Mocks | None = None) -> RunResult:
    """A stack file with some settings changed, run through the real program."""
    return run_stack(stack, overrides, mode=mode, baseline=baseline, mocks=mocks)


def catalog_document() -> dict[str, Any]:
    return yaml.safe_load((PROJECT_DIR / CATALOG_FILE).read_text())


def changed_catalog(mutate: Callable[[dict], None], into: Path) -> Path:
    """A project copy whose catalog/tools.yaml is this one's with `mutate` applied to its parsed YAML."""
    document = catalog_document()
    mutate(document)
    return project_copy(into, {str(CATALOG_FILE): yaml.safe_dump(document, sort_keys=False)})


def run_with_catalog(mutate: Callable[[dict], None], tmp_path: Path, overrides: dict | None = None,
                     stack: str = "dev", mode: str = "up", baseline: Plan | None = None) -> RunResult:
    """The real program with a changed catalog (`mutate` edits its parsed YAML), in a project copy at
    `tmp_path` (the plan's project_dir: the policy harness reads the same catalog)."""
    project = changed_catalog(mutate, tmp_path)
    return run_stack(stack, overrides, project_dir=project, mode=mode, baseline=baseline)


def tool_entry(document: dict, name: str) -> dict:
    (entry,) = [tool for tool in document["tools"] if tool["name"] == name]
    return entry


def add_calendar_write_scope(document: dict) -> None:
    """A catalog change every stack previews: a per-user tool asks for one more delegated scope."""
    tool_entry(document, "get_my_upcoming_events")["scopes"] = ["Calendars.Read", "Calendars.ReadWrite"]


class OfflineLookups:
    """The lookups of agent_obo/lookups.py answered as the offline mocks answer the invokes behind them
    (offline/mocks.py), for calling prepare() without running Pulumi; a test overrides one to see the
    program meet another answer."""

    def __init__(self, mocks: AzureMocks | None = None):
        self.mocks = mocks or AzureMocks()

    def _invoke(self, token: str, **args: Any) -> dict[str, Any]:
        answer, _ = self.mocks.call(pulumi.runtime.MockCallArgs(token=token, args=args, provider=""))
        return answer

    def deployer(self) -> Deployer:
        azure = self._invoke("azure-native:authorization:getClientConfig")
        entra = self._invoke("azuread:index/getClientConfig:getClientConfig")
        as_service_principal = self._invoke("azuread:index/getServicePrincipals:getServicePrincipals",
                                            objectIds=[entra["objectId"]], ignoreMissing=True)
        return Deployer(subscription_id=azure["subscriptionId"], arm_tenant_id=azure["tenantId"],
                        entra_tenant_id=entra["tenantId"], object_id=entra["objectId"],
                        principal_type="ServicePrincipal" if as_service_principal["servicePrincipals"] else "User")

    def resource_group(self, name: str) -> ResourceGroup:
        group = self._invoke("azure-native:resources:getResourceGroup", resourceGroupName=name)
        return ResourceGroup(name=group["name"], id=group["id"])

    def graph(self) -> GraphServicePrincipal:
        graph = self._invoke("azuread:index/getServicePrincipal:getServicePrincipal", clientId=GRAPH_APP_ID)
        return GraphServicePrincipal(object_id=graph["objectId"], delegated_scope_ids=graph["oauth2PermissionScopeIds"])


def load_stack_settings(config, stack: str = "dev", secret_keys=()):
    """load_settings with the rules of this checkout's tool settings (catalog/tools.yaml), as prepare() calls it."""
    from agent_obo.catalog import load_catalog
    from agent_obo.settings import load_settings
    from agent_obo.tool_inputs import setting_rules

    return load_settings(config, stack, secret_keys, tool_settings=setting_rules(load_catalog()))
