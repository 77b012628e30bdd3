"""Which policies make up the agent-obo pack, in the order the CLI reports them.

Kept apart from __main__.py, which serves the pack and blocks, so tests and the offline harness can
import the same list.
"""

from __future__ import annotations

from pulumi_policy import Policy

from policy.connections import CONNECTION_ACCESS_POLICY, IDENTITY_LABELS
from policy.easy_auth import EASY_AUTH
from policy.graph import GRAPH_LEAST_PRIVILEGE
from policy.hardening import MODEL_LOCAL_AUTH, PUBLISHING_CREDENTIALS_DECLARED, SITE_HARDENING, STORAGE_HARDENING
from policy.network import PRIVATE_NETWORKING
from policy.resilience import DELETE_LOCKS, HEALTH_CHECK, MODEL_IDENTITY, ZONE_REDUNDANCY
from policy.run_history import TOOL_RUN_HISTORY
from policy.tags import REQUIRED_TAGS_POLICY

PACK_NAME = "agent-obo-policies"

POLICIES: list[Policy] = [
    IDENTITY_LABELS,
    GRAPH_LEAST_PRIVILEGE,
    CONNECTION_ACCESS_POLICY,
    EASY_AUTH,
    SITE_HARDENING,
    PUBLISHING_CREDENTIALS_DECLARED,
    STORAGE_HARDENING,
    MODEL_LOCAL_AUTH,
    REQUIRED_TAGS_POLICY,
    TOOL_RUN_HISTORY,
    PRIVATE_NETWORKING,
    ZONE_REDUNDANCY,
    HEALTH_CHECK,
    MODEL_IDENTITY,
    DELETE_LOCKS,
]
