"""Resilience and protection on the stacks that declare them: a zone-redundant plan with an instance per
zone and zone-redundant storage (Learn: Reliability in Azure Logic Apps; Reliability in Azure
Functions), delete locks on the stateful resources, and on every stack a health check path and a
managed identity on the model account.
"""

from __future__ import annotations

from pulumi_policy import (
    ResourceValidationArgs,
    StackValidationArgs,
)

from agent_obo.health_workflow import HEALTH_CHECK_PATH
from components.logic_app import ZONE_REDUNDANT_MINIMUM_INSTANCES
from policy.checks import Check
from policy.define import resource_policy, stack_policy
from policy.network import declared
from policy.props import MISSING, UNKNOWN, lookup, not_yet_checked, plain, props_of, resource_name
from policy.resource_types import (
    LOCK,
    LOG_ANALYTICS_WORKSPACE,
    MODEL_ACCOUNT,
    PLAN,
    SITE,
    STORAGE_ACCOUNT,
)

ZONE_REDUNDANT_STORAGE_SKUS = frozenset({"Standard_ZRS", "Standard_GZRS", "Standard_RAGZRS", "Premium_ZRS"})


def validate_zone_redundancy(args: ResourceValidationArgs, check: Check) -> None:
    """On a stack that declares zoneRedundant, the Workflow Standard plan is zone redundant with at least three
    instances, all always ready, and its storage is zone-redundant: a zone outage then leaves the agent running
    (Learn: Reliability in Azure Logic Apps; Reliability in Azure Functions)."""
    if not declared(args, "zoneRedundant", True):
        return
    props = plain(args.props)
    if args.resource_type == PLAN:
        redundant, capacity = lookup(props, "zoneRedundant"), lookup(props, "sku.capacity")
        if redundant is not UNKNOWN and redundant is not True:
            check.fail(f"The plan's zoneRedundant is {redundant!r}.",
                                       "create the plan with zoneRedundant true (it cannot be changed later).")
        if capacity is not UNKNOWN and not (isinstance(capacity, (int, float))
                                            and capacity >= ZONE_REDUNDANT_MINIMUM_INSTANCES):
            check.fail(
                f"The zone-redundant plan's sku.capacity is {capacity!r}: fewer than one instance per zone.",
                f"set sku.capacity to at least {ZONE_REDUNDANT_MINIMUM_INSTANCES}.")
    elif args.resource_type == SITE:
        ready = lookup(props, "siteConfig.minimumElasticInstanceCount")
        if ready is not UNKNOWN and not (isinstance(ready, (int, float)) and ready >= ZONE_REDUNDANT_MINIMUM_INSTANCES):
            check.fail(
                f"The site keeps {ready!r} instances always ready: a zone-redundant plan needs one per zone.",
                f"set siteConfig.minimumElasticInstanceCount to at least {ZONE_REDUNDANT_MINIMUM_INSTANCES}.")
    elif args.resource_type == STORAGE_ACCOUNT:
        sku = lookup(props, "sku.name")
        if sku is not UNKNOWN and sku not in ZONE_REDUNDANT_STORAGE_SKUS:
            check.fail(
                f"Storage sku {sku!r} keeps the runtime's state in one zone.",
                "use Standard_ZRS (Learn: a zone-redundant Standard logic app needs zone-redundant storage).")


ZONE_REDUNDANCY = resource_policy(
    "zone-redundancy", validate_zone_redundancy,
    url="https://learn.microsoft.com/azure/reliability/reliability-logic-apps",
    remediation="Set zoneRedundant as components/logic_app.py and components/runtime_storage.py do.",
)


def validate_health_check(args: ResourceValidationArgs, check: Check) -> None:
    """Every site's App Service health check pings the health workflow the package ships, so unhealthy instances leave
    the load balancer and are replaced (learn.microsoft.com/azure/logic-apps/monitor-health-standard-workflows)."""
    path = lookup(plain(args.props), "siteConfig.healthCheckPath")
    if path is MISSING or (isinstance(path, str) and not path.startswith("/")):
        check.fail(
            f"The site has no health check path ({path!r}): App Service keeps routing to an instance whose host "
            "has stopped, and never replaces it.",
            f"set siteConfig.healthCheckPath to {HEALTH_CHECK_PATH} (agent_obo/health_workflow.py).")
    elif isinstance(path, str) and path != HEALTH_CHECK_PATH:
        check.fail(
            f"The site's health check pings {path!r}, not the health workflow the package ships "
            f"({HEALTH_CHECK_PATH}): a path the app does not answer with 200 marks every instance unhealthy, and "
            "App Service replaces instances one an hour.",
            f"set siteConfig.healthCheckPath to {HEALTH_CHECK_PATH} (agent_obo/health_workflow.py).")


