"""The inventory: every resource the plan holds is of a kind the program declares.

A policy per resource type cannot judge a type it has never heard of. An Entra credential, a role
definition, a federated credential on the runtime identity, a second site, app settings in a separate
resource, a generic ARM resource of any type at all: each would be one added line in a component, and
each could grant what every other policy guards. So the pack allows exactly the types the program
creates, and the generic ARM resource only as a connection or a connection's access policy; anything
new is a reviewed change of this list. Consent grants and app role assignments are not on it: an
administrator gives those (make grant-sign-in), never the pipeline; nor is a resource group: the
bootstrap creates the environment's.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from pulumi_policy import ResourceValidationArgs

from agent_obo.naming import PACKAGE_CONTAINER
from policy.checks import Check
from policy.define import resource_policy
from policy.props import MISSING, lookup, plain
from policy.resource_types import GENERIC_RESOURCE

DYNAMIC_RESOURCE = "pulumi-python:dynamic:Resource"

# Each type the program creates, and what for.
ALLOWED_TYPES = {
    "azure-native:operationalinsights:Workspace": "run history and audit logs",
    "azure-native:applicationinsights:Component": "tool telemetry",
    "azure-native:managedidentity:UserAssignedIdentity": "the runtime identity",
    "azure-native:storage:StorageAccount": "the runtime's storage",
    "azure-native:storage:BlobContainer": "the package container and the containers the catalog's tools declare",
    "azure-native:storage:FileShare": "the content share of accessKey host storage",
    "azure-native:authorization:RoleAssignment": "the identities' data roles (role-assignments)",
    "azure-native:cognitiveservices:Account": "the agent's model account",
    "azure-native:cognitiveservices:Deployment": "the agent's model deployment",
    "azure-native:resources:Resource": "connections and their access policies only",
    "azure-native:web:AppServicePlan": "the Workflow Standard plan",
    "azure-native:web:WebApp": "the logic app site",
    "azure-native:web:WebAppFtpAllowed": "FTP basic auth off",
    "azure-native:web:WebAppScmAllowed": "SCM basic auth off",
    "azure-native:web:WebAppAuthSettingsV2WithoutSecrets": "Easy Auth",
    "azure-native:web:WebAppApplicationSettings": "the site's app settings, one writer (site-hardening)",
    "azure-native:monitor:DiagnosticSetting": "the site's logs to Log Analytics",
    "azure-native:monitor:ActionGroup": "who the audit alerts reach (agent-obo:alertEmailReceivers)",
    "azure-native:monitor:ScheduledQueryRule": "the audit alerts",
    "azure-native:applicationinsights:Workbook": "the audit workbook",
    "azure-native:network:VirtualNetwork": "private networking (private-networking)",
    "azure-native:network:Subnet": "private networking: integration and private endpoint subnets",
    "azure-native:network:NetworkSecurityGroup": "private networking",
    "azure-native:network:PrivateEndpoint": "private networking: storage, model and site endpoints",
    "azure-native:network:PrivateDnsZoneGroup": "private networking: endpoints in private DNS",
    "azure-native:privatedns:PrivateZone": "private networking: the privatelink zones",
    "azure-native:privatedns:VirtualNetworkLink": "private networking: zones linked to the network",
    "azure-native:authorization:ManagementLockByScope": "delete locks on stateful resources (delete-locks)",
    "azuread:index/application:Application": "the chat app registration",
    "azuread:index/applicationIdentifierUri:ApplicationIdentifierUri": "its api://<client id>",
    "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential":
        "secretless Easy Auth",
    "azuread:index/servicePrincipal:ServicePrincipal": "who may sign in",
    "azuread:index/applicationPreAuthorized:ApplicationPreAuthorized":
        "the verification client pre-authorized for user_impersonation (app-registration)",
    "random:index/randomId:RandomId": "per-user connection generations",
    DYNAMIC_RESOURCE: "the workflow package upload (components/package_blob.py) only",
}
# The generic ARM resource: (provider namespace, parent path kind, resource type) it may be.
GENERIC_KINDS = {("Microsoft.Web", "", "connections"), ("Microsoft.Web", "connections", "accessPolicies")}
PACKAGE_BLOB_INPUTS = frozenset({"__provider", "blob_endpoint", "container", "blob_name", "content_base64", "sha256"})
# How dill pickles the package provider: by reference to its class (a provider written anywhere else pickles
# another name, or its code).
PACKAGE_PROVIDER_NAMES = (b"components.package_blob", b"PackageBlobProvider")


def validate_inventory(args: ResourceValidationArgs, check: Check) -> None:
    """Every resource in the plan is of a type the program declares (the generic ARM resource only as a connection or a
    connection's access policy, the dynamic resource only as the workflow package upload): an Entra secret, a custom
    role, a federated credential on the runtime identity or a second site added in one line would otherwise pass
    every policy written for the known types."""
    if args.resource_type not in ALLOWED_TYPES:
        check.fail(f"{args.resource_type} is not a resource type this program declares: no policy of the pack "
                   "knows what it may grant.", "create only the declared types; a new type needs a reviewed change "
                   "of policy/inventory.py and a policy that judges it.")
    elif args.resource_type == GENERIC_RESOURCE:
        _check_generic(check, plain(args.props))
    elif args.resource_type == DYNAMIC_RESOURCE:
        _check_dynamic(check, plain(args.props))


def _check_generic(check: Check, props: dict[str, Any]) -> None:
    namespace, parent, kind = (lookup(props, key) for key in ("resourceProviderNamespace", "parentResourcePath",
                                                              "resourceType"))
    if not all(check.known(value, "the generic resource's type") for value in (namespace, parent, kind)):
        return
    parent_kind = parent.split("/", 1)[0] if isinstance(parent, str) and parent else ""
    if (namespace, parent_kind, kind) not in GENERIC_KINDS or (parent_kind and parent.count("/") != 1):
        path = f"{namespace}/{parent + '/' if parent not in ('', MISSING) else ''}{kind}"
        check.fail(f"A generic ARM resource of type {path!r}: only connections and their access policies are "
                   "declared as generic resources; anything else escapes every policy of its own type.",
                   "use the typed resource, and a reviewed change of the pack for a new type.")


def _check_dynamic(check: Check, props: dict[str, Any]) -> None:
    unexpected = sorted(set(props) - PACKAGE_BLOB_INPUTS)
    if unexpected:
        check.fail(f"A dynamic resource with inputs {unexpected}: the only dynamic resource declared is the workflow "
                   "package upload.", "remove it; a dynamic provider runs code with the deployer's credentials.")
    check.equal(props, "container", PACKAGE_CONTAINER, "the package goes to its private container only.",
                f"upload to {PACKAGE_CONTAINER}.")
    provider = lookup(props, "__provider")
    if not check.known(provider, "the dynamic provider"):
        return
    try:
        pickled = base64.b64decode(provider, validate=True) if isinstance(provider, str) else b""
    except (binascii.Error, ValueError):
        pickled = b""
    if not all(name in pickled for name in PACKAGE_PROVIDER_NAMES):
        check.fail("A dynamic resource's provider is not components/package_blob.py's PackageBlobProvider: it runs "
                   "code nobody reviewed as a provider, with the deployer's credentials.",
                   "upload the package only with components.package_blob.PackageBlob.")


RESOURCE_INVENTORY = resource_policy(
    "resource-inventory", validate_inventory,
    # Azure Policy's own "Allowed resource types" built-in does the same for a subscription.
    url="https://learn.microsoft.com/azure/governance/policy/samples/built-in-policies#general",
    remediation="Create only the declared resource types; extend policy/inventory.py in a reviewed change.",
)
