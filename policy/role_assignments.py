"""Azure role assignments: only the data roles the stack's identities need, each at the narrowest scope that
works, to the stack's own identities and the deployer.

No assignment from this program may grant Owner, Contributor, User Access Administrator or Role Based Access
Control Administrator: each lets its holder change access itself. Every other role must be one of the
data roles below, for the principal and at the scope given there, and never at a resource group, a
subscription or wider. Sources: learn.microsoft.com/azure/role-based-access-control/best-practices (least
privilege, narrowest scope), learn.microsoft.com/azure/role-based-access-control/built-in-roles (the ids),
learn.microsoft.com/azure/azure-functions/functions-reference ("Connecting to host storage with an
identity": the three storage data roles), learn.microsoft.com/azure/app-service/deploy-run-package (the
package reader), learn.microsoft.com/azure/ai-services/openai/how-to/role-based-access-control.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    ResourceValidationArgs,
    StackValidationArgs,
)

from agent_obo.naming import PACKAGE_CONTAINER
from agent_obo.tool_inputs import container_grants
from components import role_ids
from policy.checks import Check
from policy.declared import Declared
from policy.define import resource_policy, stack_policy
from policy.props import MISSING, UNKNOWN, lookup, plain, props_of
from policy.resource_types import MODEL_ACCOUNT, ROLE_ASSIGNMENT, STORAGE_ACCOUNT
from policy.stack_identities import StackIdentities, stack_identities

URL = "https://learn.microsoft.com/azure/role-based-access-control/best-practices"

# Built-in roles that let their holder grant access or change everything: never from this program.
PRIVILEGED_ROLES = {role: role_ids.BUILT_IN_ROLE_NAMES[role] for role in (
    role_ids.OWNER, role_ids.CONTRIBUTOR, role_ids.USER_ACCESS_ADMINISTRATOR,
    role_ids.ROLE_BASED_ACCESS_CONTROL_ADMINISTRATOR)}
RUNTIME, SITE_IDENTITY, DEPLOYER = "the runtime identity", "the site's identity", "the deployer"
ACCOUNT, CONTAINER, MODEL = "storage account", "blob container", "model account"


@dataclass(frozen=True)
class Grant:
    role_id: str  # a built-in role (components/role_ids.py)
    scope: str  # ACCOUNT, CONTAINER or MODEL
    principal: str  # RUNTIME, SITE_IDENTITY or DEPLOYER
    container: str | None = None

    @property
    def role(self) -> str:
        return role_ids.BUILT_IN_ROLE_NAMES[self.role_id]


def allowed_grants(stack: Declared) -> dict[str, list[Grant]]:
    """Role definition id -> who may hold it, where. The host's storage roles exist only where the stack declares
    identity-based host storage (components/runtime_storage.py); the site's identity holds a data role on exactly
    the containers the enabled tools declare (catalog/tools.yaml `storage`, agent_obo/tool_inputs.py)."""
    grants = [
        Grant(role_ids.STORAGE_BLOB_DATA_CONTRIBUTOR, CONTAINER, DEPLOYER, PACKAGE_CONTAINER),
        Grant(role_ids.COGNITIVE_SERVICES_OPENAI_USER, MODEL, SITE_IDENTITY),
        *(Grant(role_ids.BLOB_DATA_ROLES[tool.access], CONTAINER, SITE_IDENTITY, tool.container)
          for tool in container_grants(stack.catalog)),
    ]
    if stack.settings.uses_access_key:
        grants.append(Grant(role_ids.STORAGE_BLOB_DATA_READER, CONTAINER, RUNTIME, PACKAGE_CONTAINER))
    else:
        grants += [Grant(role, ACCOUNT, RUNTIME) for role in (role_ids.STORAGE_BLOB_DATA_OWNER,
                   role_ids.STORAGE_QUEUE_DATA_CONTRIBUTOR, role_ids.STORAGE_TABLE_DATA_CONTRIBUTOR)]
    by_role: dict[str, list[Grant]] = {}
    for grant in grants:
        by_role.setdefault(grant.role_id, []).append(grant)
    return by_role


_ROLE_DEFINITION = re.compile(r"^(?:/subscriptions/[^/]+)?/providers/Microsoft\.Authorization/roleDefinitions/"
                              r"([0-9a-fA-F-]{36})\Z")
_RESOURCE_GROUP = r"^/subscriptions/[^/]+/resourceGroups/[^/]+"
# ARM compares ids without regard to case; ASCII only, as Unicode case folding reads a long s as an s.
_ID_CASE = re.IGNORECASE | re.ASCII
_SCOPES = {
    ACCOUNT: re.compile(_RESOURCE_GROUP + r"/providers/Microsoft\.Storage/storageAccounts/([^/]+)\Z", _ID_CASE),
    CONTAINER: re.compile(_RESOURCE_GROUP + r"/providers/Microsoft\.Storage/storageAccounts/([^/]+)"
                                            r"/blobServices/default/containers/([^/]+)\Z", _ID_CASE),
    MODEL: re.compile(_RESOURCE_GROUP + r"/providers/Microsoft\.CognitiveServices/accounts/([^/]+)\Z", _ID_CASE),
}


def role_id(role_definition: Any) -> str | None:
    match = _ROLE_DEFINITION.match(role_definition) if isinstance(role_definition, str) else None
    return match.group(1).lower() if match else None


def scope_kind(scope: str) -> tuple[str, tuple[str, ...]] | None:
    """(ACCOUNT/CONTAINER/MODEL, the names in it), None for any other scope (a group, a subscription, ...)."""
    for kind, pattern in _SCOPES.items():
        match = pattern.match(scope)
        if match:
            return kind, match.groups()
    return None


def matching_grants(stack: Declared, props: dict[str, Any]) -> list[Grant] | None:
    """The declared grants this assignment can be; None when its role or scope cannot be read yet."""
    definition, scope = lookup(props, "roleDefinitionId"), lookup(props, "scope")
    if UNKNOWN in (definition, scope):
        return None
    grants = allowed_grants(stack).get(role_id(definition) or "", [])
    kind = scope_kind(scope) if isinstance(scope, str) else None
    return [g for g in grants if kind and kind[0] == g.scope and (g.container is None or kind[1][-1] == g.container)]


def validate_role_assignments(args: ResourceValidationArgs, check: Check) -> None:
    """No role assignment from this program grants Owner, Contributor, User Access Administrator or Role Based Access
    Control Administrator; each one is a data role the stack's identities need, at the narrowest scope that works (a
    blob container or the storage account, the model account; never a resource group or subscription), as declared
    for the stack's host storage mode."""
    stack = check.declared()
    if stack is not None:
        _check_assignment(check, plain(args.props), stack)


