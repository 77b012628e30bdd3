"""The stack's settings: read once, validated whole, typed.

Defaults, types and descriptions live in Pulumi.yaml (the CLI applies the defaults). This module adds
what Pulumi.yaml cannot say: allowed values, ranges, patterns and cross-field rules. Every problem
is collected and reported at once, naming the key, the bad value and what is allowed, before the
program registers any resource.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agent_obo.errors import SettingsError

PROJECT = "agent-obo"

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
ENVIRONMENT = re.compile(r"^[a-z][a-z0-9]{1,7}$")
OPENAI_ACCOUNT_ID = re.compile(
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[\w.()-]{1,90}"
    r"/providers/Microsoft\.CognitiveServices/accounts/[A-Za-z0-9-]{2,64}$"
)

EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,63}$")
UNAUTHENTICATED_ACTIONS = ("RedirectToLoginPage", "Return401", "Return403")
# How the Logic Apps host reaches its storage (README "Host storage"): keyless with the runtime
# identity, or Learn's documented connection string with an Azure Files content share.
MANAGED_IDENTITY = "managedIdentity"
ACCESS_KEY = "accessKey"
HOST_STORAGE_AUTHENTICATIONS = (MANAGED_IDENTITY, ACCESS_KEY)
MAX_VERIFICATION_USERS = 10


# --- the checks a setting can carry ------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """One setting: how to parse its raw value and what it may hold."""

    kind: str  # "string", "integer", "boolean" or "array" (of strings), as declared in Pulumi.yaml
    allowed: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    pattern: re.Pattern[str] | None = None
    hint: str = ""  # what is allowed, in words, when a pattern says it badly
    may_be_empty: bool = False  # strings only: "" allowed (a list may always be empty)

    def describe(self) -> str:
        if self.allowed:
            return "allowed values: " + ", ".join(self.allowed)
        if self.minimum is not None:
            return f"allowed: an integer from {self.minimum} to {self.maximum}"
        if self.kind == "boolean":
            return "allowed: true or false"
        if self.hint:
            return "allowed: " + self.hint
        return f"allowed: a {self.kind}"


def _text(pattern: str | re.Pattern[str], hint: str, may_be_empty: bool = False) -> Rule:
    return Rule("string", pattern=re.compile(pattern) if isinstance(pattern, str) else pattern,
                hint=hint, may_be_empty=may_be_empty)


def _ids(hint: str) -> Rule:
    return Rule("array", pattern=GUID, hint=hint)


RULES: dict[str, Rule] = {
    "location": _text(r"^[a-z][a-z0-9]{2,30}$", "an Azure region name in lower case, such as eastus2"),
    "owner": _text(r"^[^<>%&\\?/]{2,128}$", "2-128 characters without < > % & \\ ? /"),
    "planSku": Rule("string", allowed=("WS1", "WS2", "WS3")),
    "maximumElasticWorkerCount": Rule("integer", minimum=1, maximum=20),
    "alwaysReadyInstances": Rule("integer", minimum=1, maximum=20),
    "logRetentionDays": Rule("integer", minimum=30, maximum=730),
    "protectStatefulResources": Rule("boolean"),
    "hostStorageAuthentication": Rule("string", allowed=HOST_STORAGE_AUTHENTICATIONS),
    "modelSource": Rule("string", allowed=("create", "existing")),
    "modelName": _text(r"^[a-z0-9][a-z0-9.-]{1,63}$", "a model name such as gpt-4.1-mini"),
    "modelVersion": _text(r"^[0-9A-Za-z.-]{1,32}$", "a model version such as 2025-04-14"),
    "modelDeploymentName": _text(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$",
                                 "2-64 letters, digits, '.', '_' or '-'"),
    "modelDeploymentSku": Rule("string", allowed=("GlobalStandard", "DataZoneStandard", "Standard")),
    "modelCapacity": Rule("integer", minimum=1, maximum=1000),
    "existingModelEndpoint": _text(r"^https://[a-z0-9][a-z0-9.-]+(:[0-9]+)?/?$",
                                   "an https URL such as https://my-openai.openai.azure.com/",
                                   may_be_empty=True),
    "existingModelResourceId": _text(OPENAI_ACCOUNT_ID,
                                     "/subscriptions/<id>/resourceGroups/<rg>/providers/"
                                     "Microsoft.CognitiveServices/accounts/<name>", may_be_empty=True),
    "appOwners": _ids("a list of Entra object ids (GUIDs)"),
    "assignmentRequired": Rule("boolean"),
    "allowedUsers": _ids("a list of Entra user object ids (GUIDs)"),
    "allowedGroups": _ids("a list of Entra group object ids (GUIDs)"),
    "unauthenticatedAction": Rule("string", allowed=UNAUTHENTICATED_ACTIONS),
    "excludedPaths": Rule("array", pattern=re.compile(r"^/runtime/[A-Za-z0-9/_.*-]*$"),
                          hint="paths under /runtime/ only, such as /runtime/*"),
    "additionalTokenAudiences": Rule("array", pattern=re.compile(r"^(api://|https://)\S+$"),
                                     hint="non-empty api:// or https:// audience URIs"),
    "grantAdminConsent": Rule("boolean"),
    "operationsTeamId": _text(GUID, "the Microsoft Teams team id (a GUID) of the operations team",
                              may_be_empty=True),
    "operationsChannelId": _text(r"^19:[A-Za-z0-9_-]+@thread\.(tacv2|skype)$",
                                 "a Teams channel id such as 19:abc123@thread.tacv2", may_be_empty=True),
    "disabledTools": Rule("array", pattern=re.compile(r"^[a-z][a-z0-9_]{2,63}$"),
                          hint="names of tools in catalog/tools.yaml"),
    "secureAgentRunHistory": Rule("boolean"),
    "alertEmailReceivers": Rule("array", pattern=EMAIL, hint="a list of e-mail addresses"),
    "verificationUsers": _ids("a list of Entra user object ids (GUIDs): the two-user check's test users"),
}


# --- the typed result ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ModelSettings:
    source: str
    name: str
    version: str
    deployment_name: str
    deployment_sku: str
    capacity: int
    existing_endpoint: str
    existing_resource_id: str

    @property
    def creates_account(self) -> bool:
        return self.source == "create"


@dataclass(frozen=True)
class SignInSettings:
    app_owners: tuple[str, ...]
    assignment_required: bool
    allowed_users: tuple[str, ...]
    allowed_groups: tuple[str, ...]
    unauthenticated_action: str
    excluded_paths: tuple[str, ...]
    additional_token_audiences: tuple[str, ...]
    grant_admin_consent: bool


@dataclass(frozen=True)
class OperationsChannel:
    team_id: str
    channel_id: str


@dataclass(frozen=True)
class AuditSettings:
    secure_agent_run_history: bool  # secure data on the chat trigger and the Agent action
    alert_email_receivers: tuple[str, ...]  # the alerts' action group
    verification_users: tuple[str, ...]  # non-empty: a separate client app for ops/verify_two_users.py


@dataclass(frozen=True)
class Settings:
    environment: str
    location: str
    owner: str
    plan_sku: str
    maximum_elastic_worker_count: int
    always_ready_instances: int
    log_retention_days: int
    protect_stateful_resources: bool
    host_storage_authentication: str  # MANAGED_IDENTITY or ACCESS_KEY
    model: ModelSettings
    sign_in: SignInSettings
    operations: OperationsChannel
    disabled_tools: tuple[str, ...]
    audit: AuditSettings
    raw: dict[str, Any]  # every validated value by setting name, for rules that name settings

    @property
    def uses_access_key(self) -> bool:
        """Learn's connection-string host storage: account keys on, an Azure Files content share."""
        return self.host_storage_authentication == ACCESS_KEY

    def is_set(self, key: str) -> bool:
        return self.raw.get(key) not in (None, "", ())

    @property
    def tags(self) -> dict[str, str]:
        """The tags every taggable resource carries."""
        return {
            "environment": self.environment,
            "project": PROJECT,
            "owner": self.owner,
            "managed-by": "pulumi",
        }


