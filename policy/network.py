"""Private networking on the stacks that declare it: storage and model reached only through private
endpoints registered in private DNS, the site integrated with the network and routing all outbound
traffic through it, and with publicIngress false the site private too.

Learn: secure-single-tenant-workflow-virtual-network-private-endpoint,
deploy-single-tenant-logic-apps-private-storage-account. What a stack declares comes from its settings
(policy/declared.py); when that cannot be determined the pack assumes the strictest.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    PolicyResource,
    StackValidationArgs,
)

from policy.checks import Check
from policy.declared import stack_declaration
from policy.define import stack_policy
from policy.props import MISSING, UNKNOWN, is_known, known_list, lookup, props_of, resource_name
from policy.resource_types import (
    APP_SETTINGS_TYPES,
    DNS_ZONE_GROUP,
    MODEL_ACCOUNT,
    PRIVATE_ENDPOINT,
    SITE,
    STORAGE_ACCOUNT,
)

STORAGE_GROUPS = ("blob", "queue", "table")


def declared(args: Any, key: str, strictest: bool) -> bool:
    """What the stack declares (policy/declared.py); the strictest when that cannot be determined."""
    value = stack_declaration(key)
    return strictest if value is None else bool(value)


def _site_app_settings(resources: list[tuple[PolicyResource, dict[str, Any]]]) -> dict[Any, dict[str, Any]]:
    """Site name -> its app settings, wherever they are declared: on the site (siteConfig.appSettings) or on
    a config/appsettings resource (components/app_settings.py)."""
    found: dict[Any, dict[str, Any]] = {}
    for resource, props in resources:
        name = lookup(props, "name")
        if resource.resource_type == SITE:
            found.setdefault(name, {}).update(
                {lookup(s, "name"): lookup(s, "value") for s in known_list(lookup(props, "siteConfig.appSettings"))
                 if isinstance(s, dict)})
        elif resource.resource_type in APP_SETTINGS_TYPES and isinstance(lookup(props, "properties"), dict):
            found.setdefault(name, {}).update(lookup(props, "properties"))
    return found


def _endpoint_groups(resources: list[tuple[PolicyResource, dict[str, Any]]]) -> dict[str, set[str]] | None:
    """Lower-cased target resource id suffix (`storageaccounts/<name>`) -> groupIds its endpoints reach,
    counting only endpoints that register in a private DNS zone (a zone group names them); None while
    a target is unknown (a first preview), when nothing can be judged."""
    # A zone group names its endpoint by the endpoint's name output (a property dependency); outputs carry no
    # path parameters, so the name itself is matched only where it is there (a resource's inputs).
    zone_groups = [(r, p) for r, p in resources if r.resource_type == DNS_ZONE_GROUP]
    grouped_endpoints = {d.urn for r, _ in zone_groups for d in r.property_dependencies.get("privateEndpointName", [])}
    grouped = {lookup(p, "privateEndpointName") for _, p in zone_groups} - {MISSING}
    reached: dict[str, set[str]] = {}
    for resource, props in resources:
        if resource.resource_type != PRIVATE_ENDPOINT:
            continue
        name, connections = resource_name(props, "privateEndpointName"), lookup(props, "privateLinkServiceConnections")
        if UNKNOWN in grouped or not isinstance(connections, list):
            return None
        if resource.urn not in grouped_endpoints and name not in grouped:
            continue
        for connection in connections:
            target = lookup(connection, "privateLinkServiceId") if isinstance(connection, dict) else MISSING
            groups = lookup(connection, "groupIds") if isinstance(connection, dict) else MISSING
            if target is UNKNOWN or groups is UNKNOWN or connection is UNKNOWN:
                return None
            if isinstance(target, str):
                key = "/".join(target.lower().rstrip("/").split("/")[-2:])
                reached.setdefault(key, set()).update(g for g in known_list(groups) if isinstance(g, str))
    return reached


def validate_private_networking(args: StackValidationArgs, check: Check) -> None:
    """On a stack that declares privateNetworking, the runtime storage (users' run history, the workflow package) and
    the model accept no public traffic and are reached through private endpoints that register in private DNS; the
    site is integrated with the network and routes all outbound traffic through it (and its content share, when there
    is one). With publicIngress false the site itself is private too. Learn:
    secure-single-tenant-workflow-virtual-network-private-endpoint,
    deploy-single-tenant-logic-apps-private-storage-account."""
    if not declared(args, "privateNetworking", True):
        return
    public_ingress = declared(args, "publicIngress", False)
    resources = [(resource, props_of(resource)) for resource in args.resources]
    found = _endpoint_groups(resources)
    judge_endpoints = found is not None  # unknown targets during a first preview: only the flags are judged
    reached = found or {}
    app_settings = _site_app_settings(resources)
    content_share = any("WEBSITE_CONTENTSHARE" in settings for settings in app_settings.values())

    def needs(target: str, groups: tuple[str, ...], resource: PolicyResource, what: str) -> None:
        missing = sorted(set(groups) - reached.get(target, set()))
        if judge_endpoints and missing:
            check.fail(
                f"{what} has no private endpoint (with a private DNS zone group) for {', '.join(missing)}: with "
                "public access off the site cannot reach it.",
                "add a private endpoint per sub-resource with a DNS zone group (components/private_network.py).",
                resource.urn)

    for resource, props in resources:
        name = resource_name(props, "accountName")
        if resource.resource_type == STORAGE_ACCOUNT:
            public = lookup(props, "publicNetworkAccess")
            action = lookup(props, "networkRuleSet.defaultAction")
            bypass = lookup(props, "networkRuleSet.bypass")
            if public is not UNKNOWN and action is not UNKNOWN and public != "Disabled" and action != "Deny":
                check.fail(
                    f"Storage account is reachable from any network (publicNetworkAccess {public!r}, default action "
                    f"{action!r}) on a stack that declares privateNetworking.",
                    "set publicNetworkAccess 'Disabled', or networkRuleSet.defaultAction 'Deny' with only the "
                    "deploying "
                    "IPs (storageFirewallIpRanges).", resource.urn)
            if public is not UNKNOWN and public != "Disabled":
                _check_storage_firewall(resource, props, check)
            if is_known(bypass) and bypass != "None":
                check.fail(
                    f"Storage firewall lets {bypass!r} through: nothing in this stack needs a trusted-service bypass.",
                    "set networkRuleSet.bypass to 'None'.", resource.urn)
            if isinstance(name, str):
                needs(f"storageaccounts/{name.lower()}", STORAGE_GROUPS + (("file",) if content_share else ()),
                      resource, f"Storage account {name!r}")
        elif resource.resource_type == MODEL_ACCOUNT:
            public = lookup(props, "properties.publicNetworkAccess")
            if public is not UNKNOWN and public != "Disabled":
                check.fail(
                    f"Model account public network access is {public!r} on a stack that declares privateNetworking.",
                    "set properties.publicNetworkAccess to 'Disabled'; the site calls it through its private "
                    "endpoint.", resource.urn)
            if isinstance(name, str):
                needs(f"accounts/{name.lower()}", ("account",), resource, f"Model account {name!r}")
        elif resource.resource_type == SITE:
            site = lookup(props, "name")
            _check_site_network(resource, props, app_settings.get(site, {}), public_ingress, check)
            if not public_ingress and isinstance(site, str):
                needs(f"sites/{site.lower()}", ("sites",), resource, f"Site {site!r}")


def _check_storage_firewall(resource: PolicyResource, props: dict[str, Any], check: Check) -> None:
    """Public access on a private stack's storage is only the deploying machines' way in (the package upload):
    exactly the IPs the stack declares in storageFirewallIpRanges pass its firewall, and only when it declares
    some."""
    declared_ranges = stack_declaration("storageFirewallIpRanges")
    allowed = {cidr.removesuffix("/32") for cidr in declared_ranges or ()}
    rules = lookup(props, "networkRuleSet.ipRules")
    if rules is UNKNOWN or any(rule is UNKNOWN for rule in known_list(rules)):
        return
    ranges = {lookup(rule, "iPAddressOrRange") if isinstance(rule, dict) else rule for rule in known_list(rules)}
    if UNKNOWN in ranges:
        return
    undeclared = sorted(str(cidr).removesuffix("/32") for cidr in ranges
                        if str(cidr).removesuffix("/32") not in allowed)
    if not allowed or undeclared:
        check.fail(
            "Storage account takes public traffic on a stack that declares privateNetworking"
            + (f", from IPs the stack does not declare: {', '.join(undeclared)}" if undeclared else
               ", and the stack declares no storageFirewallIpRanges") + ".",
            "set publicNetworkAccess 'Disabled', or list the deploying machines' IPs in storageFirewallIpRanges "
            "(the program derives the firewall rules from it).", resource.urn)


def _check_site_network(resource: PolicyResource, props: dict[str, Any], settings: dict[str, Any],
                        public_ingress: bool, check: Check) -> None:
    subnet = lookup(props, "virtualNetworkSubnetId")
    if subnet is MISSING:
        check.fail(
            "The site is not integrated with the stack's network: it cannot reach private endpoints.",
            "set virtualNetworkSubnetId to the integration subnet.", resource.urn)
    # Microsoft.Web describes outboundVnetRouting.applicationTraffic as "previously called
    # VnetRouteAllEnabled" and keeps both (docs/contracts.md): which one wins when they differ is not
    # documented, so each must route everything.
    for path in ("siteConfig.vnetRouteAllEnabled", "outboundVnetRouting.applicationTraffic"):
        value = lookup(props, path)
        if value is not UNKNOWN and value is not True:
            check.fail(
                f"The site's {path} is {'not set' if value is MISSING else repr(value)}: its outbound traffic is not "
                "routed through its network (only private addresses would be, where that setting wins).",
                "set outboundVnetRouting.applicationTraffic and siteConfig.vnetRouteAllEnabled both to true.",
                resource.urn)
    if "WEBSITE_CONTENTSHARE" in settings:
        share_traffic = lookup(props, "outboundVnetRouting.contentShareTraffic")
        if settings.get("WEBSITE_CONTENTOVERVNET") not in ("1", UNKNOWN) or share_traffic is False:
            check.fail(
                "The site mounts its content share over the public endpoint of a private storage account.",
                "set app setting WEBSITE_CONTENTOVERVNET=1 and outboundVnetRouting.contentShareTraffic=true (Learn: "
                "deploy Standard logic apps to private storage accounts).", resource.urn)
    if not public_ingress:
        public = lookup(props, "publicNetworkAccess")
        if public is not UNKNOWN and public != "Disabled":
            check.fail(
                f"The site's public network access is {public!r} on a stack that declares publicIngress false.",
                "set publicNetworkAccess to 'Disabled'; users reach it through its private endpoint.", resource.urn)


PRIVATE_NETWORKING = stack_policy(
    "private-networking", validate_private_networking,
    url="https://learn.microsoft.com/azure/logic-apps/secure-single-tenant-workflow-virtual-network-private-endpoint",
    remediation="Build the network as components/private_network.py does; see README 'Private networking'.",
)