def _check_assignment(check: Check, props: dict[str, Any], stack: Declared) -> None:
    definition = lookup(props, "roleDefinitionId")
    if not check.known(definition, "the role definition"):
        return
    role = role_id(definition)
    if role in PRIVILEGED_ROLES:
        check.fail(f"The program assigns {PRIVILEGED_ROLES[role]}: its holder can change access and everything else.",
                   "assign only the data roles the stack's identities need (policy/role_assignments.py).")
        return
    grants = allowed_grants(stack).get(role or "")
    if not grants:
        check.fail(f"Role definition {definition!r} is not a role this program assigns.",
                   "assign only the declared data roles; a new role needs a reviewed change of the pack.")
        return
    scope = lookup(props, "scope")
    if not check.known(scope, "the role assignment's scope"):
        return
    kind = scope_kind(scope) if isinstance(scope, str) else None
    if not matching_grants(stack, props):
        wanted = " or ".join(f"a {g.scope}" + (f" ({g.container})" if g.container else "") for g in grants)
        where = "a resource group, subscription or wider scope" if kind is None else f"a {kind[0]} {kind[1][-1]!r}"
        check.fail(f"{grants[0].role} is assigned at {where} ({scope!r}), not at the narrowest scope that works: "
                   f"{wanted}.", f"assign {grants[0].role} only at {wanted}.")
        return
    principal_type = lookup(props, "principalType")
    expects_service_principal = all(g.principal != DEPLOYER for g in matching_grants(stack, props) or [])
    if check.known(principal_type, "principalType") and expects_service_principal \
            and principal_type != "ServicePrincipal":
        check.fail(f"{grants[0].role} goes to a principal of type {principal_type!r}; only a managed identity "
                   "(ServicePrincipal) holds it.", "assign it to the stack's managed identity.")
    for field in ("condition", "delegatedManagedIdentityResourceId"):
        if lookup(props, field) not in (MISSING, UNKNOWN):
            check.fail(f"The role assignment sets {field}, which the stack does not declare.", f"remove {field}.")


