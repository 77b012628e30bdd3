"""What more than one test file uses: running the program with a change, reading the plan it records,
the repository's lock files and Makefile, and a catalog of every kind of tool.

The fixtures that run each stack file once per session are in tests/conftest.py; the policy pack's plan
mutations, with the cases each policy must catch, are in tests/policy_mutations.py.
"""

from __future__ import annotations

import base64
import inspect
import io
import json
import os
import re
import subprocess
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from agent_obo.catalog import ACCESS, APP_ONLY, CATALOG_FILE, DATA, PER_USER, Catalog, load_catalog, parse_catalog
from agent_obo.connectors import CONNECTORS
from agent_obo.errors import SettingsError
from agent_obo.graph_scopes import GRAPH_APP_ID, GraphServicePrincipal
from agent_obo.lookups import Deployer, ResourceGroup
from agent_obo.settings import load_settings
from agent_obo.tool_inputs import setting_rules
from agent_obo.write_guard import needs_guard
from offline.mocks import AzureMocks
from offline.plan import Plan, Registration
from offline.project_copy import project_copy
from offline.runner import PROJECT_DIR, RunResult, run_stack, stack_config, stack_file
from offline.sdk_classes import args_class, resource_class

# The resource types more than one test file looks up.
SITE = "azure-native:web:WebApp"
APP_SETTINGS = "azure-native:web:WebAppApplicationSettings"
AUTH = "azure-native:web:WebAppAuthSettingsV2WithoutSecrets"
STORAGE = "azure-native:storage:StorageAccount"
CONTAINER = "azure-native:storage:BlobContainer"
ROLE = "azure-native:authorization:RoleAssignment"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
CONNECTION = "azure-native:resources:Resource"  # a connection or an access policy: generic ARM resources
APP = "azuread:index/application:Application"
SP = "azuread:index/servicePrincipal:ServicePrincipal"
GRANT = "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant"
ASSIGNMENT = "azuread:index/appRoleAssignment:AppRoleAssignment"
PACKAGE = "pulumi-python:dynamic:Resource"

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


def assert_catalog_refused(document: dict, fragments: list[str]) -> None:
    """parse_catalog refuses `document` with a message that says every one of `fragments`."""
    with pytest.raises(SettingsError) as raised:
        parse_catalog(document)
    for fragment in fragments:
        assert fragment in str(raised.value), (fragment, str(raised.value))


def tool_entry(document: dict, name: str) -> dict:
    (entry,) = [tool for tool in document["tools"] if tool["name"] == name]
    return entry


def add_calendar_scope(document: dict) -> None:
    """A catalog change every stack previews: a per-user tool asks for one more delegated scope (one that only
    reads: the tool reads)."""
    tool_entry(document, "get_my_upcoming_events")["scopes"] = ["Calendars.Read", "Calendars.Read.Shared"]


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
    return load_settings(config, stack, secret_keys, tool_settings=setting_rules(load_catalog()))


# --- reading the plan -----------------------------------------------------------------------------------

def settings_of(stack: str):
    """A stack file's settings, as the program loads them."""
    return load_stack_settings(stack_config(stack_file(stack).get("config")), stack)


def app_settings(plan: Plan) -> dict[str, str]:
    """Every app setting of the site: all of them on its one config/appsettings resource."""
    assert plan.one(SITE).input("siteConfig.appSettings") is None, "the site itself carries no app settings"
    return dict(plan.one(APP_SETTINGS).input("properties"))


def package_files(plan: Plan) -> dict[str, bytes]:
    """The workflow package the program uploads, file by file."""
    blob = plan.one(PACKAGE)
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(blob.input("content_base64")))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def workflow(plan: Plan) -> dict:
    return json.loads(package_files(plan)["obo-agent/workflow.json"])


def agent_tools(plan: Plan) -> dict:
    (agent,) = [a for a in workflow(plan)["definition"]["actions"].values() if a["type"] == "Agent"]
    return agent["tools"]


def documented_sign_in_scopes() -> tuple[str, ...]:
    """The chat app's scopes as docs/operations.md states them ("requests only what sign-in needs: `...`"):
    the contract tests hold the plan to, rather than the program's own constant."""
    text = " ".join((PROJECT_DIR / "docs" / "operations.md").read_text().split())
    found = re.search(r"The chat app requests only what sign-in needs: `([^`]+)`", text)
    assert found, "docs/operations.md no longer states the chat app's sign-in scopes"
    return tuple(found.group(1).split())


def storage_roles(plan: Plan) -> list[Registration]:
    """The runtime identity's roles on the runtime storage account."""
    return [r for r in plan.all(ROLE) if r.name.startswith("runtime-storage-runtime-")]


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


@cache
def type_accepts_tags(type_token: str) -> bool:
    """Whether Azure tags a resource of this type, read from the SDK's arguments class for it."""
    cls = resource_class(type_token) if type_token.startswith("azure-native:") else None
    return cls is not None and "tags" in inspect.signature(args_class(cls).__init__).parameters


def accepts_tags(registration: Registration) -> bool:
    # A generic ARM resource under a parent (a connection's access policy) is not taggable in Azure.
    if registration.type == CONNECTION and registration.input("parentResourcePath"):
        return False
    return type_accepts_tags(registration.type)


# --- the repository: lock files and the Makefile ---------------------------------------------------------

