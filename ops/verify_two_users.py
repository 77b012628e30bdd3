"""Ask the deployed agent the same "my data" question as two users and compare the answers.

The agent's tools act on behalf of the signed-in user, so two users with different permissions
should get different answers to a question about their own data. Identical answers from users
whose data differs mean the tool ran under one shared identity instead of each caller's.

Usage:
    pulumi stack output --json > outputs.json
    python -m ops.verify_two_users --outputs outputs.json                  # device-code sign-in
    python -m ops.verify_two_users --outputs outputs.json \\
        --token-a-file a.token --token-b-file b.token                      # tokens you already have

Exit codes: 0 both calls answered, 2 either call (or sign-in) failed, 1 the comparison could not
start (outputs file, endpoint or token file unusable). Tokens are never printed: any echo of a
token in a response is redacted before it reaches the terminal.
"""

from __future__ import annotations

import argparse
import http
import json
import re
import shutil
import sys
import textwrap
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

from agent_obo.entra import USER_IMPERSONATION, authority
from ops.bearer import ConfigurationError, token_opener, token_url

DEFAULT_QUESTION = "What are my next three calendar events?"
DEFAULT_TIMEOUT_SECONDS = 120.0
# A chat answer is a few kilobytes; the cap keeps a misbehaving endpoint from filling memory.
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
# Device-code sign-in goes through the stack's verification client (agent-obo:verificationUsers),
# never through the chat app, which allows no public-client flows.
VERIFICATION_CLIENT_OUTPUT = "verificationClientId"
REQUIRED_SIGN_IN_OUTPUTS = ("tenantId", VERIFICATION_CLIENT_OUTPUT, "identifierUri")
POLL_INTERVAL_SECONDS = 2.0
MAX_SIGN_INS = 5  # per user: one per per-user connection the question touches
# Task states after which no answer will come: reported as failures, not as empty answers.
FAILED_TASK_STATES = frozenset({"failed", "rejected", "canceled", "auth-required", "input-required"})
UNFINISHED_TASK_STATES = frozenset({"submitted", "working", "unknown"})

CONSENT_ADVICE = (
    "Consent or scope mismatch: an administrator grants consent with the adminConsentUrl stack "
    "output (pulumi stack output adminConsentUrl); recreate the per-user connection if scopes "
    "changed (make recreate-connections)."
)
SIGNED_IN_ADVICE = (
    "Check that the user is signed in (a fresh, unexpired token) and that the connection uses "
    "delegated permissions (per-user connection), not the app's own identity."
)
FORBIDDEN_ADVICE = (
    "The user is authenticated but not allowed: they lack access to the resource, are not "
    "assigned to the app (assignment required: assign them under Enterprise applications), or a "
    "conditional access policy blocks them."
)
VERDICT_DIFFERENT = "answers differ"
VERDICT_IDENTICAL = (
    "answers are identical (expected when both users can see the same data; for a per-user tool, "
    "identical answers from users with different data suggest a shared identity)"
)

_CONSENT_PATTERN = re.compile(r"AADSTS65001|consent", re.IGNORECASE)
_AUDIENCE_PATTERN = re.compile(r"invalid_token|audience|\baud\b", re.IGNORECASE)
_EXPIRED_PATTERN = re.compile(r"expired|lifetime", re.IGNORECASE)
_CONSENT_SIGN_IN_ERRORS = frozenset({"consent_required", "interaction_required"})


SignInPrompt = Callable[[Sequence["ConsentLink"]], bool]


@dataclass(frozen=True)
class Answer:
    """One user's outcome. `diagnosis` is empty when `ok`; `status` is the HTTP status when a
    response arrived (None for sign-in and network failures)."""

    ok: bool
    text: str
    status: int | None
    diagnosis: str

    def display_text(self) -> str:
        """What goes in the user's column: the answer, or why there is none."""
        return self.text if self.ok else f"FAILED: {self.diagnosis}"


# --- request ---------------------------------------------------------------------------------


def build_request(question: str) -> dict[str, Any]:
    """The A2A JSON-RPC 2.0 `message/send` envelope. Fresh ids per call, so the two users'
    requests are independent conversations and cannot share server-side context."""
    return {
        "jsonrpc": "2.0",
        "id": str(uuid.uuid4()),
        "method": "message/send",
        "params": {
            "message": {
                "kind": "message",
                "role": "user",
                "messageId": str(uuid.uuid4()),
                "parts": [{"kind": "text", "text": question}],
            }
        },
    }


