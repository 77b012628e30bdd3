"""Built-in Azure role definition ids (the same in every subscription)."""

STORAGE_BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
STORAGE_BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
STORAGE_QUEUE_DATA_CONTRIBUTOR = "974c5e8b-45b9-4653-ba55-5f855dd0fb88"
STORAGE_TABLE_DATA_CONTRIBUTOR = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"
COGNITIVE_SERVICES_OPENAI_USER = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"
# What the bootstrap gives the pipeline identities and the state operators (bootstrap/).
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
USER_ACCESS_ADMINISTRATOR = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
ROLE_BASED_ACCESS_CONTROL_ADMINISTRATOR = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
LOCKS_CONTRIBUTOR = "28bf596f-4eb7-45ce-b5bc-6cf482fec137"
KEY_VAULT_CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"


# The data role a tool's declared `storage` access gives the site's identity on its container
# (agent_obo/tool_inputs.py): Contributor reads too, so one role per container is enough.
BLOB_DATA_ROLES = {"read": STORAGE_BLOB_DATA_READER, "write": STORAGE_BLOB_DATA_CONTRIBUTOR}


def role_definition_id(subscription_id: str, role_id: str) -> str:
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role_id}"


# Names of the built-in roles this project and its bootstrap assign, or may meet, by id
# (learn.microsoft.com/azure/role-based-access-control/built-in-roles): `make plan` shows each role
# assignment by name, and a test fails when a plan assigns a role missing here.
BUILT_IN_ROLE_NAMES = {
    OWNER: "Owner",
    CONTRIBUTOR: "Contributor",
    READER: "Reader",
    USER_ACCESS_ADMINISTRATOR: "User Access Administrator",
    ROLE_BASED_ACCESS_CONTROL_ADMINISTRATOR: "Role Based Access Control Administrator",
    LOCKS_CONTRIBUTOR: "Locks Contributor",
    STORAGE_BLOB_DATA_OWNER: "Storage Blob Data Owner",
    STORAGE_BLOB_DATA_CONTRIBUTOR: "Storage Blob Data Contributor",
    STORAGE_BLOB_DATA_READER: "Storage Blob Data Reader",
    STORAGE_QUEUE_DATA_CONTRIBUTOR: "Storage Queue Data Contributor",
    STORAGE_TABLE_DATA_CONTRIBUTOR: "Storage Table Data Contributor",
    "17d1049b-9a84-46fb-8f53-869881c3d3ab": "Storage Account Contributor",
    "0c867c2a-1d8c-454a-a3db-ab2ea1bdc8bb": "Storage File Data SMB Share Contributor",
    COGNITIVE_SERVICES_OPENAI_USER: "Cognitive Services OpenAI User",
    "a001fd3d-188f-4b5d-821b-7da978bf7442": "Cognitive Services OpenAI Contributor",
    KEY_VAULT_CRYPTO_USER: "Key Vault Crypto User",
    "e147488a-f6f5-4113-8e2d-b22465e65bf6": "Key Vault Crypto Service Encryption User",
    "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
    "00482a5a-887f-4fb3-b363-3b7fe8e74483": "Key Vault Administrator",
    "43d0d8ad-25c7-4714-9337-8ba259a9fe05": "Monitoring Reader",
    "749f88d5-cbae-40b8-bcfc-e573ddc772fa": "Monitoring Contributor",
    "73c42c96-874c-492b-b04d-ab87d138a893": "Log Analytics Reader",
    "87a39d53-fc1b-424a-814c-f7e04687dc9e": "Logic App Contributor",
    "de139f84-1756-47ae-9be6-808fbbe84772": "Website Contributor",
    "f1a07417-d97a-45cb-824c-7a7467783830": "Managed Identity Operator",
}
