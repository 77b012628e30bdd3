"""`make snapshot`: every stack's resource URNs, one per line, sorted, in tests/snapshots/<stack>.urns.txt.

A URN is what the state knows a resource by: its type, its parents' types and its name. Rename a
resource, or move it under another parent, and `pulumi up` deletes the deployed one and creates a new
one. tests/test_urn_snapshot.py fails until the change either keeps the old URN with an alias or is
recorded here on purpose; a resource added or removed is recorded too, so the snapshot stays exact and
every difference in a pull request is one a reviewer sees.
"""

from __future__ import annotations

import sys
from pathlib import Path

from offline.plan import Plan
from offline.runner import PROJECT_DIR, run_stack, stacks

SNAPSHOT_DIR = PROJECT_DIR / "tests" / "snapshots"
PROJECTS = (PROJECT_DIR, PROJECT_DIR / "bootstrap")  # the repository's Pulumi projects


def urn_lines(plan: Plan) -> list[str]:
    """The plan's URNs without their stack and project: type (with its parents' types) and name, sorted."""
    return sorted(registration.urn.split("::", 2)[2] for registration in plan.registrations)


def snapshot_path(stack: str) -> Path:
    return SNAPSHOT_DIR / f"{stack}.urns.txt"


def recorded(stack: str) -> list[str]:
    path = snapshot_path(stack)
    return path.read_text().splitlines() if path.is_file() else []


def _name(line: str) -> tuple[str, str]:
    chain, _, name = line.rpartition("::")
    return chain, name


def differences(stack: str, before: list[str], now: list[str]) -> str:
    """What changed against the snapshot, and what to do about it; "" when nothing did."""
    gone, new = sorted(set(before) - set(now)), sorted(set(now) - set(before))
    if not gone and not new:
        return ""
    lines = [f"stack {stack}: its resources' URNs differ from {snapshot_path(stack).relative_to(PROJECT_DIR)}."]
    renamed = []
    for old in gone:
        chain, old_name = _name(old)
        for candidate in new:
            if _name(candidate)[0] == chain:
                renamed.append((old_name, _name(candidate)[1], chain.rsplit("$", 1)[-1]))
                break
    if gone:
        lines += ["  Gone (`pulumi up` would delete these deployed resources):", *(f"    {u}" for u in gone)]
    if new:
        lines += ["  New (`pulumi up` would create these):", *(f"    {u}" for u in new)]
    lines += [
        "  A rename or a move to another parent replaces the deployed resource. Keep it with an alias on the",
        "  resource as it is now named, the old name (or parent) in it, then record the new URN:",
        *(f"    {type_} {new_name!r}: opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name={old_name!r})])"
          for old_name, new_name, type_ in renamed),
        "    (a move: pulumi.Alias(parent=<the old parent>); Pulumi's docs: concepts/options/aliases)",
        "  A resource added or removed on purpose, or an alias in place: record it with `make snapshot`.",
    ]
    return "\n".join(lines)


def main() -> int:
    SNAPSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for project_dir in PROJECTS:
        for stack in stacks(project_dir):
            lines = urn_lines(run_stack(stack, project_dir=project_dir).ok())
            snapshot_path(stack).write_text("\n".join(lines) + "\n")
            print(f"wrote {snapshot_path(stack).relative_to(PROJECT_DIR)} ({len(lines)} URNs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