def check_endpoint(endpoint: str) -> str:
    """The endpoint, where the users' bearer tokens may be sent (ops/bearer.py)."""
    return token_url(endpoint, "a2aEndpoint")


def ask(
    endpoint: str,
    token: str,
    question: str,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    *,
    identifier_uri: str | None = None,
    on_auth_required: SignInPrompt | None = None,
    poll_interval: float = POLL_INTERVAL_SECONDS,
) -> Answer:
    """Send `question` as the token's user and return the answer or a diagnosis. Every failure
    mode comes back as an Answer so the caller can still show both users side by side.

    The agent may answer with a task that is still running (then it is polled with `tasks/get`
    until it ends or `timeout` passes), or one that needs the user to sign in to a per-user
    connection first (`auth-required`, the module's "first use"): then `on_auth_required` gets the
    consent links and, once it returns True, the same task continues with the A2A
    `AuthenticationCompleted` message (Azure/LogicAppsUX libs/a2a-core/src/client/a2a-client.ts)."""
    check_endpoint(endpoint)
    deadline = time.monotonic() + timeout

    def remaining() -> float:
        return max(0.1, deadline - time.monotonic())

    outcome = _call(endpoint, token, build_request(question), remaining(), identifier_uri)
    sign_ins = 0
    while not isinstance(outcome, Answer):
        status, result = outcome
        state = _task_state(result)
        links = consent_links(result) if state == "auth-required" else []
        if (state == "auth-required" and links and on_auth_required is not None
                and sign_ins < MAX_SIGN_INS and on_auth_required(links)):
            sign_ins += 1
            outcome = _call(endpoint, token, authentication_completed(result), remaining(), identifier_uri)
            continue
        if state in UNFINISHED_TASK_STATES and result.get("id") and time.monotonic() + poll_interval < deadline:
            time.sleep(poll_interval)
            outcome = _call(endpoint, token, task_get(str(result["id"])), remaining(), identifier_uri)
            continue
        outcome = answer_from_result(status, result, links)
    return Answer(outcome.ok, _redact(outcome.text, token), outcome.status, _redact(outcome.diagnosis, token))


def _call(endpoint: str, token: str, payload: dict[str, Any], timeout: float,
          identifier_uri: str | None) -> Answer | tuple[int, dict[str, Any]]:
    """One JSON-RPC request: the failure as an Answer, or the HTTP status and the JSON-RPC result."""
    request = urllib.request.Request(
        endpoint,
        data=json.dumps(payload).encode("utf-8"),
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
    )
    try:
        with token_opener(endpoint).open(request, timeout=timeout) as response:
            status = response.status
            body = response.read(MAX_RESPONSE_BYTES).decode("utf-8", errors="replace")
    except urllib.error.HTTPError as error:
        body = _read_error_body(error)
        return Answer(False, "", error.code, diagnose(error.code, error.headers or {}, body,
                                                      identifier_uri=identifier_uri))
    except urllib.error.URLError as error:
        return Answer(False, "", None, f"Network error: {error.reason}")
    except (TimeoutError, OSError) as error:
        # A timeout while reading the body arrives as a bare OSError, not as a URLError.
        return Answer(False, "", None, f"Network error: {str(error) or 'timed out'}")
    return _decode(status, body)


