"""An administrator's step: consent to the chat app's Graph scopes and assign who may sign in.

Both need a tenant-wide Entra write right (granting delegated permissions, assigning users and
groups to an app) that lets its holder widen any app's access, so no pipeline identity holds it and
the program does neither (components/chat_app_registration.py, components/verification_client.py).
An administrator runs this under their own sign-in (`az login`; Cloud Application Administrator is
enough for delegated Microsoft Graph scopes), for every environment, for each of the stack's apps:
the chat app and, where the stack lists verificationUsers, the two-user check's client.

1. What to grant comes from this checkout: the stack's offline plan derives the scopes
   (agent_obo/graph_scopes.py) and the users and groups (Pulumi.<stack>.yaml) the way `pulumi up`
   does. The deployed stack's outputs (`pulumi stack output`, or --outputs FILE) name the apps; if
   they disagree with the checkout, nothing is granted: deploy first, or check out what is deployed.
2. Microsoft Graph is read: each app (single tenant, its display name, the Graph scopes it
   requests), its service principal, its tenant-wide grants, its assignments, and the type of each
   declared user and group.
3. The changes that make the tenant match exactly are printed: create or narrow the chat app's one
   AllPrincipals grant to Microsoft Graph (POST or PATCH /oauth2PermissionGrants), remove any other
   tenant-wide grant (the verification client needs none: the chat app pre-authorizes it), assign
   each declared user and group to the default access role (POST .../appRoleAssignedTo), and remove
   assignments nobody declared (DELETE). With --execute they are made, one by one, each printed.

Usage:
    python -m ops.grant_sign_in STACK [--outputs outputs.json] [--execute]
    make grant-sign-in STACK=prod [EXECUTE=1]

Exit codes: 0 the tenant matches (or, without --execute, the changes were listed), 1 a change
failed, 2 nothing could start (outputs, checkout, sign-in, tenant, the app is not the stack's),
127 the pulumi CLI is missing. Bearer tokens go only to https, or to http on the loopback interface
(tests run a fake Microsoft Graph there: --graph-url).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agent_obo.graph_scopes import GRAPH_APP_ID
from offline.plan import Plan
from offline.runner import RunResult, run_stack
from ops.bearer import ApiError, ConfigurationError, Credential, JsonApi, azure_cli_credential, sign_in
from ops.stack_plans import deployed_outputs, ends_without_a_plan, plan_for, stack_parser

GRAPH_URL = "https://graph.microsoft.com/v1.0"
ALL_PRINCIPALS = "AllPrincipals"
APPLICATION = "azuread:index/application:Application"
DECLARED_ASSIGNMENT_KEYS = ("appRoleId", "assignmentRequired", "users", "groups")
# What Microsoft Graph calls each kind of principal the stack may declare.
PRINCIPAL_TYPES = {"users": "#microsoft.graph.user", "groups": "#microsoft.graph.group"}


# --- what the stack declares -------------------------------------------------------------------------

@dataclass(frozen=True)
class DeclaredApp:
    """One app registration of the stack and what the administrator grants it."""

    role: str  # "chat app" or "verification client", for the report
    client_id: str
    display_name: str
    scopes: tuple[str, ...]  # the Microsoft Graph scopes consented tenant-wide; () for no grant at all
    app_role_id: str
    users: tuple[str, ...]
    groups: tuple[str, ...]

    @property
    def principals(self) -> dict[str, str]:
        """principal object id -> "users" or "groups"."""
        return {**{user: "users" for user in self.users}, **{group: "groups" for group in self.groups}}


@dataclass(frozen=True)
class Declared:
    """What the administrator grants: derived from the checkout, checked against the deployment."""

    stack: str
    tenant_id: str
    apps: tuple[DeclaredApp, ...]


# Each app: the stack output naming it, the output saying whom to assign, its registration in the
# plan, and whether it holds the chat app's Graph scopes.
APPS = (("chat app", "clientId", "signInAssignments", "chat-app-app", True),
        ("verification client", "verificationClientId", "verificationClientAssignments",
         "verification-client-app", False))


def declared(stack: str, plan: Plan, outputs: Mapping[str, Any]) -> Declared:
    """The checkout's plan says what to grant; the deployment's outputs say to which apps. Any
    disagreement stops here, so an edited outputs file cannot widen what is granted."""
    derived = plan.stack_outputs
    problems = []
    if not isinstance(outputs.get("tenantId"), str) or not outputs["tenantId"]:
        problems.append("the stack outputs have no tenantId: deploy the stack first (`make up`)")
    compared = {"graphScopes": (outputs.get("graphScopes"), derived["graphScopes"])}
    apps = []
    for role, client_key, assignments_key, registration, holds_scopes in APPS:
        if assignments_key not in derived and client_key not in outputs:
            continue  # this stack has no such app, in the checkout or deployed
        if not isinstance(outputs.get(client_key), str) or not outputs[client_key]:
            problems.append(f"the stack outputs have no {client_key}: deploy this checkout first (`make up`)")
            continue
        deployed_assignments = outputs.get(assignments_key)
        if not isinstance(deployed_assignments, dict):
            deployed_assignments = {}
        wanted = derived.get(assignments_key) or {}
        for key in DECLARED_ASSIGNMENT_KEYS:  # the service principal's id is the deployment's own
            compared[f"{assignments_key}.{key}"] = (deployed_assignments.get(key), wanted.get(key))
        apps.append(DeclaredApp(
            role=role, client_id=outputs[client_key],
            display_name=next(r for r in plan.all(APPLICATION) if r.name == registration).input("displayName"),
            scopes=tuple(derived["graphScopes"]) if holds_scopes else (), app_role_id=str(wanted.get("appRoleId")),
            users=tuple(wanted.get("users") or ()), groups=tuple(wanted.get("groups") or ())))
    for key, (deployed, checkout) in compared.items():
        if deployed != checkout:
            problems.append(f"{key}: deployed {json.dumps(deployed)}, this checkout {json.dumps(checkout)}")
    if problems:
        raise ConfigurationError(
            f"stack {stack}: the deployment and this checkout disagree, so nothing is granted:\n  "
            + "\n  ".join(problems)
            + "\n  deploy this checkout first, or check out the commit that is deployed")
    return Declared(stack=stack, tenant_id=outputs["tenantId"], apps=tuple(apps))


# --- Microsoft Graph ---------------------------------------------------------------------------------

class GraphError(ApiError):
    """An error answer of Microsoft Graph."""


class Graph(JsonApi):
    """Microsoft Graph v1.0 with the administrator's bearer token."""

    error, what = GraphError, "--graph-url"

    def get(self, path: str) -> dict[str, Any]:
        return self.call("GET", path)

    def list(self, path: str) -> list[dict[str, Any]]:
        """Every page of a collection; a next page is followed only on the same base URL."""
        items: list[dict[str, Any]] = []
        page: dict[str, Any] = self.get(path)
        while True:
            items += [item for item in page.get("value") or [] if isinstance(item, dict)]
            following = page.get("@odata.nextLink")
            if not isinstance(following, str) or not following.startswith(self.base_url + "/"):
                return items
            page = self.get(following[len(self.base_url):])


