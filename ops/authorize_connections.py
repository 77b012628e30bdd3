"""Authorize a deployed stack's OAuth connections once: a consent link per connection, then its status.

Every per-user connection is validated and consented once by whoever creates it (Learn,
set-up-on-behalf-of-user-flow: "any sign-in exists only for validation or consent"; chat users then
sign in at first use), and every app-only OAuth connection waits for the service account it acts
as. `pulumi up` cannot sign anyone in, so the `connectionsNeedingAuthorization` stack output lists
them (agent_obo/tool_connections.py), and this script walks through them:

1. GET the connection; one that reports `Connected` is skipped.
2. POST `.../connections/<name>/listConsentLinks?api-version=2016-06-01` with
   `{"parameters": [{objectId, tenantId, parameterName: "token", redirectUrl}]}` and print the link.
3. The operator opens it and signs in; the consent server redirects the browser to `redirectUrl`,
   a one-shot listener on 127.0.0.1 (ops/consent_redirect.py), with `code=` (or `error=`).
4. POST `.../confirmConsentCode` with `{objectId, tenantId, code}` when a code came back.
5. GET the connection again and report `properties.overallStatus` / `statuses`.

This is what Microsoft's own tools do: the connection-authorization script LogicAppConnectionAuth.ps1
(logicappsio/LogicAppConnectionAuth, the Logic Apps team's: listConsentLinks with parameterName
"token", objectId and tenantId, then confirmConsentCode with the code from the redirect, then the
connection's `statuses`), and the designer for OAuth and per-user connections (Azure/LogicAppsUX
PR #8385, libs/designer/.../createConnection/createConnectionInternal.tsx ->
`createAndAuthorizeOAuthConnection` in libs/logic-apps-shared/.../standard/connection.ts, whose
OAuth services take objectId and tenantId from the signed-in user's ARM token, as here).

Signing in to ARM is the operator's own `az login` (azure-identity's AzureCliCredential): no
secrets. The objectId and tenantId sent are those of that sign-in. Bearer tokens go only to https,
or to http on the loopback interface (tests run a fake ARM endpoint there: `--arm-url`).

Usage:
    python -m ops.authorize_connections STACK [--outputs outputs.json] [--redirect-port 8400]
    make authorize-connections STACK=prod

Exit codes: 0 every listed connection is connected, 1 some connection is not (the report says
why), 2 nothing could start (outputs, sign-in, tenant, ARM URL), 127 the pulumi CLI is missing.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ops.bearer import ApiError, ConfigurationError, Credential, JsonApi, azure_cli_credential, sign_in
from ops.consent_redirect import ConsentRedirect
from ops.stack_plans import deployed_outputs, ends_without_a_plan, stack_parser

OUTPUT = "connectionsNeedingAuthorization"
ARM_URL = "https://management.azure.com"
API_VERSION = "2016-06-01"  # listConsentLinks and confirmConsentCode (Microsoft.Web 2016-06-01 spec)
CONNECTED = "Connected"
DEFAULT_TIMEOUT_SECONDS = 300.0  # the designer's popup waits as long
CONNECTION_ID = re.compile(r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/(?P<group>[^/]+)"
                           r"/providers/Microsoft\.Web/connections/(?P<name>[^/]+)\Z", re.IGNORECASE)
ENTRY_KEYS = ("connection", "azureName", "resourceId", "connector", "identityMode", "signsIn")


# --- what to authorize ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One element of the `connectionsNeedingAuthorization` output."""

    connection: str
    azure_name: str
    resource_id: str
    connector: str
    identity_mode: str
    signs_in: str


