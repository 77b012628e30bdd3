"""The stack's settings: read once, validated whole, typed.

Defaults, types and descriptions live in Pulumi.yaml (the CLI applies the defaults). This module adds
what Pulumi.yaml cannot say: allowed values, ranges, patterns and cross-field rules. Every problem
is collected and reported at once, naming the key, the bad value and what is allowed, before the
program registers any resource.

A tool's own settings are declared with the tool in catalog/tools.yaml (agent_obo/tool_inputs.py), not
in Pulumi.yaml: `load_settings` takes their rules, checks them the same way, and treats one the stack
does not set as empty (whether an enabled tool needs it is agent_obo/prepare.py's rule).
"""

from __future__ import annotations

import contextlib
import difflib
import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, TypeVar

from agent_obo import azure_limits, hidden_characters
from agent_obo import provider_settings as provider_settings_module
from agent_obo.errors import SettingsError
from agent_obo.excluded_paths import EXCLUDED_PATH, EXCLUDED_PATH_HINT
from agent_obo.network import DNS_ZONE_ID_HINT, SUBNET_ID_HINT, NetworkSettings, network_problems, network_settings
from agent_obo.regions import AZURE_REGIONS, suggest_region
from agent_obo.stack_files import NO_SECRET_SETTINGS, is_secure

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

PROJECT = "agent-obo"

# Every pattern is matched against the whole value (re.fullmatch): `$` would also accept a value
# ending in a newline (a folded YAML scalar), which would then reach Entra and the app settings.
# An Entra or ARM id, never the nil GUID.
GUID = re.compile(rf"(?!{azure_limits.NIL_GUID}\Z){azure_limits.GUID}")
GUID_WORDS = "a GUID, not the nil GUID (all zeros)"
ENVIRONMENT = re.compile(r"[a-z][a-z0-9]{1,7}")
OPENAI_ACCOUNT_ID = re.compile(
    r"/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[\w.()-]{1,90}"
    r"/providers/Microsoft\.CognitiveServices/accounts/[A-Za-z0-9-]{2,64}", re.ASCII,  # \w: ASCII only (network.py)
)
INTEGER = re.compile(r"-?[0-9]+")
# Pulumi's own Config.get_bool accepts exactly these spellings.
BOOLEANS = {"true": True, "True": True, "false": False, "False": False}

# An extra audience Easy Auth accepts: a custom client's own api:// or https:// identifier. Easy Auth compares
# audiences exactly, so a '*' is not a wildcard but a typo; a Microsoft service's audience (Graph, ARM, storage...)
# would accept tokens that service's many clients obtain, not only this agent's.
# Hosts compare without regard to case, and a trailing dot names the same host.
_MICROSOFT_HOSTS = (r"(?i:(?:[^/:]*\.)?(?:microsoft|microsoftonline|windows|azure|azure-api|office|office365|sharepoint"
                    r"|live|loganalytics|dynamics|powerbi|visualstudio|usgovcloudapi|chinacloudapi|microsoftazure)"
                    r"\.(?:com|net|io|us|cn|de)\.?)")
AUDIENCE = re.compile(rf"api://[!-)+-~]+|https://(?!{_MICROSOFT_HOSTS}(?:[:/]|\Z))[!-)+-~]+")
AUDIENCE_HINT = ("api:// or https:// identifiers of your own clients, without '*' (Easy Auth compares audiences "
                 "exactly) and not a Microsoft service's (graph.microsoft.com, management.azure.com, ...)")
EMAIL = re.compile(r"[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,63}")
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
    pattern: re.Pattern[str] | None = None  # matched against the whole value (and each item of a list)
    hint: str = ""  # what is allowed, in words, when a pattern says it badly
    may_be_empty: bool = False  # strings only: "" allowed (a list may always be empty)
    members: frozenset[str] = frozenset()  # strings only: a closed set too long to list in a message
    suggest: Callable[[str], str | None] | None = None  # the member a near miss probably meant
    max_items: int | None = None  # arrays only: the most items Azure takes

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

    def accepts(self, text: str) -> bool:
        if self.members:
            return text in self.members
        return self.pattern is not None and self.pattern.fullmatch(text) is not None


def _text(pattern: str | re.Pattern[str], hint: str, may_be_empty: bool = False) -> Rule:
    return Rule("string", pattern=re.compile(pattern) if isinstance(pattern, str) else pattern,
                hint=hint, may_be_empty=may_be_empty)


