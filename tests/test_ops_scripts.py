"""ops/recreate_connections.py, ops/protected_resources.py and their Makefile targets.

The scripts read the offline plan of a stack; here they read the session's recorded plans instead
of running the program again, and no pulumi command is run: each script is handed stand-ins.
"""

from __future__ import annotations

import shlex

import pytest

from agent_obo.errors import SettingsError
from offline.plan import Plan
from offline.runner import RunResult
from ops import protected_resources, recreate_connections
from ops.recreate_connections import NothingToRecreate, per_user_connectors, plan_recreation
from tests.helpers import make_dry_run

CONNECTION_API_MARKER = "/managedApis/"


class Recorded:
    """Stand-ins for what the scripts run: the session's recorded plans instead of the program, and a
    record of the pulumi commands instead of running them (each answers `exit_code`)."""

    def __init__(self, plans: dict[str, Plan], exit_code: int = 0):
        self.plans = plans
        self.exit_code = exit_code
        self.commands: list[list[str]] = []

    def run_stack(self, stack: str) -> RunResult:
        return RunResult(plan=self.plans[stack], error=None)

    def run_command(self, command: list[str]) -> int:
        self.commands.append(command)
        return self.exit_code

    def main(self, script, argv: list[str]) -> int:
        return script.main(argv, run_stack=self.run_stack, run_command=self.run_command)


@pytest.fixture
def recorded(plans) -> Recorded:
    return Recorded(plans)


# --- recreate_connections: what it finds ----------------------------------------------------------

def test_every_per_user_connector_resolves_to_its_connections_and_policies(plan):
    connectors = per_user_connectors(plan)
    assert connectors, f"stack {plan.stack} has no per-user connection to recreate"
    for connector in connectors:
        recreation = plan_recreation(plan, connector)
        for connection in recreation.connections:
            assert plan.by_urn(connection.urn) is connection
            assert connection.input("tags.identity-mode") == "per-user", connection.urn
            assert connection.input("properties.api.id").endswith(f"{CONNECTION_API_MARKER}{connector}"), connection.urn
        parents = {f"connections/{c.input('resourceName')}" for c in recreation.connections}
        assert recreation.policies, f"{connector} in {plan.stack}: no access policy found"
        for policy in recreation.policies:
            assert policy.input("resourceType") == "accessPolicies", policy.urn
            assert policy.input("parentResourcePath") in parents, policy.urn
            # Its path names the connection's generation: renewing it replaces the policy with the connection.
            assert set(policy.property_dependencies["parentResourcePath"]) & {g.urn for g in recreation.generations}
        # Renewing the generation renames the connection: created before the old one is deleted.
        for generation, connection in zip(recreation.generations, recreation.connections, strict=True):
            assert generation.type == "random:index/randomId:RandomId"
            assert connection.input("resourceName").endswith(generation.outputs["hex"])
            assert not connection.delete_before_replace


def test_app_only_connections_are_never_targeted(plan):
    for connector in per_user_connectors(plan):
        for connection in plan_recreation(plan, connector).connections:
            assert "apponly" not in connection.name, connection.urn


def test_command_replaces_exactly_the_recreated_urns(plans):
    recreation = plan_recreation(plans["prod"], "office365")
    command = recreation.command()
    assert command[:6] == ["pulumi", "up", "--stack", "prod", "--policy-pack", "policy"]
    replaced = command[6:]
    assert replaced[::2] == ["--replace"] * len(recreation.urns)
    assert replaced[1::2] == recreation.urns
    assert len(set(recreation.urns)) == len(recreation.urns)
    assert all(urn.startswith("urn:pulumi:prod::agent-obo::") for urn in recreation.urns)


def test_printed_command_is_quoted_for_the_shell(recorded, capsys):
    """URNs hold '$': unquoted, a shell would expand it and replace nothing."""
    assert recorded.main(recreate_connections, ["dev", "office365"]) == 0
    printed = capsys.readouterr().out.strip().splitlines()[-1]
    expected = plan_recreation(recorded.plans["dev"], "office365").command()
    assert shlex.split(printed) == expected
    assert "'urn:pulumi:dev::" in printed


def test_unknown_connector_is_an_error_listing_the_per_user_connectors(recorded, capsys):
    assert recorded.main(recreate_connections, ["dev", "sharepointonline"]) == 2
    error = capsys.readouterr().err
    assert "no connection to connector 'sharepointonline'" in error
    for connector in per_user_connectors(recorded.plans["dev"]):
        assert connector in error


def test_app_only_connector_is_an_error_that_says_so(recorded, capsys):
    assert recorded.main(recreate_connections, ["dev", "azureblob"]) == 2
    error = capsys.readouterr().err
    assert "only app-only" in error and "azureblob-apponly" in error
    assert ", ".join(sorted(per_user_connectors(recorded.plans["dev"]))) in error