def entries_from(outputs: Mapping[str, Any]) -> list[Entry]:
    """The connections to authorize, each id checked to be a connection in the stack's own resource
    group, so an edited outputs file cannot aim the operator's token at anything else."""
    listed = outputs.get(OUTPUT)
    if not isinstance(listed, list) or not all(isinstance(item, dict) for item in listed):
        raise ConfigurationError(
            f"the stack output {OUTPUT} is {json.dumps(listed)}, not a list of connections: the stack "
            "was last deployed by an older program, or not at all; run `make up` first")
    group = outputs.get("resourceGroup")
    entries = []
    for item in listed:
        missing = [key for key in ENTRY_KEYS if not isinstance(item.get(key), str) or not item[key]]
        if missing:
            raise ConfigurationError(f"{OUTPUT} entry {json.dumps(item)} lacks {', '.join(missing)}")
        match = CONNECTION_ID.match(item["resourceId"])
        if (not match or match["name"] != item["azureName"] or not isinstance(group, str)
                or match["group"].lower() != group.lower()):
            raise ConfigurationError(
                f"{OUTPUT} entry {item['connection']}: resourceId {item['resourceId']!r} is not the connection "
                f"{item['azureName']!r} in the stack's resource group {group!r}")
        entries.append(Entry(item["connection"], item["azureName"], item["resourceId"], item["connector"],
                             item["identityMode"], item["signsIn"]))
    return entries


# --- ARM --------------------------------------------------------------------------------------------

class ArmError(ApiError):
    """An error answer of Azure Resource Manager."""


