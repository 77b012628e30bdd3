"""The agent's model: an Azure OpenAI account and deployment, or an existing endpoint.

Either way the account allows Microsoft Entra tokens only (no API keys), and the site's
system-assigned identity is the caller: the Logic Apps agent's model connection supports only
that identity (learn.microsoft.com/azure/logic-apps/create-conversational-agent-workflows).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import cognitiveservices

from agent_obo.settings import ModelSettings
from components.component import Component
from components.placement import Placement


@dataclass
class AgentModelArgs:
    placement: Placement
    account_name: str
    model: ModelSettings
    # privateNetworking: the account answers only through its private endpoint.
    private: bool = False


class AgentModel(Component[AgentModelArgs], area="model"):
    """The agent's model: a keyless Azure OpenAI account and deployment, or the existing endpoint given."""

    endpoint: pulumi.Output[str]
    resource_id: pulumi.Output[str]

    def _create(self, name: str, args: AgentModelArgs) -> pulumi.Inputs:
        model = args.model
        self.deployment_name = model.deployment_name
        if not model.creates_account:
            self.endpoint = pulumi.Output.from_input(model.existing_endpoint)
            self.resource_id = pulumi.Output.from_input(model.existing_resource_id)
        else:
            self.account = cognitiveservices.Account(
                f"{name}-account",
                account_name=args.account_name,
                kind="OpenAI",
                sku=cognitiveservices.SkuArgs(name="S0"),
                # Its own identity, for what the account calls on its behalf (customer-managed keys,
                # data sources); nothing is granted to it here.
                identity=cognitiveservices.IdentityArgs(type=cognitiveservices.ResourceIdentityType.SYSTEM_ASSIGNED),
                properties=cognitiveservices.AccountPropertiesArgs(
                    custom_sub_domain_name=args.account_name,
                    disable_local_auth=True,
                    public_network_access=(cognitiveservices.PublicNetworkAccess.DISABLED if args.private
                                           else cognitiveservices.PublicNetworkAccess.ENABLED),
                    network_acls=cognitiveservices.NetworkRuleSetArgs(
                        default_action=cognitiveservices.NetworkRuleAction.DENY, ip_rules=[],
                        virtual_network_rules=[]) if args.private else None,
                ),
                **args.placement.located(self),
            )
            self.deployment = cognitiveservices.Deployment(
                f"{name}-deployment",
                deployment_name=model.deployment_name,
                account_name=self.account.name,
                sku=cognitiveservices.SkuArgs(name=model.deployment_sku, capacity=model.capacity),
                properties=cognitiveservices.DeploymentPropertiesArgs(
                    model=cognitiveservices.DeploymentModelArgs(
                        format="OpenAI", name=model.name, version=model.version
                    ),
                    version_upgrade_option=cognitiveservices.DeploymentModelVersionUpgradeOption.NO_AUTO_UPGRADE,
                ),
                tags=dict(args.placement.tags),
                **args.placement.in_group(self),
            )
            self.endpoint = self.account.properties.endpoint
            self.resource_id = self.account.id
        return {
            "endpoint": self.endpoint,
            "resourceId": self.resource_id,
            "deploymentName": self.deployment_name,
        }
