"""A separate client app for the two-user check (ops/verify_two_users.py), only where a stack asks for one.

The check signs two test users in with the device-code flow, which needs a public client. The chat
app stays confidential (no public-client flows; Easy Auth signs in with a federated credential), so
the check gets its own registration instead, as narrow as it can be:
- public client, single tenant, device code only; no secret, no redirect URI;
- one permission: the agent's delegated `user_impersonation` scope; nothing from Microsoft Graph;
- assignment required, and only the stack's `verificationUsers` to be assigned (by an administrator:
  `make grant-sign-in`), so nobody else can get a token through it;
- the chat app pre-authorizes it for that one scope (Entra's "authorized client applications"), so
  neither a consent prompt nor a tenant-wide consent grant is needed;
- Easy Auth accepts tokens it obtained (allowedApplications), as it does the chat app's; the users
  must still pass Easy Auth's own checks (allowedUsers / allowedGroups).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azuread as azuread

from agent_obo.entra import DEFAULT_ACCESS_ROLE_ID
from agent_obo.settings import PROJECT
from components.component import Component


@dataclass
class VerificationClientArgs:
    display_name: str
    environment: str
    owners: list[str]
    agent_application_id: pulumi.Input[str]  # the chat app (its resource id), which exposes user_impersonation
    agent_client_id: pulumi.Input[str]
    user_impersonation_scope_id: str
    users: list[str]


class VerificationClient(Component[VerificationClientArgs], area="identity"):
    """The two-user check's public client, pre-authorized by the chat app for user_impersonation only."""

    def _create(self, name: str, args: VerificationClientArgs) -> pulumi.Inputs:
        self.application = azuread.Application(
            f"{name}-app",
            display_name=args.display_name,
            sign_in_audience="AzureADMyOrg",
            owners=args.owners,
            prevent_duplicate_names=True,
            # Device-code sign-in for the two test users; this app has no secret and no redirect URI.
            fallback_public_client_enabled=True,
            notes=f"{PROJECT} {args.environment}: the two-user check (ops/verify_two_users.py) only. Managed "
                  "by Pulumi; remove agent-obo:verificationUsers to delete it.",
            required_resource_accesses=[azuread.ApplicationRequiredResourceAccessArgs(
                resource_app_id=args.agent_client_id,
                resource_accesses=[azuread.ApplicationRequiredResourceAccessResourceAccessArgs(
                    id=args.user_impersonation_scope_id, type="Scope")],
            )],
            opts=self._child_options(),
        )
        self.client_id = self.application.client_id
        self.service_principal = azuread.ServicePrincipal(
            f"{name}-sp",
            client_id=self.client_id,
            app_role_assignment_required=True,
            owners=args.owners,
            notes=f"{PROJECT} {args.environment}: only the assigned test users may sign in.",
            opts=self._child_options(),
        )
        # Assigning the test users needs a tenant-wide Entra write right no deployer holds: an
        # administrator assigns them (make grant-sign-in), from this output.
        self.sign_in_assignments = {
            "servicePrincipalObjectId": self.service_principal.object_id,
            "appRoleId": DEFAULT_ACCESS_ROLE_ID,
            "assignmentRequired": True,
            "users": sorted(args.users),
            "groups": [],
        }
        self.pre_authorization = azuread.ApplicationPreAuthorized(
            f"{name}-pre-authorized",
            application_id=args.agent_application_id,
            authorized_client_id=self.client_id,
            permission_ids=[args.user_impersonation_scope_id],
            opts=self._child_options(),
        )
        return {
            "clientId": self.client_id,
            "signInAssignments": self.sign_in_assignments,
        }
