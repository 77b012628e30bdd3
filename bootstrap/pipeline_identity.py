"""Each environment's resource group and the two identities the GitHub pipeline signs in as for it.

Per environment, because the boundary between dev and prod must be one Azure enforces, not a step
in a workflow: the prod deploy identity can change prod and nothing else, and a token for it exists
only in a job of the GitHub environment `prod` (its reviewers and branch rules decide who gets one).

- **deploy** (`repo:<owner>/<repo>:environment:<env>`): Contributor on the environment's resource
  group, which this program creates (so no pipeline identity needs a right on the subscription);
  Role Based Access Control Administrator there, with a condition admitting only the roles the
  program assigns and only to service principals; Locks Contributor there where the stack protects
  its stateful resources with delete locks; read and write of its own state container, use of its
  own secrets key; in Microsoft Graph, reading applications and managing the ones it owns.
- **preview** (`repo:<owner>/<repo>:environment:<env>-preview`): Reader on the same group, read of
  the same state container, use of the same key (a preview decrypts the stack's config), and
  reading applications in Microsoft Graph. It changes nothing, and it cannot read or decrypt any
  other environment's state.

Both identities live in the bootstrap's own resource group, where no pipeline identity holds any
role, so neither can add a federated credential to itself. No identity receives a tenant-wide
Entra write permission: consent and user assignment are an administrator's step (make grant-sign-in).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_azuread as azuread
from pulumi_azure_native import authorization, managedidentity, resources

from agent_obo.entra import TOKEN_EXCHANGE_AUDIENCE
from components import role_ids
from components.placement import Placement
from components.role_ids import role_definition_id

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"

# The roles the agent-obo program assigns; tests/test_bootstrap.py checks this list against every
# stack's plan, so a new role in the program cannot be forgotten here.
PROGRAM_ASSIGNED_ROLES = (
    role_ids.STORAGE_BLOB_DATA_OWNER,
    role_ids.STORAGE_BLOB_DATA_READER,
    role_ids.STORAGE_BLOB_DATA_CONTRIBUTOR,
    role_ids.STORAGE_QUEUE_DATA_CONTRIBUTOR,
    role_ids.STORAGE_TABLE_DATA_CONTRIBUTOR,
    role_ids.COGNITIVE_SERVICES_OPENAI_USER,
)
# Every principal the program assigns a role to is a managed identity, or the deploy identity itself.
PROGRAM_PRINCIPAL_TYPES = ("ServicePrincipal",)

# Microsoft Graph application permissions per pipeline identity: reading applications and service
# principals (the program reads Microsoft Graph's scope ids and its own app), and, to deploy,
# creating the chat app and managing only the apps it owns (learn.microsoft.com/graph/
# permissions-reference: Application.ReadWrite.OwnedBy "cannot update any apps that it is not an
# owner of"). Never AppRoleAssignment.ReadWrite.All or DelegatedPermissionGrant.ReadWrite.All.
GRAPH_PERMISSIONS = {
    "deploy": ("Application.Read.All", "Application.ReadWrite.OwnedBy"),
    "preview": ("Application.Read.All",),
}


def constrained_assignment_condition(role_ids: Iterable[str], principal_types: Iterable[str]) -> str:
    """An Azure ABAC condition (version 2.0) that lets its holder create and delete role assignments
    only of the listed roles and only for principals of the listed types: Learn, "Examples to delegate
    Azure role assignment management with conditions", "Constrain roles and principal types"
    (learn.microsoft.com/azure/role-based-access-control/delegate-role-assignments-examples). Creating
    and deleting need one clause each: a new assignment's attributes are in the request, an existing
    one's on the resource. ABAC can also constrain the principal ids, but the program's identities
    do not exist before its first `pulumi up`, so roles and principal types are as far as it goes."""
    ids = ", ".join(sorted(set(role_ids)))
    types = ", ".join(f"'{t}'" for t in sorted(set(principal_types)))

    def clause(action: str, source: str) -> str:
        return (f"((!(ActionMatches{{'Microsoft.Authorization/roleAssignments/{action}'}})) OR "
                f"({source}[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals "
                f"{{{ids}}} AND {source}[Microsoft.Authorization/roleAssignments:PrincipalType] "
                f"ForAnyOfAnyValues:StringEqualsIgnoreCase {{{types}}}))")

    return clause("write", "@Request") + " AND " + clause("delete", "@Resource")


@dataclass(frozen=True)
class RoleGrant:
    """One role assignment of a pipeline identity; `key` names it, stably, in the Pulumi state."""

    key: str
    role_id: str
    scope: pulumi.Input[str]
    description: str
    condition: str | None = None


def deploy_grants(environment: str, group_id: pulumi.Input[str], state_container_id: pulumi.Input[str],
                  secrets_key_id: pulumi.Input[str], delete_locks: bool) -> list[RoleGrant]:
    grants = [
        RoleGrant("group-contributor", role_ids.CONTRIBUTOR, group_id,
                  f"pulumi up of {environment}: create, change and delete the environment's resources"),
        RoleGrant("group-role-assignments", role_ids.ROLE_BASED_ACCESS_CONTROL_ADMINISTRATOR, group_id,
                  f"pulumi up of {environment}: assign only the program's data roles, only to service "
                  "principals (condition)",
                  condition=constrained_assignment_condition(PROGRAM_ASSIGNED_ROLES, PROGRAM_PRINCIPAL_TYPES)),
    ]
    if delete_locks:
        grants.append(RoleGrant("group-locks", role_ids.LOCKS_CONTRIBUTOR, group_id,
                                f"pulumi up of {environment}: the delete locks on its stateful resources"))
    return [*grants,
            RoleGrant("state-blobs", role_ids.STORAGE_BLOB_DATA_CONTRIBUTOR, state_container_id,
                      f"Pulumi state of {environment}: read and write its checkpoints"),
            RoleGrant("secrets-key", role_ids.KEY_VAULT_CRYPTO_USER, secrets_key_id,
                      f"Pulumi secrets of {environment}: encrypt and decrypt its data key")]


def preview_grants(environment: str, group_id: pulumi.Input[str], state_container_id: pulumi.Input[str],
                   secrets_key_id: pulumi.Input[str]) -> list[RoleGrant]:
    """A preview reads what is deployed and the last checkpoint, writes neither (it takes no stack
    lock), and decrypts the stack's own config to evaluate the program."""
    return [
        RoleGrant("group-reader", role_ids.READER, group_id, f"pulumi preview of {environment}: read what is deployed"),
        RoleGrant("state-blobs", role_ids.STORAGE_BLOB_DATA_READER, state_container_id,
                  f"Pulumi state of {environment}: read its checkpoints"),
        RoleGrant("secrets-key", role_ids.KEY_VAULT_CRYPTO_USER, secrets_key_id,
                  f"Pulumi secrets of {environment}: decrypt its data key to read its config"),
    ]