# --- parsing ------------------------------------------------------------------------------------

class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, key: str, value: Any, why: str) -> None:
        shown = json.dumps(value) if not isinstance(value, str) else repr(value)
        self.items.append(f"{PROJECT}:{key} = {shown}: {why}")


def _parse(key: str, raw: str, rule: Rule, problems: _Problems) -> Any:
    """Turns the CLI's string form of a value into its type, or records why it cannot."""
    if rule.kind == "integer":
        try:
            value = int(str(raw).strip())
        except ValueError:
            problems.add(key, raw, "not an integer; " + rule.describe())
            return None
        assert rule.minimum is not None and rule.maximum is not None, f"{key}: an integer rule needs a range"
        if not rule.minimum <= value <= rule.maximum:
            problems.add(key, value, "out of range; " + rule.describe())
            return None
        return value
    if rule.kind == "boolean":
        text = str(raw).strip().lower()
        if text not in ("true", "false"):
            problems.add(key, raw, "not a boolean; " + rule.describe())
            return None
        return text == "true"
    if rule.kind == "array":
        try:
            value = json.loads(raw) if isinstance(raw, str) else raw
        except json.JSONDecodeError:
            problems.add(key, raw, "not a list; " + rule.describe())
            return None
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            problems.add(key, value, "not a list of strings; " + rule.describe())
            return None
        assert rule.pattern is not None, f"{key}: a list rule needs a pattern"
        bad = [item for item in value if not rule.pattern.match(item)]
        if bad:
            problems.add(key, value, f"{', '.join(repr(b) for b in bad)} not allowed; " + rule.describe())
            return None
        if len(set(value)) != len(value):
            problems.add(key, value, "lists an item twice; each item once")
            return None
        return tuple(value)
    text = str(raw)
    if rule.allowed:
        if text not in rule.allowed:
            problems.add(key, text, "not allowed; " + rule.describe())
            return None
        return text
    if text == "" and rule.may_be_empty:
        return ""
    assert rule.pattern is not None, f"{key}: a text rule needs a pattern or allowed values"
    if not rule.pattern.match(text):
        problems.add(key, text, "not allowed; " + rule.describe())
        return None
    return text