def _read_error_body(error: urllib.error.HTTPError) -> str:
    try:
        return error.read(MAX_RESPONSE_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return ""


def _redact(text: str, token: str) -> str:
    """A server may echo the request (debug error pages do); the token must not reach stdout."""
    return text.replace(token, "[redacted token]") if token else text


# --- response --------------------------------------------------------------------------------


def parse_response(status: int, body: str, *, identifier_uri: str | None = None) -> Answer:
    """Turn one 2xx JSON-RPC reply into an Answer: the text of a Message or Task result, or the
    JSON-RPC error with its code and message."""
    decoded = _decode(status, body)
    if isinstance(decoded, Answer):
        return decoded
    status, result = decoded
    return answer_from_result(status, result, consent_links(result))


def _decode(status: int, body: str) -> Answer | tuple[int, dict[str, Any]]:
    try:
        payload = json.loads(body)
    except json.JSONDecodeError:
        return Answer(False, "", status, f"The response is not JSON-RPC: {_snippet(body)}")
    if not isinstance(payload, dict):
        return Answer(False, "", status, f"The response is not a JSON-RPC object: {_snippet(body)}")
    if "error" in payload:
        return Answer(False, "", status, _describe_rpc_error(payload["error"]))
    result = payload.get("result")
    if not isinstance(result, dict):
        return Answer(False, "", status, f"The JSON-RPC response has no result: {_snippet(body)}")
    return status, result


def _task_state(result: Mapping[str, Any]) -> str | None:
    if result.get("kind") != "task":
        return None
    return str((result.get("status") or {}).get("state", "unknown"))


def answer_from_result(status: int, result: Mapping[str, Any], links: Sequence[ConsentLink] = ()) -> Answer:
    kind = result.get("kind")
    if kind == "message":
        text = _text_of_parts(result.get("parts"))
    elif kind == "task":
        state = _task_state(result) or "unknown"
        text = _text_of_task(dict(result))
        if state in FAILED_TASK_STATES:
            return Answer(False, "", status, _describe_failed_task(state, text, links))
        if state in UNFINISHED_TASK_STATES:
            return Answer(
                False, "", status,
                f"The agent's task was still in state {state!r} when the time ran out; ask again "
                f"or raise --timeout.",
            )
    else:
        return Answer(False, "", status, f"Unexpected result kind {kind!r}: {_snippet(json.dumps(result))}")
    if not text:
        return Answer(False, "", status, "The agent answered with no text parts.")
    return Answer(True, text, status, "")


# --- A2A task follow-up ------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentLink:
    """A per-user connection's sign-in link from an auth-required task, and the connector it is for."""

    service: str
    url: str


_LINK_PATTERN = re.compile(r"https://[^\s\"'<>\[\],]+")


def consent_links(result: Mapping[str, Any]) -> list[ConsentLink]:
    """The sign-in links an auth-required task carries: `InTaskAuthRequired` data parts (the consent
    link a string, or an object with `link` and `apiDetails.apiDisplayName`; Azure/LogicAppsUX
    a2a-client.ts), and https links in its text ("Please authenticate using links: [...]", labs
    course module 05). Only https links: anything else is never shown to the user."""
    message = (result.get("status") or {}).get("message") or {}
    parts = message.get("parts") if isinstance(message, dict) else None
    links: list[ConsentLink] = []
    for part in parts if isinstance(parts, list) else []:
        if not isinstance(part, dict):
            continue
        kind = str(part.get("kind", part.get("type", ""))).lower()
        data = part.get("data")
        if kind == "data" and isinstance(data, dict) and data.get("messageType") == "InTaskAuthRequired":
            raw = data.get("consentLink")
            url = raw if isinstance(raw, str) else (raw or {}).get("link") if isinstance(raw, dict) else None
            details = (raw.get("apiDetails") or {}) if isinstance(raw, dict) else {}
            service = details.get("apiDisplayName") or data.get("serviceName") or "a connector"
            if isinstance(url, str) and url.startswith("https://"):
                links.append(ConsentLink(str(service), url))
        elif kind == "text" and isinstance(part.get("text"), str):
            links += [ConsentLink("a connector", url) for url in _LINK_PATTERN.findall(part["text"])]
    unique: list[ConsentLink] = []
    for link in links:
        if link.url not in [u.url for u in unique]:
            unique.append(link)
    return unique


def authentication_completed(task: Mapping[str, Any]) -> dict[str, Any]:
    """Tells the agent the user signed in, continuing the same task and conversation."""
    message: dict[str, Any] = {
        "kind": "message",
        "role": "user",
        "messageId": str(uuid.uuid4()),
        "taskId": task.get("id"),
        "parts": [{"kind": "data", "data": {"messageType": "AuthenticationCompleted"}}],
    }
    if task.get("contextId"):
        message["contextId"] = task["contextId"]
    return {"jsonrpc": "2.0", "id": str(uuid.uuid4()), "method": "message/send", "params": {"message": message}}


def task_get(task_id: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": str(uuid.uuid4()), "method": "tasks/get", "params": {"id": task_id}}


def _text_of_parts(parts: Any) -> str:
    """Text parts only: data and file parts have no meaningful side-by-side rendering."""
    if not isinstance(parts, list):
        return ""
    texts = [
        part["text"]
        for part in parts
        if isinstance(part, dict)
        and part.get("kind", part.get("type")) == "text"
        and isinstance(part.get("text"), str)
    ]
    return "\n".join(t for t in texts if t.strip())


def _text_of_task(task: dict[str, Any]) -> str:
    """A task's answer can be in its status message, its artifacts or both; servers often repeat
    the same text in each, so duplicates are dropped while keeping the order."""
    pieces = [_text_of_parts(((task.get("status") or {}).get("message") or {}).get("parts"))]
    for artifact in task.get("artifacts") or []:
        if isinstance(artifact, dict):
            pieces.append(_text_of_parts(artifact.get("parts")))
    unique: list[str] = []
    for piece in pieces:
        if piece and piece not in unique:
            unique.append(piece)
    return "\n".join(unique)


def _describe_failed_task(state: str, text: str, links: Sequence[ConsentLink] = ()) -> str:
    detail = f": {_snippet(text)}" if text else ""
    sign_in = "".join(f" Sign in to {link.service}: {link.url}" for link in links)
    if state == "auth-required":
        return (f"The agent task ended in state {state!r}{detail}. The user has not signed in to a per-user "
                f"connection yet (first use): run interactively to sign in when asked.{sign_in} "
                f"If signing in does not help: {CONSENT_ADVICE}")
    if _CONSENT_PATTERN.search(text):
        return f"The agent task ended in state {state!r}{detail}. {CONSENT_ADVICE}"
    return f"The agent task ended in state {state!r}{detail}."


def _describe_rpc_error(error: Any) -> str:
    if not isinstance(error, dict):
        return f"JSON-RPC error: {_snippet(json.dumps(error))}"
    code = error.get("code", "?")
    message = str(error.get("message", ""))
    data = error.get("data")
    described = f"JSON-RPC error {code}: {message}"
    if _CONSENT_PATTERN.search(f"{message} {json.dumps(data) if data is not None else ''}"):
        described += f". {CONSENT_ADVICE}"
    return described


def _snippet(text: str, limit: int = 300) -> str:
    """Enough of a body to recognise it, on one line, without flooding a column."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


# --- troubleshooting -------------------------------------------------------------------------


def diagnose(
    status: int,
    headers: Mapping[str, str] | Message,
    body: str,
    *,
    identifier_uri: str | None = None,
) -> str:
    """Map an HTTP failure to the module's troubleshooting advice: what went wrong, then what to
    do. Consent is checked first because Microsoft Entra reports it under several statuses."""
    lowered = {str(name).lower(): str(value) for name, value in headers.items()}
    label = _status_label(status)
    audience_uri = identifier_uri or "the app's Application ID URI"

    if _CONSENT_PATTERN.search(body):
        return f"{label}: {CONSENT_ADVICE}"
    if status == 401:
        challenge = lowered.get("www-authenticate", "")
        # An expired token is also reported as invalid_token; it needs a new sign-in, not a new audience.
        if _EXPIRED_PATTERN.search(challenge) or _EXPIRED_PATTERN.search(body):
            return f"{label}: the token has expired; sign the user in again for a fresh token."
        if _AUDIENCE_PATTERN.search(challenge) or _AUDIENCE_PATTERN.search(body):
            return (
                f"{label}: token audience error, the API did not accept the token's audience. "
                f"Acquire the token for {audience_uri} (the app's Application ID URI), not for Graph."
            )
        return f"{label}: the request was not authenticated. {SIGNED_IN_ADVICE}"
    if status == 403:
        return f"{label}: {FORBIDDEN_ADVICE}"
    if status == 429:
        return f"{label}: rate limited. {_retry_advice(lowered.get('retry-after'))}"
    if 300 <= status < 400:
        location = lowered.get("location", "an unknown location")
        return (
            f"{label}: the endpoint redirects to {location}; the token is not forwarded, so set "
            f"the final URL as the endpoint."
        )
    detail = f": {_snippet(body)}" if body.strip() else ""
    return f"{label}{detail}"


def _status_label(status: int) -> str:
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def _retry_advice(retry_after: str | None) -> str:
    if not retry_after:
        return "Back off before asking again, or narrow the request."
    retry_after = retry_after.strip()
    wait = f"{retry_after} seconds" if retry_after.isdigit() else f"until {retry_after}"
    return f"The service asks to wait {wait} (Retry-After: {retry_after}); back off, or narrow the request."


def diagnose_sign_in(result: Mapping[str, Any]) -> str:
    """Map an MSAL error result (device flow start or token acquisition) to advice."""
    error = str(result.get("error", "unknown_error"))
    description = str(result.get("error_description", ""))
    first_line = description.strip().splitlines()[0] if description.strip() else ""
    if error in _CONSENT_SIGN_IN_ERRORS or _CONSENT_PATTERN.search(description):
        return f"Sign-in failed ({error}). {CONSENT_ADVICE}"
    if error in {"authorization_declined", "expired_token", "bad_verification_code"}:
        return f"Sign-in did not complete ({error}): the code was declined or expired; run again."
    return f"Sign-in failed ({error}): {first_line}" if first_line else f"Sign-in failed ({error})."


# --- tokens ----------------------------------------------------------------------------------


def read_token(path: Path) -> str:
    """A file holding one bearer token; a leading "Bearer " (copied from a header) is dropped."""
    try:
        raw = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise ConfigurationError(f"cannot read token file {path}: {error.strerror or error}") from error
    token = raw[len("Bearer "):].strip() if raw.lower().startswith("bearer ") else raw
    if not token or any(ch.isspace() for ch in token):
        raise ConfigurationError(f"token file {path} must hold exactly one bearer token")
    return token


def sign_in(user_label: str, tenant_id: str, client_id: str, identifier_uri: str, *,
            public_client: Callable[..., Any] | None = None) -> tuple[str | None, str]:
    """Device-code sign-in for one user: returns (token, "") or (None, diagnosis).

    A fresh PublicClientApplication per user keeps the two token caches apart, so user B can
    never silently get user A's cached token. `public_client` makes it (default msal's, imported
    only then, so that using token files does not need msal installed; tests pass a stand-in)."""
    if public_client is None:
        import msal

        public_client = msal.PublicClientApplication

    print(
        f"Sign in as user {user_label} (use a private browser window so another user's "
        f"session is not reused).",
        file=sys.stderr,
        flush=True,
    )
    app = public_client(client_id=client_id, authority=authority(tenant_id))
    scope = f"{identifier_uri.rstrip('/')}/{USER_IMPERSONATION}"
    try:
        flow = app.initiate_device_flow(scopes=[scope])
        if "user_code" not in flow:
            return None, diagnose_sign_in(flow)
        print(flow["message"], file=sys.stderr, flush=True)
        result = app.acquire_token_by_device_flow(flow)
    except Exception as error:  # msal raises its HTTP client's own exception types; none is fatal here
        return None, f"Sign-in failed: {type(error).__name__}: {error}"
    if "access_token" in result:
        return str(result["access_token"]), ""
    return None, diagnose_sign_in(result)


# --- output ----------------------------------------------------------------------------------


def side_by_side(a: str, b: str, width: int) -> str:
    """Two wrapped columns headed "User A" and "User B", so differences line up by eye.
    Paragraph breaks are kept; the columns never drop below a readable width."""
    gutter = " | "
    column = max(20, (width - len(gutter)) // 2)
    left, right = _wrap(a, column), _wrap(b, column)
    height = max(len(left), len(right))
    left += [""] * (height - len(left))
    right += [""] * (height - len(right))
    lines = [
        f"{'User A'.ljust(column)}{gutter}User B",
        f"{'-' * column}-+-{'-' * column}",
    ]
    lines += [f"{line.ljust(column)}{gutter}{other}".rstrip() for line, other in zip(left, right, strict=True)]
    return "\n".join(lines)


def _wrap(text: str, column: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        lines += textwrap.wrap(paragraph, column, break_long_words=True, break_on_hyphens=False) or [""]
    return lines


def verdict(a: Answer, b: Answer) -> str:
    """Whitespace is ignored: re-flowed identical text is still identical data."""
    if not (a.ok and b.ok):
        if not (a.ok or b.ok):
            return "not compared: the calls for users A and B failed"
        return f"not compared: the call for user {'B' if a.ok else 'A'} failed"
    if " ".join(a.text.split()) == " ".join(b.text.split()):
        return VERDICT_IDENTICAL
    return VERDICT_DIFFERENT


def _terminal_width() -> int:
    columns = shutil.get_terminal_size(fallback=(100, 24)).columns
    return min(max(columns, 60), 200)


# --- CLI -------------------------------------------------------------------------------------


def load_outputs(path: Path) -> dict[str, Any]:
    try:
        outputs = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigurationError(
            f"cannot read stack outputs {path}: {error.strerror or error} "
            f"(create it with: pulumi stack output --json > {path})"
        ) from error
    except json.JSONDecodeError as error:
        raise ConfigurationError(f"stack outputs {path} are not JSON: {error}") from error
    if not isinstance(outputs, dict):
        raise ConfigurationError(f"stack outputs {path} must be a JSON object of output names")
    return outputs


def _required_output(outputs: Mapping[str, Any], key: str, path: Path, why: str) -> str:
    value = outputs.get(key)
    if not isinstance(value, str) or not value or value == "[secret]":
        raise ConfigurationError(f"stack outputs {path} have no usable {key!r} ({why})")
    return value


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m ops.verify_two_users",
        description="Ask the agent the same question as two users and compare the answers.",
    )
    parser.add_argument("--outputs", type=Path, required=True,
                        help="stack outputs: pulumi stack output --json > outputs.json")
    parser.add_argument("--question", default=DEFAULT_QUESTION, help="the 'my data' question to ask")
    parser.add_argument("--token-a-file", type=Path, help="file holding user A's bearer token")
    parser.add_argument("--token-b-file", type=Path, help="file holding user B's bearer token")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_SECONDS,
                        help="seconds to wait for each answer (default: %(default)s)")
    return parser.parse_args(argv)


def sign_in_outputs(outputs: Mapping[str, Any], path: Path) -> list[str]:
    """Tenant, verification client and the agent's Application ID URI, for device-code sign-in."""
    why = {
        "tenantId": "needed for device-code sign-in",
        VERIFICATION_CLIENT_OUTPUT: "the stack's verification client, which device-code sign-in uses: set "
                                    "agent-obo:verificationUsers to the two test users and run pulumi up (the "
                                    "chat app allows no public-client sign-in); or pass --token-a-file and "
                                    "--token-b-file",
        "identifierUri": "the agent's Application ID URI, the token's audience",
    }
    values = [_required_output(outputs, key, path, why[key]) for key in REQUIRED_SIGN_IN_OUTPUTS]
    if outputs.get(VERIFICATION_CLIENT_OUTPUT) == outputs.get("clientId"):
        raise ConfigurationError(f"stack outputs {path}: {VERIFICATION_CLIENT_OUTPUT} is the chat app's client id; "
                                 "device-code sign-in must use the separate verification client")
    return values


def terminal_sign_in_prompt(user_label: str) -> SignInPrompt:
    """First use of a per-user connection: show each link whole, wait for the user to sign in."""

    def prompt(links: Sequence[ConsentLink]) -> bool:
        print(f"User {user_label} must sign in to a per-user connection first (first use). Open each link in "
              f"the same private browser window user {user_label} signed in with:", file=sys.stderr)
        for link in links:
            print(f"  {link.service}: {link.url}", file=sys.stderr)
        try:
            answer = input("Press Enter once signed in (or type skip): ")
        except EOFError:
            return False
        return answer.strip().lower() != "skip"

    return prompt


def main(argv: Sequence[str] | None = None, public_client: Callable[..., Any] | None = None) -> int:
    """`public_client`: what device-code sign-in makes each user's application with (default msal's)."""
    args = _parse_args(argv)
    try:
        outputs = load_outputs(args.outputs)
        endpoint = check_endpoint(
            _required_output(outputs, "a2aEndpoint", args.outputs, "the agent's A2A endpoint")
        )
        identifier_uri = outputs.get("identifierUri") if isinstance(outputs.get("identifierUri"), str) else None
        token_files = {"A": args.token_a_file, "B": args.token_b_file}
        tokens = {label: read_token(path) for label, path in token_files.items() if path is not None}
        sign_in_settings: list[str] = []
        if len(tokens) < 2:
            sign_in_settings = sign_in_outputs(outputs, args.outputs)
    except ConfigurationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

    answers: dict[str, Answer] = {}
    for label in ("A", "B"):
        if label not in tokens:
            token, problem = sign_in(label, *sign_in_settings, public_client=public_client)
            if token is None:
                answers[label] = Answer(False, "", None, problem)
                continue
            tokens[label] = token
    prompt = sys.stdin is not None and sys.stdin.isatty()
    for label in ("A", "B"):
        if label not in answers:
            answers[label] = ask(endpoint, tokens[label], args.question, args.timeout,
                                 identifier_uri=identifier_uri,
                                 on_auth_required=terminal_sign_in_prompt(label) if prompt else None)

    print(f"Question: {args.question}\n")
    print(side_by_side(answers["A"].display_text(), answers["B"].display_text(), _terminal_width()))
    print(f"\nVerdict: {verdict(answers['A'], answers['B'])}")
    return 0 if answers["A"].ok and answers["B"].ok else 2


if __name__ == "__main__":
    sys.exit(main())
