"""The bootstrap stack's settings and Azure names, checked before any resource is registered.

Every default lives in Pulumi.yaml (the CLI applies it), so this module only reads and checks. The
environments are not a setting: they are the parent project's stack files (agent_obo/environments.py),
so each Pulumi.<stack>.yaml gets its resource group and pipeline identities here, and nothing else
does. A bad value stops the program with every problem listed, so nothing half-made reaches Azure.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from agent_obo.environments import Environment
from agent_obo.errors import SettingsError
from agent_obo.naming import caf_name, storage_account_name
from agent_obo.settings import PROJECT, Problems, Rule, key_problems, parse_required, typed
from agent_obo.settings import RULES as PROJECT_RULES

# GitHub owner, repository and environment names as they appear in OpenID Connect subjects;
# ':' would change a subject's meaning and whitespace never appears in one.
_GITHUB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_GITHUB_WORDS = "a GitHub name (letters, digits, '-', '_', '.'); owner and repository are separate settings"
# This program's project (bootstrap/Pulumi.yaml `name`), which manages what it tags.
BOOTSTRAP_PROJECT = f"{PROJECT}-bootstrap"
STACK_FILE = "bootstrap/Pulumi.bootstrap.yaml"
# Every setting and what it may hold: the program's own rules where the meaning is the same (agent_obo/settings.py).
RULES: dict[str, Rule] = {
    "location": PROJECT_RULES["location"],
    "owner": PROJECT_RULES["owner"],
    "githubOwner": Rule("string", pattern=_GITHUB_NAME, hint=_GITHUB_WORDS),
    "githubRepository": Rule("string", pattern=_GITHUB_NAME, hint=_GITHUB_WORDS),
    "stateOperators": PROJECT_RULES["allowedGroups"],
    # Azure Storage: blob and container soft delete keep deleted data 1 to 365 days.
    "stateSoftDeleteDays": Rule("integer", minimum=1, maximum=365),
}
MANAGED_BY = f"pulumi:{BOOTSTRAP_PROJECT}"
# A pull request's preview of environment <env> runs in the GitHub environment <env>-preview.
PREVIEW_SUFFIX = "-preview"
# Settings earlier versions read, and why they are gone: a stack file that still sets one is told.
REMOVED_SETTINGS = {
    "mainBranch": "no job signs in as a branch any more: each identity trusts one GitHub environment only",
    "deployEnvironments": "the environments are the project's stack files (Pulumi.<stack>.yaml)",
    "deploymentScope": "each environment's deploy identity holds its roles on that environment's resource "
                       "group, which the bootstrap creates, never on a subscription",
    "deploymentAccess": "the deploy identities are always constrained (Contributor and a conditioned role "
                        "assignment right on their own resource group); Owner is no longer offered",
}


class BootstrapSettingsError(SettingsError):
    """Raised with every problem of the stack's settings, so one run shows them all (the CLI prints it without a
    traceback, as every SettingsError)."""

    def __init__(self, problems: list[str]):
        super().__init__(f"bootstrap settings are invalid ({STACK_FILE} over Pulumi.yaml's defaults)", problems)


@dataclass(frozen=True)
class BootstrapSettings:
    location: str
    owner: str
    github_owner: str
    github_repository: str
    environments: tuple[Environment, ...]
    state_operators: tuple[str, ...]
    state_soft_delete_days: int

    @property
    def repository(self) -> str:
        return f"{self.github_owner}/{self.github_repository}"

    def deploy_subject(self, environment: str) -> str:
        """The subject GitHub gives a job that names `environment: <env>`, whatever its branch or event:
        the GitHub environment's protection rules (reviewers, branches) decide who gets one."""
        return f"repo:{self.repository}:environment:{environment}"

    def preview_subject(self, environment: str) -> str:
        return self.deploy_subject(environment + PREVIEW_SUFFIX)

    @property
    def tags(self) -> dict[str, str]:
        return {"owner": self.owner, "workload": PROJECT, "purpose": "pulumi-state-and-pipeline",
                "managed-by": MANAGED_BY}

    def environment_tags(self, environment: str) -> dict[str, str]:
        """The tags the program gives every resource of the environment (agent_obo/settings.py)."""
        return {"environment": environment, "project": PROJECT, "owner": self.owner, "managed-by": MANAGED_BY}


def load_settings(raw_config: Mapping[str, Any], environments: list[Environment],
                  secret_keys: Collection[str] = ()) -> BootstrapSettings:
    """Validates the stack's raw config (keys `agent-obo-bootstrap:<name>`, values as the CLI passes them) the way
    the program validates its own (agent_obo/settings.py): every key nothing reads, every value against its rule."""
    problems = Problems(secret_keys)
    key_problems(raw_config, problems, BOOTSTRAP_PROJECT, RULES, REMOVED_SETTINGS, STACK_FILE)
    values = parse_required(raw_config, RULES, problems, BOOTSTRAP_PROJECT, STACK_FILE)
    if problems.items:
        raise BootstrapSettingsError(problems.items)
    return typed(BootstrapSettings, values, environments=tuple(environments))


@dataclass(frozen=True)
class BootstrapNames:
    """Cloud Adoption Framework abbreviations and a short stable suffix, as the program names its own."""

    suffix: str

    @property
    def resource_group(self) -> str:
        return caf_name("rg", "pulumi", self.suffix)

    @property
    def storage_account(self) -> str:
        # 3-24 lower-case letters and digits, globally unique: "st" + 8 + 6 + 6.
        return storage_account_name("pulumi", self.suffix)

    @property
    def key_vault(self) -> str:
        # 3-24 letters, digits and '-', globally unique (and reserved for 90 days after a purge-protected delete).
        return caf_name("kv", self.suffix)

    def identity(self, environment: str, role: str) -> str:
        """`id-agentobo-prod-deploy-1a2b3c`: one per environment and role (deploy, preview)."""
        return caf_name("id", environment, role, self.suffix)


def names_for(subscription_id: str, location: str) -> BootstrapNames:
    digest = hashlib.sha256(f"{subscription_id}/{BOOTSTRAP_PROJECT}/{location}".encode()).hexdigest()
    return BootstrapNames(suffix=digest[:6])