def load_settings(raw_config: Mapping[str, Any], stack: str) -> Settings:
    """Validates the stack's raw config (keys `agent-obo:<name>`, values as the CLI passes them)."""
    problems = _Problems()
    if not ENVIRONMENT.match(stack):
        problems.items.append(
            f"stack name {stack!r}: not allowed; the stack name is the environment name and becomes "
            "part of Azure names: 2-8 lower-case letters or digits, starting with a letter"
        )

    prefix = PROJECT + ":"
    for key in sorted(raw_config):
        if key.startswith(prefix) and key[len(prefix):] not in RULES:
            name = key[len(prefix):]
            close = difflib.get_close_matches(name, RULES, n=1)
            hint = f"did you mean {prefix}{close[0]}? " if close else ""
            problems.add(name, raw_config[key], f"unknown setting; {hint}known settings: "
                         + ", ".join(sorted(RULES)))

    values: dict[str, Any] = {}
    for key, rule in RULES.items():
        full = prefix + key
        if full not in raw_config:
            problems.items.append(f"{full}: required and not set; set it in Pulumi.{stack}.yaml "
                                  f"(`pulumi config set {key} <value>`); {rule.describe()}")
            continue
        values[key] = _parse(key, raw_config[full], rule, problems)

    if not problems.items:
        _cross_field_rules(values, problems)
    if problems.items:
        raise SettingsError(f"stack {stack!r} has invalid settings", problems.items)
    return _build(values, stack)


