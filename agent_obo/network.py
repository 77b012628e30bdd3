"""The private network a stack declares, checked whole before any resource is registered.

With agent-obo:privateNetworking the site reaches its storage and model through private endpoints
in a virtual network it is integrated with (all outbound traffic routed into it), and the storage
and model accounts refuse public traffic. The network is either created here (address space and two
subnets from the stack settings) or an existing one passed in by subnet id, for organisations whose
hub owns the network and its private DNS zones. Sources, cited where each rule is enforced:
- Learn, "Secure traffic between Standard logic apps and Azure virtual networks using private
  endpoints" (secure-single-tenant-workflow-virtual-network-private-endpoint): integration subnet
  /26 recommended, /27 the smallest; a separate subnet without delegation for private endpoints.
- Learn, "Deploy Standard logic apps to private storage accounts" (deploy-single-tenant-logic-apps-
  private-storage-account): private endpoints for the Blob, Queue, Table and File services,
  WEBSITE_CONTENTOVERVNET=1 when the content share is used.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Private endpoint sub-resource (groupId) -> its private DNS zone (Learn, "Azure Private Endpoint
# private DNS zone values").
STORAGE_ZONES = {
    "blob": "privatelink.blob.core.windows.net",
    "queue": "privatelink.queue.core.windows.net",
    "table": "privatelink.table.core.windows.net",
    "file": "privatelink.file.core.windows.net",
}
MODEL_ZONE = ("account", "privatelink.openai.azure.com")
SITE_ZONE = ("sites", "privatelink.azurewebsites.net")

# Built-in address plan when the stack creates the network and sets none: a /24 split into the
# integration subnet Learn recommends (/26) and a /27 for private endpoints.
DEFAULT_ADDRESS_SPACE = "10.42.0.0/24"
DEFAULT_INTEGRATION_SUBNET = "10.42.0.0/26"
DEFAULT_PRIVATE_ENDPOINT_SUBNET = "10.42.0.64/27"

SMALLEST_INTEGRATION_PREFIX = 27  # Learn: /27 is the smallest integration subnet
SMALLEST_ENDPOINT_PREFIX = 28
AZURE_RESERVED_ADDRESSES = 5  # per subnet (Azure Virtual Network FAQ)
# Learn (storage-network-security-limitations): IP rules take public addresses only, and no /31 or /32 range (a
# single address is written a.b.c.d).
NOT_FOR_IP_RULES = tuple(ipaddress.IPv4Network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16",
    "224.0.0.0/3"))
PRIVATE_RANGES = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))

# re.ASCII: Python's \w takes any script's letters and digits (a fullwidth h, U+FF48, in `rg-hub`), and [a-z] under
# IGNORECASE the Kelvin sign and the long s; an id that reads like another would name another resource, or none.
# Learn's naming rules allow a resource group any letter or digit .NET's Char.IsLetterOrDigit takes; ids here take
# ASCII only, the safer choice.
SUBNET_ID = re.compile(
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[\w.()-]{1,90}/providers/Microsoft\.Network/"
    r"virtualNetworks/[A-Za-z0-9][\w.-]{0,62}/subnets/[A-Za-z0-9][\w.-]{0,78}\Z", re.ASCII)
DNS_ZONE_ID = re.compile(
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[\w.()-]{1,90}/providers/Microsoft\.Network/"
    r"privateDnsZones/(?P<zone>[a-z0-9.-]+)\Z", re.IGNORECASE | re.ASCII)
SUBNET_ID_HINT = ("/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<vnet>/"
                  "subnets/<subnet>")
DNS_ZONE_ID_HINT = "/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Network/privateDnsZones/<zone>"

ADDRESS_KEYS = ("networkAddressSpace", "integrationSubnetPrefix", "privateEndpointSubnetPrefix")
EXISTING_SUBNET_KEYS = ("existingIntegrationSubnetId", "existingPrivateEndpointSubnetId")
NETWORK_KEYS = (*ADDRESS_KEYS, *EXISTING_SUBNET_KEYS, "existingPrivateDnsZoneIds", "storageFirewallIpRanges")


@dataclass(frozen=True)
class NetworkSettings:
    """What the program builds from: either the address plan or the existing subnets."""

    address_space: str
    integration_subnet: str
    private_endpoint_subnet: str
    existing_integration_subnet_id: str
    existing_private_endpoint_subnet_id: str
    existing_dns_zone_ids: dict[str, str]  # zone name -> resource id
    public_ingress: bool
    storage_firewall_ip_ranges: tuple[str, ...]

    @property
    def uses_existing_network(self) -> bool:
        return bool(self.existing_integration_subnet_id)

    @property
    def existing_virtual_network_id(self) -> str:
        return self.existing_integration_subnet_id.rsplit("/subnets/", 1)[0]


def required_zones(uses_content_share: bool, creates_model: bool, public_ingress: bool) -> dict[str, str]:
    """groupId -> private DNS zone, for every private endpoint the stack needs."""
    zones = {group: zone for group, zone in STORAGE_ZONES.items() if group != "file" or uses_content_share}
    if creates_model:
        zones[MODEL_ZONE[0]] = MODEL_ZONE[1]
    if not public_ingress:
        zones[SITE_ZONE[0]] = SITE_ZONE[1]
    return zones


def private_endpoint_count(v: dict[str, Any]) -> int:
    return len(required_zones(v["hostStorageAuthentication"] == "accessKey", v["modelSource"] == "create",
                              v["publicIngress"]))


def network_problems(v: dict[str, Any], add: Callable[[str, Any, str], None]) -> None:
    """Cross-field rules of the network settings; `add(key, value, why)` records a problem."""
    if not v["privateNetworking"]:
        for key in NETWORK_KEYS:
            if v[key]:
                add(key, v[key], "only allowed when privateNetworking is true (it has no effect otherwise)")
        if not v["publicIngress"]:
            add("publicIngress", False, "needs privateNetworking true: the site's private endpoint lives in the "
                                        "stack's network")
        return
    existing = [key for key in EXISTING_SUBNET_KEYS if v[key]]
    if len(existing) == 1:
        missing = next(key for key in EXISTING_SUBNET_KEYS if not v[key])
        add(missing, v[missing], f"required when {existing[0]} is set: pass both subnets of the existing network")
    for key in existing:
        if not SUBNET_ID.match(v[key]):
            add(key, v[key], "not allowed; allowed: a subnet resource id " + SUBNET_ID_HINT)
    if existing:
        for key in ADDRESS_KEYS:
            if v[key]:
                add(key, v[key], "only allowed when the stack creates its network; leave it empty with "
                                 "existingIntegrationSubnetId")
        if len(existing) == 2 and v[EXISTING_SUBNET_KEYS[0]] == v[EXISTING_SUBNET_KEYS[1]]:
            add(EXISTING_SUBNET_KEYS[1], v[EXISTING_SUBNET_KEYS[1]],
                "the same subnet as existingIntegrationSubnetId; private endpoints need a subnet without the "
                "Microsoft.Web/serverFarms delegation")
    else:
        _address_problems(v, add)
    _zone_problems(v, add)
    for cidr in v["storageFirewallIpRanges"]:
        network = _cidr(cidr)
        # "203.0.113.7/32" is "203.0.113.7" to a reader and to the pack, not to Azure: one spelling only.
        too_small = "/" in cidr and network is not None and network.prefixlen >= 31
        if network is None or too_small or any(network.overlaps(r) for r in NOT_FOR_IP_RULES):
            add("storageFirewallIpRanges", v["storageFirewallIpRanges"],
                f"{cidr!r} not allowed; allowed: public IPv4 addresses or ranges (a.b.c.d or a.b.c.d/n) of the "
                "machines that deploy, not /31 or /32 (Azure Storage IP rules take public addresses only, a single "
                "address as a.b.c.d)")


def _cidr(text: str) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(text, strict=True)
    except ValueError:
        return None


def _address_problems(v: dict[str, Any], add: Callable[[str, Any, str], None]) -> None:
    given = {key: v[key] or default for key, default in zip(
        ADDRESS_KEYS, (DEFAULT_ADDRESS_SPACE, DEFAULT_INTEGRATION_SUBNET, DEFAULT_PRIVATE_ENDPOINT_SUBNET),
        strict=True)}
    networks: dict[str, ipaddress.IPv4Network] = {}
    for key, text in given.items():
        network = _cidr(text) if "/" in text else None
        if network is None:
            add(key, text, "not allowed; allowed: an IPv4 network in CIDR form with no host bits set, such as "
                           "10.42.0.0/24")
        elif not any(network.subnet_of(private) for private in PRIVATE_RANGES):
            add(key, text, "not a private range; allowed: inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
        else:
            networks[key] = network
    if len(networks) != len(given):
        return
    space, integration, endpoints = (networks[key] for key in ADDRESS_KEYS)
    for key, subnet in (("integrationSubnetPrefix", integration), ("privateEndpointSubnetPrefix", endpoints)):
        if not subnet.subnet_of(space):
            add(key, str(subnet), f"outside networkAddressSpace ({space}); allowed: a subnet inside it")
    if integration.overlaps(endpoints):
        add("privateEndpointSubnetPrefix", str(endpoints),
            f"overlaps integrationSubnetPrefix ({integration}); allowed: a range that does not overlap it")
    # Learn: /27 is the smallest integration subnet; every plan instance takes an address and a
    # scale or platform upgrade briefly needs twice as many.
    needed = 2 * v["maximumElasticWorkerCount"] + AZURE_RESERVED_ADDRESSES
    if integration.prefixlen > SMALLEST_INTEGRATION_PREFIX or integration.num_addresses < needed:
        add("integrationSubnetPrefix", str(integration),
            f"too small: {integration.num_addresses} addresses; allowed: /{SMALLEST_INTEGRATION_PREFIX} or larger "
            f"with at least {needed} addresses (twice maximumElasticWorkerCount plus Azure's "
            f"{AZURE_RESERVED_ADDRESSES} reserved); /26 is Learn's recommendation")
    endpoints_needed = private_endpoint_count(v) + AZURE_RESERVED_ADDRESSES
    if endpoints.prefixlen > SMALLEST_ENDPOINT_PREFIX or endpoints.num_addresses < endpoints_needed:
        add("privateEndpointSubnetPrefix", str(endpoints),
            f"too small: {endpoints.num_addresses} addresses; allowed: /{SMALLEST_ENDPOINT_PREFIX} or larger with "
            f"room for the stack's {private_endpoint_count(v)} private endpoints plus Azure's "
            f"{AZURE_RESERVED_ADDRESSES} reserved")


def _zone_problems(v: dict[str, Any], add: Callable[[str, Any, str], None]) -> None:
    ids = v["existingPrivateDnsZoneIds"]
    if not ids:
        return
    needed = set(required_zones(v["hostStorageAuthentication"] == "accessKey", v["modelSource"] == "create",
                                v["publicIngress"]).values())
    by_zone: dict[str, str] = {}
    for zone_id in ids:
        match = DNS_ZONE_ID.match(zone_id)
        if not match:
            add("existingPrivateDnsZoneIds", ids, f"{zone_id!r} not allowed; allowed: private DNS zone resource ids "
                                                  + DNS_ZONE_ID_HINT)
            return
        zone = match.group("zone").lower()
        if zone not in needed:
            add("existingPrivateDnsZoneIds", ids, f"zone {zone!r} is not one this stack uses; allowed: "
                                                  + ", ".join(sorted(needed)))
        elif zone in by_zone:
            add("existingPrivateDnsZoneIds", ids, f"zone {zone!r} listed twice; each zone once")
        by_zone[zone] = zone_id
    missing = sorted(needed - set(by_zone))
    if missing:
        add("existingPrivateDnsZoneIds", ids, "missing " + ", ".join(missing)
            + "; pass every zone the stack's private endpoints register in, or none to have the stack create them")


def _zone_name(zone_id: str) -> str:
    match = DNS_ZONE_ID.match(zone_id)
    if match is None:
        raise ValueError(f"not a private DNS zone id: {zone_id!r}")
    return match.group("zone").lower()


def network_settings(v: dict[str, Any]) -> NetworkSettings | None:
    """The validated network, or None without privateNetworking."""
    if not v["privateNetworking"]:
        return None
    existing = bool(v["existingIntegrationSubnetId"])
    zone_ids = {_zone_name(i): i for i in v["existingPrivateDnsZoneIds"]}
    return NetworkSettings(
        address_space="" if existing else v["networkAddressSpace"] or DEFAULT_ADDRESS_SPACE,
        integration_subnet="" if existing else v["integrationSubnetPrefix"] or DEFAULT_INTEGRATION_SUBNET,
        private_endpoint_subnet="" if existing else v["privateEndpointSubnetPrefix"] or DEFAULT_PRIVATE_ENDPOINT_SUBNET,
        existing_integration_subnet_id=v["existingIntegrationSubnetId"],
        existing_private_endpoint_subnet_id=v["existingPrivateEndpointSubnetId"],
        existing_dns_zone_ids=zone_ids,
        public_ingress=v["publicIngress"],
        storage_firewall_ip_ranges=tuple(v["storageFirewallIpRanges"]),
    )