def test_missing_connector_lists_what_can_be_recreated(plans):
    with pytest.raises(NothingToRecreate, match="per-user connectors of stack prod: office365"):
        plan_recreation(plans["prod"], None)


def test_unknown_stack_is_an_error_listing_the_stacks(recorded, capsys):
    assert recorded.main(recreate_connections, ["qa", "office365"]) == 2
    assert "stacks: dev, prod" in capsys.readouterr().err


def test_a_failing_program_is_reported_not_guessed_around(capsys):
    failure = SettingsError("stack settings are invalid", ["planSku = 'WS9'"])
    assert recreate_connections.main(["dev", "office365"],
                                     run_stack=lambda stack: RunResult(plan=None, error=failure)) == 1
    assert "URNs are unknown" in capsys.readouterr().err


# --- recreate_connections: running it -------------------------------------------------------------

def test_execute_runs_the_printed_command(recorded):
    assert recorded.main(recreate_connections, ["dev", "office365", "--execute"]) == 0
    assert recorded.commands == [plan_recreation(recorded.plans["dev"], "office365").command()]


def test_the_command_renews_the_generation_first(plans):
    recreation = plan_recreation(plans["dev"], "office365")
    assert recreation.urns[0] == recreation.generations[0].urn
    assert recreation.urns[0].endswith("random:index/randomId:RandomId::office365-peruser-generation")


# --- protected_resources --------------------------------------------------------------------------

def test_prod_protects_its_storage_and_app_registration(plans):
    protected = protected_resources.protected_resources(plans["prod"])
    types = {r.type for r in protected}
    assert "azure-native:storage:StorageAccount" in types
    assert "azuread:index/application:Application" in types
    for registration in protected:
        assert plans["prod"].by_urn(registration.urn).protect


def test_dev_protects_nothing(plans):
    assert protected_resources.protected_resources(plans["dev"]) == []


def test_listing_prints_one_unprotect_command_per_protected_urn(recorded, capsys):
    assert recorded.main(protected_resources, ["prod"]) == 0
    printed = [shlex.split(line) for line in capsys.readouterr().out.splitlines()
               if line.strip().startswith("pulumi state unprotect")]
    expected = [protected_resources.unprotect_command("prod", r.urn)
                for r in protected_resources.protected_resources(recorded.plans["prod"])]
    assert printed == expected
    assert all(command[:6] == ["pulumi", "state", "unprotect", "--stack", "prod", "--yes"] for command in printed)


def test_destroy_guard_refuses_prod_and_lets_dev_through(recorded, capsys):
    assert recorded.main(protected_resources, ["prod", "--refuse-if-protected"]) == 1
    assert "UNPROTECT=1" in capsys.readouterr().err
    assert recorded.main(protected_resources, ["dev", "--refuse-if-protected"]) == 0


def test_unprotect_runs_pulumi_state_unprotect_for_each(recorded):
    assert recorded.main(protected_resources, ["prod", "--unprotect"]) == 0
    assert recorded.commands == [protected_resources.unprotect_command("prod", r.urn)
                            for r in protected_resources.protected_resources(recorded.plans["prod"])]


def test_unprotect_stops_at_the_first_failure(plans, capsys):
    failing = Recorded(plans, exit_code=255)
    assert failing.main(protected_resources, ["prod", "--unprotect"]) == 255
    assert len(failing.commands) == 1
    assert "unprotect failed" in capsys.readouterr().err


# --- the Makefile targets -------------------------------------------------------------------------

@pytest.mark.parametrize("arguments, expected", [
    (("preview", "STACK=prod"), "pulumi preview --stack prod --policy-pack policy"),
    (("up", "STACK=dev"), "pulumi up --stack dev --policy-pack policy"),
    (("recreate-connections", "STACK=prod", "CONNECTOR=office365"),
     ".venv/bin/python -m ops.recreate_connections prod office365"),
    (("recreate-connections", "STACK=prod", "CONNECTOR=office365", "EXECUTE=1"),
     ".venv/bin/python -m ops.recreate_connections prod office365 --execute"),
    (("protected", "STACK=prod"), ".venv/bin/python -m ops.protected_resources prod"),
])
def test_make_targets_run_the_documented_commands(arguments, expected):
    assert expected in make_dry_run(*arguments)


def test_make_destroy_refuses_protected_resources_unless_told_to_unprotect():
    guarded = make_dry_run("destroy", "STACK=prod")
    assert guarded[-2:] == [".venv/bin/python -m ops.protected_resources prod --refuse-if-protected",
                            "pulumi destroy --stack prod"]
    unprotecting = make_dry_run("destroy", "STACK=prod", "UNPROTECT=1")
    assert unprotecting[-2:] == [".venv/bin/python -m ops.protected_resources prod --unprotect",
                                 "pulumi destroy --stack prod"]
