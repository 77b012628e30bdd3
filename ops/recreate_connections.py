"""Recreate one connector's per-user connections in a stack, together with their access policies.

A per-user connection keeps each chat user's sign-in. Changing the catalog's scopes renews its
generation (a random id in its Azure name) and so replaces it by itself on the next `pulumi up`;
this is for the other times a fresh one is needed:
consent or scopes changed outside the catalog (an administrator revoked or re-granted consent), or
the connection is broken. Azure cannot reset a connection in place, so it is replaced: every chat
user sees a sign-in prompt at their next use of a tool on it, and their old tokens are gone.

The URNs come from the offline plan of the stack (the same program, so the same URNs as the
deployed state). The command is printed; `--execute` runs it.

Usage:
    python -m ops.recreate_connections STACK CONNECTOR [--execute]
    make recreate-connections STACK=prod CONNECTOR=office365 [EXECUTE=1]

Exit codes: 0 printed (or ran and pulumi succeeded), 1 the offline plan failed, 2 the stack or the
connector has nothing to recreate (the message lists what there is), else pulumi's own exit code.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from agent_obo.catalog import PER_USER
from offline.plan import Plan, Registration
from offline.runner import RunResult, run_stack
from ops.stack_plans import ends_without_a_plan, plan_for, run_pulumi, stack_parser

GENERIC_RESOURCE = "azure-native:resources:Resource"
GENERATION = "random:index/randomId:RandomId"
MANAGED_API_MARKER = "/managedApis/"


class NothingToRecreate(Exception):
    """The stack or the connector names nothing that can be recreated; the message says what can."""


def is_connection(registration: Registration) -> bool:
    return (registration.type == GENERIC_RESOURCE
            and registration.input("resourceProviderNamespace") == "Microsoft.Web"
            and registration.input("resourceType") == "connections")


def is_per_user(connection: Registration) -> bool:
    return connection.input("tags.identity-mode") == PER_USER


def connector_of(connection: Registration) -> str | None:
    """`office365` from properties.api.id `.../managedApis/office365`."""
    api_id = connection.input("properties.api.id") or ""
    return api_id.rsplit(MANAGED_API_MARKER, 1)[1] if MANAGED_API_MARKER in api_id else None


def per_user_connectors(plan: Plan) -> dict[str, list[Registration]]:
    """Connector name -> its per-user connections, in plan order."""
    found: dict[str, list[Registration]] = {}
    for registration in plan:
        if is_connection(registration) and is_per_user(registration):
            found.setdefault(connector_of(registration) or "?", []).append(registration)
    return found


def access_policies_of(plan: Plan, connection: Registration) -> list[Registration]:
    """Its access policies: ARM children `connections/<its Azure name>/accessPolicies/<principal>`."""
    parent_path = f"connections/{connection.input('resourceName')}"
    return [r for r in plan if r.type == GENERIC_RESOURCE and r.input("resourceType") == "accessPolicies"
            and r.input("parentResourcePath") == parent_path]


def generation_of(plan: Plan, connection: Registration) -> Registration:
    """The random id in the connection's Azure name (components/tool_connections.py)."""
    (generation,) = [r for r in plan if r.type == GENERATION and r.urn in connection.dependencies]
    return generation


@dataclass(frozen=True)
class Recreation:
    stack: str
    connector: str
    generations: list[Registration]
    connections: list[Registration]
    policies: list[Registration]

    @property
    def urns(self) -> list[str]:
        """Replacing a generation gives its connection a new Azure name, so the new connection is
        created before the old one is deleted (no window without one) and never collides with it;
        the connection and its access policy are named too, so the command says what it replaces."""
        return [r.urn for r in (*self.generations, *self.connections, *self.policies)]

    def command(self) -> list[str]:
        replace = [part for urn in self.urns for part in ("--replace", urn)]
        return ["pulumi", "up", "--stack", self.stack, "--policy-pack", "policy", *replace]


def plan_recreation(plan: Plan, connector: str | None) -> Recreation:
    """The per-user connections of `connector` and their access policies, or NothingToRecreate
    naming the per-user connectors the stack does have."""
    available = per_user_connectors(plan)
    listing = ", ".join(sorted(available)) or "none"
    if not connector:
        raise NothingToRecreate(f"name a connector; per-user connectors of stack {plan.stack}: {listing}")
    if connector not in available:
        other = [r.input("resourceName") for r in plan if is_connection(r) and connector_of(r) == connector]
        why = (f"stack {plan.stack} connects to {connector} only app-only ({', '.join(other)}): an app-only "
               "connection has no per-user sign-ins to reset" if other
               else f"stack {plan.stack} has no connection to connector {connector!r}")
        raise NothingToRecreate(f"{why}; per-user connectors of stack {plan.stack}: {listing}")
    connections = available[connector]
    policies = [policy for connection in connections for policy in access_policies_of(plan, connection)]
    generations = [generation_of(plan, connection) for connection in connections]
    return Recreation(stack=plan.stack, connector=connector, generations=generations, connections=connections,
                      policies=policies)


def describe(recreation: Recreation) -> str:
    lines = [f"Stack {recreation.stack}, connector {recreation.connector}: "
             f"{len(recreation.connections)} per-user connection(s) and {len(recreation.policies)} "
             "access policy(ies) to recreate:"]
    for generation in recreation.generations:
        lines.append(f"  generation     {generation.name} (renewed: the connection gets a new Azure name)  "
                     f"{generation.urn}")
    for connection in recreation.connections:
        azure_name = connection.input("resourceName")
        lines.append(f"  connection     {connection.name} (Azure: {azure_name})  {connection.urn}")
    for policy in recreation.policies:
        lines.append(f"  access policy  {policy.name}  {policy.urn}")
    lines.append("Every chat user signs in again at their next use of a tool on these connections.")
    return "\n".join(lines)


@ends_without_a_plan
def main(argv: Sequence[str] | None = None, run_stack: Callable[[str], RunResult] = run_stack,
         run_command: Callable[[list[str]], int] = run_pulumi) -> int:
    """`run_stack` gives the stack's offline plan, `run_command` runs pulumi (tests pass stand-ins)."""
    parser = stack_parser("ops.recreate_connections", "Recreate one connector's per-user connections of a stack.")
    parser.add_argument("connector", nargs="?", help="managed connector name, e.g. office365")
    parser.add_argument("--execute", action="store_true", help="run the pulumi up instead of printing it")
    args = parser.parse_args(argv)

    plan = plan_for(args.stack, run_stack)
    try:
        recreation = plan_recreation(plan, args.connector)
    except NothingToRecreate as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2

    print(describe(recreation))
    command = recreation.command()
    print("\n" + shlex.join(command))
    if not args.execute:
        return 0
    return run_command(command)


if __name__ == "__main__":
    sys.exit(main())
