"""Where run history and tool telemetry go: one Log Analytics workspace and Application Insights on it.

Operators audit which tool ran under which identity from these logs (the module's "auditing and
logging" practice); the site's diagnostic settings that feed them live with the site.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import applicationinsights, operationalinsights

from components.component import Component
from components.placement import Placement


@dataclass
class ObservabilityArgs:
    placement: Placement
    workspace_name: str
    application_insights_name: str
    retention_in_days: int


class Observability(Component[ObservabilityArgs], area="monitoring"):
    """The Log Analytics workspace and the Application Insights component that sends to it."""

    def _create(self, name: str, args: ObservabilityArgs) -> pulumi.Inputs:
        self.workspace = operationalinsights.Workspace(
            f"{name}-workspace",
            workspace_name=args.workspace_name,
            sku=operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
            retention_in_days=args.retention_in_days,
            **args.placement.located(self),
        )
        self.application_insights = applicationinsights.Component(
            f"{name}-appinsights",
            resource_name_=args.application_insights_name,
            kind="web",
            application_type="web",
            ingestion_mode="LogAnalytics",
            workspace_resource_id=self.workspace.id,
            **args.placement.located(self),
        )
        self.workspace_id = self.workspace.id
        # Not a secret: "connection strings aren't considered a security token or key" (learn.microsoft.com/
        # azure/azure-monitor/app/connection-strings); it only lets a client send telemetry.
        self.connection_string = self.application_insights.connection_string
        return {"workspaceId": self.workspace_id}
