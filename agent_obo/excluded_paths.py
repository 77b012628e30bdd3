"""The paths Easy Auth lets through without a sign-in: only what the Logic Apps runtime needs.

Each excludable prefix carries its reason (docs/operations.md, "Excluded paths"). A path is accepted
only as a declared prefix followed by plain segments, with a wildcard only as the whole last
segment, so nothing reaches past the prefix: no `.` or `..` segment, no percent-encoding (an
encoded `..` or `/`), no backslash, no empty segment, no query or fragment, no other wildcard.
"""

from __future__ import annotations

import re

EXCLUDABLE_PREFIXES: dict[str, str] = {
    "/runtime/": (
        "the Logic Apps runtime's own APIs (workflow management, run history, monitoring), which the "
        "Azure portal reaches through Azure Resource Manager's hostruntime path, where Azure RBAC "
        "authorizes the caller; Microsoft's agent Easy Auth set-up excludes /runtime so that "
        "monitoring and the other runtime APIs keep working (Azure/logicapps-labs, AI course "
        "06-deploy-agents-clients)"
    ),
}

# One path segment: letters, digits, '_' and '-', with single dots only between them.
_SEGMENT = r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*"
EXCLUDED_PATH = re.compile(
    "(?:" + "|".join(re.escape(prefix) for prefix in EXCLUDABLE_PREFIXES) + ")"
    + rf"(?:{_SEGMENT}/)*(?:{_SEGMENT}|\*)"
)
EXCLUDED_PATH_HINT = (
    "a path under " + " or ".join(EXCLUDABLE_PREFIXES) + " (the runtime's own APIs), such as /runtime/*: "
    "plain segments of letters, digits, '_', '-' and inner dots, '*' only as the whole last segment; "
    "no '..', '.', '%', '\\', '//', '?' or '#'"
)


def is_excludable(path: str) -> bool:
    return EXCLUDED_PATH.fullmatch(path) is not None
