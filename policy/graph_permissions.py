"""Microsoft Graph delegated permission ids, by scope name.

An app registration names its permissions by id, a consent grant by name; the ids are the same in every
tenant and listed in learn.microsoft.com/graph/permissions-reference. The pack holds its own copy rather
than asking the tenant, so a scope it does not know is a question for a reviewer of this file, not a pass.
"""

from __future__ import annotations

DELEGATED_SCOPE_IDS = {
    "User.Read": "e1fe6dd8-ba31-4d61-89e7-88639da4683d",
    "User.ReadBasic.All": "b340eb25-3456-403f-be2f-af7a0d370277",
    "User.Read.All": "a154be20-db9c-4678-8ab7-66f6cc099a59",
    "openid": "37f7f235-527c-4136-accd-4a02d197296e",
    "profile": "14dad69e-099b-42c9-810b-d002981feec1",
    "email": "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0",
    "offline_access": "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
    "Calendars.Read": "465a38f9-76ea-45b9-9f34-9e8b0d4b0b42",
    "Calendars.Read.Shared": "2b9c4092-424d-4249-948d-b43879977640",
    "Calendars.ReadWrite": "1ec239c2-d7c9-4623-a91a-a9775856bb36",
    "Mail.Read": "570282fd-fa5c-430d-a7fd-fc8dc98a9dca",
    "Mail.ReadWrite": "024d486e-b451-40bb-833d-3e66d98c5c73",
    "Mail.Send": "e383f46e-2787-4529-855e-0e479a3ffac0",
    "Files.Read": "10465720-29dd-4523-a11a-6a75c743c9d9",
    "Files.Read.All": "df85f4d6-205c-4ac5-a5ea-6bf408dba283",
    "Files.ReadWrite": "5c28f0bf-8a70-41f1-8ab2-9032436ddb65",
    "Files.ReadWrite.All": "863451e7-0667-486c-a5d6-d135439485f0",
    "Sites.Read.All": "205e70e5-aba6-4c52-a976-6d2d46c48043",
    "Directory.Read.All": "06da0dbc-49e2-44d2-8312-53f166ab848a",
    "Directory.ReadWrite.All": "c5366453-9fb0-48a5-a156-24f0c49a4b84",
    "ChannelMessage.Send": "ebf0f66e-9fb1-49e4-a278-222f76911cf4",
    "Team.ReadBasic.All": "485be79e-c497-4b35-9400-0e3fa7f2a5d4",
}
SCOPE_NAMES_BY_ID = {permission_id: name for name, permission_id in DELEGATED_SCOPE_IDS.items()}
