"""Hardening of the site, the runtime's storage and the model account, each flag checked against what the
stack declares: nothing reachable with a key, a password or over plain HTTP, nothing more public than
declared, and the site's runtime logged.

Sources: learn.microsoft.com/azure/app-service/overview-security (HTTPS, TLS, FTP, remote debugging, CORS),
learn.microsoft.com/azure/app-service/configure-basic-auth-disable (basic publishing credentials),
learn.microsoft.com/azure/storage/common/shared-key-authorization-prevent (shared keys),
learn.microsoft.com/azure/storage/blobs/anonymous-read-access-prevent (public blobs),
learn.microsoft.com/azure/storage/common/transport-layer-security-configure-minimum-version (TLS 1.2),
learn.microsoft.com/azure/storage/blobs/secure-file-transfer-protocol-support (SFTP and local users),
learn.microsoft.com/azure/ai-services/disable-local-auth (model API keys),
learn.microsoft.com/azure/logic-apps/monitor-workflows-collect-diagnostic-data (diagnostic settings).
"""

from __future__ import annotations

import re
from typing import Any

from pulumi_policy import (
    ResourceValidationArgs,
    StackValidationArgs,
)

from agent_obo.app_settings import (
    ALLOWED_TENANTS_SETTING,
    CONTENT_SHARE_SETTING,
    FIC_CLIENT_ID_SETTING,
    HOST_STORAGE_CONNECTION_STRING,
    RESOURCE_GROUP_SETTING,
    STORAGE_ACCOUNT_NAME,
    SUBSCRIPTION_SETTING,
    Source,
    site_app_settings,
)
from policy.app_settings_sources import (
    content_share,
    expected_values,
    same,
    storage_account_of,
    subscription_and_group,
    workspace_ids,
)
from policy.checks import Check
from policy.declared import Declared
from policy.define import resource_policy, stack_policy
from policy.props import MISSING, UNKNOWN, is_known, known_list, lookup, plain, props_of, resource_name
from policy.resource_types import (
    ACTION_GROUP,
    ALERT_RULE,
    APP_SETTINGS_TYPES,
    APPLICATION_INSIGHTS,
    BLOB_CONTAINER,
    DIAGNOSTIC_SETTING,
    FTP_ALLOWED,
    LOG_ANALYTICS_WORKSPACE,
    MODEL_ACCOUNT,
    PUBLISHING_CREDENTIAL_TYPES,
    SCM_ALLOWED,
    SITE,
    SITE_TYPES,
    STORAGE_ACCOUNT,
)

