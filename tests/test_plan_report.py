"""`make plan` is a review artefact: byte-identical across runs and hash seeds, ordered by the program,
with a readable "who runs as whom" section; the bootstrap program has one too."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from components.role_ids import BUILT_IN_ROLE_NAMES
from offline.identity_report import identity_section
from offline.plan import Plan
from offline.runner import PROJECT_DIR, run_stack

BOOTSTRAP_DIR = PROJECT_DIR / "bootstrap"


def _plan_command(stack: str, build_dir, seed: str, preview: str | None) -> subprocess.Popen:
    environment = {**os.environ, "PYTHONHASHSEED": seed}
    mode = ["--preview", preview] if preview else []
    return subprocess.Popen([sys.executable, "-m", "offline.preview", stack, "--build-dir", str(build_dir), *mode],
                            cwd=PROJECT_DIR, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.parametrize(("stack", "preview"), [("dev", None), ("bootstrap", None), ("prod", "first")])
def test_the_plan_is_byte_identical_whatever_the_hash_seed(stack, preview, tmp_path):
    """A first preview too: a value unknown until deployed prints the same way every run."""
    runs = {seed: _plan_command(stack, tmp_path / seed, seed, preview) for seed in ("1", "4242")}
    printed = {}
    for seed, process in runs.items():
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err.decode()
        printed[seed] = out.decode().replace(str(tmp_path / seed), "<build>")
    assert printed["1"] == printed["4242"]
    assert (tmp_path / "1" / stack / "plan.json").read_bytes() == (tmp_path / "4242" / stack / "plan.json").read_bytes()


def _tree(plan: Plan) -> list[tuple[str, str]]:
    return [(r.type, r.name) for r in plan.registrations]


def test_resources_follow_the_program_order(plans):
    """Top-level components in the order __main__.py builds them; each child under its parent."""
    plan = plans["dev"]
    top = [r.name for r in plan.registrations if r.parent.endswith("pulumi:pulumi:Stack::agent-obo-dev")]
    assert top[:2] == ["observability", "runtime-identity"], top
    seen: set[str] = set()
    for registration in plan.registrations:
        assert registration.parent in seen or registration.parent not in {r.urn for r in plan.registrations}
        seen.add(registration.urn)
    for registration in plan.registrations:
        assert registration.dependencies == sorted(registration.dependencies)


def test_two_runs_record_the_same_plan():
    assert _tree(run_stack("prod").ok()) == _tree(run_stack("prod").ok())


def test_make_plan_finds_the_bootstrap_project(tmp_path):
    done = subprocess.run(["make", "--no-print-directory", "-s", "plan-bootstrap"], cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "agent-obo-bootstrap:pipeline:PipelineIdentity" in done.stdout
    assert "Who runs as whom:" in done.stdout
    assert "Policies: not run" in done.stdout


def test_an_unknown_stack_lists_every_project_s_stacks():
    done = subprocess.run([sys.executable, "-m", "offline.preview", "staging"], cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "dev" in done.stderr and "bootstrap (bootstrap/)" in done.stderr


def test_every_role_a_plan_assigns_has_a_name(plans, bootstrap):
    for plan in [*plans.values(), bootstrap]:
        for assignment in plan.all("azure-native:authorization:RoleAssignment"):
            role = assignment.input("roleDefinitionId").rsplit("/", 1)[-1]
            assert role in BUILT_IN_ROLE_NAMES, f"{assignment.urn}: role {role} has no name in components/role_ids.py"


def _section(text: str, title: str, skip: int = 3) -> list[str]:
    """The lines of a section: by default past the title, the header and the rule (`skip=1`: the title only)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(title))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start + skip:end]


