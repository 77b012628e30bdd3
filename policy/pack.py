"""Which policies make up the agent-obo pack, in the order the CLI reports them.

Kept apart from __main__.py, which serves the pack and blocks, so tests and the offline harness can
import the same list. One module per area; each policy cites the Microsoft page it enforces (`url`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Policy

from policy.app_registration import APP_REGISTRATION, APP_REGISTRATION_BINDING
from policy.connections import CONNECTION_ACCESS_POLICY, CONNECTIONS_AS_DECLARED, IDENTITY_LABELS
from policy.declared import policy_entry
from policy.easy_auth import EASY_AUTH, EASY_AUTH_BINDING
from policy.graph import GRAPH_LEAST_PRIVILEGE
from policy.hardening import (
    AUDIT_ALERTS,
    DIAGNOSTICS,
    MODEL_HARDENING,
    SITE_HARDENING,
    SITE_SETTINGS_BOUND,
    STORAGE_HARDENING,
)
from policy.inventory import RESOURCE_INVENTORY
from policy.known_properties import KNOWN_PROPERTIES_POLICY
from policy.network import PRIVATE_NETWORKING
from policy.resilience import DELETE_LOCKS, HEALTH_CHECK, MODEL_IDENTITY, ZONE_REDUNDANCY
from policy.role_assignments import ROLE_ASSIGNMENT_PRINCIPALS, ROLE_ASSIGNMENTS
from policy.run_history import TOOL_RUN_HISTORY
from policy.stack_declarations import STACK_DECLARATIONS
from policy.tags import REQUIRED_TAGS_POLICY
from policy.workflow_package import WORKFLOW_PACKAGE

PACK_NAME = "agent-obo-policies"

POLICIES: list[Policy] = [
    # What the stack declares
    STACK_DECLARATIONS,
    # Easy Auth
    EASY_AUTH,
    EASY_AUTH_BINDING,
    # App registration
    APP_REGISTRATION,
    APP_REGISTRATION_BINDING,
    # Microsoft Graph
    GRAPH_LEAST_PRIVILEGE,
    # Connections and the workflow that uses them
    IDENTITY_LABELS,
    CONNECTIONS_AS_DECLARED,
    CONNECTION_ACCESS_POLICY,
    WORKFLOW_PACKAGE,
    TOOL_RUN_HISTORY,
    # Role assignments
    ROLE_ASSIGNMENTS,
    ROLE_ASSIGNMENT_PRINCIPALS,
    # Hardening: site, storage, model, logs
    SITE_HARDENING,
    SITE_SETTINGS_BOUND,
    STORAGE_HARDENING,
    MODEL_HARDENING,
    DIAGNOSTICS,
    AUDIT_ALERTS,
    # Networking and resilience, as each stack declares them
    PRIVATE_NETWORKING,
    ZONE_REDUNDANCY,
    HEALTH_CHECK,
    MODEL_IDENTITY,
    DELETE_LOCKS,
    # Inventory, properties and tags
    RESOURCE_INVENTORY,
    KNOWN_PROPERTIES_POLICY,
    REQUIRED_TAGS_POLICY,
]


def relax(policies: list[Policy], document: Mapping[str, Any]) -> None:
    """Set each policy to the level the stack's configuration gives it (`all` first, then by name)."""
    for policy in policies:
        for key in ("all", policy.name):
            level = policy_entry(document, key).get("enforcementLevel")
            if level:
                policy.enforcement_level = EnforcementLevel(level)
