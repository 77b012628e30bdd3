"""The agent-obo CrossGuard policies: what every environment's plan must satisfy before it deploys.

The program and its tests already build compliant resources; these policies are the independent
gate CI runs on every plan (`pulumi preview --policy-pack policy`, or offline `python -m
policy.harness`), so a change that slips past a unit test, a hand edit, or a new component still
cannot deploy a tool that acts as the wrong identity, over-broad Graph consent, a secret in an app
setting or an anonymous endpoint (../shared/seed/on-behalf-of-module-05.md: least privilege, mixed
identity confusion, sensitive data; ../shared/AZURE_CONTRACTS.md sections 4-6).

The pack runs from its own virtualenv and cannot import `agent_obo`: the few project constants it
needs are copied below, and tests/test_policy_pack.py keeps them in sync with the program.

Props arrive as the engine sends them: camelCase input names, secrets unwrapped, and during preview
some values unknown (reading one through the SDK's proxy raises). Every check first copies the
props into plain values with UNKNOWN markers and skips whatever it cannot know yet; a missing
property is a violation only where leaving it out is itself the risk (an unsafe Azure default),
otherwise the check is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)

# --- Project constants, copied because the pack cannot import agent_obo --------------------------
# tests/test_policy_pack.py asserts each one equals its source, so a change there fails CI here.

# agent_obo/connectors.py: the connectors whose `per_user_capable` is True (Microsoft connectors
# that allow dynamic, delegated connections; module 05 "Limitations").
PER_USER_CAPABLE_CONNECTORS = frozenset(
    {"office365", "office365users", "onedriveforbusiness", "sharepointonline", "teams"})
# agent_obo/graph_scopes.py: SIGN_IN_SCOPES and GRAPH_APP_ID.
SIGN_IN_SCOPES = ("User.Read", "openid", "profile", "offline_access")
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
# components/easy_auth.py: FIC_CLIENT_ID_SETTING (secretless Easy Auth, AZURE_CONTRACTS section 5).
FIC_CLIENT_ID_SETTING = "OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID"
# agent_obo/catalog.py: PER_USER / APP_ONLY; agent_obo/tool_connections.py: LABELS, SUFFIXES,
# DYNAMIC_USER_INVOKED, PER_USER_API_VERSION.
PER_USER = "per-user"
APP_ONLY = "app-only"
DISPLAY_NAME_PREFIXES = {PER_USER: "[per-user]", APP_ONLY: "[app-only]"}
NAME_SUFFIXES = {PER_USER: "peruser", APP_ONLY: "apponly"}
DYNAMIC_USER_INVOKED = "DynamicUserInvoked"
PER_USER_API_VERSION = "2018-07-01-preview"
# agent_obo/settings.py HOST_STORAGE_AUTHENTICATIONS; components/logic_app.py host_storage_app_settings:
# the only app settings that may hold a storage connection string, and only on an accessKey stack.
MANAGED_IDENTITY = "managedIdentity"
ACCESS_KEY = "accessKey"
HOST_STORAGE_CONNECTION_SETTINGS = ("AzureWebJobsStorage", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING")
# agent_obo/settings.py Settings.tags: the tags that say whose resource this is and where it runs.
REQUIRED_TAGS = ("environment", "project", "owner")

# azure-native types whose SDK class takes `tags` (tests check this list against the SDK: a type is
# taggable when its class's `_internal_init` has a `tags` parameter). The generic
# `resources:Resource` is taggable only as a top-level resource: under a parent (a connection's
# access policy) Azure keeps no tags.
TAGGABLE_TYPES = frozenset({
    "azure-native:applicationinsights:Component",
    "azure-native:cognitiveservices:Account",
    "azure-native:cognitiveservices:Deployment",
    "azure-native:managedidentity:UserAssignedIdentity",
    "azure-native:operationalinsights:Workspace",
    "azure-native:resources:Resource",
    "azure-native:resources:ResourceGroup",
    "azure-native:storage:StorageAccount",
    "azure-native:web:AppServicePlan",
    "azure-native:web:WebApp",
    "azure-native:web:WebAppSlot",
})

GENERIC_RESOURCE = "azure-native:resources:Resource"
APPLICATION = "azuread:index/application:Application"
CONSENT_GRANT = ("azuread:index/servicePrincipalDelegatedPermissionGrant:"
                 "ServicePrincipalDelegatedPermissionGrant")
SITE_TYPES = frozenset({"azure-native:web:WebApp", "azure-native:web:WebAppSlot"})
PUBLISHING_CREDENTIAL_TYPES = frozenset({
    "azure-native:web:WebAppFtpAllowed", "azure-native:web:WebAppScmAllowed",
    "azure-native:web:WebAppFtpAllowedSlot", "azure-native:web:WebAppScmAllowedSlot",
})
FTP_ALLOWED = "azure-native:web:WebAppFtpAllowed"
SCM_ALLOWED = "azure-native:web:WebAppScmAllowed"
AUTH_SETTINGS_TYPES = frozenset({
    "azure-native:web:WebAppAuthSettingsV2WithoutSecrets", "azure-native:web:WebAppAuthSettingsV2",
    "azure-native:web:WebAppAuthSettingsV2WithoutSecretsSlot", "azure-native:web:WebAppAuthSettingsV2Slot",
})
STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
BLOB_CONTAINER = "azure-native:storage:BlobContainer"
MODEL_ACCOUNT = "azure-native:cognitiveservices:Account"


# --- Reading props that may be missing or unknown --------------------------------------------------

class _Marker:
    """A value that is not a value: kept distinct from None, False and "" so checks cannot confuse them."""

    def __init__(self, label: str) -> None:
        self._label = label

    def __repr__(self) -> str:
        return self._label


MISSING = _Marker("<missing>")
UNKNOWN = _Marker("<unknown during preview>")
_UNKNOWN_SENTINELS = frozenset({
    UNKNOWN_BOOLEAN_VALUE, UNKNOWN_NUMBER_VALUE, UNKNOWN_STRING_VALUE, UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE, UNKNOWN_ARCHIVE_VALUE, UNKNOWN_OBJECT_VALUE,
})


def plain(value: Any) -> Any:
    """The props as plain dicts and lists, with UNKNOWN where the engine does not know a value yet.

    The SDK's proxy raises on touching an unknown value, even through `in` or `.get`; copying once
    lets every check read freely and decide for itself what an unknown means."""
    if isinstance(value, str):
        return UNKNOWN if value in _UNKNOWN_SENTINELS else value
    if isinstance(value, Mapping):
        copied: dict[str, Any] = {}
        for key in list(iter(value)):
            try:
                copied[key] = plain(value[key])
            except UnknownValueError:
                copied[key] = UNKNOWN
        return copied
    if isinstance(value, Sequence):
        items: list[Any] = []
        for index in range(len(value)):
            try:
                items.append(plain(value[index]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    return value


def props_of(resource: PolicyResource) -> dict[str, Any]:
    return plain(resource.props)


def lookup(tree: Any, dotted: str) -> Any:
    """`lookup(props, "siteConfig.minTlsVersion")`: the value, MISSING (absent or null) or UNKNOWN."""
    current = tree
    for key in dotted.split("."):
        if current is UNKNOWN:
            return UNKNOWN
        if not isinstance(current, dict) or current.get(key) is None:
            return MISSING
        current = current[key]
    return current


def is_known(value: Any) -> bool:
    return value is not MISSING and value is not UNKNOWN


def words(tag_value: Any) -> set[str]:
    """A space-separated tag ("Calendars.Read Mail.Read", or "none" for an empty list) as a set."""
    if not isinstance(tag_value, str) or tag_value.strip() in ("", "none"):
        return set()
    return set(tag_value.split())


def violation(problem: str, remediation: str) -> str:
    """Every message ends with what to change, so the person reading the CI log can act on it."""
    return f"{problem} Remediation: {remediation}"


def known_list(value: Any) -> list[Any]:
    """A list's known elements (unknown ones cannot be judged during preview)."""
    return [item for item in value if is_known(item)] if isinstance(value, list) else []


