"""The runtime's user-assigned identity.

One identity, three jobs, each narrow: the Logic Apps runtime reaches its storage with it (no keys),
the site reads its workflow package with it, and Easy Auth signs in with it instead of a client
secret (a federated credential on the app registration trusts it). The system-assigned identity is
kept for what only it can do: the agent's model connection and the tools' connection access
policies.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import managedidentity

from components.component import Component
from components.placement import Placement


@dataclass
class RuntimeIdentityArgs:
    placement: Placement
    name: str


class RuntimeIdentity(Component[RuntimeIdentityArgs], area="identity"):
    """The user-assigned identity the runtime reaches its storage, its package and Easy Auth with."""

    def _create(self, name: str, args: RuntimeIdentityArgs) -> pulumi.Inputs:
        self.identity = managedidentity.UserAssignedIdentity(
            name,
            resource_name_=args.name,
            **args.placement.located(self),
        )
        self.id = self.identity.id
        self.principal_id = self.identity.principal_id
        self.client_id = self.identity.client_id
        return {"id": self.id, "principalId": self.principal_id, "clientId": self.client_id}