def credential_name(subject: str) -> str:
    """`repo:o/r:environment:prod` -> `github-environment-prod`: letters, digits, '-' and '_' only."""
    claim = subject.split(":", 2)[2]
    return "github-" + re.sub(r"[^A-Za-z0-9_-]+", "-", claim.replace(":", "-")).strip("-")


@dataclass
class GraphServicePrincipal:
    object_id: str
    app_role_ids: Mapping[str, str]  # application permission name -> id


@dataclass
class PipelineIdentityArgs:
    placement: Placement  # the bootstrap's own group, where no pipeline identity holds a role
    identity_name: str
    subscription_id: str
    subjects: list[str]
    grants: list[RoleGrant]
    graph: GraphServicePrincipal
    graph_permissions: tuple[str, ...]


class PipelineIdentity(pulumi.ComponentResource):
    """A user-assigned identity that GitHub Actions jobs with the given subjects sign in as."""

    def __init__(self, name: str, args: PipelineIdentityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("agent-obo-bootstrap:pipeline:PipelineIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.identity = managedidentity.UserAssignedIdentity(
            name, resource_name_=args.identity_name, **args.placement.located(self))

        # Azure refuses concurrent writes of federated credentials on one identity
        # (ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity): chain them.
        self.federated_credentials: list[managedidentity.FederatedIdentityCredential] = []
        previous: list[pulumi.Resource] = []
        for subject in args.subjects:
            credential = managedidentity.FederatedIdentityCredential(
                f"{name}-{credential_name(subject)}",
                federated_identity_credential_resource_name=credential_name(subject),
                resource_name_=self.identity.name,
                issuer=GITHUB_ISSUER,
                subject=subject,
                audiences=[TOKEN_EXCHANGE_AUDIENCE],
                **args.placement.in_group(self, depends_on=previous),
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
        # Microsoft Graph application permissions are app role assignments on Graph's service
        # principal (the portal offers none for managed identities).
        self.graph_permissions = [
            azuread.AppRoleAssignment(
                f"{name}-graph-{permission}",
                app_role_id=args.graph.app_role_ids[permission],
                principal_object_id=self.identity.principal_id,
                resource_object_id=args.graph.object_id,
                opts=child,
            )
            for permission in args.graph_permissions
        ]
        self.client_id = self.identity.client_id
        self.principal_id = self.identity.principal_id
        self.register_outputs({"clientId": self.client_id, "principalId": self.principal_id,
                               "subjects": args.subjects, "graphPermissions": list(args.graph_permissions)})


@dataclass
class EnvironmentPipelineArgs:
    environment: str
    group_name: str  # agent_obo/naming.py: the group the program deploys into
    group_location: str
    group_tags: dict[str, str]
    identity_group_name: pulumi.Input[str]  # the bootstrap's own group
    location: str
    subscription_id: str
    deploy_identity_name: str
    preview_identity_name: str
    deploy_subject: str
    preview_subject: str
    state_container_id: pulumi.Input[str]
    secrets_key_id: pulumi.Input[str]
    delete_locks: bool
    graph: GraphServicePrincipal
    tags: dict[str, str] = field(default_factory=dict)


class EnvironmentPipeline(pulumi.ComponentResource):
    """One environment: its resource group, and its deploy and preview identities."""

    def __init__(self, name: str, args: EnvironmentPipelineArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("agent-obo-bootstrap:pipeline:EnvironmentPipeline", name, None, opts)
        # Protected: deleting the group deletes the whole environment with it, so dropping a stack file
        # makes the next bootstrap update fail instead (docs/operations.md, retiring an environment).
        self.group = resources.ResourceGroup(
            f"{name}-group", resource_group_name=args.group_name, location=args.group_location,
            tags=args.group_tags, opts=pulumi.ResourceOptions(parent=self, protect=True))
        grants = {
            "deploy": deploy_grants(args.environment, self.group.id, args.state_container_id, args.secrets_key_id,
                                    args.delete_locks),
            "preview": preview_grants(args.environment, self.group.id, args.state_container_id, args.secrets_key_id),
        }
        placement = Placement(args.identity_group_name, args.location, args.tags)
        identities = {role: PipelineIdentity(f"{name}-{role}", PipelineIdentityArgs(
            placement=placement, identity_name=identity_name, subscription_id=args.subscription_id,
            subjects=[subject], grants=grants[role], graph=args.graph, graph_permissions=GRAPH_PERMISSIONS[role]),
            opts=pulumi.ResourceOptions(parent=self))
            for role, identity_name, subject in (("deploy", args.deploy_identity_name, args.deploy_subject),
                                                 ("preview", args.preview_identity_name, args.preview_subject))}
        self.deploy, self.preview = identities["deploy"], identities["preview"]
        self.register_outputs({"resourceGroup": self.group.name, "deployClientId": self.deploy.client_id,
                               "previewClientId": self.preview.client_id})