# --- identity-labels -------------------------------------------------------------------------------

_NAME_LABEL = re.compile(r"(?:^|-)(peruser|apponly)(?=-|$)")
_IDENTITY_BY_SUFFIX = {suffix: identity for identity, suffix in NAME_SUFFIXES.items()}
_MANAGED_API = re.compile(r"/managedApis/([^/]+)$", re.IGNORECASE)


def is_connection(props: dict[str, Any]) -> bool:
    return (lookup(props, "resourceType") == "connections"
            and str(lookup(props, "resourceProviderNamespace")).lower() == "microsoft.web")


def connection_identity_labels(props: dict[str, Any]) -> dict[str, Any]:
    """Where a connection states its identity, each read as per-user / app-only, or UNKNOWN/MISSING/
    the raw text when it names no identity or more than one."""
    labels: dict[str, Any] = {}
    name = lookup(props, "resourceName")
    if isinstance(name, str):
        found = set(_NAME_LABEL.findall(name))
        labels["name suffix"] = _IDENTITY_BY_SUFFIX[found.pop()] if len(found) == 1 else f"{name!r}"
    else:
        labels["name suffix"] = name
    display = lookup(props, "properties.displayName")
    if isinstance(display, str):
        prefixed = [mode for mode, prefix in DISPLAY_NAME_PREFIXES.items() if display.startswith(prefix + " ")]
        also_named = [mode for mode, prefix in DISPLAY_NAME_PREFIXES.items() if prefix in display]
        labels["display name prefix"] = (prefixed[0] if len(prefixed) == 1 and len(also_named) == 1
                                         else f"{display!r}")
    else:
        labels["display name prefix"] = display
    mode = lookup(props, "tags.identity-mode")
    labels["identity-mode tag"] = mode if not isinstance(mode, str) or mode in NAME_SUFFIXES else f"{mode!r}"
    return labels


