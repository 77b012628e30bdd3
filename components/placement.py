"""Where every component puts its resources: the environment's resource group and region, with the stack's tags.

__main__.py makes one Placement and hands it to each component, so no component can put a resource in
another group or region, or forget the tags the pack requires (policy/tags.py). A component spreads it into
each resource it creates, which then also becomes the component's child:

    storage.StorageAccount(f"{name}-account", account_name=..., **args.placement.located(self))

`located` is for a resource that has a region and tags, `located_globally` for a global one; `in_group` for
one that only names its group (a container, a subnet). Options beyond the parent (depends_on, protect) pass
through.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

import pulumi

GLOBAL = "global"


class InGroup(TypedDict):
    resource_group_name: pulumi.Input[str]
    opts: pulumi.ResourceOptions


class Located(InGroup):
    location: str
    tags: Mapping[str, str]


@dataclass(frozen=True)
class Placement:
    resource_group_name: pulumi.Input[str]
    location: str
    tags: Mapping[str, str]

    def in_group(self, parent: pulumi.Resource, **options: Any) -> InGroup:
        """A child of `parent` in the resource group."""
        return InGroup(resource_group_name=self.resource_group_name,
                       opts=pulumi.ResourceOptions(parent=parent, **options))

    def located(self, parent: pulumi.Resource, **options: Any) -> Located:
        """A child of `parent` in the resource group and the region, with the stack's tags."""
        return Located(**self.in_group(parent, **options), location=self.location, tags=dict(self.tags))

    def located_globally(self, parent: pulumi.Resource, **options: Any) -> Located:
        """A global resource (an action group, a private DNS zone and its links): region "global"."""
        return Located(**self.in_group(parent, **options), location=GLOBAL, tags=dict(self.tags))
