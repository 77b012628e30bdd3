"""ops/authorize_connections.py against a fake ARM endpoint on the loopback interface: real HTTP, the
dev stack's real outputs, a simulated browser that follows the consent link's redirect."""

from __future__ import annotations

import base64
import copy
import json
import os
import stat
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ops import authorize_connections as authorize
from ops.consent_redirect import ConsentRedirect
from tests.helpers import FakeCredential, fake_token, make_dry_run

OBJECT_ID = "6f1d2b3c-0000-4000-8000-00000000a11c"
CONNECT_LINK = "https://westeurope.consent.azure-apim.net/login?data=fake"


def token_for(tenant_id: str) -> str:
    return fake_token(tenant_id, OBJECT_ID)


@dataclass
class Browser:
    """What the operator's browser does with a consent link: the consent server redirects it to
    redirectUrl with `code=` (or `error=`, or nothing when it completed the consent itself)."""

    query: dict[str, str] | None
    forged_first: bool = False  # another local page hitting the listener without its pid
    forged_status: int | None = None

    def follow(self, redirect_url: str) -> None:
        def go():
            if self.forged_first:
                forged = urllib.parse.urlsplit(redirect_url)._replace(query="pid=guess&code=attacker").geturl()
                try:
                    urllib.request.urlopen(forged, timeout=5)
                except urllib.error.HTTPError as error:
                    self.forged_status = error.code
            if self.query is not None:
                urllib.request.urlopen(f"{redirect_url}&{urllib.parse.urlencode(self.query)}", timeout=5).read()
        threading.Thread(target=go, daemon=True).start()


class FakeArm:
    """Microsoft.Web/connections GET, listConsentLinks and confirmConsentCode, over real HTTP on
    127.0.0.1. `connections` maps resource id -> the connection body; `browsers` what each consent
    link leads to; `failures` a status to answer for a resource id."""

    def __init__(self):
        self.connections: dict[str, dict[str, Any]] = {}
        self.browsers: dict[str, Browser] = {}
        self.failures: dict[str, int] = {}
        self.redirects: dict[str, str] = {}
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self._answer(None)

            def do_POST(self):
                self._answer(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))

            def _answer(self, body):
                target = urllib.parse.urlsplit(self.path)
                fake.requests.append({"method": self.command, "path": target.path, "query": target.query,
                                      "auth": self.headers.get("Authorization"), "body": body})
                status, answer = fake.answer(self.command, target.path, body)
                data = json.dumps(answer).encode() if answer is not None else b""
                self.send_response(status)
                if status == 307:
                    self.send_header("Location", answer["location"])
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        resource_id, _, action = path.partition("/providers/Microsoft.Web/connections/")
        name, _, action = action.partition("/")
        resource_id = f"{resource_id}/providers/Microsoft.Web/connections/{name}"
        if resource_id in self.redirects:
            return 307, {"location": self.redirects[resource_id]}
        if resource_id in self.failures:
            status = self.failures[resource_id]
            return status, {"error": {"code": {401: "InvalidAuthenticationToken", 403: "AuthorizationFailed",
                                               404: "ResourceNotFound"}[status], "message": f"fake {status}"}}
        connection = self.connections[resource_id]
        if method == "GET" and not action:
            return 200, connection
        if action == "listConsentLinks":
            self.browsers[resource_id].follow(body["parameters"][0]["redirectUrl"])
            return 200, {"value": [{"link": CONNECT_LINK, "status": "Unauthenticated"}]}
        if action == "confirmConsentCode":
            if body.get("code") == "good-code":
                connection["properties"] = connected()
            return 200, None  # the script LogicAppConnectionAuth.ps1 notes an empty answer here
        return 400, {"error": {"code": "BadRequest", "message": path}}

    def calls(self, action: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].endswith(f"/{action}")]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def connected() -> dict[str, Any]:
    return {"overallStatus": "Connected", "statuses": [{"status": "Connected"}]}


def unauthenticated() -> dict[str, Any]:
    return {"overallStatus": "Error", "statuses": [{"status": "Error", "target": "token", "error": {
        "code": "Unauthenticated", "message": "This connection is not authenticated."}}]}


@pytest.fixture
def arm():
    fake = FakeArm()
    yield fake
    fake.close()


