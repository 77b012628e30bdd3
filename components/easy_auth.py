"""Easy Auth (App Service authentication v2) on the logic app: Part 1 of the module.

Every request needs a Microsoft Entra sign-in except the runtime's own monitoring APIs. The token
store is on, as in Microsoft's agent Easy Auth defaults (Azure/logicapps-labs AI course, "Deploy
agents and clients"). Per-user tools get a chat user's token for a connector through that connector's
own consent link (the chat's auth-required step, Azure/LogicAppsUX libs/a2a-core), not from this store,
as far as Microsoft's published sources show (docs/contracts.md). Settings follow
learn.microsoft.com/azure/logic-apps/set-up-authentication-agent-workflows and
learn.microsoft.com/azure/app-service/configure-authentication-provider-aad.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import web

from agent_obo.app_settings import ALLOWED_TENANTS_SETTING, FIC_CLIENT_ID_SETTING

# Every scope asked at sign-in is one the chat app requests, so one the tenant consented to.
from agent_obo.graph_scopes import LOGIN_SCOPES
from components.component import Component
from components.placement import Placement

# Set on the site by agent_obo/app_settings.py; Easy Auth reads the first as its client secret setting.
__all__ = ["ALLOWED_TENANTS_SETTING", "FIC_CLIENT_ID_SETTING", "LOGIN_SCOPES", "EasyAuth", "EasyAuthArgs"]


@dataclass
class EasyAuthArgs:
    placement: Placement
    site_name: pulumi.Input[str]
    client_id: pulumi.Input[str]
    identifier_uri: pulumi.Input[str]
    issuer: str
    unauthenticated_action: str
    excluded_paths: list[str]
    additional_audiences: list[str] = field(default_factory=list)
    allowed_users: list[str] = field(default_factory=list)
    allowed_groups: list[str] = field(default_factory=list)
    # Other client apps whose tokens Easy Auth accepts besides the chat app's (the verification client).
    additional_allowed_applications: list[pulumi.Input[str]] = field(default_factory=list)
    # Sign-in works only once the federated credential and the settings naming it exist: turn Easy
    # Auth on after them.
    depends_on: list[pulumi.Resource] = field(default_factory=list)


class EasyAuth(Component[EasyAuthArgs], area="identity"):
    """Signs chat users in with Microsoft Entra; only the chat app's (and the verification client's) tokens pass."""

    def _create(self, name: str, args: EasyAuthArgs) -> pulumi.Inputs:
        allowed_principals = None
        if args.allowed_users or args.allowed_groups:
            allowed_principals = web.AllowedPrincipalsArgs(
                identities=list(args.allowed_users) or None, groups=list(args.allowed_groups) or None)
        self.settings = web.WebAppAuthSettingsV2WithoutSecrets(
            f"{name}-authsettings",
            name=args.site_name,
            platform=web.AuthPlatformArgs(enabled=True, runtime_version="~1"),
            global_validation=web.GlobalValidationArgs(
                require_authentication=True,
                unauthenticated_client_action=web.UnauthenticatedClientActionV2(args.unauthenticated_action),
                redirect_to_provider="azureactivedirectory",
                excluded_paths=list(args.excluded_paths),
            ),
            # authsettingsV2's identity providers: the SDK names this type V1Args (the plain
            # IdentityProvidersArgs belongs to another resource and only matched by shape).
            identity_providers=web.IdentityProvidersV1Args(
                azure_active_directory=web.AzureActiveDirectoryArgs(
                    enabled=True,
                    registration=web.AzureActiveDirectoryRegistrationArgs(
                        client_id=args.client_id,
                        client_secret_setting_name=FIC_CLIENT_ID_SETTING,
                        open_id_issuer=args.issuer,
                    ),
                    validation=web.AzureActiveDirectoryValidationArgs(
                        allowed_audiences=[args.identifier_uri, *args.additional_audiences],
                        default_authorization_policy=web.DefaultAuthorizationPolicyArgs(
                            # "Allow requests only from this application itself"
                            allowed_applications=[args.client_id, *args.additional_allowed_applications],
                            allowed_principals=allowed_principals,
                        ),
                    ),
                    login=web.AzureActiveDirectoryLoginArgs(
                        login_parameters=["scope=" + " ".join(LOGIN_SCOPES)]),
                ),
            ),
            login=web.LoginArgs(token_store=web.TokenStoreArgs(enabled=True)),
            http_settings=web.HttpSettingsArgs(require_https=True),
            **args.placement.in_group(self, depends_on=args.depends_on),
        )
        return {"issuer": args.issuer, "unauthenticatedAction": args.unauthenticated_action}
