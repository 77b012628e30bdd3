"""ops/grant_sign_in.py against a fake Microsoft Graph on the loopback interface: real HTTP, the
stacks' real plans standing in for both the checkout and the deployment."""

from __future__ import annotations

import copy
import json
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from agent_obo.graph_scopes import GRAPH_APP_ID, SIGN_IN_SCOPES
from offline.mocks import GRAPH_DELEGATED_SCOPES, TENANT_ID
from offline.plan import Plan
from offline.runner import RunResult
from ops import grant_sign_in
from tests.helpers import APP, FakeCredential, fake_token, make_dry_run, run_with

OTHER_TENANT = "0d9e8f7a-6b5c-4d3e-2f1a-0b9c8d7e6f5a"
STRANGER = "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d"  # assigned by hand, declared nowhere
GRAPH_SP = "5d8c1e3f-9a27-4b60-8e4d-1f7a2c9b0e53"
OTHER_API_SP = "4c3b2a19-0f8e-4d7c-b6a5-948372615a0b"


def token_for(tenant_id: str) -> str:
    return fake_token(tenant_id, "admin")


def registration(plan: Plan, name: str) -> dict[str, Any]:
    """An app registration as Microsoft Graph returns it, from its recorded plan registration."""
    app = plan.one(APP, name)
    return {"id": app.resource_id, "appId": app.outputs["clientId"], "displayName": app.input("displayName"),
            "signInAudience": app.input("signInAudience"),
            "requiredResourceAccess": [
                {"resourceAppId": r["resourceAppId"],
                 "resourceAccess": [{"id": a["id"], "type": a["type"]} for a in r["resourceAccesses"]]}
                for r in app.input("requiredResourceAccesses") or []]}


