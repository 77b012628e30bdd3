"""One home per decision: each value below is written once in the code, and everything else imports it.

A copy kept in line by luck is how a fix reaches one place and not the other, so a copy fails here and
names the file that should import it instead. Tests keep their own literals on purpose: an expectation
derived from the code under test could not catch the code being wrong.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agent_obo import app_settings, entra, graph_scopes
from agent_obo.settings import PROJECT
from components import role_ids
from offline.runner import PROJECT_DIR

SKIPPED = {".venv", "build", "node_modules", "tests", ".git"}


def code_files() -> dict[Path, str]:
    return {path: path.read_text() for path in sorted(PROJECT_DIR.rglob("*.py"))
            if not SKIPPED & set(path.relative_to(PROJECT_DIR).parts)}


ROLE_IDS = {name: value for name, value in vars(role_ids).items() if name.isupper() and isinstance(value, str)}
HOMES = {
    **{f"role id {name}": (value, "components/role_ids.py") for name, value in ROLE_IDS.items()},
    "Microsoft Graph's app id": (graph_scopes.GRAPH_APP_ID, "agent_obo/graph_scopes.py"),
    "the token exchange audience": (entra.TOKEN_EXCHANGE_AUDIENCE, "agent_obo/entra.py"),
    "the sign-in authority": (entra.LOGIN_AUTHORITY, "agent_obo/entra.py"),
    "the default access role": (entra.DEFAULT_ACCESS_ROLE_ID, "agent_obo/entra.py"),
    "Easy Auth's managed identity setting": (app_settings.FIC_CLIENT_ID_SETTING, "agent_obo/app_settings.py"),
    "Easy Auth's allowed tenants setting": (app_settings.ALLOWED_TENANTS_SETTING, "agent_obo/app_settings.py"),
    "the project name": (f'"{PROJECT}"', "agent_obo/settings.py"),
    "the OpenID Connect sign-in scopes": ('"offline_access"', "agent_obo/graph_scopes.py"),
}


@pytest.mark.parametrize("decision", list(HOMES))
def test_each_decision_is_written_in_one_file(decision):
    value, home = HOMES[decision]
    holders = sorted(str(path.relative_to(PROJECT_DIR)) for path, text in code_files().items() if value in text)
    # policy/graph_permissions.py is the table of every delegated scope's id, offline_access included.
    allowed = {home, "policy/graph_permissions.py"} if decision == "the OpenID Connect sign-in scopes" else {home}
    assert set(holders) <= allowed and home in holders, f"{decision} ({value}) is written in {holders}; " \
        f"import it from {home}"


def test_the_project_names_are_the_pulumi_projects():
    assert yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["name"] == PROJECT
    from bootstrap.bootstrap_settings import BOOTSTRAP_PROJECT

    assert yaml.safe_load((PROJECT_DIR / "bootstrap" / "Pulumi.yaml").read_text())["name"] == BOOTSTRAP_PROJECT


def test_sign_in_asks_only_for_scopes_the_chat_app_requests():
    assert set(graph_scopes.LOGIN_SCOPES) < set(graph_scopes.SIGN_IN_SCOPES)
    assert graph_scopes.SIGN_IN_SCOPES == ("User.Read", "openid", "profile", "offline_access")
