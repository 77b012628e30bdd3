"""Tags: every taggable Azure resource says which environment, project and owner it belongs to.

learn.microsoft.com/azure/cloud-adoption-framework/ready/azure-best-practices/resource-tagging.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import ResourceValidationArgs

from policy.checks import Check
from policy.define import resource_policy
from policy.props import MISSING, UNKNOWN, lookup, plain
from policy.resource_types import GENERIC_RESOURCE

# agent_obo/settings.py Settings.tags: the tags that say whose resource this is and where it runs.
REQUIRED_TAGS = ("environment", "project", "owner")

# azure-native types whose SDK class takes `tags` (tests check this list against the SDK: a type is
# taggable when its arguments class takes a `tags` parameter). The generic
# `resources:Resource` is taggable only as a top-level resource: under a parent (a connection's
# access policy) Azure keeps no tags.
TAGGABLE_TYPES = frozenset({
    "azure-native:applicationinsights:Component",
    "azure-native:applicationinsights:Workbook",
    "azure-native:cognitiveservices:Account",
    "azure-native:cognitiveservices:Deployment",
    "azure-native:managedidentity:UserAssignedIdentity",
    "azure-native:monitor:ActionGroup",
    "azure-native:monitor:ScheduledQueryRule",
    "azure-native:network:NetworkSecurityGroup",
    "azure-native:network:PrivateEndpoint",
    "azure-native:network:VirtualNetwork",
    "azure-native:operationalinsights:Workspace",
    "azure-native:privatedns:PrivateZone",
    "azure-native:privatedns:VirtualNetworkLink",
    "azure-native:resources:Resource",
    "azure-native:resources:ResourceGroup",
    "azure-native:storage:StorageAccount",
    "azure-native:web:AppServicePlan",
    "azure-native:web:WebApp",
    "azure-native:web:WebAppSlot",
})


# --- required-tags ---------------------------------------------------------------------------------

def is_taggable(resource_type: str, props: dict[str, Any]) -> bool:
    if resource_type not in TAGGABLE_TYPES:
        return False
    if resource_type == GENERIC_RESOURCE:
        parent_path = lookup(props, "parentResourcePath")
        return parent_path is MISSING or parent_path == ""
    return True


def validate_required_tags(args: ResourceValidationArgs, check: Check) -> None:
    """Every taggable Azure resource carries the stack's environment, project and owner tags: without them, or with
    another stack's, a resource cannot be traced to its stack and owner for cost, incident response or clean-up."""
    props = plain(args.props)
    if not is_taggable(args.resource_type, props):
        return
    tags = lookup(props, "tags")
    stack = check.declared() if check.known(tags, "tags") else None
    if stack is not None:
        tags = tags if isinstance(tags, dict) else {}
        declared = stack.settings.tags
        absent = [name for name in REQUIRED_TAGS if tags.get(name) is None or tags.get(name) == ""]
        if absent:
            check.fail(f"Missing tags: {', '.join(absent)}.",
                       "pass the stack's tags (agent_obo.settings Settings.tags) to every taggable resource.")
        for name in REQUIRED_TAGS:
            value = tags.get(name)
            if value is UNKNOWN:
                check.cannot_see(f"tag {name}")
            elif value not in (None, "") and value != declared[name]:
                check.fail(f"Tag {name} is {value!r}, not the stack's {declared[name]!r}: the resource is "
                           "attributed to another environment or owner.", f"tag it {name}={declared[name]}.")


REQUIRED_TAGS_POLICY = resource_policy(
    "required-tags", validate_required_tags,
    url="https://learn.microsoft.com/azure/cloud-adoption-framework/ready/azure-best-practices/resource-tagging",
    remediation="Tag every taggable resource with the stack's environment, project and owner.",
)