# components/logic_app.py host_storage_app_settings: the only app settings that may hold a storage connection
# string, and only on a stack that declares hostStorageAuthentication accessKey.
HOST_STORAGE_CONNECTION_SETTINGS = ("AzureWebJobsStorage", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING")
# App settings that configure Easy Auth behind authsettingsV2's back (configure-authentication-provider-aad and
# the WEBSITE_AUTH_* app settings): only the tenant restriction is declared.
EASY_AUTH_SETTING_PREFIX = "WEBSITE_AUTH_"

_SECRET_VALUE = re.compile(
    r"AccountKey=|SharedAccessKey=|SharedAccessSignature=|(?:^|[?&;])sig=|Password=|Pwd=|ClientSecret=|"
    r"client_secret=|[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}",  # the last: an Entra client secret's shape
    re.IGNORECASE)
_SECRET_NAME = re.compile(
    r"^MICROSOFT_PROVIDER_AUTHENTICATION_SECRET\Z|(?:^|_)CLIENT_?SECRET\Z|(?:^|_)PASSWORD\Z|(?:^|_)ACCOUNT_?KEY\Z",
    re.IGNORECASE)
_STORAGE_CONNECTION_STRING = re.compile(
    r"^DefaultEndpointsProtocol=https;AccountName=[a-z0-9]{3,24};AccountKey=[A-Za-z0-9+/=]+;"
    r"EndpointSuffix=core\.windows\.net\Z")


def declared_public_network_access(stack: Declared) -> str:
    """Public network access the stack declares for its site, storage and model. The stack has no setting that
    restricts it yet, so every endpoint is declared public; a stack setting that makes an endpoint private
    (with private endpoints) is compared here."""
    return "Enabled"


def _check_public_access(check: Check, props: dict[str, Any], path: str, stack: Declared, what: str) -> None:
    declared = declared_public_network_access(stack)
    value = lookup(props, path)
    if check.known(value, path) and declared == "Disabled" and value != "Disabled":
        check.fail(f"{what} {path} is {value!r}, but the stack declares it private.", f"set {path} to 'Disabled'.")


def _tls_at_least_1_2(version: Any) -> bool:
    try:
        return tuple(int(part) for part in str(version).split(".")) >= (1, 2)
    except ValueError:
        return False


# --- site-hardening --------------------------------------------------------------------------------

def validate_site_hardening(args: ResourceValidationArgs, check: Check) -> None:
    """The logic app site serves HTTPS only with TLS 1.2 or later, has FTP, basic publishing credentials and remote
    debugging off, no wildcard CORS, public network access as declared, its system-assigned identity and exactly one
    user-assigned identity, and app settings without keys, passwords, SAS signatures or client secrets (but the host
    storage connection string of a stack that declares hostStorageAuthentication accessKey), with Easy Auth's tenant
    restriction and secretless credential as declared."""
    props = plain(args.props)
    if args.resource_type in APP_SETTINGS_TYPES:
        stack = check.declared()
        if stack is not None:
            validate_app_settings(check, lookup(props, "properties"), stack)
        return
    if args.resource_type in PUBLISHING_CREDENTIAL_TYPES:
        check.equal(props, "allow", False, "a username and password can deploy code to the agent "
                    f"({args.resource_type.rsplit(':', 1)[-1]}).", "set allow to false; deploy with Entra identities.")
        return
    stack = check.declared()
    if stack is not None:
        _check_site(check, props, stack)


def _check_site(check: Check, props: dict[str, Any], stack: Declared) -> None:
    check.equal(props, "httpsOnly", True, "the site answers over plain HTTP.", "set httpsOnly to true.")
    for setting in ("minTlsVersion", "scmMinTlsVersion"):  # both default to 1.2
        version = lookup(props, f"siteConfig.{setting}")
        if check.known(version, f"siteConfig.{setting}") and is_known(version) and not _tls_at_least_1_2(version):
            check.fail(f"siteConfig.{setting} is {version!r}: TLS below 1.2 is allowed.",
                       f"set siteConfig.{setting} to '1.2' or higher.")
    check.equal(props, "siteConfig.ftpsState", "Disabled", "FTP deployment is open (the default is AllAllowed).",
                "set siteConfig.ftpsState to 'Disabled'.")
    check.not_value(props, "siteConfig.remoteDebuggingEnabled", True, "a debugger can attach to the agent.",
                    "turn remote debugging off.")
    origins = lookup(props, "siteConfig.cors.allowedOrigins")
    if check.known(origins, "siteConfig.cors.allowedOrigins") and "*" in known_list(origins):
        check.fail("siteConfig.cors.allowedOrigins allows '*': any web page can call the agent with the user's "
                   "browser session.", "list only the origins of the chat client, or none.")
    _check_public_access(check, props, "publicNetworkAccess", stack, "The site's")
    identity_type = lookup(props, "identity.type")
    if check.known(identity_type, "identity.type") and not (
            isinstance(identity_type, str) and "SystemAssigned" in identity_type and "UserAssigned" in identity_type):
        check.fail(f"The site's identity.type is {identity_type!r}: it needs its system-assigned identity (model, "
                   "connections) and the runtime's user-assigned identity (storage, Easy Auth).",
                   "give the site both identities.")
    assigned = lookup(props, "identity.userAssignedIdentities")
    if check.known(assigned, "identity.userAssignedIdentities") and isinstance(assigned, list | dict) \
            and len(assigned) != 1:
        check.fail(f"The site carries {len(assigned)} user-assigned identities: only the runtime identity is "
                   "declared, and any other one acts with its own permissions through the site.",
                   "assign only the runtime's user-assigned identity.")
    _check_inline_app_settings(check, lookup(props, "siteConfig.appSettings"))


def _check_inline_app_settings(check: Check, app_settings: Any) -> None:
    """The site carries no app settings of its own: a site PUT with siteConfig.appSettings replaces the whole
    set the app settings resource wrote (components/app_settings.py, "one writer")."""
    if check.known(app_settings, "siteConfig.appSettings") and known_list(app_settings):
        names = sorted(str(lookup(s, "name")) for s in known_list(app_settings) if isinstance(s, dict))
        check.fail(f"The site carries app settings of its own ({', '.join(names)}): they replace the ones the "
                   "app settings resource writes, or it theirs.",
                   "set every app setting in agent_obo/app_settings.py's table; components/app_settings.py "
                   "applies them as one resource.")


_NOT_KNOWN_TO_THE_PACK = "<depends on the subscription>"


def declared_app_settings(stack: Declared) -> dict[str, Any]:
    """agent_obo/app_settings.py's table for the stack: each setting's literal value, or a Source filled in from
    another resource; the values derived from the subscription (which the pack does not know) are placeholders."""
    return dict(site_app_settings(stack.settings, stack.catalog, stack.connections,
                                  subscription_id=_NOT_KNOWN_TO_THE_PACK, tenant_id=stack.tenant_id,
                                  resource_group_name=_NOT_KNOWN_TO_THE_PACK,
                                  content_share_name=_NOT_KNOWN_TO_THE_PACK).entries)


def validate_app_settings(check: Check, settings: Any, stack: Declared) -> None:
    if not check.known(settings, "the site's app settings"):
        return
    settings = settings if isinstance(settings, dict) else {}
    declared = declared_app_settings(stack)
    extra, missing = sorted(set(settings) - set(declared)), sorted(set(declared) - set(settings))
    if extra or missing:
        check.fail("The site's app settings differ from what the stack declares ("
                   + "; ".join(([f"not declared {', '.join(extra)}"] if extra else [])
                               + ([f"missing {', '.join(missing)}"] if missing else [])) + ").",
                   "set app settings only in agent_obo/app_settings.py's table, which the stack's settings and the "
                   "catalog fill in.")
    access_key = stack.settings.uses_access_key
    for name, value in sorted(settings.items()):
        wanted = declared.get(name)
        if value is UNKNOWN:
            check.cannot_see(f"the value of app setting {name}")
            continue
        if isinstance(wanted, str) and wanted != _NOT_KNOWN_TO_THE_PACK and value != wanted:
            check.fail(f"App setting {name} is {value!r}, not the declared {wanted!r}.",
                       "leave the value agent_obo/app_settings.py gives it.")
        if access_key and name in HOST_STORAGE_CONNECTION_SETTINGS:
            if not (isinstance(value, str) and _STORAGE_CONNECTION_STRING.match(value)):
                check.fail(f"App setting {name!r} is not exactly a storage connection string over HTTPS.",
                           "use the connection string components/runtime_storage.py builds, nothing else.")
            continue  # Learn's connection-string host storage, declared by the stack
        if _SECRET_NAME.search(name):
            check.fail(f"App setting {name!r} holds a secret by name.",
                       f"remove it: sign in with the managed identity's federated credential ({FIC_CLIENT_ID_SETTING})"
                       " and reach services with managed identity.")
        elif isinstance(value, str) and _SECRET_VALUE.search(value):
            check.fail(f"App setting {name!r} carries a key, password, SAS signature or client secret in its value.",
                       "use identity-based settings or a Key Vault reference; never a key in an app setting.")
        elif name.upper().startswith(EASY_AUTH_SETTING_PREFIX) and name != ALLOWED_TENANTS_SETTING:
            check.fail(f"App setting {name!r} changes Easy Auth outside its authsettingsV2.",
                       "configure Easy Auth only in authsettingsV2 (components/easy_auth.py).")


SITE_HARDENING = resource_policy(
    "site-hardening", validate_site_hardening, judges=SITE_TYPES | PUBLISHING_CREDENTIAL_TYPES | APP_SETTINGS_TYPES,
    url="https://learn.microsoft.com/azure/app-service/overview-security",
    remediation="Harden the site as components/logic_app.py does.",
)


# --- site-settings-bound -------------------------------------------------------------------------

_SITE_SETTINGS = (
    (FTP_ALLOWED, "basic publishing credentials stay on for FTP (the Azure default for new sites)",
     "add one WebAppFtpAllowed with allow=false"),
    (SCM_ALLOWED, "basic publishing credentials stay on for SCM (the Azure default for new sites)",
     "add one WebAppScmAllowed with allow=false"),
    ("azure-native:web:WebAppApplicationSettings", "the site runs with app settings nobody checked, or two "
     "writers replace each other's", "apply the site's app settings as one resource (components/app_settings.py)"),
)


def validate_site_settings_bound(args: StackValidationArgs, check: Check) -> None:
    """Every site has exactly one FTP and one SCM basic-publishing-credential setting and exactly one app settings
    resource bound to it, and none is bound to anything else: Azure turns basic authentication on for a new site, and
    a second or misdirected settings resource replaces what the checked one wrote. Every app setting whose value comes
    from a resource carries this stack's resource's value (the package, the model, the connections, the identity,
    storage and telemetry), not a literal or another resource's."""
    for site in (r for r in args.resources if r.resource_type == SITE):
        for kind, problem, remedy in _SITE_SETTINGS:
            # Bound through the site's name output: a literal name could be another site's.
            bound = [r for r in args.resources if r.resource_type == kind
                     and site in r.property_dependencies.get("name", [])]
            if len(bound) != 1:
                check.fail(f"Site {site.name!r} has {len(bound)} {kind.rsplit(':', 1)[-1]} bound to it: {problem}.",
                           f"{remedy}, whose name is the site's name output.", site.urn)
    for kind, _, remedy in _SITE_SETTINGS:
        for resource in (r for r in args.resources if r.resource_type == kind):
            if not any(d.resource_type == SITE for d in resource.property_dependencies.get("name", [])):
                check.fail(f"{resource.name!r} ({kind.rsplit(':', 1)[-1]}) is not bound to a site of this stack.",
                           f"{remedy}, whose name is the site's name output.", resource.urn)
    stack = check.declared()
    if stack is not None:
        for resource in (r for r in args.resources if r.resource_type in APP_SETTINGS_TYPES):
            _check_sourced_values(check, resource, args.resources, stack)


def _check_sourced_values(check: Check, resource: Any, resources: list[Any], stack: Declared) -> None:
    values = lookup(props_of(resource), "properties")
    if not check.known(values, "the site's app settings") or not isinstance(values, dict):
        return
    expected = expected_values(resources, stack)
    subscription, group = subscription_and_group(resources)
    literal_from_resources = {SUBSCRIPTION_SETTING: subscription, RESOURCE_GROUP_SETTING: group,
                              CONTENT_SHARE_SETTING: content_share(resources)}
    for name, entry in sorted(declared_app_settings(stack).items()):
        if name not in values:
            continue  # site-hardening reports a missing setting
        value = values[name]
        if isinstance(entry, Source) and entry == HOST_STORAGE_CONNECTION_STRING:
            key, what = entry.key, "the runtime storage account"
            wanted = expected[STORAGE_ACCOUNT_NAME.key]
            value = storage_account_of(value) if isinstance(value, str) else value
        elif isinstance(entry, Source):
            key, what, wanted = entry.key, entry.description, expected.get(entry.key, MISSING)
        elif name in literal_from_resources:
            key, what, wanted = name, f"this stack's {name}", literal_from_resources[name]
            value = value.lower() if isinstance(value, str) else value
            wanted = wanted.lower() if isinstance(wanted, str) else wanted
        else:
            continue  # a literal: site-hardening compares it
        if value is UNKNOWN or wanted is UNKNOWN:
            check.cannot_see(f"the value of app setting {name}")
        elif wanted is MISSING:
            check.fail(f"App setting {name} cannot be tied to {what}: the stack has not exactly one resource it "
                       "comes from.", "keep one of each resource the app settings read (agent_obo/app_settings.py).",
                       resource.urn)
        elif not same(key, value, wanted):
            check.fail(f"App setting {name} is {value!r}, not {what} of this stack ({wanted!r}): the site would run, "
                       "call or trust something the stack does not declare.",
                       "wire the value from the stack's own resource (__main__.py, agent_obo/app_settings.py "
                       "names each source).", resource.urn)


SITE_SETTINGS_BOUND = stack_policy(
    "site-settings-bound", validate_site_settings_bound,
    url="https://learn.microsoft.com/azure/app-service/configure-basic-auth-disable",
    remediation="Add WebAppFtpAllowed/WebAppScmAllowed (allow=false) and AppSettings for every site.",
)


# --- storage-hardening -----------------------------------------------------------------------------

def validate_storage_hardening(args: ResourceValidationArgs, check: Check) -> None:
    """The runtime's storage account accepts only HTTPS with TLS 1.2, no anonymous blob access, no cross-tenant
    replication, no SFTP or local users, public network access as declared, and no account keys unless the stack
    declares hostStorageAuthentication accessKey; its containers are private: it holds the workflow package and run
    history, so a leaked key or a public container exposes or replaces what the agent runs."""
    if args.resource_type == BLOB_CONTAINER:
        public = lookup(plain(args.props), "publicAccess")
        if check.known(public, "publicAccess") and public not in (MISSING, "None"):
            check.fail(f"Container publicAccess is {public!r}: its blobs are readable anonymously.",
                       "set publicAccess to 'None'.")
    elif args.resource_type == STORAGE_ACCOUNT:
        stack = check.declared()
        if stack is not None:
            _check_account(check, plain(args.props), stack)


def _check_account(check: Check, props: dict[str, Any], stack: Declared) -> None:
    check.equal(props, "minimumTlsVersion", "TLS1_2", "older TLS is accepted (the REST default is TLS1_0).",
                "set minimumTlsVersion to TLS1_2.")
    check.not_value(props, "allowBlobPublicAccess", True, "containers may be made public.",
                    "set allowBlobPublicAccess to false.")
    check.not_value(props, "enableHttpsTrafficOnly", False, "the account answers over plain HTTP.",
                    "set enableHttpsTrafficOnly to true.")
    check.not_value(props, "allowCrossTenantReplication", True, "objects can be replicated to another tenant's "
                    "account.", "set allowCrossTenantReplication to false.")
    check.not_value(props, "isLocalUserEnabled", True, "local users sign in with passwords or SSH keys, outside "
                    "Entra.", "set isLocalUserEnabled to false.")
    check.not_value(props, "isSftpEnabled", True, "SFTP serves the account to local users.",
                    "set isSftpEnabled to false.")
    _check_public_access(check, props, "publicNetworkAccess", stack, "The storage account's")
    if not stack.settings.uses_access_key:
        # Absent means keys work (allowSharedKeyAccess null is true).
        check.equal(props, "allowSharedKeyAccess", False, "account keys and key-signed SAS reach the account, "
                    "although the stack declares hostStorageAuthentication managedIdentity.",
                    "set allowSharedKeyAccess to false; the runtime reaches storage with its identity.")


STORAGE_HARDENING = resource_policy(
    "storage-hardening", validate_storage_hardening,
    url="https://learn.microsoft.com/azure/storage/common/shared-key-authorization-prevent",
    remediation="Harden the account as components/runtime_storage.py does.",
)


# --- model-hardening -------------------------------------------------------------------------------

def validate_model_hardening(args: ResourceValidationArgs, check: Check) -> None:
    """The agent's model account accepts Microsoft Entra tokens only (local auth off, a custom subdomain) and is no more
    public than declared: an API key works for anyone who holds it, from anywhere, with no user or app identity in
    the logs."""
    stack = check.declared()
    if stack is not None:
        props = plain(args.props)
        check.equal(props, "properties.disableLocalAuth", True, "the model account accepts API keys (the default).",
                    "set properties.disableLocalAuth to true; the site calls the model with its managed identity.")
        subdomain = lookup(props, "properties.customSubDomainName")
        if check.known(subdomain, "properties.customSubDomainName") and not (isinstance(subdomain, str)
                                                                              and subdomain):
            check.fail("properties.customSubDomainName is not set: Microsoft Entra tokens work only on a custom "
                       "subdomain, so callers would need API keys.", "set customSubDomainName.")
        _check_public_access(check, props, "properties.publicNetworkAccess", stack, "The model account's")


MODEL_HARDENING = resource_policy(
    "model-hardening", validate_model_hardening, judges=(MODEL_ACCOUNT,),
    url="https://learn.microsoft.com/azure/ai-services/disable-local-auth",
    remediation="Set properties.disableLocalAuth=true and a custom subdomain on every model account.",
)


# --- diagnostics -----------------------------------------------------------------------------------

# The alerts every stack keeps (monitoring/queries, docs/audit-and-troubleshooting.md): authorization failures and
# throttling. Dropping one is a reviewed change of the pack, not of the query files alone.
REQUIRED_ALERTS = ("authorization-failures", "throttling")


def validate_diagnostics(args: StackValidationArgs, check: Check) -> None:
    """Every site sends its WorkflowRuntime logs to the stack's own Log Analytics workspace through a diagnostic setting
    bound to it: the audit trail of which tool ran, as whom, for which user. The workspace keeps it for the declared
    logRetentionDays; Application Insights writes to that workspace; the authorization-failure and throttling alerts
    exist, enabled, query that workspace and reach the stack's enabled action group."""
    _check_audit_trail(args, check)
    workspaces = [r for r in args.resources if r.resource_type == LOG_ANALYTICS_WORKSPACE]
    settings = [r for r in args.resources if r.resource_type == DIAGNOSTIC_SETTING]
    ids = workspace_ids(args.resources)
    for site in (r for r in args.resources if r.resource_type == SITE):
        logged = [s for s in settings if site in s.property_dependencies.get("resourceUri", [])
                  and _to_workspace(check, s, "workspaceId", lookup(props_of(s), "workspaceId"), workspaces, ids)]
        categories: set[Any] = set()
        for setting in logged:
            for log in known_list(lookup(props_of(setting), "logs")):
                if lookup(log, "enabled") is True:
                    categories.add(lookup(log, "category"))
                    categories.add(lookup(log, "categoryGroup"))
        if any(lookup(props_of(s), "logs") is UNKNOWN for s in logged):
            check.cannot_see("the site's diagnostic log categories")
        elif not ({"WorkflowRuntime", "allLogs"} & categories):
            check.fail(f"Site {site.name!r} sends no WorkflowRuntime logs to the stack's Log Analytics workspace: "
                       "which tool ran under which identity goes unrecorded.",
                       "add a diagnostic setting for the site with WorkflowRuntime logs enabled to the stack's "
                       "workspace (components/logic_app.py).", site.urn)


def _bound(resource: Any, key: str, targets: list[Any]) -> bool:
    return any(target in resource.property_dependencies.get(key, []) for target in targets)


def _to_workspace(check: Check, resource: Any, key: str, value: Any, workspaces: list[Any], ids: Any) -> bool:
    """Bound to the stack's workspace, and (where the ids can be told) its id: an apply() on the workspace's output
    keeps the dependency whatever value it returns."""
    values = value if isinstance(value, list) else [value]
    if ids is UNKNOWN or UNKNOWN in values:
        check.cannot_see(f"the workspace {resource.name} reaches")
        return _bound(resource, key, workspaces)
    return _bound(resource, key, workspaces) and bool(values) and all(
        isinstance(v, str) and v.lower() in ids for v in values)


def _check_audit_trail(args: StackValidationArgs, check: Check) -> None:
    resources = args.resources
    workspaces = [r for r in resources if r.resource_type == LOG_ANALYTICS_WORKSPACE]
    groups = [r for r in resources if r.resource_type == ACTION_GROUP]
    stack = check.declared()
    for workspace in workspaces:
        retention = lookup(props_of(workspace), "retentionInDays")
        if stack is not None and check.known(retention, "the workspace's retention") and \
                retention != stack.settings.log_retention_days:
            check.fail(f"Workspace {workspace.name!r} keeps logs for {retention!r} days, not the declared "
                       f"logRetentionDays ({stack.settings.log_retention_days}): the audit trail ends sooner.",
                       "set retentionInDays from agent-obo:logRetentionDays (components/observability.py).",
                       workspace.urn)
    ids = workspace_ids(resources)
    for component in (r for r in resources if r.resource_type == APPLICATION_INSIGHTS):
        value = lookup(props_of(component), "workspaceResourceId")
        if not _to_workspace(check, component, "workspaceResourceId", value, workspaces, ids):
            check.fail(f"Application Insights {component.name!r} writes to a workspace that is not the stack's: the "
                       "agent's telemetry goes elsewhere.",
                       "pass the stack's workspace id (components/observability.py).", component.urn)
    for group in groups:
        if lookup(props_of(group), "enabled") is False:
            check.fail(f"Action group {group.name!r} is disabled: the audit alerts reach nobody.",
                       "set enabled to true (components/audit_monitoring.py).", group.urn)
    names = []
    for rule in (r for r in resources if r.resource_type == ALERT_RULE):
        props = props_of(rule)
        names.append(resource_name(props, "ruleName"))
        routed = lookup(props, "actions.actionGroups")
        if lookup(props, "enabled") is False:
            check.fail(f"Alert rule {rule.name!r} is disabled.",
                       "set enabled to true (components/audit_monitoring.py).", rule.urn)
        if not _to_workspace(check, rule, "scopes", lookup(props, "scopes"), workspaces, ids):
            check.fail(f"Alert rule {rule.name!r} does not query the stack's workspace: it never fires on this stack's "
                       "audit trail.", "pass the stack's workspace id as its scope.", rule.urn)
        if isinstance(routed, list) and UNKNOWN in routed:
            check.cannot_see(f"{rule.name}'s action groups")
        elif check.known(routed, f"{rule.name}'s action groups") and (
                not known_list(routed) or not _bound(rule, "actions", groups)):
            check.fail(f"Alert rule {rule.name!r} reaches no action group of this stack: it fires unheard.",
                       "route it to the stack's action group (components/audit_monitoring.py).", rule.urn)
    if not all(isinstance(name, str) for name in names):
        check.cannot_see("the alert rules' names")  # a first preview knows no name output
        return
    for required in REQUIRED_ALERTS:
        if not any(isinstance(name, str) and name.endswith(f"-{required}") for name in names):
            check.fail(f"The stack has no {required} alert rule: nobody hears of it when it happens.",
                       f"keep monitoring/queries/{required}.kql with its alert header "
                       "(agent_obo/monitoring_queries.py).")


DIAGNOSTICS = stack_policy(
    "diagnostics", validate_diagnostics,
    url="https://learn.microsoft.com/azure/logic-apps/monitor-workflows-collect-diagnostic-data",
    remediation="Keep the site's diagnostic setting (components/logic_app.py).",
)


# --- audit-alerts ----------------------------------------------------------------------------------

# Every other way an action group can carry an alert (and the query results in it) out of the tenant's mailboxes.
_OTHER_RECEIVERS = ("webhookReceivers", "logicAppReceivers", "azureFunctionReceivers", "automationRunbookReceivers",
                    "eventHubReceivers", "itsmReceivers", "smsReceivers", "voiceReceivers", "azureAppPushReceivers",
                    "armRoleReceivers", "incidentReceivers")


def validate_audit_alerts(args: ResourceValidationArgs, check: Check) -> None:
    """The audit alerts reach exactly the stack's alertEmailReceivers by e-mail and nothing else (no webhook, function,
    Logic App, runbook, Event Hub, ITSM, SMS, voice or push receiver): an alert carries query results about who ran
    which tool."""
    stack = check.declared()
    if stack is not None:
        props = plain(args.props)
        receivers = lookup(props, "emailReceivers")
        if check.known(receivers, "emailReceivers"):
            addresses = [lookup(r, "emailAddress") for r in known_list(receivers)]
            check.same_set(addresses, stack.settings.audit.alert_email_receivers, "the alerts' e-mail receivers",
                           "send the audit alerts only to agent-obo:alertEmailReceivers.")
        for kind in _OTHER_RECEIVERS:
            value = lookup(props, kind)
            if check.known(value, kind) and value not in (MISSING, []):
                check.fail(f"The action group sends alerts to {kind} {value!r}: alert payloads (query results with "
                           "users' ids and tools) leave for a receiver the stack does not declare.",
                           f"remove {kind}; alerts go to agent-obo:alertEmailReceivers only.")


AUDIT_ALERTS = resource_policy(
    "audit-alerts", validate_audit_alerts, judges=(ACTION_GROUP,),
    url="https://learn.microsoft.com/azure/azure-monitor/alerts/action-groups",
    remediation="Set receivers only through agent-obo:alertEmailReceivers (components/audit_monitoring.py).",
)
