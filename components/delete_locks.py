"""CanNotDelete management locks on the stack's stateful resources: Azure itself refuses to delete
them, whoever asks (portal, CLI, another deployment), not only Pulumi.

Each lock depends on every other part of the stack, so `pulumi up` creates the locks last and
`pulumi destroy` removes them first. Each is also protected in Pulumi state, so removing one from
the program fails `pulumi up`; the teardown path (`make destroy STACK=<stack> UNPROTECT=1`, through
ops/protected_resources.py) lifts that protection and then destroys locks before anything else.
Creating or deleting a lock needs Microsoft.Authorization/locks/* (Owner, User Access
Administrator or Locks Contributor; Learn, "Lock your Azure resources").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import authorization

from agent_obo.settings import PROJECT
from components.component import Component

LOCK_NAME = f"{PROJECT}-do-not-delete"


@dataclass
class DeleteLocksArgs:
    # logical name -> resource id of what to lock
    targets: dict[str, pulumi.Input[str]]
    # everything else the stack creates: the locks come after all of it
    after: list[pulumi.Resource] = field(default_factory=list)


class DeleteLocks(Component[DeleteLocksArgs], area="protection"):
    """A protected CanNotDelete lock on each target, created after everything else the stack creates."""

    def _create(self, name: str, args: DeleteLocksArgs) -> pulumi.Inputs:
        self.locks = {
            target: authorization.ManagementLockByScope(
                f"{name}-{target}",
                lock_name=LOCK_NAME,
                scope=scope,
                level=authorization.LockLevel.CAN_NOT_DELETE,
                notes=(f"Stateful resource of {PROJECT} (run history, audit trail or model quota). Remove only "
                       "through make destroy STACK=<stack> UNPROTECT=1."),
                opts=self._child_options(protect=True, depends_on=args.after),
            )
            for target, scope in args.targets.items()
        }
        return {"locked": {target: lock.id for target, lock in self.locks.items()}}
