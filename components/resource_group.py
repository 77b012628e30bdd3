"""The environment's resource group."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import resources


@dataclass
class ResourceGroupArgs:
    name: str
    location: str
    tags: dict[str, str]


class WorkloadResourceGroup(pulumi.ComponentResource):
    """Holds every Azure resource of one environment, so an environment is listed and billed as one."""

    def __init__(self, name: str, args: ResourceGroupArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("agent-obo:core:ResourceGroup", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.group = resources.ResourceGroup(
            name, resource_group_name=args.name, location=args.location, tags=args.tags, opts=child
        )
        self.name = self.group.name
        self.id = self.group.id
        self.register_outputs({"name": self.name, "id": self.id})
