"""The bootstrap stack's settings and Azure names, checked before any resource is registered.

Every default lives in Pulumi.yaml (the CLI applies it), so this module only reads and checks. The
environments are not a setting: they are the parent project's stack files (agent_obo/environments.py),
so each Pulumi.<stack>.yaml gets its resource group and pipeline identities here, and nothing else
does. A bad value stops the program with every problem listed, so nothing half-made reaches Azure.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import pulumi

from agent_obo import hidden_characters
from agent_obo.environments import Environment
from agent_obo.naming import caf_name, storage_account_name
from agent_obo.settings import PROJECT, RULES

# GitHub owner, repository and environment names as they appear in OpenID Connect subjects;
# ':' would change a subject's meaning and whitespace never appears in one.
_GITHUB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_OBJECT_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# This program's project (bootstrap/Pulumi.yaml `name`), which manages what it tags.
BOOTSTRAP_PROJECT = f"{PROJECT}-bootstrap"
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


class BootstrapSettingsError(ValueError):
    """Raised with every problem of the stack's settings, so one run shows them all."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("bootstrap settings are invalid:\n" + "\n".join(f"  - {p}" for p in problems))


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


def load_settings(config: pulumi.Config, environments: list[Environment]) -> BootstrapSettings:
    operators = config.require_object("stateOperators")
    settings = BootstrapSettings(
        location=config.require("location"),
        owner=config.require("owner"),
        github_owner=config.require("githubOwner"),
        github_repository=config.require("githubRepository"),
        environments=tuple(environments),
        state_operators=tuple(operators) if isinstance(operators, list) else (),
        state_soft_delete_days=config.require_int("stateSoftDeleteDays"),
    )
    problems = [f"{key} = {config.get(key)!r}: no longer a setting; {why}; remove it"
                for key, why in REMOVED_SETTINGS.items() if config.get(key) is not None]
    problems += _problems(settings, operators)
    if problems:
        raise BootstrapSettingsError(problems)
    return settings


def _problems(settings: BootstrapSettings, operators: object) -> list[str]:
    problems: list[str] = []
    # The same rules as the program's location and owner (agent_obo/settings.py); a character that changes how
    # text displays without showing itself is refused in the owner tag as it is there.
    for key, value in (("location", settings.location), ("owner", settings.owner)):
        hidden = next((character for _, character in hidden_characters.in_values(value)), None)
        if hidden is not None:
            problems.append(f"{key} = {value!r}: {hidden_characters.refusal(hidden)}")
        elif not RULES[key].accepts(value):
            problems.append(f"{key} = {value!r}: not allowed; {RULES[key].describe()}")
    for key, value in (("githubOwner", settings.github_owner), ("githubRepository", settings.github_repository)):
        if not _GITHUB_NAME.fullmatch(value):
            problems.append(f"{key} = {value!r}: a GitHub name (letters, digits, '-', '_', '.'); "
                            "owner and repository are separate settings")
    if not isinstance(operators, list) or any(not isinstance(o, str) or not _OBJECT_ID.fullmatch(o)
                                              for o in operators):
        problems.append(f"stateOperators = {operators!r}: a list of Entra group object ids")
    if not 1 <= settings.state_soft_delete_days <= 365:
        problems.append(f"stateSoftDeleteDays = {settings.state_soft_delete_days}: 1 to 365")
    return problems


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