def test_role_assignments_read_as_role_scope_and_identity(plans):
    text = identity_section(plans["dev"])
    rows = _section(text, "Role assignments:")
    assert any("Storage Blob Data Owner" in row and "storage account st" in row and "runtime identity (id-" in row
               for row in rows), rows
    assert any("Cognitive Services OpenAI User" in row and "Azure OpenAI account oai-" in row
               and "site system identity (logic-" in row for row in rows), rows
    assert any("Storage Blob Data Contributor" in row and "blob container workflow-packages" in row
               and "deployer" in row for row in rows), rows
    assert not any("(known after create)" in row or "/roleDefinitions/" in row for row in rows), rows


def test_access_policies_name_connection_and_principal(plans):
    rows = _section(identity_section(plans["dev"]), "Connection access policies")
    assert len(rows) == len([r for r in plans["dev"].all("azure-native:resources:Resource")
                             if r.input("resourceType") == "accessPolicies"])
    assert all("site system identity (logic-" in row for row in rows), rows
    assert any(row.startswith("    office365-peruser (office365-peruser-") for row in rows), rows


def test_the_identity_matrix_prints_whole(plans):
    plan = plans["dev"]
    rows = _section(identity_section(plan), "Identity matrix")
    matrix = plan.stack_outputs["identityMatrix"]
    assert len(rows) == len(matrix)
    for row, tool in zip(rows, matrix, strict=True):
        assert row.split()[0] == tool["tool"] and "..." not in row


def test_identity_wiring_app_settings_are_shown(plans):
    rows = _section(identity_section(plans["dev"]), "App settings that wire identities")
    assert any(row.split()[0] == "OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID" and "runtime identity" in row for row in rows)
    assert any(row.split()[0] == "AzureWebJobsStorage__managedIdentityResourceId" for row in rows)


def test_bootstrap_identities_and_their_grants_are_named(bootstrap):
    text = identity_section(bootstrap)
    rows = _section(text, "Role assignments:")
    assert any("Role Based Access Control Administrator (with a condition)" in row and "resource group" in row
               and "env prod deploy identity" in row for row in rows), rows
    assert not any("subscription" in row for row in rows), rows
    trusts = _section(text, "Who may act as")
    assert any("repo:contoso/agent-obo:environment:prod-preview" in row and "as env prod preview identity" in row
               for row in trusts)
    assert any("env prod deploy identity" in row and "application permission Application.ReadWrite.OwnedBy" in row
               for row in trusts), trusts


def test_the_first_preview_still_names_identities_and_scopes(first_previews):
    """In a first preview principal ids are unknown: the section names them by the resources they come from."""
    rows = _section(identity_section(first_previews["dev"]), "Role assignments:")
    assert all("(known after create)" not in row for row in rows), rows


@pytest.mark.parametrize("mode", ["up", "first"])
def test_each_app_registration_is_named_as_itself(mode, plans, first_previews):
    """The chat app's service principal and federated credential read as the chat app, also while every
    client id is unknown (a first preview): never as the verification client, never as a bare id."""
    text = identity_section({"up": plans, "first": first_previews}[mode]["prod"])
    identities = _section(text, "Identities:", skip=1)
    assert identities.count("    service principal of app agent-obo-prod-chat") == 1, identities
    assert identities.count("    service principal of app agent-obo-prod-verify") == 1, identities
    trusts = _section(text, "Who may act as")
    assert any("runtime identity (id-" in row and "as app agent-obo-prod-chat" in row for row in trusts), trusts
    assert "object at 0x" not in text


def test_the_readme_excerpt_is_what_make_plan_prints(plans):
    """The README shows the section as the command prints it: every line of its excerpt must be there."""
    readme = (PROJECT_DIR / "README.md").read_text("utf-8")
    start = readme.index("An excerpt of `make plan STACK=dev`:")
    block = readme[readme.index("```\n", start) + 4:]
    block = block[:block.index("```")]
    printed = identity_section(plans["dev"]).splitlines()
    for line in block.splitlines():
        if line.strip() != "...":
            assert line in printed, f"README line not in the plan's output: {line!r}"
