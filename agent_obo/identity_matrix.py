"""The identity matrix: every tool with the identity it runs as and the connection that carries it.

Exported as a stack output and generated into docs/identity-matrix.md (`make docs`), so that which
tool runs as whom is one glance away; the document adds what the tools need from the stack (their
settings, and the containers the app's identity reaches for them), from the same catalog.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from agent_obo.catalog import Catalog, load_catalog
from agent_obo.tool_connections import ConnectionSpec, connection_specs
from agent_obo.tool_inputs import container_grants, settings_of
from agent_obo.yaml_files import PROJECT_DIR, display_path

COLUMNS = ("tool", "identity", "connection", "connector", "authentication", "scopes", "access")
DOC_PATH = "docs/identity-matrix.md"


def identity_matrix(catalog: Catalog, connections: Iterable[ConnectionSpec]) -> list[dict[str, str]]:
    """One row per tool; `connections` are the catalog's (connection_specs), computed once per run."""
    by_reference = {spec.reference: spec for spec in connections}
    rows = []
    for tool in catalog.tools:
        spec = by_reference[tool.connection_reference]
        rows.append({
            "tool": tool.name,
            "identity": tool.identity,
            "connection": spec.reference,
            "connector": tool.connector.display_name,
            "authentication": spec.authentication,
            "scopes": " ".join(tool.scopes) if tool.scopes else "-",
            "access": tool.access + (" (confirm first)" if tool.requires_confirmation else ""),
        })
    return rows


def identity_matrix_markdown(catalog: Catalog) -> str:
    rows = identity_matrix(catalog, connection_specs(catalog))
    lines = [
        "# Identity matrix",
        "",
        "Generated from `catalog/tools.yaml` by `make docs`; a test fails when it is out of date.",
        "Per-user tools run on behalf of the signed-in user (each user signs in to the connection at",
        "first use); app-only tools run as the app, the same for every user.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join("---" for _ in COLUMNS) + "|",
    ]
    lines += ["| " + " | ".join(f"`{row[c]}`" if c in ("tool", "connection") else row[c] for c in COLUMNS) + " |"
              for row in rows]
    lines += ["", "## What the app's identity reaches for its tools", "",
              "Each tool's `storage` in the catalog: a blob container of the runtime storage account, created by",
              "the program, on which the site's system-assigned identity holds one data role, for enabled tools only.",
              "", "| container | role of the site's identity | connection | tools |", "|---|---|---|---|"]
    lines += [f"| `{grant.container}` | Storage Blob Data {'Reader' if grant.access == 'read' else 'Contributor'} | "
              f"`{grant.connection}` | {', '.join(f'`{tool}`' for tool in grant.tools)} |"
              for grant in container_grants(catalog)]
    users = {name: [tool.name for tool in catalog.tools if any(s.name == name for s in tool.settings)]
             for name in settings_of(catalog)}
    lines += ["", "## Tool settings", "",
              "Each tool's `settings` in the catalog: set as `agent-obo:<name>` in `Pulumi.<stack>.yaml`, checked",
              "whole against the pattern before anything is deployed, and carried to the site in app setting",
              "`TOOL_<NAME>`. A required one must be set while a tool that declares it is enabled.", "",
              "| setting | what it is | such as | required | app setting | tools |", "|---|---|---|---|---|---|"]
    lines += [f"| `{name}` | {setting.description} | `{setting.example}` | {'yes' if setting.required else 'no'} | "
              f"`{setting.app_setting}` | {', '.join(f'`{tool}`' for tool in users[name])} |"
              for name, setting in settings_of(catalog).items()]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """`make docs`: writes docs/identity-matrix.md from catalog/tools.yaml (--output: elsewhere)."""
    parser = argparse.ArgumentParser(prog="python -m agent_obo.identity_matrix", description=main.__doc__)
    parser.add_argument("--output", type=Path, default=PROJECT_DIR / DOC_PATH)
    target = parser.parse_args(argv).output
    target.write_bytes(identity_matrix_markdown(load_catalog()).encode("utf-8"))
    print(f"wrote {display_path(target)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