@pytest.fixture
def outputs(plans, tmp_path):
    """The dev stack's outputs, as `pulumi stack output --json` would print them after `pulumi up`."""
    values = copy.deepcopy(plans["dev"].stack_outputs)
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(values))
    return values, path


def listed(outputs) -> dict[str, dict[str, Any]]:
    return {entry["connection"]: entry for entry in outputs[0]["connectionsNeedingAuthorization"]}


def run(arm: FakeArm, outputs, *extra: str, credential=None) -> int:
    values, path = outputs
    credential = credential or FakeCredential(token_for(values["tenantId"]))
    return authorize.main(["dev", "--outputs", str(path), "--arm-url", arm.url, "--timeout", "5", *extra],
                          credential=credential)


def prepare(arm: FakeArm, outputs, **browsers: Browser | None) -> dict[str, dict[str, Any]]:
    """Every listed connection unauthenticated; those given a browser None are already connected."""
    entries = listed(outputs)
    for name, entry in entries.items():
        browser = browsers.get(name.replace("-", "_"), Browser({"code": "good-code"}))
        arm.connections[entry["resourceId"]] = {"name": entry["azureName"],
                                                "properties": connected() if browser is None else unauthenticated()}
        if browser is not None:
            arm.browsers[entry["resourceId"]] = browser
    return entries


# --- the whole flow ---------------------------------------------------------------------------------

def test_per_user_and_app_only_connections_are_authorized_with_the_operators_identity(arm, outputs, capsys):
    entries = prepare(arm, outputs)
    assert run(arm, outputs) == 0
    tenant = outputs[0]["tenantId"]
    for entry in entries.values():
        (links,) = [c for c in arm.calls("listConsentLinks") if c["path"].startswith(entry["resourceId"])]
        (parameter,) = links["body"]["parameters"]
        assert parameter["objectId"] == OBJECT_ID and parameter["tenantId"] == tenant
        assert parameter["parameterName"] == "token"
        assert parameter["redirectUrl"].startswith("http://127.0.0.1:")
        assert links["query"] == "api-version=2016-06-01"
        (confirm,) = [c for c in arm.calls("confirmConsentCode") if c["path"].startswith(entry["resourceId"])]
        assert confirm["body"] == {"objectId": OBJECT_ID, "tenantId": tenant, "code": "good-code"}
    assert {r["auth"] for r in arm.requests} == {f"Bearer {token_for(tenant)}"}
    out = capsys.readouterr().out
    assert out.count(CONNECT_LINK) == len(entries)  # each link shown whole
    assert "office365-peruser-" in out and "(teams, app-only)" in out
    assert "the service account every call then runs as" in out
    assert f"Stack dev: {len(entries)} of {len(entries)} connection(s) connected" in out
    assert "good-code" not in out


def test_the_report_lists_each_connection_with_its_result_and_status(arm, outputs, capsys):
    entries = prepare(arm, outputs, teams_apponly=None,
                      office365users_peruser=Browser({"code": "rejected-code"}))
    assert run(arm, outputs) == 1
    report = capsys.readouterr().out.split("\n\n")[-1]
    rows = {line.split()[0]: line.split() for line in report.splitlines()[2:] if not line.startswith("      ")}
    assert rows["teams-apponly"][1:] == ["teams", "app-only", "already", "connected", "Connected"]
    assert rows[entries["office365-peruser"]["azureName"]][1:] == ["office365", "per-user", "authorized", "Connected"]
    assert rows[entries["office365users-peruser"]["azureName"]][3:] == ["not", "connected", "Error"]
    assert "Unauthenticated: This connection is not authenticated." in report
    assert report.startswith("Stack dev: 3 of 4 connection(s) connected")


def test_an_already_connected_connection_is_skipped(arm, outputs):
    entries = prepare(arm, outputs, teams_apponly=None)
    assert run(arm, outputs) == 0
    teams = entries["teams-apponly"]["resourceId"]
    assert [r["method"] for r in arm.requests if r["path"].startswith(teams)] == ["GET"]


def test_without_a_code_in_the_redirect_nothing_is_confirmed(arm, outputs):
    """The consent server may finish the authorization itself (the VS Code designer's `valid` case)."""
    entries = prepare(arm, outputs, office365_peruser=Browser({}))
    office365 = entries["office365-peruser"]["resourceId"]
    arm.connections[office365]["properties"] = unauthenticated()
    original = arm.answer

    def consent_completes(method, path, body):
        if path == f"{office365}/listConsentLinks":
            arm.connections[office365]["properties"] = connected()
        return original(method, path, body)

    arm.answer = consent_completes
    assert run(arm, outputs) == 0
    assert not [c for c in arm.calls("confirmConsentCode") if c["path"].startswith(office365)]


