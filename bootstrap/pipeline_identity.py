"""The identities the GitHub pipeline signs in as, with OpenID Connect and no stored secret.

Two identities, because a pull request runs code nobody has reviewed yet: its preview signs in as
an identity that can read the subscription and the state but change nothing, while only
jobs of the main branch and of the deploy environments (the prod one behind required reviewers)
can sign in as the identity that deploys. Each identity trusts GitHub's token issuer for exactly
the subjects listed in its federated credentials.

What `pulumi up` needs at the deployment subscription: Contributor for the resources, and the
right to create the role assignments the program makes (the runtime identity's storage roles, the
model role, the runbook reader, the deployer's package upload). `constrained` grants that right
through Role Based Access Control Administrator with a condition that admits only those roles, so
the pipeline can never grant itself or anyone Owner; `owner` grants Owner, simpler but unbounded.
Microsoft Graph rights (app registration, admin consent) are granted by a tenant administrator,
not here: docs/operations.md lists them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import authorization, managedidentity
from state_backend import KEY_VAULT_CRYPTO_USER, STORAGE_BLOB_DATA_CONTRIBUTOR, role_definition_id

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"

# Built-in role definition ids (the same in every subscription).
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
RBAC_ADMINISTRATOR = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
STORAGE_BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"

# The roles the agent-obo program assigns (components/role_ids.py); tests/test_bootstrap.py checks
# this list against every stack's plan, so a new role in the program cannot be forgotten here.
PROGRAM_ASSIGNED_ROLES = {
    "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "Storage Blob Data Reader": STORAGE_BLOB_DATA_READER,
    "Storage Blob Data Contributor": STORAGE_BLOB_DATA_CONTRIBUTOR,
    "Storage Queue Data Contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "Storage Table Data Contributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    "Cognitive Services OpenAI User": "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd",
}


def constrained_assignment_condition(role_ids: Iterable[str]) -> str:
    """An Azure ABAC condition (version 2.0) that lets its holder create and delete role assignments
    of the listed roles only (learn.microsoft.com/azure/role-based-access-control/
    delegate-role-assignments-examples, "Constrain roles"). Creating and deleting need one clause
    each: the role of a new assignment is in the request, that of an existing one on the resource."""
    ids = ", ".join(sorted(set(role_ids)))
    return (
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
        f"(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{ids}}}))"
        " AND "
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR "
        f"(@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{ids}}}))"
    )


@dataclass(frozen=True)
class RoleGrant:
    """One role assignment of a pipeline identity; `key` names it, stably, in the Pulumi state."""

    key: str
    role_id: str
    scope: pulumi.Input[str]
    description: str
    condition: str | None = None


def state_grants(state_role_id: str, state_container_id: pulumi.Input[str],
                 secrets_key_id: pulumi.Input[str]) -> list[RoleGrant]:
    """Access to the state container (`state_role_id`) and use of the key that decrypts the stacks'
    secrets; neither identity may manage the account or the vault."""
    access = "read and write checkpoints" if state_role_id == STORAGE_BLOB_DATA_CONTRIBUTOR else "read checkpoints"
    return [
        RoleGrant("state-blobs", state_role_id, state_container_id, f"Pulumi state: {access} in the state container"),
        RoleGrant("secrets-key", KEY_VAULT_CRYPTO_USER, secrets_key_id,
                  "Pulumi secrets: encrypt and decrypt stack data keys with the secrets key"),
    ]


def preview_grants(deployment_scope: str, state_container_id: pulumi.Input[str],
                   secrets_key_id: pulumi.Input[str]) -> list[RoleGrant]:
    """A preview reads what is deployed and the last checkpoint, and writes neither (it takes no
    stack lock): read-only everywhere."""
    return [
        RoleGrant("deployment-reader", READER, deployment_scope,
                  "pulumi preview on pull requests: read what is deployed, change nothing"),
        *state_grants(STORAGE_BLOB_DATA_READER, state_container_id, secrets_key_id),
    ]


def deploy_grants(deployment_scope: str, deployment_access: str, state_container_id: pulumi.Input[str],
                  secrets_key_id: pulumi.Input[str]) -> list[RoleGrant]:
    if deployment_access == "owner":
        deployment = [RoleGrant("deployment-owner", OWNER, deployment_scope,
                                "pulumi up: every resource and every role assignment of the program")]
    else:
        deployment = [
            RoleGrant("deployment-contributor", CONTRIBUTOR, deployment_scope,
                      "pulumi up: create, change and delete the program's resources"),
            RoleGrant("deployment-role-assignments", RBAC_ADMINISTRATOR, deployment_scope,
                      "pulumi up: assign only the data roles the program assigns (condition)",
                      condition=constrained_assignment_condition(PROGRAM_ASSIGNED_ROLES.values())),
        ]
    return [*deployment, *state_grants(STORAGE_BLOB_DATA_CONTRIBUTOR, state_container_id, secrets_key_id)]


def credential_name(subject: str) -> str:
    """`repo:o/r:environment:prod` -> `github-environment-prod`: letters, digits, '-' and '_' only."""
    claim = subject.split(":", 2)[2]
    return "github-" + re.sub(r"[^A-Za-z0-9_-]+", "-", claim.removeprefix("ref:refs/heads/").replace(
        ":", "-")).strip("-")


@dataclass
class PipelineIdentityArgs:
    identity_name: str
    resource_group_name: pulumi.Input[str]
    location: str
    subscription_id: str
    subjects: list[str]
    grants: list[RoleGrant]
    tags: dict[str, str] = field(default_factory=dict)


class PipelineIdentity(pulumi.ComponentResource):
    """A user-assigned identity that GitHub Actions jobs with the given subjects sign in as."""

    def __init__(self, name: str, args: PipelineIdentityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("agent-obo-bootstrap:pipeline:PipelineIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.identity = managedidentity.UserAssignedIdentity(
            name, resource_name_=args.identity_name, resource_group_name=args.resource_group_name,
            location=args.location, tags=args.tags, opts=child)

        # Azure refuses concurrent writes of federated credentials on one identity
        # (ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity): chain them.
        self.federated_credentials: list[managedidentity.FederatedIdentityCredential] = []
        previous: list[pulumi.Resource] = []
        for subject in args.subjects:
            credential = managedidentity.FederatedIdentityCredential(
                f"{name}-{credential_name(subject)}",
                federated_identity_credential_resource_name=credential_name(subject),
                resource_name_=self.identity.name,
                resource_group_name=args.resource_group_name,
                issuer=GITHUB_ISSUER,
                subject=subject,
                audiences=[TOKEN_EXCHANGE_AUDIENCE],
                opts=pulumi.ResourceOptions(parent=self, depends_on=previous),
            )
            self.federated_credentials.append(credential)
            previous = [credential]

        self.role_assignments = [
            authorization.RoleAssignment(
                f"{name}-{grant.key}",
                scope=grant.scope,
                principal_id=self.identity.principal_id,
                # Set, so Azure does not look the new identity up in a directory that may not have it yet.
                principal_type=authorization.PrincipalType.SERVICE_PRINCIPAL,
                role_definition_id=role_definition_id(args.subscription_id, grant.role_id),
                description=grant.description,
                condition=grant.condition,
                condition_version="2.0" if grant.condition else None,
                opts=child,
            )
            for grant in args.grants
        ]
        self.client_id = self.identity.client_id
        self.principal_id = self.identity.principal_id
        self.register_outputs({"clientId": self.client_id, "principalId": self.principal_id,
                               "subjects": args.subjects})
