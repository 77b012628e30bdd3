"""Who the stack's own principals are, read from the resources' outputs in a stack policy.

- the runtime identity: the user-assigned managed identity the site carries (its principal id);
- the site: the site's system-assigned identity;
- the deployer: whoever runs `pulumi up`, the chat app's first owner (components/chat_app_registration.py
  keeps the deployer first; the stack adds agent-obo:appOwners, and the app-registration policy allows no
  other owner), who also uploads the workflow package.
During preview of a new stack these ids are UNKNOWN: policies note that rather than guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pulumi_policy import PolicyResource

from policy.props import UNKNOWN, is_known, lookup, props_of
from policy.resource_types import APPLICATION, SITE, USER_ASSIGNED_IDENTITY


@dataclass(frozen=True)
class StackIdentities:
    runtime: tuple[Any, ...]  # principal ids (or UNKNOWN)
    site: tuple[Any, ...]
    deployer: Any  # one object id, UNKNOWN, or None when it cannot be told apart from declared owners

    @property
    def all_known(self) -> bool:
        return all(is_known(p) for p in (*self.runtime, *self.site)) and is_known(self.deployer)


def stack_identities(resources: list[PolicyResource]) -> StackIdentities:
    runtime = tuple(lookup(props_of(r), "principalId") for r in resources if r.resource_type == USER_ASSIGNED_IDENTITY)
    site = tuple(lookup(props_of(r), "identity.principalId") for r in resources if r.resource_type == SITE)
    return StackIdentities(runtime=runtime, site=site, deployer=deployer_of(resources))


def deployer_of(resources: list[PolicyResource]) -> Any:
    owners = [lookup(props_of(r), "owners") for r in resources
              if r.resource_type == APPLICATION and lookup(props_of(r), "fallbackPublicClientEnabled") is not True]
    if len(owners) != 1:
        return None
    listed = owners[0]
    if listed is UNKNOWN or (isinstance(listed, list) and listed and listed[0] is UNKNOWN):
        return UNKNOWN
    return listed[0] if isinstance(listed, list) and listed and isinstance(listed[0], str) else None