HEALTH_CHECK = resource_policy(
    "health-check", validate_health_check, judges=(SITE,),
    url="https://learn.microsoft.com/azure/logic-apps/monitor-health-standard-workflows",
    remediation="Set siteConfig.healthCheckPath to the health workflow's path (agent_obo/health_workflow.py).",
)


def validate_model_identity(args: ResourceValidationArgs, check: Check) -> None:
    """The model account has a managed identity of its own, so nothing it calls needs a key."""
    identity = lookup(plain(args.props), "identity.type")
    if identity is not UNKNOWN and not (isinstance(identity, str) and "Assigned" in identity):
        check.fail(
            f"The model account has no managed identity (identity.type {identity!r}): whatever it calls for itself "
            "(customer-managed keys, data sources) would need a key.",
            "set identity.type to 'SystemAssigned'.")


MODEL_IDENTITY = resource_policy(
    "model-identity", validate_model_identity, judges=(MODEL_ACCOUNT,),
    url="https://learn.microsoft.com/azure/ai-services/openai/how-to/managed-identity",
    remediation="Give the Cognitive Services account a system-assigned identity (components/agent_model.py).",
)

# Stateful types a lock must cover, and how their resource ids end.
_LOCKED_TYPES = {STORAGE_ACCOUNT: ("accountName", "storageaccounts"), MODEL_ACCOUNT: ("accountName", "accounts"),
                 LOG_ANALYTICS_WORKSPACE: ("workspaceName", "workspaces")}


def validate_delete_locks(args: StackValidationArgs, check: Check) -> None:
    """On a stack that declares protectStatefulResources, the runtime storage, the model account and the Log Analytics
    workspace carry CanNotDelete locks, themselves protected in Pulumi state: Azure refuses their deletion from any
    tool, and only the teardown path lifts the locks."""
    if not declared(args, "protectStatefulResources", True):
        return
    resources = [(resource, props_of(resource)) for resource in args.resources]
    locks = [(r, p) for r, p in resources if r.resource_type == LOCK]
    unknown = [r.name for r, p in locks if lookup(p, "scope") is UNKNOWN]
    deleting_refused = [(r, p) for r, p in locks if lookup(p, "level") == "CanNotDelete"]
    # A lock's scope is its resource's id output (a property dependency); outputs carry no `scope` path
    # parameter, so the id itself is matched only where it is there (a resource's inputs).
    locked_resources = {d.urn for r, _ in deleting_refused for d in r.property_dependencies.get("scope", [])}
    locked = {"/".join(str(lookup(p, "scope")).lower().rstrip("/").split("/")[-2:])
              for _, p in deleting_refused if isinstance(lookup(p, "scope"), str)}
    for resource, props in resources:
        if resource.resource_type not in _LOCKED_TYPES:
            continue
        key, segment = _LOCKED_TYPES[resource.resource_type]
        name = resource_name(props, key)
        if resource.urn not in locked_resources and not isinstance(name, str):
            # Neither bound to a lock nor named yet (a first preview): which lock it has cannot be told.
            unknown.append(f"a lock on {resource.name}")
        if isinstance(name, str) and resource.urn not in locked_resources and f"{segment}/{name.lower()}" not in locked:
            check.fail(
                f"{resource.resource_type.rsplit(':', 1)[-1]} {name!r} has no CanNotDelete lock on a stack that "
                "declares protectStatefulResources: anyone with delete rights removes its data with one call.",
                "lock it as components/delete_locks.py does.", resource.urn)
    for lock, _ in locks:
        if not lock.opts.protect:
            check.fail(
                "The delete lock is not protected in Pulumi state: removing it from the program would delete it.",
                "create locks with protect=True; lift it only through make destroy UNPROTECT=1.", lock.urn)
    # Scopes are resource ids, unknown until the resources exist: say so rather than pass.
    not_yet_checked("delete locks", [f"the scopes or names of {', '.join(unknown)}, and so what is locked"]
                    if unknown else [])


DELETE_LOCKS = stack_policy(
    "delete-locks", validate_delete_locks,
    url="https://learn.microsoft.com/azure/azure-resource-manager/management/lock-resources",
    remediation="Add DeleteLocks as __main__.py does for protected stacks.",
)