def _quoted(value: str) -> str:
    """A GUID in a Graph key segment, refused otherwise (it is interpolated into a URL)."""
    if not all(c in "0123456789abcdefABCDEF-" for c in value) or len(value) != 36:
        raise ConfigurationError(f"{value!r} is not an object or client id")
    return value


# --- what the tenant holds, and what must change ----------------------------------------------------

@dataclass(frozen=True)
class Change:
    what: str  # a sentence an administrator can review
    method: str
    path: str
    body: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Review:
    app: DeclaredApp
    service_principal_id: str
    changes: tuple[Change, ...]
    notes: tuple[str, ...]


def review(stack: Declared, graph: Graph) -> list[Review]:
    """Reads the tenant and lists, per app, the changes that make it match the stack exactly."""
    return [review_app(stack.stack, declared_app, graph) for declared_app in stack.apps]


def review_app(stack_name: str, declared_app: DeclaredApp, graph: Graph) -> Review:
    """One app: refuses one that is not the stack's, then lists its grant and assignment changes."""
    client = _quoted(declared_app.client_id)
    registration = graph.get(f"/applications(appId='{client}')"
                             "?$select=id,displayName,signInAudience,requiredResourceAccess")
    if (registration.get("displayName") != declared_app.display_name
            or registration.get("signInAudience") != "AzureADMyOrg"):
        raise ConfigurationError(
            f"the app {client} is {registration.get('displayName')!r} ({registration.get('signInAudience')}), "
            f"not the stack's single-tenant {declared_app.display_name!r}: check the outputs are stack "
            f"{stack_name}'s")
    sp = graph.get(f"/servicePrincipals(appId='{client}')?$select=id,appRoleAssignmentRequired")
    ms_graph = graph.get(f"/servicePrincipals(appId='{GRAPH_APP_ID}')?$select=id,oauth2PermissionScopes")
    scope_ids = {str(s.get("value")): str(s.get("id")) for s in ms_graph.get("oauth2PermissionScopes") or []}
    requested = sorted(str(access.get("id")) for resource in registration.get("requiredResourceAccess") or []
                       if resource.get("resourceAppId") == GRAPH_APP_ID
                       for access in resource.get("resourceAccess") or [] if access.get("type") == "Scope")
    if requested != sorted(scope_ids.get(name, f"unknown scope {name}") for name in declared_app.scopes):
        raise ConfigurationError(
            f"the app {client} requests other Microsoft Graph scopes than "
            f"{' '.join(declared_app.scopes) or 'none'}: deploy this checkout first, so the consent URL and "
            "this grant agree")
    sp_id, graph_id = sp["id"], ms_graph["id"]
    notes = [] if sp.get("appRoleAssignmentRequired") is True else [
        "the service principal does not require assignment yet: `make up` sets it"]
    changes = [*_consent_changes(declared_app, graph, sp_id, graph_id),
               *_assignment_changes(stack_name, declared_app, graph, sp_id)]
    return Review(declared_app, sp_id, tuple(changes), tuple(notes))


