"""Entry point the Pulumi CLI runs for `pulumi preview --policy-pack policy`.

Only the pack is built here: PolicyPack starts the analyzer's gRPC server and blocks, so the
policies live in agent_obo_policies.py where tests and policy/harness.py import them.
"""

from agent_obo_policies import ALL_POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(name="agent-obo-policies", enforcement_level=EnforcementLevel.MANDATORY, policies=ALL_POLICIES)