def test_a_consent_error_is_reported_decoded_and_nothing_is_confirmed(arm, outputs, capsys):
    message = base64.b64encode(b"AADSTS65004: User declined to consent").decode()
    entries = prepare(arm, outputs, teams_apponly=Browser({"error": message}))
    assert run(arm, outputs) == 1
    teams = entries["teams-apponly"]["resourceId"]
    assert not [c for c in arm.calls("confirmConsentCode") if c["path"].startswith(teams)]
    assert "the consent server reported: AADSTS65004: User declined to consent" in capsys.readouterr().out


def test_no_sign_in_within_the_timeout_fails_that_connection_only(arm, outputs, capsys):
    prepare(arm, outputs, teams_apponly=Browser(None))
    assert run(arm, outputs, "--timeout", "0.3") == 1
    out = capsys.readouterr().out
    assert "no sign-in finished within 0.3 s" in out
    assert "Stack dev: 3 of 4 connection(s) connected" in out


@pytest.mark.parametrize("status, advice", [
    (401, "az login --tenant"),
    (403, "listConsentLinks/action and confirmConsentCode/action"),
    (404, "deploy the stack first (`make up`)"),
])
def test_arm_errors_fail_that_connection_with_advice(arm, outputs, capsys, status, advice):
    entries = prepare(arm, outputs)
    office365 = entries["office365-peruser"]["resourceId"]
    arm.failures[office365] = status
    assert run(arm, outputs) == 1
    out = capsys.readouterr().out
    assert advice in out and f"fake {status}" in out
    assert not [c for c in arm.requests if c["path"].startswith(office365) and c["method"] == "POST"]
    assert "Stack dev: 3 of 4 connection(s) connected" in out


def test_the_token_does_not_follow_an_arm_redirect(arm, outputs, capsys):
    """urllib would send the Authorization header on to wherever a redirect points."""
    elsewhere = FakeArm()
    try:
        entries = prepare(arm, outputs)
        office365 = entries["office365-peruser"]["resourceId"]
        arm.redirects[office365] = f"{elsewhere.url}{office365}?api-version=2016-06-01"
        assert run(arm, outputs) == 1
        assert elsewhere.requests == []
        assert "ARM answered 307" in capsys.readouterr().out
    finally:
        elsewhere.close()


@pytest.mark.parametrize("answer", [
    {"value": []},
    {"value": [{"link": "http://consent.example/login"}]},
    {"value": [{"link": "javascript:alert(1)"}]},
    {},
])
def test_only_an_https_consent_link_is_shown(answer):
    with pytest.raises(authorize.ArmError, match="no https link"):
        authorize.consent_link(answer)


# --- the loopback listener --------------------------------------------------------------------------

def test_the_listener_binds_loopback_only_and_ignores_requests_without_its_pid():
    browser = Browser({"code": "good-code"}, forged_first=True)
    with ConsentRedirect() as listener:
        assert listener._server.server_address[0] == "127.0.0.1"
        browser.follow(listener.url)
        redirect = listener.wait(5)
    assert browser.forged_status == 404
    assert redirect is not None and redirect.code == "good-code"


def test_the_listener_takes_one_redirect_only():
    with ConsentRedirect() as listener:
        urllib.request.urlopen(f"{listener.url}&code=first", timeout=5).read()
        with pytest.raises(urllib.error.HTTPError) as second:
            urllib.request.urlopen(f"{listener.url}&code=second", timeout=5)
        assert second.value.code == 404
        assert listener.wait(1).code == "first"


def test_the_redirect_port_can_be_fixed_for_ssh_forwarding():
    with ConsentRedirect() as taken:
        port = taken._server.server_address[1]
    with ConsentRedirect(port) as listener:
        assert listener.url.startswith(f"http://127.0.0.1:{port}/authredirect?pid=")


# --- refusing to start ------------------------------------------------------------------------------

def test_the_wrong_tenant_is_refused_before_any_arm_call(arm, outputs, capsys):
    prepare(arm, outputs)
    assert run(arm, outputs, credential=FakeCredential(token_for("00000000-0000-0000-0000-000000000000"))) == 2
    assert f"az login --tenant {outputs[0]['tenantId']}" in capsys.readouterr().err
    assert arm.requests == []


