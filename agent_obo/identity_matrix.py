"""The identity matrix: every tool with the identity it runs as and the connection that carries it.

Exported as a stack output and generated into docs/identity-matrix.md (`make docs`), so that which
tool runs as whom is one glance away.
"""

from __future__ import annotations

from collections.abc import Iterable

from agent_obo.catalog import Catalog
from agent_obo.tool_connections import ConnectionSpec, connection_specs

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
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # `make docs`
    from pathlib import Path

    from agent_obo.catalog import load_catalog

    target = Path(__file__).resolve().parent.parent / DOC_PATH
    target.write_text(identity_matrix_markdown(load_catalog()))
    print(f"wrote {DOC_PATH}")
