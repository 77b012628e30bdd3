"""The gate around the pack: CODEOWNERS covers what decides identity, and every command that previews or
deploys runs the pack (the pull request's preview with the base branch's: tests/test_github_workflows.py;
ops.recreate_connections' command: tests/test_ops_scripts.py)."""

from __future__ import annotations

import fnmatch
import re

import pytest

from offline.runner import PROJECT_DIR
from tests.helpers import make_dry_run

CODEOWNERS = PROJECT_DIR / ".github" / "CODEOWNERS"
SECURITY = "@contoso/platform-security"


def rules() -> list[tuple[str, list[str]]]:
    parsed = []
    for line in CODEOWNERS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            pattern, *owners = line.split()
            assert owners and all(re.fullmatch(r"@[\w.-]+(/[\w.-]+)?", o) for o in owners), line
            parsed.append((pattern, owners))
    return parsed


def owners_of(path: str) -> list[str]:
    """GitHub's rule: the last matching pattern wins (gitignore-style; a leading / anchors, a trailing / is
    a directory)."""
    found: list[str] = []
    for pattern, owners in rules():
        anchored = pattern.lstrip("/")
        if anchored.endswith("/"):
            matches = path.startswith(anchored)
        elif pattern == "*":
            matches = True
        else:
            matches = fnmatch.fnmatch(path, anchored)
        if matches:
            found = owners
    return found


@pytest.mark.parametrize("path", [
    "policy/easy_auth.py", "policy/config/prod.json", "policy/PulumiPolicy.yaml",
    ".github/workflows/pull-request.yml", ".github/CODEOWNERS", ".ci/run", "Makefile", "pyproject.toml",
    "Pulumi.yaml", "Pulumi.prod.yaml", "Pulumi.dev.yaml", "Pulumi.staging.yaml",
    "catalog/tools.yaml", "workflows/obo-agent/workflow.json", "workflows/connections.json",
    "__main__.py", "agent_obo/graph_scopes.py", "components/easy_auth.py", "components/package_blob.py",
    "bootstrap/pipeline_identity.py", "ops/authorize_connections.py", "requirements.txt", "offline/mocks.py",
])
def test_codeowners_require_the_security_owners_for_what_decides_identity(path):
    assert SECURITY in owners_of(path), f"{path}: owned by {owners_of(path)}"


def test_codeowners_name_an_owner_for_everything_else():
    assert owners_of("docs/operations.md") and owners_of("README.md")


def test_every_make_target_that_previews_or_deploys_runs_the_pack():
    makefile = (PROJECT_DIR / "Makefile").read_text()
    targets = re.findall(r"^([a-z][a-z-]*):", makefile, re.MULTILINE)
    for target in targets:
        commands = make_dry_run(target, "STACK=dev", "CONNECTOR=office365", "EXECUTE=1")
        pulumi = [c for c in commands if re.match(r"\s*pulumi (up|preview)\b", c)]
        for command in pulumi:
            assert "--policy-pack policy" in command, f"make {target}: {command}"
    assert {"preview", "up"} <= {t for t in targets if any(
        re.match(rf"\s*pulumi {t}\b", c) for c in make_dry_run(t, "STACK=dev"))}
