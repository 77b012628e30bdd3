"""The stack's private network: the site's integration subnet, a subnet for private endpoints and the
private DNS zones those endpoints register in, or an existing network and zones passed in by id.

Learn (secure-single-tenant-workflow-virtual-network-private-endpoint): the integration subnet is
delegated to Microsoft.Web/serverFarms; private endpoints take a subnet without delegation. Each
zone is linked to the network so the site resolves the storage and model host names to their
private addresses; zones an organisation's hub already owns are used as they are (the hub links
them to its networks and forwards DNS).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import network, privatedns

from agent_obo.network import NetworkSettings

INTEGRATION_SUBNET = "snet-logic-integration"
PRIVATE_ENDPOINT_SUBNET = "snet-private-endpoints"
SERVER_FARM_DELEGATION = "Microsoft.Web/serverFarms"


@dataclass
class PrivateNetworkArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    settings: NetworkSettings
    virtual_network_name: str
    network_security_group_name: str
    zones: list[str]  # every private DNS zone the stack's endpoints register in
    tags: dict[str, str]


class PrivateNetwork(pulumi.ComponentResource):
    integration_subnet_id: pulumi.Output[str]
    private_endpoint_subnet_id: pulumi.Output[str]
    zone_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: PrivateNetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("agent-obo:network:PrivateNetwork", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        settings = args.settings
        self.virtual_network: network.VirtualNetwork | None = None
        if settings.uses_existing_network:
            self.integration_subnet_id = pulumi.Output.from_input(settings.existing_integration_subnet_id)
            self.private_endpoint_subnet_id = pulumi.Output.from_input(settings.existing_private_endpoint_subnet_id)
            virtual_network_id = pulumi.Output.from_input(settings.existing_virtual_network_id)
        else:
            self.virtual_network = network.VirtualNetwork(
                f"{name}-vnet",
                virtual_network_name=args.virtual_network_name,
                resource_group_name=args.resource_group_name,
                location=args.location,
                address_space=network.AddressSpaceArgs(address_prefixes=[settings.address_space]),
                tags=args.tags,
                # Subnets are their own resources below; without this the network's next update
                # would remove them (pulumi-azure-native docs, VirtualNetwork).
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=["subnets"]),
            )
            # Default rules only: a place for the organisation's rules, and no subnet without one.
            self.security_group = network.NetworkSecurityGroup(
                f"{name}-nsg",
                network_security_group_name=args.network_security_group_name,
                resource_group_name=args.resource_group_name,
                location=args.location,
                tags=args.tags,
                opts=child,
            )
            self.integration_subnet = network.Subnet(
                f"{name}-integration-subnet",
                subnet_name=INTEGRATION_SUBNET,
                virtual_network_name=self.virtual_network.name,
                resource_group_name=args.resource_group_name,
                address_prefix=settings.integration_subnet,
                delegations=[network.DelegationArgs(name="logic-app-integration",
                                                    service_name=SERVER_FARM_DELEGATION)],
                network_security_group=network.NetworkSecurityGroupArgs(id=self.security_group.id),
                opts=child,
            )
            self.private_endpoint_subnet = network.Subnet(
                f"{name}-private-endpoint-subnet",
                subnet_name=PRIVATE_ENDPOINT_SUBNET,
                virtual_network_name=self.virtual_network.name,
                resource_group_name=args.resource_group_name,
                address_prefix=settings.private_endpoint_subnet,
                network_security_group=network.NetworkSecurityGroupArgs(id=self.security_group.id),
                # One subnet change at a time: Azure refuses concurrent updates of a network's subnets.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.integration_subnet]),
            )
            self.integration_subnet_id = self.integration_subnet.id
            self.private_endpoint_subnet_id = self.private_endpoint_subnet.id
            virtual_network_id = self.virtual_network.id

        self.zone_ids = {}
        self.zone_links: list[privatedns.VirtualNetworkLink] = []
        for zone in args.zones:
            existing = settings.existing_dns_zone_ids.get(zone)
            if existing:
                self.zone_ids[zone] = pulumi.Output.from_input(existing)
                continue
            label = zone.split(".")[1]  # privatelink.<label>....: blob, queue, openai, azurewebsites, ...
            created = privatedns.PrivateZone(
                f"{name}-zone-{label}",
                private_zone_name=zone,
                resource_group_name=args.resource_group_name,
                location="global",
                tags=args.tags,
                opts=child,
            )
            self.zone_links.append(privatedns.VirtualNetworkLink(
                f"{name}-zone-{label}-link",
                virtual_network_link_name=f"{args.virtual_network_name}-link",
                private_zone_name=created.name,
                resource_group_name=args.resource_group_name,
                location="global",
                virtual_network=privatedns.SubResourceArgs(id=virtual_network_id),
                registration_enabled=False,
                tags=args.tags,
                opts=child,
            ))
            self.zone_ids[zone] = created.id
        self.register_outputs({
            "integrationSubnetId": self.integration_subnet_id,
            "privateEndpointSubnetId": self.private_endpoint_subnet_id,
            "zoneIds": self.zone_ids,
        })


@dataclass
class EndpointTarget:
    """One private endpoint: the resource it reaches, its sub-resource (groupId) and its zone."""

    key: str  # short and stable: the logical name's suffix (st-blob, oai-account, site-sites)
    name: str  # the endpoint's Azure name
    resource_id: pulumi.Input[str]
    group_id: str
    zone: str


@dataclass
class PrivateEndpointsArgs:
    resource_group_name: pulumi.Input[str]
    location: str
    subnet_id: pulumi.Input[str]
    zone_ids: dict[str, pulumi.Output[str]]
    targets: list[EndpointTarget]
    tags: dict[str, str]
    # What must be in place first (the network's links, so names resolve as soon as endpoints exist).
    depends_on: Sequence[pulumi.Resource] = ()


class PrivateEndpoints(pulumi.ComponentResource):
    """Private endpoints, each with a DNS zone group that registers its address in the zone."""

    def __init__(self, name: str, args: PrivateEndpointsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("agent-obo:network:PrivateEndpoints", name, None, opts)
        self.endpoints: dict[str, network.PrivateEndpoint] = {}
        self.zone_groups: list[network.PrivateDnsZoneGroup] = []
        for target in args.targets:
            key = target.key
            endpoint = network.PrivateEndpoint(
                f"{name}-{key}",
                private_endpoint_name=target.name,
                resource_group_name=args.resource_group_name,
                location=args.location,
                subnet=network.SubnetArgs(id=args.subnet_id),
                private_link_service_connections=[network.PrivateLinkServiceConnectionArgs(
                    name=target.name,
                    private_link_service_id=target.resource_id,
                    group_ids=[target.group_id],
                )],
                tags=args.tags,
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
            )
            self.endpoints[key] = endpoint
            self.zone_groups.append(network.PrivateDnsZoneGroup(
                f"{name}-{key}-dns",
                private_dns_zone_group_name="default",
                private_endpoint_name=endpoint.name,
                resource_group_name=args.resource_group_name,
                private_dns_zone_configs=[network.PrivateDnsZoneConfigArgs(
                    name=target.zone.replace(".", "-"),
                    private_dns_zone_id=args.zone_ids[target.zone],
                )],
                opts=pulumi.ResourceOptions(parent=self),
            ))
        self.register_outputs({"endpoints": {key: e.id for key, e in self.endpoints.items()}})