def _ids(hint: str) -> Rule:
    return Rule("array", pattern=GUID, hint=f"{hint}, not the nil GUID")


RULES: dict[str, Rule] = {
    "location": Rule("string", members=AZURE_REGIONS, suggest=suggest_region,
                     hint="an Azure public-cloud region name as ARM spells it, such as eastus2 or "
                          "swedencentral (agent_obo/regions.py lists them)"),
    # A tag value: no control characters, none of the characters tag names refuse.
    "owner": _text(r"(?=\S)[^<>%&\\?/\x00-\x1f\x7f]{2,128}(?<=\S)",
                   "2-128 printable characters without < > % & \\ ? /, no space at either end"),
    "tenantId": _text(GUID, f"the Microsoft Entra tenant id ({GUID_WORDS}) the stack signs users in with"),
    "planSku": Rule("string", allowed=("WS1", "WS2", "WS3")),
    "maximumElasticWorkerCount": Rule("integer", minimum=1, maximum=20),
    "alwaysReadyInstances": Rule("integer", minimum=1, maximum=20),
    "logRetentionDays": Rule("integer", minimum=30, maximum=730),
    "protectStatefulResources": Rule("boolean"),
    "hostStorageAuthentication": Rule("string", allowed=HOST_STORAGE_AUTHENTICATIONS),
    "zoneRedundant": Rule("boolean"),
    "privateNetworking": Rule("boolean"),
    "publicIngress": Rule("boolean"),
    "networkAddressSpace": _text(r"[0-9./]{9,18}", "an IPv4 network in CIDR form such as 10.42.0.0/24",
                                 may_be_empty=True),
    "integrationSubnetPrefix": _text(r"[0-9./]{9,18}", "an IPv4 network in CIDR form such as 10.42.0.0/26",
                                     may_be_empty=True),
    "privateEndpointSubnetPrefix": _text(r"[0-9./]{9,18}", "an IPv4 network in CIDR form such as 10.42.0.64/27",
                                         may_be_empty=True),
    "existingIntegrationSubnetId": _text(r"/subscriptions/\S+", SUBNET_ID_HINT, may_be_empty=True),
    "existingPrivateEndpointSubnetId": _text(r"/subscriptions/\S+", SUBNET_ID_HINT, may_be_empty=True),
    "existingPrivateDnsZoneIds": Rule("array", pattern=re.compile(r"/subscriptions/\S+"),
                                      hint="private DNS zone resource ids " + DNS_ZONE_ID_HINT),
    "storageFirewallIpRanges": Rule("array", pattern=re.compile(r"[0-9./]{7,18}"),
                                    hint="public IPv4 addresses or CIDR ranges"),
    "modelSource": Rule("string", allowed=("create", "existing")),
    # Azure OpenAI's model names and versions (gpt-4.1-mini, 2025-04-14, 0613, 1): letters, digits, '.' and '-',
    # a letter or digit at either end.
    "modelName": _text(r"[a-z0-9][a-z0-9.-]{0,62}[a-z0-9]",
                       "a model name such as gpt-4.1-mini: 2-64 lower-case letters, digits, '.' or '-', a letter or "
                       "digit at either end"),
    "modelVersion": _text(r"[0-9A-Za-z](?:[0-9A-Za-z.-]{0,30}[0-9A-Za-z])?",
                          "a model version such as 2025-04-14: up to 32 letters, digits, '.' or '-', a letter or digit "
                          "at either end"),
    "modelDeploymentName": _text(r"[A-Za-z0-9][A-Za-z0-9._-]{1,63}",
                                 "2-64 letters, digits, '.', '_' or '-', starting with a letter or digit"),
    "modelDeploymentSku": Rule("string", allowed=("GlobalStandard", "DataZoneStandard", "Standard")),
    "modelCapacity": Rule("integer", minimum=1, maximum=1000),
    "existingModelEndpoint": _text(r"https://[a-z0-9][a-z0-9.-]+(:[0-9]+)?/?",
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
    "excludedPaths": Rule("array", pattern=EXCLUDED_PATH, hint=EXCLUDED_PATH_HINT),
    "additionalTokenAudiences": Rule("array", pattern=AUDIENCE, hint=AUDIENCE_HINT),
    "delegateToolScopesToChatApp": Rule("boolean"),
    "disabledTools": Rule("array", pattern=re.compile(r"[a-z][a-z0-9_]{2,63}"),
                          hint="names of tools in catalog/tools.yaml"),
    "secureAgentRunHistory": Rule("boolean"),
    # Learn, Azure Monitor service limits (action groups): 1,000 e-mail actions in an action group.
    "alertEmailReceivers": Rule("array", pattern=EMAIL, hint="a list of e-mail addresses", max_items=1000),
    "verificationUsers": _ids("a list of Entra user object ids (GUIDs): the two-user check's test users"),
}

# Settings earlier versions read, with what replaced them: a stack file that still sets one is told why.
REMOVED_SETTINGS = {
    "grantAdminConsent": "no pipeline may hold the right to grant tenant-wide consent, so the program never "
                         "grants it: an administrator does, with `make grant-sign-in` or the adminConsentUrl "
                         "output (docs/operations.md, \"Consent and sign-in assignments\"); remove the key",
}


# --- the typed result ---------------------------------------------------------------------------
# Each field holds the validated setting of its name in camelCase (plan_sku: planSku), or the one its
# metadata names (typed builds them so).

SETTING = "setting"


@dataclass(frozen=True)
class ModelSettings:
    source: str = field(metadata={SETTING: "modelSource"})
    name: str = field(metadata={SETTING: "modelName"})
    version: str = field(metadata={SETTING: "modelVersion"})
    deployment_name: str = field(metadata={SETTING: "modelDeploymentName"})
    deployment_sku: str = field(metadata={SETTING: "modelDeploymentSku"})
    capacity: int = field(metadata={SETTING: "modelCapacity"})
    existing_endpoint: str = field(metadata={SETTING: "existingModelEndpoint"})
    existing_resource_id: str = field(metadata={SETTING: "existingModelResourceId"})

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
    # The chat app also requests the per-user tools' Graph scopes (agent_obo/graph_scopes.py).
    delegate_tool_scopes: bool = field(metadata={SETTING: "delegateToolScopesToChatApp"})


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
    tenant_id: str  # the one Entra tenant: Easy Auth's issuer, the federated credential, access policies
    plan_sku: str
    maximum_elastic_worker_count: int
    always_ready_instances: int
    log_retention_days: int
    protect_stateful_resources: bool
    host_storage_authentication: str  # MANAGED_IDENTITY or ACCESS_KEY
    zone_redundant: bool
    network: NetworkSettings | None  # None: public endpoints (privateNetworking false)
    model: ModelSettings
    sign_in: SignInSettings
    tool_settings: Mapping[str, str]  # every tool setting of the catalog by name; "" where the stack sets none
    disabled_tools: tuple[str, ...]
    audit: AuditSettings
    raw: dict[str, Any]  # every validated value by setting name, for rules that name settings

    @property
    def uses_access_key(self) -> bool:
        """Learn's connection-string host storage: account keys on, an Azure Files content share."""
        return self.host_storage_authentication == ACCESS_KEY

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

class Problems:
    def __init__(self, secret_keys: Collection[str] = ()) -> None:
        self.items: list[str] = []
        self.secret_keys = set(secret_keys)

    def add(self, key: str, value: Any, why: str, namespace: str = PROJECT) -> None:
        self.raw(f"{namespace}:{key}", value, why)

    def raw(self, full_key: str, value: Any, why: str) -> None:
        if full_key in self.secret_keys:
            shown = "[secret]"  # an error message ends up in CI logs
        else:
            shown = json.dumps(value) if not isinstance(value, str) else repr(value)
        self.items.append(f"{full_key} = {shown}: {why}")


def _hidden_character(raw: Any) -> str | None:
    """A character that changes how text displays without showing itself, in a value as the CLI hands
    it or in the JSON a list setting decodes from it. The stack file's reader refuses them already
    (agent_obo/yaml_files.py); config from elsewhere (Pulumi ESC, `--config-file`) passes here."""
    candidates = [raw]
    if isinstance(raw, str) and raw.lstrip().startswith(("[", "{", '"')):
        with contextlib.suppress(json.JSONDecodeError):
            candidates.append(json.loads(raw))
    return next((character for value in candidates for _, character in hidden_characters.in_values(value)), None)


def parse_value(key: str, raw: Any, rule: Rule, problems: Problems, namespace: str = PROJECT) -> Any:
    """Turns the CLI's string form of `<namespace>:<key>` into its type, or records why it cannot."""
    def add(key: str, value: Any, why: str) -> None:
        problems.add(key, value, why, namespace)

    hidden = _hidden_character(raw)
    if hidden is not None:
        add(key, raw, hidden_characters.refusal(hidden))
        return None
    if rule.kind == "integer":
        if not INTEGER.fullmatch(str(raw)):
            add(key, raw, "not an integer; " + rule.describe())
            return None
        value = int(str(raw))
        assert rule.minimum is not None and rule.maximum is not None, f"{key}: an integer rule needs a range"
        if not rule.minimum <= value <= rule.maximum:
            add(key, value, "out of range; " + rule.describe())
            return None
        return value
    if rule.kind == "boolean":
        if str(raw) not in BOOLEANS:
            add(key, raw, "not a boolean; " + rule.describe())
            return None
        return BOOLEANS[str(raw)]
    if rule.kind == "array":
        try:
            value = json.loads(raw) if isinstance(raw, str) else raw
        except json.JSONDecodeError:
            add(key, raw, "not a list; " + rule.describe())
            return None
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            add(key, value, "not a list of strings; " + rule.describe())
            return None
        bad = [item for item in value if not rule.accepts(item)]
        if bad:
            add(key, value, f"{', '.join(repr(b) for b in bad)} not allowed; " + rule.describe())
            return None
        # Ids, e-mail addresses and paths compare without regard to case where they are used: `A` and `a` twice.
        if len({item.casefold() for item in value}) != len(value):
            add(key, value, "lists an item twice (perhaps in another letter case); allowed: each item once")
            return None
        if rule.max_items is not None and len(value) > rule.max_items:
            add(key, f"{len(value)} items", f"more than Azure takes; allowed: at most {rule.max_items} items")
            return None
        return tuple(value)
    text = str(raw)
    if rule.allowed:
        if text not in rule.allowed:
            close = difflib.get_close_matches(text, rule.allowed, n=1)
            hint = f"did you mean {close[0]}? " if close and close[0] != text else ""
            add(key, text, f"not allowed; {hint}" + rule.describe())
            return None
        return text
    if text == "" and rule.may_be_empty:
        return ""
    if not rule.accepts(text):
        suggestion = rule.suggest(text) if rule.suggest else None
        hint = f"did you mean {suggestion}? " if suggestion and suggestion != text else ""
        add(key, text, f"not allowed; {hint}" + rule.describe())
        return None
    return text


# --- which keys may be in the stack's config at all ----------------------------------------------

# Namespaces of the config keys this program or its providers read. Any other namespace is read by
# nothing, so a value set there would be silently ignored while the operator believes it applies.
PROVIDER_NAMESPACES = provider_settings_module.NAMESPACES
OTHER_NAMESPACES = ("pulumi",)  # the CLI's own (pulumi:tags, pulumi:disable-default-providers, ...)
# Provider settings this program makes meaningless, with what to set instead. azure-native:location
# is the provider's default region, which Pulumi's Azure templates set; every resource here names its
# region explicitly from agent-obo:location, so the provider's default would never apply.
SUPERSEDED = {
    "azure-native:location": "location",
    "azure:location": "location",
}
NOT_A_SECRET = f"set as a secret, but {NO_SECRET_SETTINGS}"


def provider_rule(namespace: str, key: str) -> Rule:
    """What a provider setting other than a credential may hold (of a credential, only whether it is a secret is
    checked)."""
    kind = provider_settings_module.provider_settings(namespace)[key]
    if kind == "boolean":
        return Rule("boolean")
    if key in provider_settings_module.IDS:
        return _text(GUID, GUID_WORDS)
    if key == "environment":
        return Rule("string", allowed=provider_settings_module.PUBLIC_CLOUD[namespace])
    if key == "msiEndpoint":
        return Rule("string", allowed=(provider_settings_module.MSI_ENDPOINT,))
    return _text(r"(?=\S)[^\x00-\x1f\x7f]+(?<=\S)", "printable text without a space at either end")


def _folded(namespace: str) -> str:
    return "".join(ch for ch in namespace.lower() if ch.isalnum())


def key_problems(raw_config: Mapping[str, Any], problems: Problems, project: str, known: Collection[str],
                 removed: Mapping[str, str], stack_file: str) -> dict[str, Any]:
    """Every config key nothing reads, or that means something else, recorded in `problems`; returns the
    providers' settings, parsed. `project`: the Pulumi project's name (its namespace); `known`: its settings;
    `removed`: settings it no longer reads, with why; `stack_file`: where a missing key would be set."""
    prefix = project + ":"
    providers: dict[str, Any] = {}
    for full in sorted(raw_config):
        namespace, _, key = full.partition(":")
        value = raw_config[full]
        if namespace == project:
            if key in removed:
                problems.add(key, value, f"no longer a setting; {removed[key]}", project)
            elif key not in known:
                close = difflib.get_close_matches(key.strip(), sorted(known), n=1)
                hint = f"did you mean {prefix}{close[0]}? " if close else ""
                problems.add(key, value, f"unknown setting; {hint}known settings: " + ", ".join(sorted(known)),
                             project)
            elif full in problems.secret_keys:
                problems.add(key, "", NOT_A_SECRET, project)
        elif full in SUPERSEDED:
            instead = f"{project}:{SUPERSEDED[full]}"
            problems.raw(full, value, f"not read by this program: every resource takes its region from {instead}; "
                                      f"set {instead} instead (in {stack_file}) and remove this key")
        elif namespace in PROVIDER_NAMESPACES:
            providers[full] = _provider_value(namespace, key, value, problems)
        elif namespace in OTHER_NAMESPACES:
            continue
        elif _folded(namespace) == _folded(project) or difflib.get_close_matches(namespace, [project], cutoff=0.75):
            problems.raw(full, value, f"namespace {namespace!r} is not this project's, so nothing reads this "
                                      f"key; did you mean {prefix}{key.strip()}?")
        else:
            problems.raw(full, value, f"namespace {namespace!r} is read by nothing in this program, so the "
                                      f"value would be ignored; allowed namespaces: {project}, "
                                      f"{', '.join(PROVIDER_NAMESPACES + OTHER_NAMESPACES)}")
    return providers


def _provider_value(namespace: str, key: str, value: Any, problems: Problems) -> Any:
    full = f"{namespace}:{key}"
    known = provider_settings_module.provider_settings(namespace)
    hidden = _hidden_character(value)
    if hidden is not None:  # a provider's tenant or subscription id, for one
        problems.raw(full, value, hidden_characters.refusal(hidden))
        return None
    if key not in known:
        close = difflib.get_close_matches(key, sorted(known), n=1)
        hint = f"did you mean {namespace}:{close[0]}? " if close else ""
        problems.raw(full, value, f"not a setting of the {namespace} provider, which would ignore it; "
                                  f"{hint}allowed: {', '.join(sorted(known))}")
        return None
    if key in provider_settings_module.SECRETS:
        if full not in problems.secret_keys:
            # Not shown: it is a credential, and the message ends up in CI logs.
            problems.raw(full, "[not shown]", "a credential in plain text (in the stack file, the repository and "
                                              "every log that prints the config); allowed: a secret "
                                              f"(`pulumi config set --secret {full} ...`), or better none: OpenID "
                                              "Connect or a managed identity (docs/operations.md)")
        return None
    if full in problems.secret_keys and _still_encrypted(value):
        return None  # the offline plan's: only the CLI decrypts a secret (and then hands the program its plaintext)
    if key in provider_settings_module.REFUSED:
        problems.raw(full, value, provider_settings_module.REFUSED[key])
        return None
    return parse_value(key, value, provider_rule(namespace, key), problems, namespace)


def _still_encrypted(value: Any) -> bool:
    """`{"secure": "<ciphertext>"}`: a secret as the stack file holds it, before the CLI decrypts it."""
    with contextlib.suppress(json.JSONDecodeError, TypeError):
        return is_secure(json.loads(value) if isinstance(value, str) else value)
    return False


def load_settings(raw_config: Mapping[str, Any], stack: str, secret_keys: Collection[str] = (), *,
                  tool_settings: Mapping[str, Rule]) -> Settings:
    """Validates the stack's raw config (keys `agent-obo:<name>`, values as the CLI passes them);
    values of `secret_keys` never appear in a message. `tool_settings`: the rules of the settings the
    catalog's tools declare (agent_obo/tool_inputs.py setting_rules)."""
    problems = Problems(secret_keys)
    if not ENVIRONMENT.fullmatch(stack):
        problems.items.append(
            f"stack name {stack!r}: not allowed; the stack name is the environment name and becomes "
            "part of Azure names: 2-8 lower-case letters or digits, starting with a letter"
        )

    prefix = PROJECT + ":"
    stack_file = f"Pulumi.{stack}.yaml"
    providers = key_problems(raw_config, problems, PROJECT, {*RULES, *tool_settings}, REMOVED_SETTINGS, stack_file)

    values = parse_required(raw_config, RULES, problems, PROJECT, stack_file)
    for key, rule in tool_settings.items():
        full = prefix + key
        values[key] = parse_value(key, raw_config[full], rule, problems) if full in raw_config else ""

    if not problems.items:
        _cross_field_rules(values, problems)
        _provider_tenants(providers, values["tenantId"], problems)
    if problems.items:
        raise SettingsError(f"stack {stack!r} has invalid settings ({stack_file} over Pulumi.yaml's defaults)",
                            problems.items)
    return _build(values, stack, tuple(tool_settings))


def parse_required(raw_config: Mapping[str, Any], rules: Mapping[str, Rule], problems: Problems, project: str,
                   stack_file: str) -> dict[str, Any]:
    """Every setting of `rules` (keys `<project>:<name>`), each required (Pulumi.yaml's defaults are merged in
    before), parsed against its rule."""
    values: dict[str, Any] = {}
    for key, rule in rules.items():
        full = f"{project}:{key}"
        if full not in raw_config:
            problems.items.append(f"{full}: required and not set; set it in {stack_file} "
                                  f"(`pulumi config set {key} <value>`); {rule.describe()}")
            continue
        values[key] = parse_value(key, raw_config[full], rule, problems, project)
    return values


def _provider_tenants(providers: Mapping[str, Any], tenant_id: str, problems: Problems) -> None:
    """A provider signed in to another tenant than the stack declares would register the app and its grants there,
    while Easy Auth trusts tokens of the declared one."""
    for full in (f"{namespace}:tenantId" for namespace in PROVIDER_NAMESPACES):
        value = providers.get(full)
        if value and value.lower() != tenant_id.lower():
            problems.raw(full, value, f"another tenant than {PROJECT}:tenantId ({tenant_id}); allowed: the same "
                                      "tenant, or remove the key (the providers then use the signed-in tenant, which "
                                      "the program checks)")


# Learn, Reliability in Azure Logic Apps (Workflow Service Plan): a zone-redundant plan needs at
# least three instances; Reliability in Azure Functions: at least three always-ready instances.
ZONE_REDUNDANT_MINIMUM_INSTANCES = 3


def _cross_field_rules(v: dict[str, Any], problems: Problems) -> None:
    if v["zoneRedundant"]:
        for key in ("alwaysReadyInstances", "maximumElasticWorkerCount"):
            if v[key] < ZONE_REDUNDANT_MINIMUM_INSTANCES:
                problems.add(key, v[key], f"below {ZONE_REDUNDANT_MINIMUM_INSTANCES} while zoneRedundant is true; "
                             f"allowed: at least {ZONE_REDUNDANT_MINIMUM_INSTANCES} (one instance per availability "
                             "zone), or zoneRedundant false")
    network_problems(v, problems.add)
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


def _build(v: dict[str, Any], stack: str, tool_settings: tuple[str, ...]) -> Settings:
    return typed(
        Settings, v,
        environment=stack,
        tenant_id=v["tenantId"].lower(),
        network=network_settings(v),
        model=typed(ModelSettings, v),
        sign_in=typed(SignInSettings, v),
        tool_settings={key: v[key] for key in tool_settings},
        audit=typed(AuditSettings, v),
        raw=dict(v),
    )


_Section = TypeVar("_Section", bound="DataclassInstance")


def typed(section: type[_Section], v: Mapping[str, Any], **derived: Any) -> _Section:
    """`section` with `derived` and, in every other field, the setting it reads (see "the typed result")."""
    read = {f.name: v[f.metadata.get(SETTING, _camel_case(f.name))] for f in fields(section) if f.name not in derived}
    return section(**derived, **read)


def _camel_case(snake_case: str) -> str:
    first, *others = snake_case.split("_")
    return first + "".join(word.capitalize() for word in others)


def read_stack_config() -> dict[str, Any]:
    """Every config value the CLI handed to this run (the language host calls set_all_config)."""
    from pulumi.runtime import config as runtime_config

    merged = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    return merged


def read_secret_config_keys(keys: Collection[str]) -> set[str]:
    """Which of the config keys the CLI marked secret: their values never appear in an error."""
    from pulumi.runtime import config as runtime_config

    return set(runtime_config.get_config_secret_keys_env()) | {k for k in keys if runtime_config.is_config_secret(k)}

