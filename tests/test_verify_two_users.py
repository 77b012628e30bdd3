"""ops/verify_two_users.py against a real local A2A server: answers, every troubleshooting path,
the side-by-side report and the CLI's exit codes.

The server speaks JSON-RPC `message/send` on 127.0.0.1 and answers according to the bearer
token, so each token stands for one user or one failure the course module describes."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ops import verify_two_users as verify

IDENTIFIER_URI = "api://0f6b2c3e-1111-4c2a-9d7e-5a1b2c3d4e5f"
QUESTION = "What are my next three calendar events?"

ALICE = "tok-alice-5d1e8f"
ALICE_TWIN = "tok-alice-twin-77aa"
BOB = "tok-bob-9c4a21"

ALICE_EVENTS = "Mon 09:00 Standup\nMon 14:00 Design review\nTue 10:00 1:1 with Dana"
BOB_STATUS_TEXT = "Your next three events:"
BOB_EVENTS = "Wed 08:30 Budget sync\nWed 11:00 Vendor call\nThu 16:00 Offsite planning"

AUDIENCE_CHALLENGE = 'Bearer error="invalid_token", error_description="The audience is invalid"'
CONSENT_BODY = json.dumps({
    "error": "invalid_grant",
    "error_description": "AADSTS65001: The user or administrator has not consented to use the "
                         "application with ID '0f6b2c3e'. Send an interactive authorization request.",
})
SLOW_SECONDS = 0.6
CONSENT_LINK = "https://eastus2.consent.azure-apim.net/login?data=eyJhIjoxfQ"
TEXT_LINK = "https://eastus2.consent.azure-apim.net/login?data=dGV4dA"
FIRST_USE_TASK = "task-first-use-1"
FIRST_USE_CONTEXT = "context-first-use-1"
VERIFICATION_CLIENT_ID = "7d3e9b21-2222-4f6a-8c1d-3e5f7a9b0c2d"


def _message_result(text: str) -> dict[str, Any]:
    return {"kind": "message", "role": "agent", "messageId": str(uuid.uuid4()),
            "parts": [{"kind": "text", "text": text}]}


def _task_result(state: str, status_text: str, artifact_text: str | None = None) -> dict[str, Any]:
    task: dict[str, Any] = {
        "kind": "task",
        "id": str(uuid.uuid4()),
        "contextId": str(uuid.uuid4()),
        "status": {"state": state, "message": {"kind": "message", "role": "agent",
                                               "messageId": str(uuid.uuid4()),
                                               "parts": [{"kind": "text", "text": status_text}]}},
    }
    if artifact_text is not None:
        task["artifacts"] = [
            {"artifactId": str(uuid.uuid4()),
             "parts": [{"kind": "data", "data": {"ignored": True}}, {"kind": "text", "text": artifact_text}]},
            # Servers often repeat the status text as an artifact: it must appear once.
            {"artifactId": str(uuid.uuid4()), "parts": [{"kind": "text", "text": status_text}]},
        ]
    return task


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeAgent:
    """The running server: its base URL and every request it received."""

    base_url: str
    received: list[Received] = field(default_factory=list)
    polls: dict[str, int] = field(default_factory=dict)  # task id -> tasks/get calls so far

    @property
    def endpoint(self) -> str:
        return f"{self.base_url}/a2a"

    def requests_to(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]


def _handler_for(agent: FakeAgent, lock: threading.Lock) -> type[BaseHTTPRequestHandler]:
    class A2AHandler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
            pass

        def _send(self, status: int, body: str | dict[str, Any], headers: dict[str, str] | None = None) -> None:
            payload = (json.dumps(body) if isinstance(body, dict) else body).encode("utf-8")
            self.send_response(status)
            content_type = "application/json" if isinstance(body, dict) else "text/plain"
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            # The client may time out and leave: that is what the timeout test wants.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(payload)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                body = json.loads(raw)
            except json.JSONDecodeError:
                body = raw.decode("utf-8", errors="replace")
            with lock:
                agent.received.append(Received(self.path, dict(self.headers.items()), body))

            if self.path != "/a2a":
                self._send(404, "not found")
                return
            authorization = self.headers.get("Authorization", "")
            if not authorization.startswith("Bearer "):
                self._send(401, "missing bearer token", {"WWW-Authenticate": "Bearer"})
                return
            if not isinstance(body, dict) or body.get("method") not in ("message/send", "tasks/get"):
                self._send(200, {"jsonrpc": "2.0", "id": body.get("id") if isinstance(body, dict) else None,
                                 "error": {"code": -32601, "message": "Method not found"}})
                return
            token = authorization[len("Bearer "):]
            if body["method"] == "tasks/get" or body["params"]["message"].get("taskId"):
                self._follow_up(token, body)
                return
            self._answer(token, body["id"])

        def _follow_up(self, token: str, body: dict[str, Any]) -> None:
            """tasks/get polls, and the message that continues a task after sign-in."""
            if body["method"] == "tasks/get":
                task_id = body["params"]["id"]
                with lock:
                    agent.polls[task_id] = agent.polls.get(task_id, 0) + 1
                    polls = agent.polls[task_id]
                done = token == "tok-slow-task" and polls >= 2
                task = _task_result("completed" if done else "working", ALICE_EVENTS if done else "Working on it.")
                task["id"] = task_id
            else:
                parts = body["params"]["message"]["parts"]
                signed_in = parts == [{"kind": "data", "data": {"messageType": "AuthenticationCompleted"}}]
                task = _task_result("completed" if signed_in else "failed", BOB_EVENTS if signed_in else "?")
                task["id"], task["contextId"] = body["params"]["message"]["taskId"], FIRST_USE_CONTEXT
            self._send(200, {"jsonrpc": "2.0", "id": body["id"], "result": task})

        def _answer(self, token: str, request_id: str) -> None:
            def result(value: dict[str, Any]) -> None:
                self._send(200, {"jsonrpc": "2.0", "id": request_id, "result": value})

            if token in ("tok-slow-task", "tok-stuck"):
                result(_task_result("submitted", ""))
            elif token == "tok-first-use":
                task = _task_result("auth-required", "Please authenticate using links: [" + TEXT_LINK + "]")
                task["id"], task["contextId"] = FIRST_USE_TASK, FIRST_USE_CONTEXT
                task["status"]["message"]["parts"] += [
                    {"kind": "data", "data": {"messageType": "InTaskAuthRequired", "consentLink": {
                        "link": CONSENT_LINK, "status": "Unauthenticated",
                        "apiDetails": {"apiDisplayName": "Office 365 Outlook"}}}},
                    {"kind": "data", "data": {"messageType": "InTaskAuthRequired",
                                              "consentLink": "javascript:alert(1)"}},
                ]
                result(task)
            elif token in (ALICE, ALICE_TWIN):
                result(_message_result(ALICE_EVENTS))
            elif token == BOB:
                result(_task_result("completed", BOB_STATUS_TEXT, BOB_EVENTS))
            elif token == "tok-audience":
                self._send(401, "", {"WWW-Authenticate": AUDIENCE_CHALLENGE})
            elif token == "tok-unauthorized":
                self._send(401, "Unauthorized", {"WWW-Authenticate": "Bearer"})
            elif token == "tok-expired":
                self._send(401, "", {"WWW-Authenticate":
                                     'Bearer error="invalid_token", error_description="The token is expired"'})
            elif token == "tok-forbidden":
                self._send(403, "Forbidden")
            elif token == "tok-consent-400":
                self._send(400, CONSENT_BODY)
            elif token == "tok-consent-401":
                self._send(401, CONSENT_BODY, {"WWW-Authenticate": "Bearer"})
            elif token == "tok-throttled":
                self._send(429, "Too many requests", {"Retry-After": "7"})
            elif token == "tok-rpc-error":
                self._send(200, {"jsonrpc": "2.0", "id": request_id,
                                 "error": {"code": -32603, "message": "Internal error: tool call failed"}})
            elif token == "tok-server-error":
                # A debug error page that echoes the request, token included.
                self._send(500, f"Unhandled exception. Request headers: Authorization: Bearer {token}")
            elif token == "tok-redirect":
                self._send(302, "", {"Location": "/elsewhere"})
            elif token == "tok-task-failed":
                result(_task_result("failed", "The calendar tool returned an error."))
            elif token == "tok-auth-required":
                result(_task_result("auth-required", "Sign in to the Office 365 connection."))
            elif token == "tok-slow":
                time.sleep(SLOW_SECONDS)
                result(_message_result("too late"))
            else:
                self._send(401, "unknown token", {"WWW-Authenticate": "Bearer"})

    return A2AHandler


@pytest.fixture
def agent(request: pytest.FixtureRequest) -> FakeAgent:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    host, port = server.server_address[:2]
    fake = FakeAgent(base_url=f"http://{host}:{port}")
    server.RequestHandlerClass = _handler_for(fake, threading.Lock())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    request.addfinalizer(stop)
    return fake


@pytest.fixture
def outputs_file(tmp_path: Path, agent: FakeAgent) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({
        "a2aEndpoint": agent.endpoint,
        "tenantId": "72f988bf-0000-0000-0000-2d7cd011db47",
        "clientId": "0f6b2c3e-1111-4c2a-9d7e-5a1b2c3d4e5f",
        "verificationClientId": VERIFICATION_CLIENT_ID,
        "identifierUri": IDENTIFIER_URI,
        "adminConsentUrl": "https://login.microsoftonline.com/72f988bf/adminconsent?client_id=0f6b2c3e",
    }))
    return path


def _token_file(tmp_path: Path, name: str, token: str) -> Path:
    path = tmp_path / name
    path.write_text(token + "\n")
    return path


def _ask(agent: FakeAgent, token: str, timeout: float = 5.0) -> verify.Answer:
    return verify.ask(agent.endpoint, token, QUESTION, timeout, identifier_uri=IDENTIFIER_URI)


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """shutil.get_terminal_size reads COLUMNS first: a fixed width makes the report predictable."""
    monkeypatch.setenv("COLUMNS", "140")


# --- request shape ---------------------------------------------------------------------------


def test_build_request_is_a_jsonrpc_message_send_with_fresh_ids() -> None:
    first, second = verify.build_request(QUESTION), verify.build_request(QUESTION)
    assert first["jsonrpc"] == "2.0" and first["method"] == "message/send"
    assert first["params"]["message"]["parts"] == [{"kind": "text", "text": QUESTION}]
    assert first["id"] != second["id"]
    assert first["params"]["message"]["messageId"] != second["params"]["message"]["messageId"]


def test_server_receives_exactly_the_jsonrpc_shape_with_bearer_token(agent: FakeAgent) -> None:
    assert _ask(agent, ALICE).ok
    (received,) = agent.received
    body = received.body
    request_id = body["id"]
    message_id = body["params"]["message"]["messageId"]
    uuid.UUID(request_id), uuid.UUID(message_id)
    assert body == {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "message/send",
        "params": {"message": {"kind": "message", "role": "user", "messageId": message_id,
                               "parts": [{"kind": "text", "text": QUESTION}]}},
    }
    assert received.headers["Authorization"] == f"Bearer {ALICE}"
    assert received.headers["Content-Type"] == "application/json"


# --- answers ---------------------------------------------------------------------------------


def test_message_answer_text_is_extracted(agent: FakeAgent) -> None:
    answer = _ask(agent, ALICE)
    assert answer == verify.Answer(ok=True, text=ALICE_EVENTS, status=200, diagnosis="")


def test_task_answer_combines_status_and_artifacts_once(agent: FakeAgent) -> None:
    answer = _ask(agent, BOB)
    assert answer.ok and answer.status == 200
    assert answer.text == f"{BOB_STATUS_TEXT}\n{BOB_EVENTS}"


@pytest.mark.parametrize(
    ("token", "status", "expected"),
    [
        ("tok-task-failed", 200, ["state 'failed'", "calendar tool returned an error"]),
        ("tok-auth-required", 200, ["state 'auth-required'", "adminConsentUrl", "make recreate-connections"]),
    ],
)
def test_tasks_that_ended_without_an_answer_are_failures(
    agent: FakeAgent, token: str, status: int, expected: list[str]
) -> None:
    answer = _ask(agent, token)
    assert not answer.ok and answer.status == status
    for text in expected:
        assert text in answer.diagnosis


# --- troubleshooting -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "status", "expected", "unexpected"),
    [
        ("tok-audience", 401,
         ["token audience error", f"Acquire the token for {IDENTIFIER_URI}", "not for Graph"], ["consent"]),
        ("tok-unauthorized", 401,
         ["401 Unauthorized", "signed in", "delegated permissions"], ["audience", "Consent"]),
        ("tok-expired", 401, ["expired", "sign the user in again"], ["audience"]),
        ("tok-forbidden", 403,
         ["403 Forbidden", "lack access to the resource", "not assigned to the app", "conditional access"], []),
        ("tok-consent-400", 400,
         ["Consent or scope mismatch", "adminConsentUrl", "make recreate-connections"], []),
        ("tok-consent-401", 401,
         ["Consent or scope mismatch", "adminConsentUrl", "make recreate-connections"], ["audience"]),
        ("tok-throttled", 429, ["rate limited", "wait 7 seconds", "Retry-After: 7", "narrow the request"], []),
        ("tok-rpc-error", 200, ["JSON-RPC error -32603", "Internal error: tool call failed"], []),
        ("tok-server-error", 500, ["500 Internal Server Error", "Unhandled exception", "[redacted token]"],
         ["tok-server-error"]),
        ("tok-redirect", 302, ["302 Found", "redirects to /elsewhere", "not forwarded"], []),
    ],
)
def test_each_failure_maps_to_its_advice(
    agent: FakeAgent, token: str, status: int, expected: list[str], unexpected: list[str]
) -> None:
    answer = _ask(agent, token)
    assert not answer.ok and answer.text == "" and answer.status == status
    for text in expected:
        assert text in answer.diagnosis
    for text in unexpected:
        assert text not in answer.diagnosis


def test_redirect_is_not_followed_so_the_token_stays_with_the_endpoint(agent: FakeAgent) -> None:
    _ask(agent, "tok-redirect")
    assert agent.requests_to("/elsewhere") == []


def test_slow_answer_times_out_as_a_network_error(agent: FakeAgent) -> None:
    started = time.monotonic()
    answer = _ask(agent, "tok-slow", timeout=0.2)
    assert time.monotonic() - started < SLOW_SECONDS
    assert not answer.ok and answer.status is None
    assert "Network error" in answer.diagnosis and "timed out" in answer.diagnosis


def test_refused_connection_is_a_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    answer = verify.ask(f"http://127.0.0.1:{closed_port}/a2a", ALICE, QUESTION, 2.0)
    assert not answer.ok and answer.status is None and answer.diagnosis.startswith("Network error")


def test_retry_after_missing_still_advises_backing_off() -> None:
    advice = verify.diagnose(429, {}, "")
    assert "rate limited" in advice and "Back off" in advice and "Retry-After" not in advice


def test_header_names_are_case_insensitive_and_consent_wins_over_status() -> None:
    assert "token audience error" in verify.diagnose(401, {"www-authenticate": AUDIENCE_CHALLENGE}, "")
    assert "Consent or scope mismatch" in verify.diagnose(403, {}, "AADSTS65001: consent needed")


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ({"error": "consent_required", "error_description": "AADSTS65001: ..."}, "Consent or scope mismatch"),
        ({"error": "interaction_required", "error_description": "AADSTS50076"}, "Consent or scope mismatch"),
        ({"error": "invalid_grant", "error_description": "AADSTS65001: not consented"}, "Consent or scope mismatch"),
        ({"error": "expired_token", "error_description": "code expired"}, "declined or expired"),
        ({"error": "invalid_client", "error_description": "AADSTS7000218: bad\nTrace ID: 1"},
         "Sign-in failed (invalid_client): AADSTS7000218: bad"),
    ],
)
def test_sign_in_errors_map_to_advice(result: dict[str, str], expected: str) -> None:
    assert expected in verify.diagnose_sign_in(result)


# --- endpoint policy -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint",
    ["https://app.azurewebsites.net/api/agents/a2a", "http://127.0.0.1:8080/a2a", "http://localhost/a2a"],
)
def test_https_and_loopback_endpoints_are_accepted(endpoint: str) -> None:
    assert verify.check_endpoint(endpoint) == endpoint


@pytest.mark.parametrize("endpoint", ["http://app.azurewebsites.net/a2a", "ftp://127.0.0.1/a2a", "a2a"])
def test_other_endpoints_are_refused_before_any_request(endpoint: str) -> None:
    with pytest.raises(verify.ConfigurationError, match="a2aEndpoint"):
        verify.ask(endpoint, ALICE, QUESTION, 1.0)


# --- report ----------------------------------------------------------------------------------


def test_side_by_side_shows_both_answers_in_wrapped_columns() -> None:
    long_line = "word " * 40
    report = verify.side_by_side(ALICE_EVENTS + "\n" + long_line, BOB_EVENTS, 80)
    lines = report.splitlines()
    assert lines[0].startswith("User A") and "User B" in lines[0]
    assert all(len(line) <= 80 for line in lines)
    for event in ALICE_EVENTS.splitlines() + BOB_EVENTS.splitlines():
        assert event in report
    assert sum("word" in line for line in lines) > 2  # the long paragraph was wrapped


def test_verdicts() -> None:
    alice = verify.Answer(True, ALICE_EVENTS, 200, "")
    assert verify.verdict(alice, verify.Answer(True, BOB_EVENTS, 200, "")) == verify.VERDICT_DIFFERENT
    reflowed = verify.Answer(True, ALICE_EVENTS.replace("\n", "  "), 200, "")
    assert verify.verdict(alice, reflowed) == verify.VERDICT_IDENTICAL
    failed = verify.Answer(False, "", 403, "403 Forbidden")
    assert verify.verdict(alice, failed) == "not compared: the call for user B failed"


# --- CLI -------------------------------------------------------------------------------------


def _main(outputs: Path, token_a: Path, token_b: Path, *extra: str) -> int:
    return verify.main(["--outputs", str(outputs), "--token-a-file", str(token_a),
                        "--token-b-file", str(token_b), "--timeout", "5", *extra])


def test_main_two_good_users_prints_both_answers_and_exits_0(
    tmp_path: Path, outputs_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _main(outputs_file, _token_file(tmp_path, "a.token", ALICE),
                 _token_file(tmp_path, "b.token", f"Bearer {BOB}"))
    out, err = capsys.readouterr()
    assert code == 0
    for event in ALICE_EVENTS.splitlines() + BOB_EVENTS.splitlines():
        assert event in out
    assert out.rstrip().endswith(f"Verdict: {verify.VERDICT_DIFFERENT}")
    for token in (ALICE, BOB):
        assert token not in out and token not in err
    assert "Bearer" not in out


def test_main_identical_answers_get_the_shared_identity_hint(
    tmp_path: Path, outputs_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _main(outputs_file, _token_file(tmp_path, "a.token", ALICE),
                 _token_file(tmp_path, "b.token", ALICE_TWIN))
    assert code == 0
    assert "suggest a shared identity" in capsys.readouterr().out


def test_main_exits_2_when_one_user_fails_and_still_shows_both_columns(
    tmp_path: Path, outputs_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _main(outputs_file, _token_file(tmp_path, "a.token", ALICE),
                 _token_file(tmp_path, "b.token", "tok-server-error"))
    out, err = capsys.readouterr()
    assert code == 2
    assert "Mon 09:00 Standup" in out
    assert "FAILED: 500 Internal Server Error" in out
    assert "not compared" in out
    assert "tok-server-error" not in out and "tok-server-error" not in err


def test_main_refuses_a_plain_http_endpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"a2aEndpoint": "http://agent.example.com/a2a"}))
    code = _main(outputs, _token_file(tmp_path, "a.token", ALICE), _token_file(tmp_path, "b.token", BOB))
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert "must use https" in err


def test_main_reports_unusable_inputs(tmp_path: Path, outputs_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _main(outputs_file, tmp_path / "missing.token", _token_file(tmp_path, "b.token", BOB)) == 1
    assert "cannot read token file" in capsys.readouterr().err
    no_endpoint = tmp_path / "empty.json"
    no_endpoint.write_text("{}")
    assert _main(no_endpoint, _token_file(tmp_path, "a.token", ALICE), _token_file(tmp_path, "b.token", BOB)) == 1
    assert "'a2aEndpoint'" in capsys.readouterr().err


# --- device-code sign-in ---------------------------------------------------------------------


class _FakeMsal:
    """Stands in for msal.PublicClientApplication, which sign-in calls to make each user's application:
    records how each was built and what it was asked, and answers `outcome`."""

    def __init__(self) -> None:
        self.created: list[_FakeMsalApp] = []
        self.outcome: dict[str, Any] = {}

    def __call__(self, client_id: str, authority: str) -> _FakeMsalApp:
        app = _FakeMsalApp(self, client_id, authority)
        self.created.append(app)
        return app


class _FakeMsalApp:
    def __init__(self, msal: _FakeMsal, client_id: str, authority: str) -> None:
        self.msal, self.client_id, self.authority, self.scopes = msal, client_id, authority, None

    def initiate_device_flow(self, scopes: list[str]) -> dict[str, Any]:
        self.scopes = scopes
        return {"user_code": "ABC123", "message": "To sign in, enter ABC123 at https://microsoft.com/devicelogin"}

    def acquire_token_by_device_flow(self, flow: dict[str, Any]) -> dict[str, Any]:
        return dict(self.msal.outcome)


@pytest.fixture
def fake_msal() -> _FakeMsal:
    return _FakeMsal()


def test_device_code_sign_in_for_user_b_with_a_token_file_for_a(
    tmp_path: Path, outputs_file: Path, fake_msal: _FakeMsal, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_msal.outcome = {"access_token": BOB, "token_type": "Bearer"}
    code = verify.main(["--outputs", str(outputs_file), "--token-a-file",
                        str(_token_file(tmp_path, "a.token", ALICE)), "--timeout", "5"], public_client=fake_msal)
    out, err = capsys.readouterr()
    assert code == 0 and "Wed 08:30 Budget sync" in out
    assert "Sign in as user B" in err and "Sign in as user A" not in err
    (app,) = fake_msal.created
    assert app.client_id == VERIFICATION_CLIENT_ID  # never the chat app: it allows no public-client flows
    assert app.authority == "https://login.microsoftonline.com/72f988bf-0000-0000-0000-2d7cd011db47"
    assert app.scopes == [f"{IDENTIFIER_URI}/user_impersonation"]
    assert BOB not in out and BOB not in err


def test_device_code_consent_error_fails_that_user_with_consent_advice(
    outputs_file: Path, fake_msal: _FakeMsal, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_msal.outcome = {"error": "consent_required", "error_description": "AADSTS65001: consent needed"}
    code = verify.main(["--outputs", str(outputs_file), "--timeout", "5"], public_client=fake_msal)
    out, err = capsys.readouterr()
    assert code == 2
    assert len(fake_msal.created) == 2  # one application (and token cache) per user
    assert "Sign in as user A" in err and "Sign in as user B" in err
    assert out.count("FAILED: Sign-in failed (consent_required). Consent or scope") == 2
    assert "the calls for users A and B failed" in out


def test_module_imports_without_msal() -> None:
    blocked = "import sys; sys.modules['msal'] = None; import ops.verify_two_users"
    completed = subprocess.run([sys.executable, "-c", blocked], cwd=Path(__file__).resolve().parents[1],
                               capture_output=True, text=True, timeout=30)
    assert completed.returncode == 0, completed.stderr


# --- a hardened stack: the verification client, tasks that take time, first use ---------------------


def test_device_code_sign_in_needs_the_stack_s_verification_client(
    tmp_path: Path, agent: FakeAgent, fake_msal: _FakeMsal, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"a2aEndpoint": agent.endpoint, "tenantId": "t", "identifierUri": IDENTIFIER_URI,
                                   "clientId": "0f6b2c3e-1111-4c2a-9d7e-5a1b2c3d4e5f"}))
    assert verify.main(["--outputs", str(outputs)], public_client=fake_msal) == 1
    err = capsys.readouterr().err
    assert "'verificationClientId'" in err and "agent-obo:verificationUsers" in err
    assert fake_msal.created == [] and agent.received == []


def test_the_chat_app_is_never_used_as_the_sign_in_client(
    tmp_path: Path, agent: FakeAgent, fake_msal: _FakeMsal, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = tmp_path / "outputs.json"
    chat = "0f6b2c3e-1111-4c2a-9d7e-5a1b2c3d4e5f"
    outputs.write_text(json.dumps({"a2aEndpoint": agent.endpoint, "tenantId": "t", "identifierUri": IDENTIFIER_URI,
                                   "clientId": chat, "verificationClientId": chat}))
    assert verify.main(["--outputs", str(outputs)], public_client=fake_msal) == 1
    assert "is the chat app's client id" in capsys.readouterr().err and fake_msal.created == []


def test_a_task_still_running_is_polled_until_it_answers(agent: FakeAgent) -> None:
    answer = verify.ask(agent.endpoint, "tok-slow-task", QUESTION, 5.0, poll_interval=0.01)
    assert answer.ok and answer.text == ALICE_EVENTS
    gets = [r.body for r in agent.requests_to("/a2a") if r.body["method"] == "tasks/get"]
    assert len(gets) == 2 and all(set(g["params"]) == {"id"} for g in gets)


def test_a_task_that_never_finishes_times_out_naming_its_state(agent: FakeAgent) -> None:
    answer = verify.ask(agent.endpoint, "tok-stuck", QUESTION, 0.3, poll_interval=0.05)
    assert not answer.ok and "still in state 'working' when the time ran out" in answer.diagnosis


def test_first_use_shows_each_https_link_whole_and_continues_the_same_task_after_sign_in(agent: FakeAgent) -> None:
    shown: list[list[verify.ConsentLink]] = []

    def signed_in(links) -> bool:
        shown.append(list(links))
        return True

    answer = verify.ask(agent.endpoint, "tok-first-use", QUESTION, 5.0, on_auth_required=signed_in)
    assert answer.ok and answer.text == BOB_EVENTS
    # In the order the task lists them; javascript: is never shown.
    assert shown == [[verify.ConsentLink("a connector", TEXT_LINK),
                      verify.ConsentLink("Office 365 Outlook", CONSENT_LINK)]]
    follow_up = agent.requests_to("/a2a")[-1].body["params"]["message"]
    assert follow_up["taskId"] == FIRST_USE_TASK and follow_up["contextId"] == FIRST_USE_CONTEXT
    assert follow_up["parts"] == [{"kind": "data", "data": {"messageType": "AuthenticationCompleted"}}]


def test_first_use_without_a_terminal_fails_with_the_links_to_sign_in(agent: FakeAgent) -> None:
    answer = verify.ask(agent.endpoint, "tok-first-use", QUESTION, 5.0)
    assert not answer.ok and "first use" in answer.diagnosis
    assert f"Sign in to Office 365 Outlook: {CONSENT_LINK}" in answer.diagnosis
    assert "javascript:" not in answer.diagnosis


def test_a_user_who_skips_sign_in_is_reported_not_retried(agent: FakeAgent) -> None:
    answer = verify.ask(agent.endpoint, "tok-first-use", QUESTION, 5.0, on_auth_required=lambda links: False)
    assert not answer.ok and "state 'auth-required'" in answer.diagnosis
    assert len(agent.requests_to("/a2a")) == 1
