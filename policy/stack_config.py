"""What a stack declares that the policy pack must know, derived from the stack's own settings.

A policy cannot see the stack's config, only its resources; but some rules depend on a choice the
stack makes on purpose (shared keys are allowed only on a stack that declares
`hostStorageAuthentication: accessKey`). Those choices reach the pack as policy configuration,
computed here from the same validated settings the program uses, so the pack cannot drift from
the program and a component edited to look like the other mode still fails the gate.

    python -m policy.stack_config prod            # the --policy-pack-config JSON for stack prod
    python -m policy.stack_config prod -o FILE    # written to FILE (make preview / make up do this)

Runs in the program's virtualenv (it reads agent_obo's settings); the pack itself only reads the
JSON it is given. Without the file the pack assumes the strictest declarations (its schema
defaults), so a hand-run `pulumi preview --policy-pack policy` can only be stricter, never looser.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agent_obo.settings import Settings, load_settings

# The policies that read a stack declaration, and the config key each reads.
HOST_STORAGE_KEY = "hostStorageAuthentication"
DELEGATE_TOOL_SCOPES_KEY = "delegateToolScopesToChatApp"


def declared_policy_config(settings: Settings) -> dict[str, dict[str, Any]]:
    """`--policy-pack-config` content: policy name -> its config."""
    host_storage = {HOST_STORAGE_KEY: settings.host_storage_authentication}
    network = settings.network
    return {
        "storage-hardening": dict(host_storage),
        "site-hardening": dict(host_storage),
        "tool-run-history": {"secureAgentRunHistory": settings.audit.secure_agent_run_history},
        "private-networking": {"privateNetworking": network is not None,
                               "publicIngress": network.public_ingress if network else True},
        "zone-redundancy": {"zoneRedundant": settings.zone_redundant},
        "delete-locks": {"protectStatefulResources": settings.protect_stateful_resources},
        "graph-least-privilege": {DELEGATE_TOOL_SCOPES_KEY: settings.sign_in.delegate_tool_scopes},
    }


def policy_config_for(config: Mapping[str, str], stack: str) -> dict[str, dict[str, Any]]:
    """The declarations of a stack from its raw config (what the offline plan ran with)."""
    return declared_policy_config(load_settings(config, stack))


def main(argv: list[str] | None = None) -> int:
    from agent_obo.errors import SettingsError
    from agent_obo.stack_files import stack_path
    from offline.runner import stack_config, stack_file

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stack", help="stack name: Pulumi.<stack>.yaml")
    parser.add_argument("-o", "--output", type=Path, help="write the JSON here instead of printing it")
    args = parser.parse_args(argv)
    if not stack_path(args.stack).is_file():
        print(f"error: no stack file Pulumi.{args.stack}.yaml", file=sys.stderr)
        return 2
    try:
        values = stack_file(args.stack).get("config") or {}
        document = policy_config_for(stack_config(values), args.stack)
    except SettingsError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
