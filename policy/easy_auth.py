"""Easy Auth (App Service authentication v2) on the logic app: Microsoft Entra sign-in for every request.

learn.microsoft.com/azure/logic-apps/set-up-authentication-agent-workflows,
learn.microsoft.com/azure/app-service/configure-authentication-provider-aad.
"""

from __future__ import annotations

import re
from typing import Any

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from components.easy_auth import FIC_CLIENT_ID_SETTING
from policy.props import (
    MISSING,
    UNKNOWN,
    is_known,
    known_list,
    lookup,
    not_yet_checked,
    plain,
    unknown_paths,
    violation,
)
from policy.resource_types import AUTH_SETTINGS_TYPES

# --- easy-auth -------------------------------------------------------------------------------------

# One tenant's v2.0 issuer; the multi-tenant endpoints would accept sign-ins from any tenant.
_V2_ISSUER = re.compile(r"^https://login\.microsoftonline\.com/(?!(?:common|organizations|consumers)/)[^/]+/v2\.0$")
_CERTIFICATE_SECRET_FIELDS = ("clientSecretCertificateThumbprint", "clientSecretCertificateSubjectAlternativeName",
                              "clientSecretCertificateIssuer")
AAD = "identityProviders.azureActiveDirectory"


# What validate_easy_auth judges: each of them unknown during a preview is said so, not passed.
CHECKED_PATHS = (
    "platform.enabled", "globalValidation.requireAuthentication", "login.tokenStore.enabled",
    "httpSettings.requireHttps", "globalValidation.unauthenticatedClientAction", "globalValidation.excludedPaths",
    f"{AAD}.enabled", f"{AAD}.registration.openIdIssuer", f"{AAD}.registration.clientId",
    f"{AAD}.validation.allowedAudiences", f"{AAD}.registration.clientSecretSettingName")


def validate_easy_auth(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in AUTH_SETTINGS_TYPES:
        return
    props = plain(args.props)
    _check_easy_auth(props, report_violation)
    not_yet_checked(args.name, unknown_paths(props, CHECKED_PATHS))


def _check_easy_auth(props: dict[str, Any], report_violation: ReportViolation) -> None:
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