class FakeGraph:
    """The Graph calls the script makes, over real HTTP on 127.0.0.1, on an in-memory tenant holding
    the stack's apps (the chat app and the verification client) as `pulumi up` leaves them."""

    def __init__(self, plan: Plan):
        outputs = plan.stack_outputs
        self.chat_sp = outputs["signInAssignments"]["servicePrincipalObjectId"]
        self.verification_sp = outputs["verificationClientAssignments"]["servicePrincipalObjectId"]
        self.applications = {sp: registration(plan, name) for sp, name in
                             ((self.chat_sp, "chat-app-app"), (self.verification_sp, "verification-client-app"))}
        self.required: dict[str, bool] = {sp: True for sp in self.applications}
        self.grants: dict[str, dict[str, Any]] = {}
        self.assignments: dict[str, dict[str, Any]] = {}
        declared = [outputs["signInAssignments"], outputs["verificationClientAssignments"]]
        self.directory = {user: "#microsoft.graph.user" for a in declared for user in a["users"]}
        self.directory.update({group: "#microsoft.graph.group" for a in declared for group in a["groups"]})
        self.directory[STRANGER] = "#microsoft.graph.user"
        self.requests: list[tuple[str, str, Any]] = []
        self.refuse: dict[tuple[str, str], int] = {}  # (method, path prefix) -> status
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).removeprefix("/v1.0")
                fake.requests.append((self.command, path, body))
                assert self.headers["Authorization"] == f"Bearer {token_for(TENANT_ID)}"
                status, answer = fake.answer(self.command, path, body)
                data = json.dumps(answer).encode() if answer is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._answer()

            def do_POST(self):
                self._answer()

            def do_PATCH(self):
                self._answer()

            def do_DELETE(self):
                self._answer()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1.0"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def chat_app(self) -> dict[str, Any]:
        return self.applications[self.chat_sp]

    def grant(self, scope: str, resource: str = GRAPH_SP, consent_type: str = "AllPrincipals",
              client: str | None = None) -> None:
        grant_id = str(uuid.uuid4())
        self.grants[grant_id] = {"id": grant_id, "clientId": client or self.chat_sp, "consentType": consent_type,
                                 "resourceId": resource, "scope": scope}

    def assign(self, principal: str, resource: str | None = None) -> None:
        assignment_id = str(uuid.uuid4())
        self.assignments[assignment_id] = {"id": assignment_id, "principalId": principal, "principalType": "User",
                                           "principalDisplayName": "someone", "resourceId": resource or self.chat_sp,
                                           "appRoleId": "00000000-0000-0000-0000-000000000000"}

    @property
    def writes(self) -> list[tuple[str, str, Any]]:
        return [request for request in self.requests if request[0] != "GET"]

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        for (refused_method, prefix), status in self.refuse.items():
            if method == refused_method and path.startswith(prefix):
                return status, {"error": {"code": "Authorization_RequestDenied", "message": "fake refusal"}}
        by_client = {app["appId"]: sp for sp, app in self.applications.items()}
        if method == "GET" and path.startswith("/applications(appId='"):
            sp = by_client.get(path.split("'")[1])
            return (200, self.applications[sp]) if sp else (404, {"error": {"code": "NotFound", "message": path}})
        if method == "GET" and path == f"/servicePrincipals(appId='{GRAPH_APP_ID}')":
            return 200, {"id": GRAPH_SP, "oauth2PermissionScopes": [
                {"value": name, "id": scope_id} for name, scope_id in GRAPH_DELEGATED_SCOPES.items()]}
        if method == "GET" and path.startswith("/servicePrincipals(appId='"):
            sp = by_client[path.split("'")[1]]
            return 200, {"id": sp, "appRoleAssignmentRequired": self.required[sp]}
        if method == "GET" and path.endswith("/oauth2PermissionGrants"):
            sp = path.split("/")[2]
            return 200, {"value": [g for g in self.grants.values() if g["clientId"] == sp]}
        if method == "GET" and path.endswith("/appRoleAssignedTo"):
            sp = path.split("/")[2]
            return 200, {"value": [a for a in self.assignments.values() if a["resourceId"] == sp]}
        if method == "GET" and path.startswith("/directoryObjects/"):
            object_id = path.rsplit("/", 1)[1]
            if object_id not in self.directory:
                return 404, {"error": {"code": "Request_ResourceNotFound", "message": object_id}}
            return 200, {"@odata.type": self.directory[object_id], "id": object_id, "displayName": "principal"}
        if method == "POST" and path == "/oauth2PermissionGrants":
            self.grant(body["scope"], body["resourceId"], body["consentType"], body["clientId"])
            return 201, body
        if method == "PATCH" and path.startswith("/oauth2PermissionGrants/"):
            self.grants[path.rsplit("/", 1)[1]].update(body)
            return 204, None
        if method == "DELETE" and path.startswith("/oauth2PermissionGrants/"):
            del self.grants[path.rsplit("/", 1)[1]]
            return 204, None
        if method == "POST" and path.endswith("/appRoleAssignedTo"):
            assert body["resourceId"] == path.split("/")[2]
            self.assign(body["principalId"], body["resourceId"])
            return 201, body
        if method == "DELETE" and "/appRoleAssignedTo/" in path:
            del self.assignments[path.rsplit("/", 1)[1]]
            return 204, None
        return 404, {"error": {"code": "NotFound", "message": f"{method} {path}"}}

    def consented(self, sp: str | None = None) -> list[str]:
        (grant,) = [g for g in self.grants.values() if g["clientId"] == (sp or self.chat_sp)
                    and g["resourceId"] == GRAPH_SP and g["consentType"] == "AllPrincipals"]
        return sorted(grant["scope"].split())

    def assigned(self, sp: str | None = None) -> list[str]:
        return sorted(a["principalId"] for a in self.assignments.values() if a["resourceId"] == (sp or self.chat_sp))


@pytest.fixture
def tenant(plans):
    fake = FakeGraph(plans["dev"])
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def grant(plan: Plan, tenant: FakeGraph, tmp_path, *arguments: str, outputs: dict[str, Any] | None = None,
          signed_in_to: str = TENANT_ID) -> int:
    """Runs the script for dev with `plan` as the checkout and `outputs` (default: the plan's) as the
    deployment."""
    outputs_file = tmp_path / "outputs.json"
    outputs_file.write_text(json.dumps(outputs if outputs is not None else plan.stack_outputs))
    return grant_sign_in.main(["dev", "--outputs", str(outputs_file), "--graph-url", tenant.url, *arguments],
                              credential=FakeCredential(token_for(signed_in_to)),
                              run=lambda stack: RunResult(plan=plan, error=None))


def declared_group(plan: Plan) -> str:
    (group,) = plan.stack_outputs["signInAssignments"]["groups"]
    return group


# --- a fresh environment ------------------------------------------------------------------------------