class Arm(JsonApi):
    """The three connection calls, with the operator's bearer token."""

    error, what = ArmError, "--arm-url"

    def get(self, resource_id: str) -> dict[str, Any]:
        return self.call("GET", self._path(resource_id))

    def post(self, resource_id: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
        # confirmConsentCode may answer with an empty body (LogicAppConnectionAuth.ps1 ignores its errors for it)
        return self.call("POST", self._path(f"{resource_id}/{action}"), body)

    @staticmethod
    def _path(path: str) -> str:
        return f"{urllib.parse.quote(path)}?api-version={API_VERSION}"


# --- one connection ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Status:
    overall: str
    detail: str

    @property
    def connected(self) -> bool:
        return self.overall == CONNECTED


def status_of(connection: Mapping[str, Any]) -> Status:
    """`properties.overallStatus`, else the first of `properties.statuses`, with any error message."""
    properties = connection.get("properties") or {}
    statuses = [s for s in properties.get("statuses") or [] if isinstance(s, dict)]
    overall = properties.get("overallStatus") or (statuses[0].get("status") if statuses else None) or "Unknown"
    errors = [f"{(s.get('error') or {}).get('code', '')}: {(s.get('error') or {}).get('message', '')}".strip(": ")
              for s in statuses if s.get("error")]
    return Status(str(overall), "; ".join(e for e in errors if e))


@dataclass(frozen=True)
class Outcome:
    entry: Entry
    result: str  # already connected | authorized | not connected | failed
    status: Status | None
    why: str = ""

    @property
    def connected(self) -> bool:
        return self.status is not None and self.status.connected


def advice(error: ArmError, entry: Entry, tenant_id: str) -> str:
    if error.status == 401:
        return f"ARM refused the sign-in ({error.message}): `az login --tenant {tenant_id}`, then run this again"
    if error.status == 403:
        return (f"your account may not authorize {entry.azure_name} ({error.message}): it needs "
                "Microsoft.Web/connections/read, listConsentLinks/action and confirmConsentCode/action, "
                "e.g. Contributor on the stack's resource group")
    if error.status == 404:
        return (f"ARM has no connection {entry.resource_id} ({error.message}): deploy the stack first "
                "(`make up`), and check that the outputs are this stack's")
    return f"ARM answered {error}"


def consent_link(answer: Mapping[str, Any]) -> str:
    links = [item.get("link") for item in answer.get("value") or [] if isinstance(item, dict)]
    link = next((item for item in links if isinstance(item, str) and item), None)
    if link is None or urllib.parse.urlsplit(link).scheme != "https":
        raise ArmError(200, "NoConsentLink", f"listConsentLinks returned no https link: {json.dumps(answer)[:300]}")
    return link


def decode_error(error: str) -> str:
    """The consent server's `error=` value, base64 in the designer's reading (`atob`), else as sent."""
    try:
        return base64.b64decode(error + "=" * (-len(error) % 4), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return error


def authorize(entry: Entry, arm: Arm, object_id: str, tenant_id: str, *, show: Callable[[str], None],
              redirect_port: int = 0, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> Outcome:
    identity = {"objectId": object_id, "tenantId": tenant_id}
    try:
        before = status_of(arm.get(entry.resource_id))
        if before.connected:
            return Outcome(entry, "already connected", before)
        with ConsentRedirect(redirect_port) as listener:
            answer = arm.post(entry.resource_id, "listConsentLinks", {"parameters": [
                {**identity, "parameterName": "token", "redirectUrl": listener.url}]})
            show(f"\n{entry.azure_name} ({entry.connector}, {entry.identity_mode}): now {before.overall}\n"
                 f"  who signs in: {entry.signs_in}\n"
                 "  open this link in a browser on this machine and sign in:\n"
                 f"  {consent_link(answer)}\n"
                 f"  waiting up to {timeout:g} s for the sign-in to finish ...")
            redirect = listener.wait(timeout)
        if redirect is None:
            return Outcome(entry, "failed", None, f"no sign-in finished within {timeout:g} s")
        if redirect.error:
            return Outcome(entry, "failed", None, f"the consent server reported: {decode_error(redirect.error)}")
        if redirect.code:
            arm.post(entry.resource_id, "confirmConsentCode", {**identity, "code": redirect.code})
        after = status_of(arm.get(entry.resource_id))
        return Outcome(entry, "authorized" if after.connected else "not connected", after)
    except ArmError as error:
        return Outcome(entry, "failed", None, advice(error, entry, tenant_id))


# --- the report and the command ---------------------------------------------------------------------

def report(stack: str, outcomes: Sequence[Outcome]) -> str:
    if not outcomes:
        return f"Stack {stack}: no connection needs an authorization."
    rows = [("connection (Azure name)", "connector", "identity", "result", "status")]
    rows += [(o.entry.azure_name, o.entry.connector, o.entry.identity_mode, o.result,
              o.status.overall if o.status else "-") for o in outcomes]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = [f"Stack {stack}: {sum(o.connected for o in outcomes)} of {len(outcomes)} connection(s) connected"]
    for row, outcome in zip(rows, (None, *outcomes), strict=True):
        lines.append("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        notes = [outcome.why, outcome.status.detail if outcome.status else ""] if outcome else []
        lines += [f"      {note}" for note in notes if note]
    return "\n".join(lines)


def operator(credential: Credential, arm_url: str, tenant_id: Any) -> tuple[str, str, str]:
    """(token, objectId, tenantId) of the operator, refused unless it is the stack's tenant. The designer
    reads the user from the token's `oid` claim the same way."""
    token, claims = sign_in(credential, Arm, arm_url, tenant_id)
    if not isinstance(claims.get("oid"), str):
        raise ConfigurationError("the ARM token carries no oid claim: sign in as a user with `az login`")
    return token, claims["oid"], claims["tid"]


@ends_without_a_plan
def main(argv: Sequence[str] | None = None, credential: Credential | None = None) -> int:
    parser = stack_parser("ops.authorize_connections",
                          "Authorize a deployed stack's per-user and OAuth app-only connections.", reads_outputs=True)
    parser.add_argument("--redirect-port", type=int, default=0, help="loopback port for the sign-in redirect "
                        "(default: any free one; fix it to forward it over ssh)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_SECONDS,
                        help="seconds to wait for each sign-in")
    parser.add_argument("--arm-url", default=ARM_URL, help=argparse.SUPPRESS)  # tests: a fake ARM on loopback
    args = parser.parse_args(argv)

    try:
        outputs = deployed_outputs(args)
        entries = entries_from(outputs)
        if not entries:
            print(report(args.stack, []))
            return 0
        token, object_id, tenant_id = operator(credential or azure_cli_credential(), args.arm_url,
                                               outputs.get("tenantId"))
        arm = Arm(args.arm_url, token)
    except (ConfigurationError, OSError, ValueError) as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2

    print(f"Stack {args.stack}: {len(entries)} connection(s) to authorize, as {object_id} in tenant {tenant_id}.")
    try:
        outcomes = [authorize(entry, arm, object_id, tenant_id, show=lambda text: print(text, flush=True),
                              redirect_port=args.redirect_port, timeout=args.timeout) for entry in entries]
    except OSError as problem:  # the redirect port is taken
        print(f"error: no loopback listener on port {args.redirect_port}: {problem}", file=sys.stderr)
        return 2
    print("\n" + report(args.stack, outcomes))
    return 0 if all(outcome.connected for outcome in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
