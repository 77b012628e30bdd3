"""The Microsoft Entra app registration the chat client signs users in with.

Single tenant; `api://<client id>` is the token audience; `user_impersonation` is its delegated scope;
its Microsoft Graph delegated scopes are derived by agent_obo.graph_scopes (sign-in only, unless the
stack delegates the tools' scopes). No client secret exists: Easy Auth signs in with a federated
credential that trusts the runtime's user-assigned identity (learn.microsoft.com/azure/app-service/
configure-authentication-provider-aad, "Use a managed identity instead of a secret").

Consent and user or group assignment are an administrator's step, never the deployer's: granting
either needs a tenant-wide Entra write right (DelegatedPermissionGrant.ReadWrite.All,
AppRoleAssignment.ReadWrite.All) that lets its holder widen any app's access, its own included. So
this component registers neither; it outputs what the administrator grants (the admin-consent URL,
the scopes, the users and groups to assign), and `make grant-sign-in` (ops/grant_sign_in.py) grants
exactly that under the administrator's own sign-in.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pulumi
import pulumi_azuread as azuread

from agent_obo.entra import (
    DEFAULT_ACCESS_ROLE_ID,
    LOGIN_AUTHORITY,
    TOKEN_EXCHANGE_AUDIENCE,
    USER_IMPERSONATION,
    issuer,
)
from agent_obo.graph_scopes import GRAPH_APP_ID, GraphScopes
from agent_obo.settings import PROJECT
from components.component import Component


def user_impersonation_scope_id(environment: str) -> str:
    """Stable per environment, so re-running never re-creates the scope (its id is its identity)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://{PROJECT}/{environment}/{USER_IMPERSONATION}"))


def admin_consent_url(tenant_id: str, client_id: pulumi.Input[str]) -> pulumi.Output[str]:
    """Consents, tenant-wide, to the app's configured permissions (its required resource access)."""
    return pulumi.Output.concat(
        LOGIN_AUTHORITY, "/", tenant_id, "/adminconsent?client_id=", client_id)


@dataclass
class ChatAppRegistrationArgs:
    display_name: str
    environment: str
    tenant_id: str
    site_host_name: pulumi.Input[str]
    deployer_object_id: str
    additional_owners: list[str]
    graph_scopes: GraphScopes
    runtime_identity_principal_id: pulumi.Input[str]
    assignment_required: bool
    protect: bool
    allowed_users: list[str] = field(default_factory=list)
    allowed_groups: list[str] = field(default_factory=list)


class ChatAppRegistration(Component[ChatAppRegistrationArgs], area="identity"):
    """The chat app registration, its service principal and the federated credential Easy Auth signs in with."""

    def _create(self, name: str, args: ChatAppRegistrationArgs) -> pulumi.Inputs:
        # The deployer stays an owner, or the next `pulumi up` could no longer manage the app.
        owners = [args.deployer_object_id, *[o for o in args.additional_owners if o != args.deployer_object_id]]
        stateful = self._child_options(protect=args.protect)
        self.application = azuread.Application(
            f"{name}-app",
            display_name=args.display_name,
            sign_in_audience="AzureADMyOrg",
            owners=owners,
            prevent_duplicate_names=True,
            notes=f"{PROJECT} {args.environment}: chat sign-in (Easy Auth) for the Logic Apps agent. "
                  "Managed by Pulumi; change it in the repository, not in the portal.",
            api=azuread.ApplicationApiArgs(
                requested_access_token_version=2,
                oauth2_permission_scopes=[azuread.ApplicationApiOauth2PermissionScopeArgs(
                    id=user_impersonation_scope_id(args.environment),
                    value=USER_IMPERSONATION,
                    type="User",
                    enabled=True,
                    admin_consent_display_name="Use the agent as the signed-in user",
                    admin_consent_description="Lets the chat client call the agent on behalf of the "
                                              "signed-in user.",
                    user_consent_display_name="Use the agent as you",
                    user_consent_description="Lets the chat client call the agent on your behalf.",
                )],
            ),
            web=azuread.ApplicationWebArgs(
                redirect_uris=[pulumi.Output.concat("https://", args.site_host_name, "/.auth/login/aad/callback")],
                # ID tokens only. Microsoft disagrees: Learn's agent Easy Auth page (set-up-authentication-agent-
                # workflows, "Update an existing app registration") ticks access tokens as well; App Service's Easy
                # Auth page (configure-authentication-provider-aad) enables ID tokens only. Easy Auth signs in
                # with code + id_token and the two-user check with device code,
                # so nothing here asks for a token in a URL; the app-registration policy keeps it off.
                implicit_grant=azuread.ApplicationWebImplicitGrantArgs(id_token_issuance_enabled=True),
            ),
            required_resource_accesses=[azuread.ApplicationRequiredResourceAccessArgs(
                resource_app_id=GRAPH_APP_ID,
                resource_accesses=[
                    azuread.ApplicationRequiredResourceAccessResourceAccessArgs(id=scope_id, type="Scope")
                    for _, scope_id in sorted(args.graph_scopes.ids.items())],
            )],
            # Groups in the token let Easy Auth check allowedGroups; only groups assigned to the app.
            group_membership_claims=["ApplicationGroup"] if args.allowed_groups else None,
            # The identifier URI needs the client id, which exists only once the app does: a separate
            # resource sets it, and this one leaves it alone.
            opts=self._child_options(protect=args.protect, ignore_changes=["identifierUris"]),
        )
        self.client_id = self.application.client_id
        self.identifier_uri = pulumi.Output.concat("api://", self.client_id)
        self.identifier = azuread.ApplicationIdentifierUri(
            f"{name}-identifier-uri", application_id=self.application.id, identifier_uri=self.identifier_uri,
            opts=self._child_options())
        self.federated_credential = azuread.ApplicationFederatedIdentityCredential(
            f"{name}-runtime-identity-credential",
            application_id=self.application.id,
            display_name="easy-auth-runtime-identity",
            description="Easy Auth on the logic app signs in with its user-assigned identity instead of a "
                        "client secret.",
            issuer=issuer(args.tenant_id),
            subject=args.runtime_identity_principal_id,
            audiences=[TOKEN_EXCHANGE_AUDIENCE],
            opts=self._child_options(),
        )
        self.service_principal = azuread.ServicePrincipal(
            f"{name}-sp",
            client_id=self.client_id,
            app_role_assignment_required=args.assignment_required,
            owners=owners,
            notes=f"{PROJECT} {args.environment}: who may sign in to the agent's chat.",
            opts=stateful,
        )
        self.admin_consent_url = admin_consent_url(args.tenant_id, self.client_id)
        # What an administrator assigns to the app's default access role (ops/grant_sign_in.py).
        self.sign_in_assignments = {
            "servicePrincipalObjectId": self.service_principal.object_id,
            "appRoleId": DEFAULT_ACCESS_ROLE_ID,
            "assignmentRequired": args.assignment_required,
            "users": sorted(args.allowed_users),
            "groups": sorted(args.allowed_groups),
        }
        return {
            "clientId": self.client_id,
            "identifierUri": self.identifier_uri,
            "servicePrincipalObjectId": self.service_principal.object_id,
            "adminConsentUrl": self.admin_consent_url,
            "signInAssignments": self.sign_in_assignments,
        }
