"""The health workflow App Service's health check pings, and the path it pings.

Learn documents Health Check for a Standard logic app as a path to a "health" workflow made for it
(learn.microsoft.com/azure/logic-apps/monitor-health-standard-workflows): a Request trigger and a
Response with a status from 200 to 299; the path `/api/<workflow>/triggers/<trigger>/invoke?api-version=2022-05-01`,
fewer than 65 characters; and host.json's `Workflows.HealthCheckWorkflowName` naming the workflow,
which lets the platform's ping through the workflow's own authorization (without it the ping gets 401,
the page's troubleshooting section). App Service adds: "There is no default Health check path", and
"Health check integrates with the App Service authentication and authorization features. No other
settings are required" (learn.microsoft.com/azure/app-service/monitor-instances-health-check), so Easy
Auth keeps covering the path. A 200 from the workflow means more than the host's own page would: the
host started, reached its storage and loaded the workflow package.

The page names the trigger "When a HTTP request is received"; its key `When_a_HTTP_request_is_received`
makes the documented path 82 characters, over the page's own limit, so the trigger has the short key
`manual` (the Request trigger's classic name), which the limit allows however it is counted. The
workflow is stateless: a ping a minute on every instance leaves no run history in storage.
"""

from __future__ import annotations

from typing import Any

HEALTH_WORKFLOW = "health"
HEALTH_TRIGGER = "manual"
# Standard's trigger invoke API version (the page's example path).
INVOKE_API_VERSION = "2022-05-01"
HEALTH_CHECK_PATH = f"/api/{HEALTH_WORKFLOW}/triggers/{HEALTH_TRIGGER}/invoke?api-version={INVOKE_API_VERSION}"
# The host.json setting (extensions.workflow.settings) that authorizes the platform's ping.
HOST_SETTING = "Workflows.HealthCheckWorkflowName"
# "The specified path length must have fewer than 65 characters."
PATH_LIMIT = 64
WORKFLOW_SCHEMA = "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#"


def health_workflow() -> dict[str, Any]:
    """Learn's minimum health workflow in the shape Microsoft's VS Code templates write (Azure/LogicAppsUX
    apps/vs-code-designer/src/app/utils/codeless/templates.ts: Request kind Http, Response kind Http):
    answers the ping's GET with 200 and reaches nothing."""
    return {
        "definition": {
            "$schema": WORKFLOW_SCHEMA,
            "contentVersion": "1.0.0.0",
            "triggers": {HEALTH_TRIGGER: {"type": "Request", "kind": "Http", "inputs": {"method": "GET"}}},
            "actions": {"Response": {"type": "Response", "kind": "Http", "inputs": {"statusCode": 200},
                                     "runAfter": {}}},
            "outputs": {},
        },
        "kind": "Stateless",
    }