def verification_users(plan: Plan) -> list[str]:
    return plan.stack_outputs["verificationClientAssignments"]["users"]


def test_without_execute_it_lists_the_changes_and_writes_nothing(plans, tenant, tmp_path, capsys):
    assert grant(plans["dev"], tenant, tmp_path) == 0
    out = capsys.readouterr().out
    changes = 2 + len(verification_users(plans["dev"]))
    assert f"{changes} change(s) to make" in out
    assert f"consent, for all users, to Microsoft Graph {' '.join(sorted(SIGN_IN_SCOPES))}" in out
    assert f"assign group 'principal' ({declared_group(plans['dev'])}) to the chat app" in out
    for user in verification_users(plans["dev"]):
        assert f"assign user 'principal' ({user}) to the verification client" in out
    assert tenant.writes == [] and tenant.grants == {} and tenant.assignments == {}


def test_execute_grants_exactly_the_sign_in_scopes_and_assigns_the_declared_principals(plans, tenant, tmp_path,
                                                                                       capsys):
    assert grant(plans["dev"], tenant, tmp_path, "--execute") == 0
    assert tenant.consented() == sorted(SIGN_IN_SCOPES)
    (consent,) = tenant.grants.values()  # the verification client needs none: the chat app pre-authorizes it
    assert consent["consentType"] == "AllPrincipals" and consent["clientId"] == tenant.chat_sp
    assert tenant.assigned() == [declared_group(plans["dev"])]
    assert tenant.assigned(tenant.verification_sp) == sorted(verification_users(plans["dev"]))
    assert {a["appRoleId"] for a in tenant.assignments.values()} == {"00000000-0000-0000-0000-000000000000"}
    writes = len(tenant.writes)
    assert grant(plans["dev"], tenant, tmp_path, "--execute") == 0
    assert "the tenant matches: nothing to change" in capsys.readouterr().out
    assert len(tenant.writes) == writes


def test_a_stack_that_delegates_gets_exactly_the_tools_scopes_too(tenant, tmp_path):
    delegating = run_with({"agent-obo:delegateToolScopesToChatApp": True}).ok()
    tenant.applications[tenant.chat_sp] = registration(delegating, "chat-app-app")  # deployed from it
    assert grant(delegating, tenant, tmp_path, "--execute") == 0
    assert tenant.consented() == delegating.stack_outputs["graphScopes"]
    assert set(tenant.consented()) > set(SIGN_IN_SCOPES)


# --- the tenant made to match exactly -----------------------------------------------------------------

def test_wider_grants_and_undeclared_assignments_are_taken_back(plans, tenant, tmp_path, capsys):
    tenant.grant(" ".join([*SIGN_IN_SCOPES, "Mail.Read", "Calendars.Read"]))
    tenant.grant("user_impersonation", resource=OTHER_API_SP)
    tenant.grant("Mail.Send", consent_type="Principal")  # one user's own consent: theirs to revoke
    tenant.grant("User.Read", client=tenant.verification_sp)  # the verification client needs no grant
    tenant.assign(STRANGER)
    tenant.assign(STRANGER, tenant.verification_sp)
    assert grant(plans["dev"], tenant, tmp_path, "--execute") == 0
    out = capsys.readouterr().out
    assert "remove: Calendars.Read Mail.Read" in out
    assert tenant.consented() == sorted(SIGN_IN_SCOPES)
    tenant_wide = [(g["clientId"], g["resourceId"]) for g in tenant.grants.values()
                   if g["consentType"] == "AllPrincipals"]
    assert tenant_wide == [(tenant.chat_sp, GRAPH_SP)]
    assert any(g["consentType"] == "Principal" for g in tenant.grants.values())
    assert tenant.assigned() == [declared_group(plans["dev"])]
    assert tenant.assigned(tenant.verification_sp) == sorted(verification_users(plans["dev"]))


# --- what stops it before anything is granted ---------------------------------------------------------

