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
from components.component import Component
from components.placement import Placement

INTEGRATION_SUBNET = "snet-logic-integration"
PRIVATE_ENDPOINT_SUBNET = "snet-private-endpoints"
SERVER_FARM_DELEGATION = "Microsoft.Web/serverFarms"


@dataclass
class PrivateNetworkArgs:
    placement: Placement
    settings: NetworkSettings
    virtual_network_name: str
    network_security_group_name: str
    zones: list[str]  # every private DNS zone the stack's endpoints register in


class PrivateNetwork(Component[PrivateNetworkArgs], area="network"):
    """The integration and private endpoint subnets behind a security group, and the private DNS zones."""

    integration_subnet_id: pulumi.Output[str]
    private_endpoint_subnet_id: pulumi.Output[str]
    zone_ids: dict[str, pulumi.Output[str]]

    def _create(self, name: str, args: PrivateNetworkArgs) -> pulumi.Inputs:
        place = args.placement
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
                address_space=network.AddressSpaceArgs(address_prefixes=[settings.address_space]),
                # Subnets are their own resources below; without this the network's next update
                # would remove them (pulumi-azure-native docs, VirtualNetwork).
                **place.located(self, ignore_changes=["subnets"]),
            )
            # Default rules only: a place for the organisation's rules, and no subnet without one.
            self.security_group = network.NetworkSecurityGroup(
                f"{name}-nsg",
                network_security_group_name=args.network_security_group_name,
                **place.located(self),
            )
            # Both behind the security group; one subnet change at a time, as Azure refuses concurrent
            # updates of a network's subnets.
            subnets = (("integration", INTEGRATION_SUBNET, settings.integration_subnet, [network.DelegationArgs(
                            name="logic-app-integration", service_name=SERVER_FARM_DELEGATION)]),
                       ("private-endpoint", PRIVATE_ENDPOINT_SUBNET, settings.private_endpoint_subnet, None))
            created: list[network.Subnet] = []
            for key, subnet_name, prefix, delegations in subnets:
                created.append(network.Subnet(
                    f"{name}-{key}-subnet",
                    subnet_name=subnet_name,
                    virtual_network_name=self.virtual_network.name,
                    address_prefix=prefix,
                    delegations=delegations,
                    network_security_group=network.NetworkSecurityGroupArgs(id=self.security_group.id),
                    **place.in_group(self, depends_on=created[-1:]),
                ))
            self.integration_subnet, self.private_endpoint_subnet = created
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
            private_zone = privatedns.PrivateZone(
                f"{name}-zone-{label}",
                private_zone_name=zone,
                **place.located_globally(self),
            )
            self.zone_links.append(privatedns.VirtualNetworkLink(
                f"{name}-zone-{label}-link",
                virtual_network_link_name=f"{args.virtual_network_name}-link",
                private_zone_name=private_zone.name,
                virtual_network=privatedns.SubResourceArgs(id=virtual_network_id),
                registration_enabled=False,
                **place.located_globally(self),
            ))
            self.zone_ids[zone] = private_zone.id
        return {
            "integrationSubnetId": self.integration_subnet_id,
            "privateEndpointSubnetId": self.private_endpoint_subnet_id,
            "zoneIds": self.zone_ids,
        }


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
    placement: Placement
    subnet_id: pulumi.Input[str]
    zone_ids: dict[str, pulumi.Output[str]]
    targets: list[EndpointTarget]
    # What must be in place first (the network's links, so names resolve as soon as endpoints exist).
    depends_on: Sequence[pulumi.Resource] = ()


class PrivateEndpoints(Component[PrivateEndpointsArgs], area="network"):
    """Private endpoints, each with a DNS zone group that registers its address in the zone."""

    def _create(self, name: str, args: PrivateEndpointsArgs) -> pulumi.Inputs:
        self.endpoints: dict[str, network.PrivateEndpoint] = {}
        self.zone_groups: list[network.PrivateDnsZoneGroup] = []
        for target in args.targets:
            key = target.key
            endpoint = network.PrivateEndpoint(
                f"{name}-{key}",
                private_endpoint_name=target.name,
                subnet=network.SubnetArgs(id=args.subnet_id),
                private_link_service_connections=[network.PrivateLinkServiceConnectionArgs(
                    name=target.name,
                    private_link_service_id=target.resource_id,
                    group_ids=[target.group_id],
                )],
                **args.placement.located(self, depends_on=list(args.depends_on)),
            )
            self.endpoints[key] = endpoint
            self.zone_groups.append(network.PrivateDnsZoneGroup(
                f"{name}-{key}-dns",
                private_dns_zone_group_name="default",
                private_endpoint_name=endpoint.name,
                private_dns_zone_configs=[network.PrivateDnsZoneConfigArgs(
                    name=target.zone.replace(".", "-"),
                    private_dns_zone_id=args.zone_ids[target.zone],
                )],
                **args.placement.in_group(self),
            ))
        return {"endpoints": {key: e.id for key, e in self.endpoints.items()}}
