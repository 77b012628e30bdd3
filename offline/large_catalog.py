"""A generated tool catalog of any size, for the scale tests and `make benchmark`.

Its tools sit on as few connectors as the catalog's rules allow: one. Office 365 Outlook takes
per-user connections, so the user's own reads run per-user there, and so do some justified per-user
writes; shared reads and guarded writes run app-only on the same connector. That makes each of its
two connections carry as many tools (and write tools, and justified exceptions) as possible: the
worst case for the connections' tags. Names are long, as real ones get. The guarded writes declare
and read the settings the tools of catalog/tools.yaml declare, so every stack file, which sets
them, plans with this catalog too.

    python -m offline.large_catalog 100 > build/tools-100.yaml
"""

from __future__ import annotations

import copy
import sys
from typing import Any

import yaml

CONNECTOR = "office365"
# Delegated Microsoft Graph scopes the offline mocks know, for the per-user tools.
SCOPES = ("Calendars.Read", "Mail.Read", "Mail.ReadWrite", "Calendars.ReadWrite", "User.Read")


def _per_user_read(index: int) -> dict[str, Any]:
    return {
        "name": f"get_my_calendar_and_mail_item_{index:03d}_details",
        "description": f"Gets item {index} of the signed-in user's own mailbox and calendar, read with the "
                       "signed-in user's permissions.",
        "connector": CONNECTOR,
        "operation": {"method": "get", "path": f"/v3/Mail/item{index}",
                      "queries": {"top": "@agentParameters('count')"}},
        "arguments": {"type": "object", "required": ["count"], "properties": {
            "count": {"type": "integer", "minimum": 1, "maximum": 25, "description": "How many items to get."}}},
        "identity": "per-user", "data": "user", "access": "read",
        "scopes": [SCOPES[index % 2]],
    }


def _per_user_write(index: int) -> dict[str, Any]:
    return {
        "name": f"flag_my_own_mail_message_{index:03d}_for_follow_up",
        "description": f"Flags message {index} in the signed-in user's own mailbox for follow-up, with the "
                       "signed-in user's permissions.",
        "connector": CONNECTOR,
        "operation": {"method": "post", "path": f"/v3/Mail/Flag/item{index}"},
        "identity": "per-user", "data": "user", "access": "write", "requires_confirmation": True,
        "scopes": ["Mail.ReadWrite"],
        "justification": "Flagging changes only the user's own mailbox, so it runs with the user's permissions.",
    }


def _app_only_read(index: int) -> dict[str, Any]:
    return {
        "name": f"get_shared_team_calendar_room_{index:03d}_schedule",
        "description": f"Gets the schedule of shared meeting room {index}, as the app through the operations "
                       "service account; the same for every user.",
        "connector": CONNECTOR,
        "operation": {"method": "get", "path": f"/datasets/calendars/v3/tables/room{index}/items"},
        "identity": "app-only", "data": "shared", "access": "read",
    }


def _catalog_settings() -> dict[str, Any]:
    """Every tool setting catalog/tools.yaml declares, as it declares it."""
    from agent_obo.catalog import CATALOG_PATH
    from agent_obo.yaml_files import read_mapping

    tools = read_mapping(CATALOG_PATH, "the tool catalog").get("tools") or []
    return {name: spec for tool in tools for name, spec in (tool.get("settings") or {}).items()}


def _app_only_write(index: int, settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": f"post_shared_room_{index:03d}_booking_notice_to_team",
        "description": f"Sends a booking notice for shared room {index} to the team, as the app through the "
                       "operations service account; everyone on the list receives it.",
        "connector": CONNECTOR,
        "operation": {"method": "post", "path": "/v2/Mail",
                      "body": {"Subject": f"Room {index}", "Body": "<p>{choice:status}</p><p>By {requester}</p>",
                               **{name: f"@parameters('{name}')" for name in settings}}},
        **({"settings": copy.deepcopy(settings)} if settings else {}),  # a shared object would dump as an alias
        "write_guard": {"choices": {"status": {"description": "The booking's status to announce.", "values": {
            "booked": "Booked", "released": "Released for others"}}}},
        "identity": "app-only", "data": "shared", "access": "write", "requires_confirmation": True,
    }


def large_catalog(size: int) -> dict[str, Any]:
    """`size` tools: per-user reads and justified writes, app-only reads and guarded writes, in turn."""
    settings = _catalog_settings()
    makers = (_per_user_read, _per_user_write, _app_only_read, lambda index: _app_only_write(index, settings))
    return {"tools": [makers[index % len(makers)](index) for index in range(size)]}


def large_catalog_yaml(size: int) -> str:
    return yaml.safe_dump(large_catalog(size), sort_keys=False, width=120)


if __name__ == "__main__":
    sys.stdout.write(large_catalog_yaml(int(sys.argv[1]) if len(sys.argv) > 1 else 100))