ROLE_ASSIGNMENTS = resource_policy(
    "role-assignments", validate_role_assignments, judges=(ROLE_ASSIGNMENT,),
    url=URL,
    remediation="Assign roles only as components/ do; a new role or scope needs a reviewed change of the pack.",
)


# --- role-assignment-principals: who holds each role, on which of the stack's resources ------------

def validate_role_assignment_principals(args: StackValidationArgs, check: Check) -> None:
    """Each role assignment goes to the stack's own identity that needs it (the runtime identity for host storage and
    the package, the site's identity for the model and the containers the tools declare, the deployer for the package
    upload) and lands
    on the stack's own storage and model accounts: a foreign principal or account means someone else gets, or gives,
    data access."""
    stack = check.declared()
    if stack is None:
        return
    identities = stack_identities(list(args.resources))
    accounts = {lookup(props_of(r), "name") for r in args.resources if r.resource_type == STORAGE_ACCOUNT}
    models = {lookup(props_of(r), "name") for r in args.resources if r.resource_type == MODEL_ACCOUNT}
    existing = stack.settings.model.existing_resource_id
    for assignment in (r for r in args.resources if r.resource_type == ROLE_ASSIGNMENT):
        props = props_of(assignment)
        grants = matching_grants(stack, props)
        if grants is None:
            check.cannot_see(f"{assignment.name}'s role and scope")
            continue
        if not grants:
            continue  # the role-assignments policy reports it
        principal = lookup(props, "principalId")
        holders = [g for g in grants if _is(principal, g.principal, identities, check)]
        if principal is not UNKNOWN and not holders and identities.all_known:
            names = " or ".join(g.principal for g in grants)
            check.fail(f"{grants[0].role} ({assignment.name}) goes to {principal!r}, not {names} of this stack: "
                       "someone else gets data access.", f"assign it only to {names}.", assignment.urn)
        scope = str(lookup(props, "scope"))
        kind = scope_kind(scope)
        name = kind[1][0] if kind else None
        if kind and kind[0] in (ACCOUNT, CONTAINER):
            _owned(check, assignment, name, accounts, "storage account")
        elif kind and kind[0] == MODEL and not (existing and scope.lower() == existing.lower()):
            _owned(check, assignment, name, models, "model account (or the declared existingModelResourceId)")


def _is(principal: Any, holder: str, identities: StackIdentities, check: Check) -> bool:
    candidates = {RUNTIME: identities.runtime, SITE_IDENTITY: identities.site, DEPLOYER: (identities.deployer,)}[holder]
    if principal is UNKNOWN or UNKNOWN in candidates:
        check.cannot_see(f"the principal id of {holder}")
        return False
    return principal in candidates


def _owned(check: Check, assignment: Any, name: str | None, owned: set[Any], what: str) -> None:
    if UNKNOWN in owned:
        check.cannot_see(f"the stack's {what} name")
    elif name is None or name.lower() not in {str(n).lower() for n in owned}:
        check.fail(f"{assignment.name} grants access to {what} {name!r}, which is not this stack's.",
                   f"assign roles only on the stack's own {what}.", assignment.urn)


ROLE_ASSIGNMENT_PRINCIPALS = stack_policy(
    "role-assignment-principals", validate_role_assignment_principals,
    url=URL,
    remediation="Pass the identities' principal outputs and the stack's resources' ids to role assignments.",
)
