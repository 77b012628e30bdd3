"""The audit trail made visible: a workbook of the queries, and alerts routed to an action group.

Every query comes from monitoring/queries/*.kql (agent_obo/monitoring_queries.py): the workbook
shows each one, and each query with an `alert` line becomes a scheduled query alert rule on the
Log Analytics workspace that the site's diagnostic settings feed. The action group's receivers are
the stack's `alertEmailReceivers`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import applicationinsights, monitor

from agent_obo.monitoring_queries import TROUBLESHOOTING, Query
from agent_obo.naming import caf_name
from agent_obo.settings import PROJECT
from components.component import Component
from components.placement import Placement

# Workbook content (github.com/microsoft/Application-Insights-Workbooks, schema/workbook.json):
# item type 1 is Markdown text, 9 parameters, 3 a Log Analytics query.
WORKBOOK_SCHEMA = "https://github.com/Microsoft/Application-Insights-Workbooks/blob/master/schema/workbook.json"
TIME_RANGE = "TimeRange"
DAY_MS = 24 * 60 * 60 * 1000
VISUALIZATION = {"table": "table", "barchart": "barchart", "timechart": "timechart"}


def workbook_content(queries: list[Query], workspace_id: str, environment: str) -> str:
    items: list[dict] = [
        {"type": 1, "name": "intro", "content": {"json": (
            f"## {PROJECT} {environment}: audit and troubleshooting\n"
            "Who ran which tool under which identity, and why tools failed. Users appear by Entra object id; "
            "no payload is recorded. docs/audit-and-troubleshooting.md maps each problem to its fix.")}},
        {"type": 9, "name": "parameters", "content": {"version": "KqlParameterItem/1.0", "parameters": [{
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://{PROJECT}/{environment}/workbook/{TIME_RANGE}")),
            "version": "KqlParameterItem/1.0", "name": TIME_RANGE, "label": "Time range", "type": 4,
            "isRequired": True, "value": {"durationMs": DAY_MS},
            "typeSettings": {"selectableValues": [{"durationMs": hours * 60 * 60 * 1000}
                                                  for hours in (1, 4, 24, 72, 168, 720)]},
        }]}},
    ]
    for query in queries:
        title = query.title
        if query.troubleshooting:
            title = f"{title} (troubleshooting: {TROUBLESHOOTING[query.troubleshooting]})"
        items.append({"type": 3, "name": query.name, "content": {
            "version": "KqlItem/1.0", "title": title, "query": query.text, "size": 0,
            "timeContextFromParameter": TIME_RANGE, "queryType": 0,
            "resourceType": "microsoft.operationalinsights/workspaces",
            "visualization": VISUALIZATION[query.visualization],
        }})
    return json.dumps({"version": "Notebook/1.0", "items": items, "isLocked": False,
                       "fallbackResourceIds": [workspace_id], "$schema": WORKBOOK_SCHEMA})


@dataclass
class AuditMonitoringArgs:
    placement: Placement
    environment: str
    workspace_id: pulumi.Input[str]
    queries: list[Query]
    email_receivers: list[str]
    # The alerts read tables the site's diagnostic settings create: create those first.
    depends_on: list[pulumi.Resource] = field(default_factory=list)


class AuditMonitoring(Component[AuditMonitoringArgs], area="monitoring"):
    """The audit workbook, an alert rule per alerting query, and the action group the alerts go to."""

    def _create(self, name: str, args: AuditMonitoringArgs) -> pulumi.Inputs:
        self.action_group = monitor.ActionGroup(
            f"{name}-action-group",
            action_group_name=caf_name("ag", args.environment, "audit"),
            # At most 12 characters: shown as the sender of the alert e-mails and texts.
            group_short_name=f"obo-{args.environment}",
            enabled=True,
            email_receivers=[monitor.MicrosoftCommonEmailReceiverArgs(
                name=f"email-{index}", email_address=address, use_common_alert_schema=True)
                for index, address in enumerate(args.email_receivers, start=1)],
            **args.placement.located_globally(self),
        )
        self.workbook = applicationinsights.Workbook(
            f"{name}-workbook",
            # A workbook's name must be a GUID: stable per environment, so it is never replaced.
            resource_name_=str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://{PROJECT}/{args.environment}/workbook")),
            kind="shared",
            category="workbook",
            display_name=f"{PROJECT} {args.environment}: audit and troubleshooting",
            description="Who ran which tool under which identity, and the module's troubleshooting table as "
                        "queries (monitoring/queries in the repository).",
            source_id=args.workspace_id,
            serialized_data=pulumi.Output.from_input(args.workspace_id).apply(
                lambda workspace_id: workbook_content(args.queries, workspace_id, args.environment)),
            **args.placement.located(self),
        )
        self.alerts: dict[str, monitor.ScheduledQueryRule] = {}
        for query in args.queries:
            if query.alert is None:
                continue
            self.alerts[query.name] = monitor.ScheduledQueryRule(
                f"{name}-alert-{query.name}",
                rule_name=caf_name("alert", args.environment, query.name),
                kind="LogAlert",
                display_name=f"{PROJECT} {args.environment}: {query.title}",
                description=f"More than {query.alert.threshold} rows of monitoring/queries/{query.name}.kql in "
                            f"{query.alert.window}. docs/audit-and-troubleshooting.md says what to do.",
                severity=query.alert.severity,
                enabled=True,
                scopes=[args.workspace_id],
                evaluation_frequency=query.alert.frequency,
                window_size=query.alert.window,
                criteria=monitor.ScheduledQueryRuleCriteriaArgs(all_of=[monitor.ConditionArgs(
                    query=query.text,
                    time_aggregation="Count",
                    operator="GreaterThan",
                    threshold=query.alert.threshold,
                    failing_periods=monitor.ConditionFailingPeriodsArgs(
                        number_of_evaluation_periods=1, min_failing_periods_to_alert=1),
                )]),
                actions=monitor.ActionsArgs(action_groups=[self.action_group.id]),
                auto_mitigate=True,
                **args.placement.located(self, depends_on=args.depends_on),
            )
        return {
            "actionGroupId": self.action_group.id,
            "workbookId": self.workbook.id,
            "alertRules": sorted(self.alerts),
        }
