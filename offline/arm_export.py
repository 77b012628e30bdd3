"""An ARM-template view of a stack's offline plan, for independent IaC scanners (checkov's Azure checks).

Scanners read ARM JSON, not Pulumi plans. Each azure-native registration becomes the ARM resource it
stands for: its type, name and API version, the envelope keys ARM keeps at the top (location, tags,
sku, kind, identity), and every other input under `properties`, with the few inputs azure-native
renames given back their ARM names. Entra (azuread), random and the package upload have no ARM form
and are left out; so is anything the scanner cannot judge from a template (role assignments' data).
Secret inputs are written as "[secret]": the export is a review artefact, never a place for a key.
The generic `resources:Resource` (managed API connections and their access policies) becomes the
type it names, with the API version it declares; the resource group itself is the deployment's scope.

    python -m offline.arm_export prod                   # build/prod/arm-template.json
    make scan STACK=prod                                # export, then checkov on it (docs/scan.md)

Only what a template shows is exported; nothing here is deployed (`pulumi up` deploys the program).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from offline.arm_types import TYPES
from offline.plan import KEEP, Plan, Registration, is_secret_value, rebuilt
from offline.runner import PROJECT_DIR, run_stack

SECRET = "[secret]"
SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
# What ARM keeps outside `properties`.
ENVELOPE = ("location", "tags", "sku", "kind", "identity", "zones", "extendedLocation")


def _all_secret(value: Any) -> Any:
    """A secret's shape without its values: a secret map (Pulumi marks a whole top-level input secret when
    any part of it is) keeps its keys, every value becomes "[secret]"."""
    return rebuilt(value, lambda part: KEEP if isinstance(part, (dict, list)) else SECRET)


def _masked(value: Any) -> Any:
    return rebuilt(value, lambda part: _all_secret(part.get("value")) if is_secret_value(part) else KEEP)


def _renamed(value: Any, renames: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {renames.get(key, key): _renamed(item, renames) for key, item in value.items()}
    if isinstance(value, list):
        return [_renamed(item, renames) for item in value]
    return value


def _generic(registration: Registration) -> dict[str, Any]:
    inputs = _masked(registration.raw_inputs)
    parent = inputs.get("parentResourcePath") or ""
    namespace, resource_type = inputs["resourceProviderNamespace"], inputs["resourceType"]
    arm_type = "/".join([namespace, *parent.split("/")[0::2], resource_type]) if parent else \
        f"{namespace}/{resource_type}"
    name = "/".join([*parent.split("/")[1::2], inputs["resourceName"]]) if parent else inputs["resourceName"]
    resource = {"type": arm_type, "apiVersion": inputs["apiVersion"], "name": name,
                **{key: inputs[key] for key in ENVELOPE if key in inputs},
                "properties": inputs.get("properties") or {}}
    return resource


def arm_resource(registration: Registration) -> dict[str, Any] | None:
    """The ARM resource a registration stands for, or None when it has no ARM form."""
    if registration.type == "azure-native:resources:Resource":
        return _generic(registration)
    spec = TYPES.get(registration.type)
    if spec is None:
        return None
    inputs = _renamed(_masked(registration.raw_inputs), dict(spec.renames))
    # A role assignment's name is the GUID Azure (or the mocks) gave it.
    name = "/".join(part[1:] if part.startswith("=") else str(inputs.get(part)) for part in spec.name_keys) \
        or str(registration.outputs.get("name") or registration.name)
    resource: dict[str, Any] = {"type": spec.arm_type, "apiVersion": spec.api_version, "name": name}
    excluded = {*spec.name_keys, *spec.addressing, *ENVELOPE, "properties"}
    resource.update({key: inputs[key] for key in ENVELOPE if key in inputs})
    properties = dict(inputs.get("properties") or {}) if spec.properties_input else {}
    properties.update({key: value for key, value in inputs.items() if key not in excluded})
    identity = resource.get("identity")
    if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
        # ARM keys user-assigned identities by resource id; azure-native takes a list of ids.
        resource["identity"] = {**identity, "userAssignedIdentities": {
            identity_id: {} for identity_id in identity["userAssignedIdentities"]}}
    if spec.arm_type in ("Microsoft.Authorization/locks", "Microsoft.Authorization/roleAssignments"):
        resource["scope"] = properties.pop("scope", None)
    if spec.arm_type == "Microsoft.Insights/diagnosticSettings":
        resource["scope"] = inputs.get("resourceUri")
    resource["properties"] = properties
    return resource


def arm_template(plan: Plan) -> dict[str, Any]:
    resources = [resource for resource in (arm_resource(r) for r in plan.resources) if resource is not None]
    return {"$schema": SCHEMA, "contentVersion": "1.0.0.0",
            "metadata": {"generator": "agent-obo offline/arm_export.py", "stack": plan.stack},
            "resources": sorted(resources, key=lambda r: (r["type"], r["name"]))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stack", help="stack name: Pulumi.<stack>.yaml")
    parser.add_argument("-o", "--output", type=Path, help="default: build/<stack>/arm-template.json")
    args = parser.parse_args(argv)
    result = run_stack(args.stack)
    if result.error is not None:
        print(f"error: {result.error}", file=sys.stderr)
        return 1
    output = args.output or PROJECT_DIR / "build" / args.stack / "arm-template.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(arm_template(result.ok()), indent=2, sort_keys=True) + "\n")
    print(f"Wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
