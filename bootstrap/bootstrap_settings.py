"""The bootstrap stack's settings and Azure names, checked before any resource is registered.

Every default lives in Pulumi.yaml (the CLI applies it), so this module only reads and checks. A
bad value stops the program with every problem listed, so nothing half-made reaches Azure.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import pulumi

DEPLOYMENT_ACCESS_MODES = ("constrained", "owner")
# GitHub owner, repository, branch and environment names as they appear in OpenID Connect subjects;
# ':' would change a subject's meaning and whitespace never appears in one.
_GITHUB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_BRANCH_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./-]*$")
_SUBSCRIPTION_SCOPE = re.compile(r"^/subscriptions/[0-9a-fA-F-]{36}$")
_OBJECT_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Microsoft Entra allows at most 20 federated identity credentials on one identity.
MAX_FEDERATED_CREDENTIALS = 20
WORKLOAD = "agentobo"


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
    main_branch: str
    deploy_environments: tuple[str, ...]
    deployment_scope: str  # "" means the subscription the bootstrap runs in
    deployment_access: str
    state_operators: tuple[str, ...]
    state_soft_delete_days: int

    @property
    def repository(self) -> str:
        return f"{self.github_owner}/{self.github_repository}"

    @property
    def preview_subjects(self) -> list[str]:
        """Pull-request jobs: the subject GitHub gives every `pull_request` run of the repository."""
        return [f"repo:{self.repository}:pull_request"]

    @property
    def deploy_subjects(self) -> list[str]:
        """Jobs on the main branch, and jobs of each deploy environment: a job that names an
        `environment:` gets that environment's subject instead of its branch's."""
        return [f"repo:{self.repository}:ref:refs/heads/{self.main_branch}",
                *(f"repo:{self.repository}:environment:{env}" for env in self.deploy_environments)]

    @property
    def tags(self) -> dict[str, str]:
        return {"owner": self.owner, "workload": "agent-obo", "purpose": "pulumi-state-and-pipeline",
                "managed-by": "pulumi:agent-obo-bootstrap"}


def load_settings(config: pulumi.Config) -> BootstrapSettings:
    environments = config.require_object("deployEnvironments")
    operators = config.require_object("stateOperators")
    settings = BootstrapSettings(
        location=config.require("location"),
        owner=config.require("owner"),
        github_owner=config.require("githubOwner"),
        github_repository=config.require("githubRepository"),
        main_branch=config.require("mainBranch"),
        deploy_environments=tuple(environments) if isinstance(environments, list) else (),
        deployment_scope=config.require("deploymentScope"),
        deployment_access=config.require("deploymentAccess"),
        state_operators=tuple(operators) if isinstance(operators, list) else (),
        state_soft_delete_days=config.require_int("stateSoftDeleteDays"),
    )
    problems = _problems(settings, environments, operators)
    if problems:
        raise BootstrapSettingsError(problems)
    return settings


def _problems(settings: BootstrapSettings, environments: object, operators: object) -> list[str]:
    problems: list[str] = []
    for key, value in (("githubOwner", settings.github_owner), ("githubRepository", settings.github_repository)):
        if not _GITHUB_NAME.match(value):
            problems.append(f"{key} = {value!r}: a GitHub name (letters, digits, '-', '_', '.'); "
                            "owner and repository are separate settings")
    if not _BRANCH_NAME.match(settings.main_branch):
        problems.append(f"mainBranch = {settings.main_branch!r}: not a branch name")
    if not isinstance(environments, list) or not environments:
        problems.append("deployEnvironments: a non-empty list of GitHub environment names")
    else:
        for env in environments:
            if not isinstance(env, str) or not _GITHUB_NAME.match(env):
                problems.append(f"deployEnvironments: {env!r} is not an environment name")
        if len(set(environments)) != len(environments):
            problems.append(f"deployEnvironments: {environments} lists a name twice")
        if len(environments) + 1 > MAX_FEDERATED_CREDENTIALS:
            problems.append(f"deployEnvironments: at most {MAX_FEDERATED_CREDENTIALS - 1} "
                            "(one federated credential each, plus the main branch's)")
    if settings.deployment_scope and not _SUBSCRIPTION_SCOPE.match(settings.deployment_scope):
        problems.append(f"deploymentScope = {settings.deployment_scope!r}: /subscriptions/<subscription id> "
                        "(the program creates its own resource group, so nothing narrower works)")
    if settings.deployment_access not in DEPLOYMENT_ACCESS_MODES:
        problems.append(f"deploymentAccess = {settings.deployment_access!r}: "
                        f"one of {', '.join(DEPLOYMENT_ACCESS_MODES)}")
    if not isinstance(operators, list) or any(not isinstance(o, str) or not _OBJECT_ID.match(o) for o in operators):
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
        return f"rg-{WORKLOAD}-pulumi-{self.suffix}"

    @property
    def storage_account(self) -> str:
        # 3-24 lower-case letters and digits, globally unique: "st" + 8 + 6 + 6.
        return f"st{WORKLOAD}pulumi{self.suffix}"

    @property
    def key_vault(self) -> str:
        # 3-24 letters, digits and '-', globally unique (and reserved for 90 days after a purge-protected delete).
        return f"kv-{WORKLOAD}-{self.suffix}"

    @property
    def preview_identity(self) -> str:
        return f"id-{WORKLOAD}-pipeline-preview-{self.suffix}"

    @property
    def deploy_identity(self) -> str:
        return f"id-{WORKLOAD}-pipeline-deploy-{self.suffix}"


def names_for(subscription_id: str, location: str) -> BootstrapNames:
    digest = hashlib.sha256(f"{subscription_id}/agent-obo-bootstrap/{location}".encode()).hexdigest()
    return BootstrapNames(suffix=digest[:6])