def test_a_deployment_that_disagrees_with_the_checkout_is_refused_before_any_sign_in(plans, tenant, tmp_path,
                                                                                      capsys):
    outputs = copy.deepcopy(plans["dev"].stack_outputs)
    outputs["graphScopes"] = sorted([*outputs["graphScopes"], "Mail.Read"])
    outputs["signInAssignments"]["groups"].append(STRANGER)
    outputs["verificationClientAssignments"]["users"].append(STRANGER)
    assert grant(plans["dev"], tenant, tmp_path, "--execute", outputs=outputs) == 2
    err = capsys.readouterr().err
    assert "the deployment and this checkout disagree" in err
    for key in ("graphScopes", "signInAssignments.groups", "verificationClientAssignments.users"):
        assert key in err, key
    assert tenant.requests == []


@pytest.mark.parametrize("app", ["chat", "verification"])
def test_an_outputs_file_naming_another_app_is_refused(plans, tenant, tmp_path, capsys, app):
    sp = tenant.chat_sp if app == "chat" else tenant.verification_sp
    tenant.applications[sp]["displayName"] = "someone-elses-app"
    assert grant(plans["dev"], tenant, tmp_path, "--execute") == 2
    assert "not the stack's single-tenant 'agent-obo-dev-" in capsys.readouterr().err
    assert tenant.writes == []


def test_a_multi_tenant_app_is_refused(plans, tenant, tmp_path, capsys):
    tenant.chat_app["signInAudience"] = "AzureADMultipleOrgs"
    assert grant(plans["dev"], tenant, tmp_path, "--execute") == 2
    assert tenant.writes == []


def test_an_app_requesting_other_scopes_is_refused(plans, tenant, tmp_path, capsys):
    tenant.chat_app["requiredResourceAccess"][0]["resourceAccess"].append(
        {"id": GRAPH_DELEGATED_SCOPES["Mail.Read"], "type": "Scope"})
    assert grant(plans["dev"], tenant, tmp_path, "--execute") == 2
    assert "requests other Microsoft Graph scopes" in capsys.readouterr().err
    assert tenant.writes == []


def test_a_declared_group_that_is_a_user_is_refused(plans, tenant, tmp_path, capsys):
    tenant.directory[declared_group(plans["dev"])] = "#microsoft.graph.user"
    assert grant(plans["dev"], tenant, tmp_path, "--execute") == 2
    assert "declared among the chat app's groups" in capsys.readouterr().err
    assert tenant.writes == []


def test_a_sign_in_to_another_tenant_is_refused(plans, tenant, tmp_path, capsys):
    assert grant(plans["dev"], tenant, tmp_path, "--execute", signed_in_to=OTHER_TENANT) == 2
    assert f"az login --tenant {TENANT_ID}" in capsys.readouterr().err
    assert tenant.requests == []


@pytest.mark.parametrize("url", ["http://graph.example.com/v1.0", "ftp://127.0.0.1/v1.0", "graph.microsoft.com"])
def test_a_token_goes_only_to_https_or_loopback(url):
    with pytest.raises(grant_sign_in.ConfigurationError):
        grant_sign_in.Graph(url, "token")
    assert grant_sign_in.Graph("https://graph.microsoft.com/v1.0/", "token").base_url == "https://graph.microsoft.com/v1.0"


def test_a_refused_change_is_reported_and_fails_the_run(plans, tenant, tmp_path, capsys):
    tenant.refuse[("POST", "/oauth2PermissionGrants")] = 403
    assert grant(plans["dev"], tenant, tmp_path, "--execute") == 1
    out = capsys.readouterr().out
    assert "FAILED  consent" in out and "Cloud Application Administrator" in out
    assert tenant.assigned() == [declared_group(plans["dev"])]  # the other changes still made


# --- the make target ----------------------------------------------------------------------------------

def test_make_grant_sign_in_lists_and_executes_on_request():
    assert make_dry_run("grant-sign-in", "STACK=prod")[-1] == ".venv/bin/python -m ops.grant_sign_in prod"
    assert make_dry_run("grant-sign-in", "STACK=prod", "EXECUTE=1")[-1] == \
        ".venv/bin/python -m ops.grant_sign_in prod --execute"


def test_a_deployment_without_the_verification_client_the_checkout_declares_is_refused(plans, tenant, tmp_path,
                                                                                      capsys):
    outputs = {k: v for k, v in plans["dev"].stack_outputs.items() if not k.startswith("verificationClient")}
    assert grant(plans["dev"], tenant, tmp_path, "--execute", outputs=outputs) == 2
    assert "no verificationClientId" in capsys.readouterr().err
    assert tenant.requests == []