def _cross_field_rules(v: dict[str, Any], problems: _Problems) -> None:
    if v["alwaysReadyInstances"] > v["maximumElasticWorkerCount"]:
        problems.add("alwaysReadyInstances", v["alwaysReadyInstances"],
                     f"more than maximumElasticWorkerCount ({v['maximumElasticWorkerCount']}); "
                     "allowed: at most the burst limit")
    existing = {"existingModelEndpoint": v["existingModelEndpoint"],
                "existingModelResourceId": v["existingModelResourceId"]}
    for key, value in existing.items():
        if v["modelSource"] == "existing" and not value:
            problems.add(key, value, "required when modelSource is existing")
        if v["modelSource"] == "create" and value:
            problems.add(key, value, "only allowed when modelSource is existing; "
                         "leave it empty when modelSource is create")
    if v["assignmentRequired"] and not (v["allowedUsers"] or v["allowedGroups"]):
        problems.add("assignmentRequired", True,
                     "nobody could sign in: set allowedUsers or allowedGroups, or set it to false")
    if not v["alertEmailReceivers"]:
        problems.add("alertEmailReceivers", [], "the authorization and throttling alerts would reach nobody; "
                     "allowed: at least one e-mail address")
    verification = v["verificationUsers"]
    if verification and not 2 <= len(verification) <= MAX_VERIFICATION_USERS:
        problems.add("verificationUsers", list(verification),
                     f"allowed: empty (no verification client) or 2 to {MAX_VERIFICATION_USERS} test users")
    if verification and v["allowedUsers"] and not v["allowedGroups"]:
        outside = [user for user in verification if user not in v["allowedUsers"]]
        if outside:
            problems.add("verificationUsers", list(verification),
                         f"{', '.join(outside)} not in allowedUsers, so Easy Auth would refuse them; "
                         "allowed: users that may sign in")


def _build(v: dict[str, Any], stack: str) -> Settings:
    return Settings(
        environment=stack,
        location=v["location"],
        owner=v["owner"],
        plan_sku=v["planSku"],
        maximum_elastic_worker_count=v["maximumElasticWorkerCount"],
        always_ready_instances=v["alwaysReadyInstances"],
        log_retention_days=v["logRetentionDays"],
        protect_stateful_resources=v["protectStatefulResources"],
        host_storage_authentication=v["hostStorageAuthentication"],
        model=ModelSettings(
            source=v["modelSource"],
            name=v["modelName"],
            version=v["modelVersion"],
            deployment_name=v["modelDeploymentName"],
            deployment_sku=v["modelDeploymentSku"],
            capacity=v["modelCapacity"],
            existing_endpoint=v["existingModelEndpoint"],
            existing_resource_id=v["existingModelResourceId"],
        ),
        sign_in=SignInSettings(
            app_owners=v["appOwners"],
            assignment_required=v["assignmentRequired"],
            allowed_users=v["allowedUsers"],
            allowed_groups=v["allowedGroups"],
            unauthenticated_action=v["unauthenticatedAction"],
            excluded_paths=v["excludedPaths"],
            additional_token_audiences=v["additionalTokenAudiences"],
            grant_admin_consent=v["grantAdminConsent"],
        ),
        operations=OperationsChannel(team_id=v["operationsTeamId"], channel_id=v["operationsChannelId"]),
        disabled_tools=v["disabledTools"],
        audit=AuditSettings(
            secure_agent_run_history=v["secureAgentRunHistory"],
            alert_email_receivers=v["alertEmailReceivers"],
            verification_users=v["verificationUsers"],
        ),
        raw=dict(v),
    )


def read_stack_config() -> dict[str, Any]:
    """Every config value the CLI handed to this run (the language host calls set_all_config)."""
    from pulumi.runtime import config as runtime_config

    merged = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    return merged

