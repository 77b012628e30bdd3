"""What the Pulumi engine and each provider hand the program during `pulumi preview`.

The offline runner (offline/runner.py) runs the program three ways:
- `up`: every resource answers with all its outputs known, as each does once `pulumi up` created it
  (offline/mocks.py holds those answers).
- `first`: the first preview of a new stack (the pull-request preview of a new environment, and the
  preview `pulumi up` shows before it creates anything). Nothing exists yet, so each provider answers
  with the inputs in the output shape and every computed output and id unknown:
  - azure-native maps inputs to outputs and marks everything else computed; an output typed `Any` comes
    back exactly as given (pulumi/pulumi-azure-native provider/pkg/convert/previewOutputs.go,
    `PreviewOutputs`; `case prop.Ref == TypeAny: return inputValue`), and an output whose shape differs
    from its input (a site's `identity.userAssignedIdentities`: a list in, a map out) comes back unknown;
  - azuread and random (Terraform bridge) plan computed attributes as unknown ("known after apply")
    unless the configuration sets them;
  - a dynamic provider is not called to create during a preview: the engine hands back the inputs, so
    every output the provider would add is unknown.
- `update`: the preview of a change to a deployed stack. The engine diffs each resource's inputs against
  the deployed state (a `baseline` run in `up` mode): an unchanged resource keeps its outputs; one updated
  in place answers with its inputs in the output shape, every computed output unknown, except `name` and
  `location` (azure-native provider/pkg/provider/provider.go, `Update` with `req.GetPreview()`); one
  created or replaced answers as in `first`.
Which changes replace rather than update is the providers' `forceNew` knowledge, kept below per type.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi.output import Unknown
from pulumi.runtime import rpc

from offline.plan import is_secret_value

MODES = ("up", "first", "update")
UNKNOWN = rpc.UNKNOWN  # how a provider marks a computed value in the properties it hands back

# Outputs whose schema type is `Any`: azure-native's preview hands them back exactly as given, so the
# keys Azure adds (a connection's connectionRuntimeUrl) are absent, not unknown.
ANY_TYPED_OUTPUTS: dict[str, frozenset[str]] = {
    "azure-native:resources:Resource": frozenset({"properties"}),
}
# azure-native keeps these outputs of a resource updated in place (provider.go, Update, stableOutputs).
STABLE_ON_UPDATE = ("name", "location")

# Properties whose change replaces the resource (create the new one, then delete the old one).
# azure-native: the properties that make up the ARM id (the URL's path parameters) and location (a
# resource cannot move region); role assignments cannot be updated at all (ARM answers
# RoleAssignmentUpdateNotPermitted). azuread / random: the Terraform schemas' ForceNew attributes.
_AZURE_NATIVE_IDENTITY = ("resourceGroupName", "location")
FORCE_NEW: dict[str, frozenset[str]] = {
    "azure-native:resources:ResourceGroup": frozenset({"resourceGroupName", "location"}),
    "azure-native:resources:Resource": frozenset({
        "resourceGroupName", "resourceProviderNamespace", "parentResourcePath", "resourceType", "resourceName",
        "location"}),
    "azure-native:authorization:RoleAssignment": frozenset({
        "scope", "roleAssignmentName", "principalId", "roleDefinitionId", "principalType"}),
    "azure-native:monitor:DiagnosticSetting": frozenset({"resourceUri", "name"}),
    "azure-native:storage:BlobContainer": frozenset({"resourceGroupName", "accountName", "containerName"}),
    "azure-native:cognitiveservices:Deployment": frozenset({"resourceGroupName", "accountName", "deploymentName"}),
    "azuread:index/servicePrincipal:ServicePrincipal": frozenset({"clientId"}),
    "azuread:index/applicationIdentifierUri:ApplicationIdentifierUri": frozenset({"applicationId", "identifierUri"}),
    "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential": frozenset({
        "applicationId", "displayName"}),
    "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant": frozenset({
        "servicePrincipalObjectId", "resourceServicePrincipalObjectId", "userObjectId"}),
    "azuread:index/appRoleAssignment:AppRoleAssignment": frozenset({"appRoleId", "principalObjectId",
                                                                     "resourceObjectId"}),
    "azuread:index/application:Application": frozenset(),
    "random:index/randomId:RandomId": frozenset({"keepers", "byteLength", "prefix"}),
}
DYNAMIC = "pulumi-python:dynamic:Resource"
PROVIDER_KEY = "__provider"  # the pickled dynamic provider among a dynamic resource's inputs


def force_new(type_: str, inputs: Mapping[str, Any]) -> frozenset[str]:
    """The properties of `type_` whose change replaces it. An azure-native type not listed is named by
    its resource group, location and its `...Name` path parameters (every azure-native type the program
    registers follows that pattern: `accountName`, `name`, `resourceName`, ...)."""
    if type_ in FORCE_NEW:
        return FORCE_NEW[type_]
    if type_.startswith("azure-native:"):
        return frozenset(_AZURE_NATIVE_IDENTITY) | {
            key for key in inputs if (key == "name" or key.endswith("Name")) and key != "displayName"}
    return frozenset()


def is_unknown(value: Any) -> bool:
    return isinstance(value, Unknown) or value == UNKNOWN


def with_placeholders(value: Any) -> Any:
    """The inputs with every unknown replaced by an empty string, so the `up` answers can be computed
    for their shape (which outputs exist); their values are discarded."""
    if is_unknown(value):
        return ""
    if isinstance(value, dict):
        return {key: with_placeholders(item) for key, item in value.items()}
    if isinstance(value, list):
        return [with_placeholders(item) for item in value]
    return value


def _in_output_shape(given: Any, answered: Any) -> Any:
    """An input as its provider previews the output of the same name: kept where the shapes agree,
    with the keys only the output has unknown; unknown where the shapes differ."""
    if is_unknown(given):
        return UNKNOWN
    if isinstance(answered, dict):
        if not isinstance(given, dict):
            return UNKNOWN
        if is_secret_value(given):  # a secret: its value is the input
            return given
        return {key: _in_output_shape(given[key], item) if key in given else UNKNOWN
                for key, item in answered.items()}
    if isinstance(answered, list):
        return list(given) if isinstance(given, list) else UNKNOWN
    if isinstance(given, (dict, list)):
        return UNKNOWN
    return given


def preview_outputs(type_: str, inputs: Mapping[str, Any], answered: Mapping[str, Any]) -> dict[str, Any]:
    """What a provider previews for a resource it would create (or update in place) with `inputs`:
    `answered` is what it reports once deployed (offline/mocks.py), used only for its shape."""
    any_typed = ANY_TYPED_OUTPUTS.get(type_, frozenset())
    state: dict[str, Any] = {}
    for key, value in answered.items():
        if key == "id":
            continue
        if key not in inputs:
            state[key] = UNKNOWN
        elif key in any_typed:
            state[key] = UNKNOWN if is_unknown(inputs[key]) else inputs[key]
        else:
            state[key] = _in_output_shape(inputs[key], value)
    return state


# --- update previews: the engine's diff against the deployed state ---------------------------------

CREATE, SAME, UPDATE, REPLACE = "create", "same", "update", "replace"


@dataclass(frozen=True)
class Step:
    """What `pulumi preview` would do to one resource, and why."""
    operation: str  # create, same, update or replace
    changed: tuple[str, ...] = ()  # the top-level inputs that differ from the deployed ones (or are unknown)
    replaced_by: tuple[str, ...] = ()  # what forces the replacement: properties, or the options that did


@dataclass
class DeployedResource:
    """One resource of the deployed stack, as the baseline run recorded it."""
    type: str
    resource_id: str | None
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    replacement_trigger: Any = None


def _comparable(value: Any) -> Any:
    if is_secret_value(value):
        return _comparable(value.get("value"))
    if isinstance(value, dict):
        return {key: _comparable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_comparable(item) for item in value]
    return value


def _same(old: Any, new: Any) -> bool:
    """Equal and fully known: a value the engine cannot see yet may differ from the deployed one."""
    if is_unknown(new):
        return False
    if isinstance(new, dict):
        return isinstance(old, dict) and old.keys() == new.keys() and all(_same(old[k], new[k]) for k in new)
    if isinstance(new, list):
        return isinstance(old, list) and len(old) == len(new) and \
            all(_same(o, n) for o, n in zip(old, new, strict=True))
    return old == new


@dataclass
class UpdateDiff:
    """The engine's diff of one run against the deployed stack, resource by resource."""
    deployed: Mapping[str, DeployedResource]
    steps: dict[str, Step] = field(default_factory=dict)

    def step(self, urn: str, type_: str, inputs: Mapping[str, Any], replacement_trigger: Any,
             replace_with: list[str], replace_on_changes: list[str]) -> Step:
        old = self.deployed.get(urn)
        if old is None:
            step = Step(CREATE)
        else:
            step = self._diff(old, type_, inputs, replacement_trigger, replace_with, replace_on_changes)
        self.steps[urn] = step
        return step

    def _diff(self, old: DeployedResource, type_: str, inputs: Mapping[str, Any], replacement_trigger: Any,
              replace_with: list[str], replace_on_changes: list[str]) -> Step:
        new = {key: _comparable(value) for key, value in inputs.items() if key != PROVIDER_KEY}
        before = {key: _comparable(value) for key, value in old.inputs.items() if key != PROVIDER_KEY}
        changed = tuple(sorted(key for key in set(new) | set(before)
                               if key not in new or key not in before or not _same(before[key], new[key])))
        reasons: list[str] = []
        if type_ == DYNAMIC:
            reasons += _dynamic_replaces(old, inputs)
        else:
            forced = force_new(type_, new) | set(replace_on_changes)
            reasons += [key for key in changed if key in forced]
        if replacement_trigger is not None and not _same(_comparable(old.replacement_trigger),
                                                         _comparable(replacement_trigger)):
            reasons.append("replacementTrigger")
        reasons += [f"replaceWith {urn.rsplit('::', 1)[-1]}" for urn in replace_with
                    if self.steps.get(urn, Step(SAME)).operation == REPLACE]
        if reasons:
            return Step(REPLACE, changed, tuple(reasons))
        return Step(UPDATE, changed) if changed else Step(SAME)