def test_outputs_without_a_tenant_are_refused_before_signing_in(arm, outputs, capsys):
    values, path = outputs
    del values["tenantId"]
    path.write_text(json.dumps(values))
    credential = FakeCredential(token_for("00000000-0000-0000-0000-000000000000"))
    assert run(arm, outputs, credential=credential) == 2
    assert "no tenantId" in capsys.readouterr().err
    assert credential.scopes == [] and arm.requests == []


def test_an_entry_aimed_outside_the_stacks_resource_group_is_refused(arm, outputs, capsys):
    values, path = outputs
    entry = values["connectionsNeedingAuthorization"][0]
    entry["resourceId"] = entry["resourceId"].replace(values["resourceGroup"], "rg-someone-else")
    path.write_text(json.dumps(values))
    assert run(arm, outputs) == 2
    assert "not the connection" in capsys.readouterr().err
    assert arm.requests == []


@pytest.mark.parametrize("action", ["roleAssignments/x", "connections/other"])
def test_an_entry_whose_id_is_not_that_connection_is_refused(outputs, action):
    values, _ = outputs
    entry = values["connectionsNeedingAuthorization"][0]
    entry["resourceId"] = entry["resourceId"].rsplit("/connections/", 1)[0] + f"/{action}"
    with pytest.raises(authorize.ConfigurationError, match="is not the connection"):
        authorize.entries_from(values)


def test_outputs_of_an_older_deployment_say_to_deploy_first(outputs):
    values, _ = outputs
    values["connectionsNeedingAuthorization"] = ["teams-apponly"]
    with pytest.raises(authorize.ConfigurationError, match="run `make up` first"):
        authorize.entries_from(values)


def test_a_bearer_token_never_goes_to_plain_http_off_the_loopback_interface(outputs, capsys):
    values, path = outputs
    credential = FakeCredential(token_for(values["tenantId"]))
    code = authorize.main(["dev", "--outputs", str(path), "--arm-url", "http://management.azure.com"],
                          credential=credential)
    assert code == 2 and "only to https" in capsys.readouterr().err
    assert credential.scopes == []


def test_the_token_is_asked_for_the_arm_audience(arm, outputs):
    prepare(arm, outputs)
    credential = FakeCredential(token_for(outputs[0]["tenantId"]))
    assert run(arm, outputs, credential=credential) == 0
    assert credential.scopes == [f"{arm.url}/.default"]
    assert authorize.ARM_URL == "https://management.azure.com"


# --- outputs from the pulumi CLI, and the Makefile target -------------------------------------------

def fake_pulumi(tmp_path, monkeypatch, script: str) -> None:
    binary = tmp_path / "bin" / "pulumi"
    binary.parent.mkdir()
    binary.write_text(f"#!/bin/sh\n{script}\n")
    binary.chmod(binary.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{binary.parent}{os.pathsep}{os.environ['PATH']}")


def test_outputs_come_from_pulumi_stack_output(arm, outputs, tmp_path, monkeypatch):
    prepare(arm, outputs)
    fake_pulumi(tmp_path, monkeypatch, f'[ "$*" = "stack output --json --stack dev" ] && cat {outputs[1]}')
    credential = FakeCredential(token_for(outputs[0]["tenantId"]))
    assert authorize.main(["dev", "--arm-url", arm.url, "--timeout", "5"], credential=credential) == 0


def test_a_failing_pulumi_is_reported(tmp_path, monkeypatch, capsys):
    fake_pulumi(tmp_path, monkeypatch, 'echo "error: no stack named dev found" >&2; exit 255')
    assert authorize.main(["dev"], credential=FakeCredential("unused")) == 1
    assert "no stack named dev found" in capsys.readouterr().err


def test_an_unknown_stack_is_refused(capsys):
    assert authorize.main(["qa"], credential=FakeCredential("unused")) == 2
    assert "stacks: dev, prod" in capsys.readouterr().err


def test_make_target_checks_its_tools_then_runs_the_module():
    commands = make_dry_run("authorize-connections", "STACK=prod")
    assert commands[-1] == ".venv/bin/python -m ops.authorize_connections prod"
    checks = "\n".join(commands[:-1])
    assert "command -v pulumi" in checks and "command -v az" in checks