def _consent_changes(declared_app: DeclaredApp, graph: Graph, sp_id: str, graph_id: str) -> list[Change]:
    """One AllPrincipals grant to Microsoft Graph holding exactly the app's scopes (none for an app
    that declares none); no other tenant-wide grant. Users' own consents are theirs."""
    wanted, scopes = " ".join(declared_app.scopes), sorted(declared_app.scopes)
    grants = [g for g in graph.list(f"/servicePrincipals/{sp_id}/oauth2PermissionGrants")
              if g.get("consentType") == ALL_PRINCIPALS]
    kept = [g for g in grants if g.get("resourceId") == graph_id][:1] if scopes else []
    changes = []
    if scopes and not kept:
        changes.append(Change(f"consent, for all users, to Microsoft Graph {wanted}", "POST",
                              "/oauth2PermissionGrants", {"clientId": sp_id, "consentType": ALL_PRINCIPALS,
                                                          "resourceId": graph_id, "scope": wanted}))
    for grant in kept:
        held = sorted(str(grant.get("scope") or "").split())
        if held != scopes:
            extra, missing = sorted(set(held) - set(scopes)), sorted(set(scopes) - set(held))
            changes.append(Change(f"set the Microsoft Graph consent to {wanted} (remove: {' '.join(extra) or '-'}; "
                                  f"add: {' '.join(missing) or '-'})", "PATCH",
                                  f"/oauth2PermissionGrants/{grant['id']}", {"scope": wanted}))
    for grant in [g for g in grants if g not in kept]:
        changes.append(Change(f"remove the tenant-wide grant {grant.get('id')} ({grant.get('scope')!r} to "
                              f"{grant.get('resourceId')}): the {declared_app.role} declares no other", "DELETE",
                              f"/oauth2PermissionGrants/{grant.get('id')}"))
    return changes