def validate_identity_labels(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != GENERIC_RESOURCE:
        return
    props = plain(args.props)
    if not is_connection(props):
        return
    labels = connection_identity_labels(props)
    missing = [where for where, label in labels.items() if label is MISSING]
    unclear = {where: label for where, label in labels.items()
               if is_known(label) and label not in (PER_USER, APP_ONLY)}
    stated = {label for label in labels.values() if label in (PER_USER, APP_ONLY)}
    if missing:
        report_violation(violation(
            f"Connection states no identity in its {', '.join(missing)}.",
            "label every connection three ways: name suffix -peruser/-apponly, display name prefix "
            "[per-user]/[app-only] and tag identity-mode (agent_obo/tool_connections.py does this)."), None)
    for where, label in unclear.items():
        report_violation(violation(
            f"Connection {where} {label} names no identity or more than one.",
            "use exactly one of -peruser/-apponly, [per-user]/[app-only], identity-mode per-user/app-only."),
            None)
    if len(stated) > 1:
        report_violation(violation(
            "Connection labels disagree: " + ", ".join(f"{where} says {label}" for where, label in labels.items()
                                                       if label in stated) + ".",
            "a connection cannot change identity: create a new connection with the intended identity and "
            "label all three places the same."), None)
    if len(stated) != 1 or missing or unclear:
        return
    identity = stated.pop()
    features = lookup(props, "properties.features")
    if identity == PER_USER:
        if features is MISSING or (is_known(features) and features != DYNAMIC_USER_INVOKED):
            report_violation(violation(
                f"Per-user connection has features {features!r}, not {DYNAMIC_USER_INVOKED!r}: it would run "
                "with the identity of whoever created it, for every chat user.",
                f"set properties.features to {DYNAMIC_USER_INVOKED!r} with api-version {PER_USER_API_VERSION} "
                "(an app-only connection cannot be converted: create a new one)."), None)
        api_version = lookup(props, "apiVersion")
        if is_known(api_version) and api_version != PER_USER_API_VERSION:
            report_violation(violation(
                f"Per-user connection uses api-version {api_version!r}: only {PER_USER_API_VERSION} keeps "
                "properties.features.",
                f"set apiVersion to {PER_USER_API_VERSION}."), None)
        api_id = lookup(props, "properties.api.id")
        connector = _MANAGED_API.search(api_id) if isinstance(api_id, str) else None
        if connector and connector.group(1).lower() not in PER_USER_CAPABLE_CONNECTORS:
            report_violation(violation(
                f"Connector {connector.group(1)!r} does not support per-user (on-behalf-of) connections.",
                f"run its tools app-only, or use one of {', '.join(sorted(PER_USER_CAPABLE_CONNECTORS))}."),
                None)
        write_tools = lookup(props, "tags.write-tools")
        exceptions = lookup(props, "tags.justified-exceptions")
        if is_known(write_tools) and exceptions is not UNKNOWN:
            unjustified = sorted(words(write_tools) - words(exceptions))
            if unjustified:
                report_violation(violation(
                    f"Write tools {', '.join(unjustified)} run per-user without a justified exception.",
                    "run writes app-only after the user's explicit confirmation, or add a justification to "
                    "the tool in catalog/tools.yaml (it is then listed in tag justified-exceptions)."), None)
    elif is_known(features) and features == DYNAMIC_USER_INVOKED:
        report_violation(violation(
            f"App-only connection carries features {DYNAMIC_USER_INVOKED!r}, which makes it per-user.",
            "remove properties.features, or label the connection per-user everywhere."), None)


IDENTITY_LABELS = ResourceValidationPolicy(
    name="identity-labels",
    description=("Every managed API connection states one identity (per-user or app-only) the same way in its "
                 "name, display name and identity-mode tag, and is configured as that identity: otherwise a "
                 "tool silently acts as the app where the user's permissions were expected, or the reverse "
                 "(module 05, 'mixed identity confusion'). Per-user connections need DynamicUserInvoked, a "
                 "per-user-capable connector, and no unjustified write tools."),
    validate=validate_identity_labels,
    enforcement_level=EnforcementLevel.MANDATORY,
    remediation_steps="Label and configure connections as agent_obo/tool_connections.py does.",
)


# --- graph-least-privilege -------------------------------------------------------------------------

_BROAD_SCOPE = re.compile(r"(\.ReadWrite\.All|\.FullControl\.All)$|^Directory\.")


def is_broad_scope(scope: str) -> bool:
    """Tenant-wide write (`*.ReadWrite.All`, `*.FullControl.All`) or directory-wide (`Directory.*`)."""
    return bool(_BROAD_SCOPE.search(scope))


def validate_graph_least_privilege(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    allowed_broad = set(args.get_config().get("allowedBroadScopes") or [])
    resources = [(resource, props_of(resource)) for resource in args.resources]
    connections = [(r, p) for r, p in resources if r.resource_type == GENERIC_RESOURCE and is_connection(p)]
    per_user_scopes: set[str] = set()
    scopes_known = True
    for resource, props in connections:
        mode, scopes = lookup(props, "tags.identity-mode"), lookup(props, "tags.scopes")
        if mode is UNKNOWN or (mode == PER_USER and scopes is UNKNOWN):
            scopes_known = False
        elif mode == PER_USER:
            per_user_scopes |= words(scopes)
        for scope in sorted(s for s in words(scopes) if is_broad_scope(s) and s not in allowed_broad):
            report_violation(violation(
                f"Connection declares tenant-wide scope {scope!r}.",
                "ask for the narrowest delegated scope the tool needs (e.g. Files.Read, not "
                "Files.ReadWrite.All), or allow it explicitly in policy config allowedBroadScopes."), resource.urn)
    expected = set(SIGN_IN_SCOPES) | per_user_scopes
    for resource, props in resources:
        if resource.resource_type == APPLICATION:
            _check_application_graph_access(resource, props, expected if scopes_known else None, report_violation)
        elif resource.resource_type == CONSENT_GRANT:
            claims = lookup(props, "claimValues")
            if not isinstance(claims, list):
                continue
            known_claims = set(known_list(claims))
            for scope in sorted(s for s in known_claims if is_broad_scope(s) and s not in allowed_broad):
                report_violation(violation(
                    f"Admin consent grants tenant-wide scope {scope!r}.",
                    "remove it from the tools' scopes in catalog/tools.yaml, or allow it explicitly in policy "
                    "config allowedBroadScopes."), resource.urn)
            if scopes_known and len(known_claims) == len(claims) and known_claims != expected:
                report_violation(violation(
                    "Admin consent does not match what the tools need: "
                    + _difference(granted=known_claims, needed=expected) + ".",
                    "grant exactly the sign-in scopes plus the per-user connections' scopes tags "
                    "(agent_obo/graph_scopes.py required_scope_names); recreate per-user connections "
                    "whose scopes changed."), resource.urn)


def _check_application_graph_access(resource: PolicyResource, props: dict[str, Any], expected: set[str] | None,
                                    report_violation: ReportViolation) -> None:
    accesses = lookup(props, "requiredResourceAccesses")
    if not isinstance(accesses, list) or any(
            not isinstance(a, dict) or lookup(a, "resourceAppId") is UNKNOWN for a in accesses):
        return  # which entries are Microsoft Graph's cannot be told yet
    graph_lists = [lookup(a, "resourceAccesses") for a in accesses if lookup(a, "resourceAppId") == GRAPH_APP_ID]
    if any(entries is UNKNOWN for entries in graph_lists):
        return
    entries = [e for entries in graph_lists if isinstance(entries, list) for e in entries]
    if any(not isinstance(e, dict) or lookup(e, "type") is UNKNOWN for e in entries):
        return
    roles = [e for e in entries if lookup(e, "type") == "Role"]
    if roles:
        report_violation(violation(
            f"The app requests {len(roles)} Microsoft Graph application permission(s) (type Role): app-wide "
            "access to every user's data, which no chat sign-in needs.",
            "request delegated scopes (type Scope) only; app-only tools use their connections' identity."),
            resource.urn)
    scope_count = sum(1 for e in entries if lookup(e, "type") == "Scope")
    if expected is not None and scope_count != len(expected):
        report_violation(violation(
            f"The app requests {scope_count} Microsoft Graph delegated scopes; the sign-in scopes plus the "
            f"per-user connections' scopes are {len(expected)}: {', '.join(sorted(expected))}.",
            "request exactly those scopes (agent_obo/graph_scopes.py resolve_graph_scopes)."), resource.urn)


def _difference(granted: set[str], needed: set[str]) -> str:
    parts = []
    if granted - needed:
        parts.append("not needed " + ", ".join(sorted(granted - needed)))
    if needed - granted:
        parts.append("missing " + ", ".join(sorted(needed - granted)))
    return "; ".join(parts)


GRAPH_LEAST_PRIVILEGE = StackValidationPolicy(
    name="graph-least-privilege",
    description=("The chat app's Microsoft Graph delegated scopes and their tenant-wide admin consent are exactly "
                 "the sign-in scopes plus what the per-user tools declare, with no application permissions and "
                 "no tenant-wide write or directory scopes: every extra scope is data any signed-in user's token "
                 "can reach through the agent (module 05, 'least privilege'); a missing one prompts for consent "
                 "mid-chat."),
    validate=validate_graph_least_privilege,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(properties={
        "allowedBroadScopes": {
            "type": "array",
            "items": {"type": "string"},
            "default": [],
            "description": "Tenant-wide scopes (e.g. Sites.ReadWrite.All) a reviewed exception allows.",
        },
    }),
    remediation_steps="Derive scopes from catalog/tools.yaml; allow a reviewed broad scope via allowedBroadScopes.",
)


# --- connection-access-policy ----------------------------------------------------------------------

def validate_connection_access_policy(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    resources = [(resource, props_of(resource)) for resource in args.resources
                 if resource.resource_type == GENERIC_RESOURCE]
    policies_by_connection: dict[str, list[tuple[PolicyResource, dict[str, Any]]]] = {}
    for resource, props in resources:
        parent_path = lookup(props, "parentResourcePath")
        if lookup(props, "resourceType") == "accessPolicies" and isinstance(parent_path, str):
            parent_type, _, connection_name = parent_path.partition("/")
            if parent_type == "connections" and connection_name:
                policies_by_connection.setdefault(connection_name, []).append((resource, props))
    for resource, props in resources:
        if not is_connection(props):
            continue
        name = lookup(props, "resourceName")
        if not isinstance(name, str):
            continue  # unknown during preview: cannot be matched yet
        access = policies_by_connection.get(name, [])
        if not access:
            report_violation(violation(
                f"Connection {name!r} has no access policy: the Logic Apps runtime cannot call it.",
                "add a Microsoft.Web/connections/accessPolicies resource with parentResourcePath "
                f"'connections/{name}' for the site's managed identity (components/tool_connections.py "
                "ConnectionAccess)."), resource.urn)
        for policy_resource, policy_props in access:
            principal_type = lookup(policy_props, "properties.principal.type")
            object_id = lookup(policy_props, "properties.principal.identity.objectId")
            if principal_type is not UNKNOWN and principal_type != "ActiveDirectory":
                report_violation(violation(
                    f"Access policy on {name!r} has principal type {principal_type!r}, not 'ActiveDirectory'.",
                    "set properties.principal.type to 'ActiveDirectory' with the managed identity's tenantId "
                    "and objectId."), policy_resource.urn)
            if object_id is MISSING or object_id == "":
                report_violation(violation(
                    f"Access policy on {name!r} names no principal objectId: nobody, or the wrong caller, may "
                    "use the connection.",
                    "set properties.principal.identity.objectId to the site's managed identity principal id."),
                    policy_resource.urn)


CONNECTION_ACCESS_POLICY = StackValidationPolicy(
    name="connection-access-policy",
    description=("Every managed API connection has an access policy for an Entra (ActiveDirectory) principal with "
                 "an object id: without one the Logic Apps runtime cannot call the connection, and a policy for "
                 "the wrong kind of principal grants the connection to a caller nobody reviewed."),
    validate=validate_connection_access_policy,
    enforcement_level=EnforcementLevel.MANDATORY,
    remediation_steps="Create one accessPolicies child per connection for the site's managed identity.",
)


# --- easy-auth -------------------------------------------------------------------------------------

# One tenant's v2.0 issuer; the multi-tenant endpoints would accept sign-ins from any tenant.
_V2_ISSUER = re.compile(r"^https://login\.microsoftonline\.com/(?!(?:common|organizations|consumers)/)[^/]+/v2\.0$")
_CERTIFICATE_SECRET_FIELDS = ("clientSecretCertificateThumbprint", "clientSecretCertificateSubjectAlternativeName",
                              "clientSecretCertificateIssuer")
AAD = "identityProviders.azureActiveDirectory"


def validate_easy_auth(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in AUTH_SETTINGS_TYPES:
        return
    props = plain(args.props)

    def must_be_true(path: str, problem: str, remediation: str) -> None:
        # Each of these defaults to false in authsettingsV2: leaving it out is the risk itself.
        value = lookup(props, path)
        if value is not UNKNOWN and value is not True:
            report_violation(violation(f"{path} is {value!r}: {problem}", remediation), None)

    must_be_true("platform.enabled", "Easy Auth is off and the agent is open to anyone.",
                 "set platform.enabled to true.")
    must_be_true("globalValidation.requireAuthentication", "anonymous requests reach the agent.",
                 "set globalValidation.requireAuthentication to true.")
    must_be_true("login.tokenStore.enabled", "per-user connections find no signed-in user's token.",
                 "set login.tokenStore.enabled to true.")
    require_https = lookup(props, "httpSettings.requireHttps")  # defaults to true: only an explicit false is the risk
    if is_known(require_https) and require_https is not True:
        report_violation(violation("httpSettings.requireHttps is false: sign-in responses may travel over HTTP.",
                                   "set httpSettings.requireHttps to true."), None)
    action = lookup(props, "globalValidation.unauthenticatedClientAction")
    if action == "AllowAnonymous":
        report_violation(violation("unauthenticatedClientAction is AllowAnonymous: anonymous callers reach the agent.",
                                   "use RedirectToLoginPage (browsers) or Return401/Return403 (APIs)."), None)
    excluded = lookup(props, "globalValidation.excludedPaths")
    for path in known_list(excluded):
        if not (isinstance(path, str) and path.startswith("/runtime/")):
            report_violation(violation(
                f"excludedPaths lets {path!r} through without sign-in.",
                "exclude only the runtime's monitoring APIs under /runtime/ (e.g. /runtime/*)."), None)

    provider = lookup(props, AAD)
    if provider is MISSING:
        report_violation(violation("No Microsoft Entra identity provider is configured: nobody can sign in as "
                                   "themselves, so per-user tools cannot work.",
                                   f"configure {AAD} with the chat app's registration."), None)
        return
    if provider is UNKNOWN:
        return
    if lookup(props, f"{AAD}.enabled") is False:
        report_violation(violation("The Microsoft Entra identity provider is disabled.",
                                   f"set {AAD}.enabled to true."), None)
    issuer = lookup(props, f"{AAD}.registration.openIdIssuer")
    if issuer is MISSING or (isinstance(issuer, str) and not _V2_ISSUER.match(issuer)):
        report_violation(violation(
            f"openIdIssuer is {issuer!r}: tokens must come from this tenant's v2.0 endpoint.",
            "set registration.openIdIssuer to https://login.microsoftonline.com/<tenant id>/v2.0."), None)
    client_id = lookup(props, f"{AAD}.registration.clientId")
    audiences = lookup(props, f"{AAD}.validation.allowedAudiences")
    if isinstance(client_id, str) and isinstance(audiences, list) and UNKNOWN not in audiences \
            and f"api://{client_id}" not in audiences:
        report_violation(violation(
            f"allowedAudiences {audiences!r} lacks api://{client_id}: the chat client's tokens are rejected "
            "(token audience errors, module 05).",
            f"add api://{client_id} (the app's Application ID URI) to validation.allowedAudiences."), None)
    secret_setting = lookup(props, f"{AAD}.registration.clientSecretSettingName")
    if secret_setting is not UNKNOWN and secret_setting != FIC_CLIENT_ID_SETTING:
        # Absent, Easy Auth cannot redeem the sign-in code, so no user token reaches the token store and the
        # usual "fix" is a client secret: both are the risk this check stands for.
        report_violation(violation(
            f"clientSecretSettingName is {secret_setting!r}: sign-in depends on a client secret (or on nothing).",
            f"set it to {FIC_CLIENT_ID_SETTING} and give the app a federated credential for the site's "
            "user-assigned identity (secretless Easy Auth)."), None)
    for field in _CERTIFICATE_SECRET_FIELDS:
        if lookup(props, f"{AAD}.registration.{field}") is not MISSING:
            report_violation(violation(
                f"registration.{field} is set: sign-in uses a certificate credential to manage and rotate.",
                f"remove it; sign in with the managed identity's federated credential ({FIC_CLIENT_ID_SETTING})."),
                None)


EASY_AUTH = ResourceValidationPolicy(
    name="easy-auth",
    description=("Easy Auth on the logic app requires a Microsoft Entra sign-in from this tenant's v2.0 issuer "
                 "for every request but the runtime's own /runtime/ APIs, accepts the chat app's audience, keeps "
                 "each user's token (per-user tools act with it) and signs in without a client secret: otherwise "
                 "the agent is anonymous, or its tools cannot act for the user, or a secret must be kept."),
    validate=validate_easy_auth,
    enforcement_level=EnforcementLevel.MANDATORY,
    remediation_steps="Configure authsettingsV2 as components/easy_auth.py does (AZURE_CONTRACTS section 6).",
)


# --- site-hardening --------------------------------------------------------------------------------

_SECRET_VALUE = re.compile(
    r"AccountKey=|SharedAccessKey=|SharedAccessSignature=|(?:^|[?&;])sig=|Password=|Pwd=|ClientSecret=|"
    r"client_secret=|[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}",  # the last: an Entra client secret's shape
    re.IGNORECASE)
_SECRET_NAME = re.compile(
    r"^MICROSOFT_PROVIDER_AUTHENTICATION_SECRET$|(?:^|_)CLIENT_?SECRET$|(?:^|_)PASSWORD$|(?:^|_)ACCOUNT_?KEY$",
    re.IGNORECASE)


_STORAGE_CONNECTION_STRING = re.compile(
    r"^DefaultEndpointsProtocol=https;AccountName=[a-z0-9]{3,24};AccountKey=[A-Za-z0-9+/=]+;"
    r"EndpointSuffix=core\.windows\.net$")


def _is_storage_connection_string(value: str) -> bool:
    """Exactly a storage account connection string over HTTPS: nothing else rides along in it."""
    return bool(_STORAGE_CONNECTION_STRING.match(value))


_HOST_STORAGE_SCHEMA = PolicyConfigSchema(properties={
    "hostStorageAuthentication": {
        "type": "string",
        "enum": [MANAGED_IDENTITY, ACCESS_KEY],
        "default": MANAGED_IDENTITY,
        "description": ("The stack's agent-obo:hostStorageAuthentication (python -m policy.stack_config STACK): "
                        "only accessKey allows account keys."),
    },
})


def _tls_at_least_1_2(version: Any) -> bool:
    try:
        return tuple(int(part) for part in str(version).split(".")) >= (1, 2)
    except ValueError:
        return False


def validate_site_hardening(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in SITE_TYPES | PUBLISHING_CREDENTIAL_TYPES:
        return
    props = plain(args.props)
    if args.resource_type in PUBLISHING_CREDENTIAL_TYPES:
        allow = lookup(props, "allow")
        if allow is not UNKNOWN and allow is not False:
            report_violation(violation(
                f"Basic publishing credentials are allowed ({args.resource_type.rsplit(':', 1)[-1]} allow="
                f"{allow!r}): a username and password can deploy code to the agent.",
                "set allow to false; deploy with Entra identities."), None)
        return

    https_only = lookup(props, "httpsOnly")
    if https_only is not UNKNOWN and https_only is not True:  # defaults to false
        report_violation(violation(f"httpsOnly is {https_only!r}: the site answers over plain HTTP.",
                                   "set httpsOnly to true."), None)
    for setting in ("minTlsVersion", "scmMinTlsVersion"):
        version = lookup(props, f"siteConfig.{setting}")
        if is_known(version) and not _tls_at_least_1_2(version):
            report_violation(violation(f"siteConfig.{setting} is {version!r}: TLS below 1.2 is allowed.",
                                       f"set siteConfig.{setting} to '1.2' or higher."), None)
    ftps = lookup(props, "siteConfig.ftpsState")
    if ftps is not UNKNOWN and ftps != "Disabled":  # defaults to AllAllowed: plain FTP
        report_violation(violation(f"siteConfig.ftpsState is {ftps!r}: FTP deployment is open.",
                                   "set siteConfig.ftpsState to 'Disabled'."), None)
    identity_type = lookup(props, "identity.type")
    if identity_type is MISSING or (isinstance(identity_type, str) and not re.search(
            r"SystemAssigned|UserAssigned", identity_type)):
        report_violation(violation(
            f"The site has no managed identity (identity.type {identity_type!r}): storage, connections and the "
            "model would need keys or secrets.",
            "give the site its system-assigned and user-assigned identities."), None)
    declares_access_key = args.get_config().get("hostStorageAuthentication") == ACCESS_KEY
    for setting in known_list(lookup(props, "siteConfig.appSettings")):
        if not isinstance(setting, dict):
            continue
        name, value = lookup(setting, "name"), lookup(setting, "value")
        if declares_access_key and name in HOST_STORAGE_CONNECTION_SETTINGS and isinstance(value, str) \
                and _is_storage_connection_string(value):
            continue  # Learn's connection-string host storage, declared by the stack
        if isinstance(name, str) and _SECRET_NAME.search(name):
            report_violation(violation(
                f"App setting {name!r} holds a secret by name.",
                "remove it: sign in with the managed identity's federated credential "
                f"({FIC_CLIENT_ID_SETTING}) and reach services with managed identity."), None)
        elif isinstance(value, str) and _SECRET_VALUE.search(value):
            report_violation(violation(
                f"App setting {name!r} carries a key, password, SAS signature or client secret in its value.",
                "use identity-based settings (e.g. AzureWebJobsStorage__credential=managedIdentity) or a Key "
                "Vault reference; never a key in an app setting."), None)


SITE_HARDENING = ResourceValidationPolicy(
    name="site-hardening",
    description=("The logic app site serves HTTPS only with TLS 1.2 or later, has FTP and basic publishing "
                 "credentials off, runs with a managed identity, and keeps no key, password, SAS signature or "
                 "client secret in its app settings (but the host storage connection strings of a stack that "
                 "declares hostStorageAuthentication accessKey): anyone who reads the site's configuration, or "
                 "sniffs or guesses a credential, could otherwise act as the agent."),
    validate=validate_site_hardening,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=_HOST_STORAGE_SCHEMA,
    remediation_steps="Harden the site as components/logic_app.py does.",
)


def validate_publishing_credentials_declared(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    declared: dict[str, set[tuple[Any, Any]]] = {FTP_ALLOWED: set(), SCM_ALLOWED: set()}
    sites = []
    for resource in args.resources:
        if resource.resource_type in declared:
            props = props_of(resource)
            declared[resource.resource_type].add((lookup(props, "name"), lookup(props, "resourceGroupName")))
        elif resource.resource_type == "azure-native:web:WebApp":
            sites.append((resource, props_of(resource)))
    for resource, props in sites:
        site = (lookup(props, "name"), lookup(props, "resourceGroupName"))
        if not all(isinstance(part, str) for part in site):
            continue  # unknown during preview: cannot be matched yet
        for kind, found in declared.items():
            # A settings resource whose names are unknown could be this site's: do not accuse.
            if site in found or any(not all(isinstance(p, str) for p in pair) for pair in found):
                continue
            report_violation(violation(
                f"Site {site[0]!r} declares no {kind.rsplit(':', 1)[-1]}: basic publishing credentials stay on "
                "(the Azure default for new sites).",
                f"add {kind.rsplit(':', 1)[-1]} with allow=false for the site."), resource.urn)


PUBLISHING_CREDENTIALS_DECLARED = StackValidationPolicy(
    name="publishing-credentials-declared",
    description=("Every site declares both its FTP and SCM basic-publishing-credential settings: Azure turns basic "
                 "authentication on for a new site, so leaving the settings out deploys a site that accepts a "
                 "username and password for code deployment."),
    validate=validate_publishing_credentials_declared,
    enforcement_level=EnforcementLevel.MANDATORY,
    remediation_steps="Add WebAppFtpAllowed and WebAppScmAllowed with allow=false for every site.",
)


# --- storage-hardening -----------------------------------------------------------------------------

# (property, wanted, whether leaving it out is unsafe: the account's default for the API in use)
_STORAGE_SETTINGS = (
    ("allowBlobPublicAccess", False, False),  # defaults to false since API 2023-01-01
    ("minimumTlsVersion", "TLS1_2", True),  # the REST default has been TLS1_0
    ("enableHttpsTrafficOnly", True, False),  # defaults to true since API 2019-04-01
    ("allowSharedKeyAccess", False, True),  # null means account keys work
)


def validate_storage_hardening(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type == BLOB_CONTAINER:
        public = lookup(plain(args.props), "publicAccess")
        if is_known(public) and public != "None":
            report_violation(violation(f"Container publicAccess is {public!r}: its blobs are readable anonymously.",
                                       "set publicAccess to 'None'."), None)
        return
    if args.resource_type != STORAGE_ACCOUNT:
        return
    props = plain(args.props)
    declares_access_key = args.get_config().get("hostStorageAuthentication") == ACCESS_KEY
    for name, wanted, missing_is_unsafe in _STORAGE_SETTINGS:
        value = lookup(props, name)
        if name == "allowSharedKeyAccess" and declares_access_key:
            continue  # the stack declares Learn's connection-string host storage, which needs keys
        if value is UNKNOWN or (value is MISSING and not missing_is_unsafe):
            continue
        if value != wanted or type(value) is not type(wanted):
            report_violation(violation(f"Storage account {name} is {value!r}, not {wanted!r}.",
                                       f"set {name} to {wanted!r}; the runtime reaches storage with its identity."),
                             None)


STORAGE_HARDENING = ResourceValidationPolicy(
    name="storage-hardening",
    description=("The runtime's storage account accepts only HTTPS with TLS 1.2, no anonymous blob access and no "
                 "account keys (unless the stack declares hostStorageAuthentication accessKey), and its containers are "
                 "private: it holds the workflow package and run history, "
                 "so a leaked key or a public container exposes or replaces what the agent runs."),
    validate=validate_storage_hardening,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=_HOST_STORAGE_SCHEMA,
    remediation_steps="Harden the account as components/runtime_storage.py does.",
)


# --- model-local-auth ------------------------------------------------------------------------------

def validate_model_local_auth(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != MODEL_ACCOUNT:
        return
    disabled = lookup(plain(args.props), "properties.disableLocalAuth")
    if disabled is not UNKNOWN and disabled is not True:  # defaults to false: API keys work
        report_violation(violation(
            f"properties.disableLocalAuth is {disabled!r}: the model account accepts API keys.",
            "set properties.disableLocalAuth to true; the site calls the model with its managed identity."), None)


MODEL_LOCAL_AUTH = ResourceValidationPolicy(
    name="model-local-auth",
    description=("The agent's model account accepts Microsoft Entra tokens only: an API key works for anyone who "
                 "holds it, from anywhere, with no user or app identity in the logs."),
    validate=validate_model_local_auth,
    enforcement_level=EnforcementLevel.MANDATORY,
    remediation_steps="Set properties.disableLocalAuth=true on every Cognitive Services account.",
)


# --- required-tags ---------------------------------------------------------------------------------

def is_taggable(resource_type: str, props: dict[str, Any]) -> bool:
    if resource_type not in TAGGABLE_TYPES:
        return False
    if resource_type == GENERIC_RESOURCE:
        parent_path = lookup(props, "parentResourcePath")
        return parent_path is MISSING or parent_path == ""
    return True


def validate_required_tags(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    props = plain(args.props)
    if not is_taggable(args.resource_type, props):
        return
    tags = lookup(props, "tags")
    if tags is UNKNOWN:
        return
    tags = tags if isinstance(tags, dict) else {}
    absent = [name for name in REQUIRED_TAGS if tags.get(name) is None or tags.get(name) == ""]
    if absent:
        report_violation(violation(
            f"Missing tags: {', '.join(absent)}.",
            "pass the stack's tags (agent_obo.settings Settings.tags) to every taggable resource."), None)


REQUIRED_TAGS_POLICY = ResourceValidationPolicy(
    name="required-tags",
    description=("Every taggable Azure resource carries environment, project and owner tags: without them a "
                 "resource cannot be traced to its stack and owner for cost, incident response or clean-up."),
    validate=validate_required_tags,
    enforcement_level=EnforcementLevel.MANDATORY,
    remediation_steps="Tag every taggable resource with the stack's environment, project and owner.",
)


ALL_POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = [
    IDENTITY_LABELS,
    GRAPH_LEAST_PRIVILEGE,
    CONNECTION_ACCESS_POLICY,
    EASY_AUTH,
    SITE_HARDENING,
    PUBLISHING_CREDENTIALS_DECLARED,
    STORAGE_HARDENING,
    MODEL_LOCAL_AUTH,
    REQUIRED_TAGS_POLICY,
]

