"""Hardening of the site, the runtime's storage and the model account: nothing reachable with a key, a
password or over plain HTTP.

learn.microsoft.com/azure/app-service/overview-security,
learn.microsoft.com/azure/storage/common/shared-key-authorization-prevent,
learn.microsoft.com/azure/ai-services/disable-local-auth.
"""

from __future__ import annotations

import re
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from components.easy_auth import FIC_CLIENT_ID_SETTING
from policy.props import (
    MISSING,
    UNKNOWN,
    is_known,
    known_list,
    lookup,
    not_yet_checked,
    plain,
    props_of,
    unknown_paths,
    violation,
)
from policy.resource_types import (
    APP_SETTINGS_TYPES,
    BLOB_CONTAINER,
    FTP_ALLOWED,
    MODEL_ACCOUNT,
    PUBLISHING_CREDENTIAL_TYPES,
    SCM_ALLOWED,
    SITE_TYPES,
    STORAGE_ACCOUNT,
)

# agent_obo/settings.py HOST_STORAGE_AUTHENTICATIONS; components/logic_app.py host_storage_app_settings:
# the only app settings that may hold a storage connection string, and only on an accessKey stack.
MANAGED_IDENTITY = "managedIdentity"
ACCESS_KEY = "accessKey"
HOST_STORAGE_CONNECTION_SETTINGS = ("AzureWebJobsStorage", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING")


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


def _check_app_settings(settings: list[tuple[Any, Any]], declares_access_key: bool,
                        report_violation: ReportViolation) -> None:
    """(name, value) pairs, wherever the site's settings live: inline on the site, or their own resource."""
    for name, value in settings:
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


def validate_site_hardening(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in SITE_TYPES | PUBLISHING_CREDENTIAL_TYPES | APP_SETTINGS_TYPES:
        return
    props = plain(args.props)
    declares_access_key = args.get_config().get("hostStorageAuthentication") == ACCESS_KEY
    if args.resource_type in APP_SETTINGS_TYPES:
        settings = lookup(props, "properties")
        if isinstance(settings, dict):
            _check_app_settings(list(settings.items()), declares_access_key, report_violation)
            # Values Azure computes (runtime URLs, endpoints) are unknown in a first preview.
            unknown = sorted(name for name, value in settings.items() if value is UNKNOWN)
            not_yet_checked(args.name, [f"the values of {len(unknown)} app settings ({', '.join(unknown)})"]
                            if unknown else [])
        not_yet_checked(args.name, unknown_paths(props, ["properties"]))
        return
    if args.resource_type in PUBLISHING_CREDENTIAL_TYPES:
        allow = lookup(props, "allow")
        if allow is not UNKNOWN and allow is not False:
            report_violation(violation(
                f"Basic publishing credentials are allowed ({args.resource_type.rsplit(':', 1)[-1]} allow="
                f"{allow!r}): a username and password can deploy code to the agent.",
                "set allow to false; deploy with Entra identities."), None)
        not_yet_checked(args.name, unknown_paths(props, ["allow"]))
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
    inline = [(lookup(setting, "name"), lookup(setting, "value"))
              for setting in known_list(lookup(props, "siteConfig.appSettings")) if isinstance(setting, dict)]
    _check_app_settings(inline, declares_access_key, report_violation)
    not_yet_checked(args.name, unknown_paths(props, [
        "httpsOnly", "siteConfig.minTlsVersion", "siteConfig.scmMinTlsVersion", "siteConfig.ftpsState",
        "identity.type", "siteConfig.appSettings"]))


SITE_HARDENING = ResourceValidationPolicy(
    name="site-hardening",
    description=("The logic app site serves HTTPS only with TLS 1.2 or later, has FTP and basic publishing "
                 "credentials off, runs with a managed identity, and keeps no key, password, SAS signature or "
                 "client secret in its app settings, inline or as their own resource (but the host storage "
                 "connection strings of a stack that declares hostStorageAuthentication accessKey): anyone "
                 "who reads the site's configuration, or sniffs or guesses a credential, could otherwise act "
                 "as the agent."),
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
    unchecked: list[str] = []
    for resource, props in sites:
        site = (lookup(props, "name"), lookup(props, "resourceGroupName"))
        if UNKNOWN in site:
            unchecked.append(f"the name or resource group of site {resource.name}, and so which settings are its")
        if not all(isinstance(part, str) for part in site):
            continue
        for kind, found in declared.items():
            # A settings resource whose names are unknown could be this site's: do not accuse.
            if site in found:
                continue
            if any(not all(isinstance(p, str) for p in pair) for pair in found):
                if any(UNKNOWN in pair for pair in found):
                    unchecked.append(f"which {kind.rsplit(':', 1)[-1]} is site {site[0]}'s (a name is unknown)")
                continue
            report_violation(violation(
                f"Site {site[0]!r} declares no {kind.rsplit(':', 1)[-1]}: basic publishing credentials stay on "
                "(the Azure default for new sites).",
                f"add {kind.rsplit(':', 1)[-1]} with allow=false for the site."), resource.urn)
    not_yet_checked("publishing credentials", unchecked)


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
        not_yet_checked(args.name, ["publicAccess"] if public is UNKNOWN else [])
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
    not_yet_checked(args.name, unknown_paths(props, [name for name, _, _ in _STORAGE_SETTINGS]))


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
    not_yet_checked(args.name, ["properties.disableLocalAuth"] if disabled is UNKNOWN else [])


MODEL_LOCAL_AUTH = ResourceValidationPolicy(
    name="model-local-auth",
    description=("The agent's model account accepts Microsoft Entra tokens only: an API key works for anyone who "
                 "holds it, from anywhere, with no user or app identity in the logs."),
    validate=validate_model_local_auth,
    enforcement_level=EnforcementLevel.MANDATORY,
    remediation_steps="Set properties.disableLocalAuth=true on every Cognitive Services account.",
)