def _dynamic_replaces(old: DeployedResource, inputs: Mapping[str, Any]) -> list[str]:
    """A dynamic provider decides for itself: the engine calls its `diff` during the preview."""
    import dill

    olds, news = _comparable(dict(old.inputs)), _comparable(dict(inputs))
    provider = dill.loads(base64.b64decode(news.get(PROVIDER_KEY) or olds[PROVIDER_KEY]))
    result = provider.diff(old.resource_id or "", olds, news)
    return list(result.replaces or [])


def answer(step: Step, type_: str, inputs: Mapping[str, Any], answered_id: str | None,
           answered: Mapping[str, Any], deployed: DeployedResource | None) -> tuple[str | None, dict[str, Any]]:
    """The id and properties a resource hands back during a preview, given its step."""
    if step.operation == SAME and deployed is not None:
        return deployed.resource_id, dict(deployed.outputs)
    state = preview_outputs(type_, inputs, answered)
    if step.operation == UPDATE and deployed is not None:
        if type_.startswith("azure-native:"):
            state.update({key: deployed.outputs[key] for key in STABLE_ON_UPDATE if key in deployed.outputs})
        elif not type_.startswith("pulumi-python:dynamic:"):
            # Terraform-bridged providers plan an in-place update with the prior computed attributes.
            state = {**deployed.outputs, **{key: value for key, value in state.items() if key in inputs}}
        return deployed.resource_id, state
    return None, state