def _assignment_changes(stack_name: str, declared_app: DeclaredApp, graph: Graph, sp_id: str) -> list[Change]:
    """Exactly the declared users and groups on the app's default access role, each of its kind."""
    assigned = {str(a.get("principalId")): a for a in graph.list(f"/servicePrincipals/{sp_id}/appRoleAssignedTo")}
    changes = []
    for principal, kind in declared_app.principals.items():
        found = graph.get(f"/directoryObjects/{_quoted(principal)}?$select=id,displayName")
        if found.get("@odata.type") != PRINCIPAL_TYPES[kind]:
            raise ConfigurationError(f"{principal} is declared among the {declared_app.role}'s {kind} but is "
                                     f"{found.get('@odata.type')!r} in the tenant: fix Pulumi.{stack_name}.yaml")
        if principal not in assigned:
            changes.append(Change(
                f"assign {kind[:-1]} {found.get('displayName')!r} ({principal}) to the {declared_app.role}", "POST",
                f"/servicePrincipals/{sp_id}/appRoleAssignedTo",
                {"principalId": principal, "resourceId": sp_id, "appRoleId": declared_app.app_role_id}))
    for principal, assignment in assigned.items():
        if principal not in declared_app.principals:
            who = f"{assignment.get('principalType')} {assignment.get('principalDisplayName')!r} ({principal})"
            changes.append(Change(f"remove the assignment of {who} from the {declared_app.role}: declared nowhere",
                                  "DELETE", f"/servicePrincipals/{sp_id}/appRoleAssignedTo/{assignment.get('id')}"))
    return changes


def apply(changes: Sequence[Change], graph: Graph, show: Callable[[str], None]) -> int:
    """Makes each change in order; returns how many failed."""
    failed = 0
    for change in changes:
        try:
            graph.call(change.method, change.path, change.body)
            show(f"  done    {change.what}")
        except GraphError as error:
            failed += 1
            show(f"  FAILED  {change.what}\n          {advice(error)}")
    return failed


def advice(error: GraphError) -> str:
    if error.status in (401, 403):
        return (f"Microsoft Graph refused ({error}): sign in as a Cloud Application Administrator (or "
                "Privileged Role Administrator) of the stack's tenant")
    return f"Microsoft Graph answered {error}"


# --- the command -------------------------------------------------------------------------------------

@ends_without_a_plan
def main(argv: Sequence[str] | None = None, credential: Credential | None = None,
         run: Callable[[str], RunResult] = run_stack) -> int:
    parser = stack_parser("ops.grant_sign_in", __doc__.splitlines()[0], reads_outputs=True)
    parser.add_argument("--execute", action="store_true", help="make the changes (default: only list them)")
    parser.add_argument("--graph-url", default=GRAPH_URL, help=argparse.SUPPRESS)  # tests: a fake Graph on loopback
    args = parser.parse_args(argv)
    try:
        plan = plan_for(args.stack, run)
        outputs = deployed_outputs(args)
        stack = declared(args.stack, plan, outputs)
        token, _ = sign_in(credential or azure_cli_credential(), Graph, args.graph_url, stack.tenant_id)
        graph = Graph(args.graph_url, token)
        reviews = review(stack, graph)
    except (ConfigurationError, GraphError, OSError, ValueError) as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2

    changes = [change for found in reviews for change in found.changes]
    print(f"Stack {args.stack}, tenant {stack.tenant_id}:")
    for found in reviews:
        app = found.app
        print(f"  {app.role} {app.display_name} (client id {app.client_id}, service principal "
              f"{found.service_principal_id}): Microsoft Graph {' '.join(app.scopes) or 'nothing'}; users "
              f"{', '.join(app.users) or '-'}; groups {', '.join(app.groups) or '-'}")
        for note in found.notes:
            print(f"    note: {note}")
    if not changes:
        print("  the tenant matches: nothing to change")
        return 0
    if not args.execute:
        print(f"  {len(changes)} change(s) to make (run again with --execute, or EXECUTE=1):")
        for change in changes:
            print(f"    {change.what}")
        return 0
    print(f"  making {len(changes)} change(s):")
    return 1 if apply(changes, graph, print) else 0


if __name__ == "__main__":
    sys.exit(main())