DEPLOY_LOCK = PROJECT_DIR / "requirements.txt"
DEV_LOCK = PROJECT_DIR / "requirements-dev.txt"
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[A-Za-z0-9.+!-]+)(?: \\)?$")
_HASH = re.compile(r"^ {4}--hash=sha256:[0-9a-f]{64}(?: \\)?$")


@dataclass(frozen=True)
class Pin:
    version: str
    hashes: frozenset[str]


def normalized(name: str) -> str:
    """PEP 503: pulumi_azure_native, Pulumi-Azure-Native and pulumi.azure.native are one project."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path) -> dict[str, Pin]:
    """A pip-compile --generate-hashes file, refusing any line that is not a pin, a hash or a comment."""
    pins: dict[str, Pin] = {}
    name = None
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        pin, digest = _PIN.match(line), _HASH.match(line)
        assert pin or (digest and name), f"{path.name}:{number}: neither a pin nor its hash: {line!r}"
        if pin:
            name = normalized(pin["name"])
            assert name not in pins, f"{path.name}:{number}: {name} pinned twice"
            pins[name] = Pin(pin["version"], frozenset())
        else:
            pins[name] = Pin(pins[name].version, pins[name].hashes | {line.split("sha256:")[1].rstrip(" \\")})
    return pins


def pinned_version(package: str, lock: Path = DEPLOY_LOCK) -> str:
    return read_lock(lock)[normalized(package)].version


# --- the ops scripts: a signed-in operator -----------------------------------------------------------------

def fake_token(tenant_id: str, object_id: str) -> str:
    """An unsigned access token with the claims the scripts read (tid, oid)."""
    claims = base64.urlsafe_b64encode(json.dumps({"oid": object_id, "tid": tenant_id}).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJub25lIn0.{claims}.signature"


@dataclass
class FakeCredential:
    """Stands in for an azure-identity credential: hands out `token`, recording the scopes asked for."""
    token: str
    scopes: list[str] = field(default_factory=list)

    def get_token(self, *scopes: str):
        self.scopes += scopes
        return type("AccessToken", (), {"token": self.token})()


def make_dry_run(*arguments: str) -> list[str]:
    """The commands `make` would run (-n), without running them; run as a top-level make even when the
    suite itself runs under `make test`, which would otherwise add "Entering directory" lines."""
    environment = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    done = subprocess.run(["make", "-n", "--no-print-directory", *arguments], cwd=PROJECT_DIR, env=environment,
                          capture_output=True, text=True, check=True)
    return [line.rstrip() for line in done.stdout.splitlines()]


# --- every kind of tool the catalog rules allow ---------------------------------------------------------
# One per connector, identity mode, data and access. Tests that must hold "for every tool the catalog can
# produce" run over this catalog as well as the real one, so a rule that only today's tools happen to
# satisfy does not pass.

GUARD = {"choices": {
    "target": {"description": "Where the update goes, from the allow-list.",
               "values": {"alpha": "Alpha system", "beta": "Beta system"}},
    "state": {"description": "What the update says, from the allow-list.",
              "values": {"up": "Working normally", "down": "Not working"}},
}}


def entry(connector: str, identity: str, data: str, access: str) -> dict[str, Any]:
    name = f"{access}_{data}_{connector}_{identity.replace('-', '')}"
    wording = "as the signed-in user" if identity == PER_USER else "as the app"
    whose = "the signed-in user's own" if data == "user" else "shared"
    tool: dict[str, Any] = {
        "name": name,
        "description": f"A {access} of {whose} data through {connector}, {wording}.",
        "connector": connector,
        "identity": identity,
        "data": data,
        "access": access,
        "operation": {"method": "get" if access == "read" else "post", "path": f"/{name}",
                      "queries": {"top": "@agentParameters('count')"}},
        "arguments": {"type": "object", "required": ["count"], "properties": {
            "count": {"type": "integer", "minimum": 1, "maximum": 10, "description": "How many."}}},
    }
    if identity == PER_USER:
        tool["scopes"] = ["User.Read"]
    if access == "write":
        tool["requires_confirmation"] = True
    if (identity == APP_ONLY and data == "user" and access == "read") or (identity == PER_USER and access == "write"):
        tool["justification"] = "An exception the reviewers accepted, for the test."
    if needs_guard(identity, access):
        tool["write_guard"] = GUARD
        tool.pop("arguments")
        tool["operation"] = {"method": "post", "path": f"/{name}",
                             "body": {"text": "{choice:target} is {choice:state}; asked by {requester}"}}
    if identity == APP_ONLY and CONNECTORS[connector].reads_blob_containers:
        # A container of the runtime storage account, reached with the site's identity as the tool accesses it.
        tool["storage"] = {"container": f"{data}-data", "access": access}
        account = f"encodeUriComponent(parameters('{data}DataStorageAccount'))"
        tool["operation"]["path"] = f"/v2/datasets/@{{{account}}}/{name}"
    return tool


def every_tool_document() -> dict[str, Any]:
    tools = [entry(api, identity, data, access)
             for api, connector in sorted(CONNECTORS.items())
             for identity in ((PER_USER, APP_ONLY) if connector.per_user_capable else (APP_ONLY,))
             for data in DATA for access in ACCESS]
    return {"tools": tools}


def every_tool_catalog() -> Catalog:
    return parse_catalog(every_tool_document(), source="every-tool.yaml")
