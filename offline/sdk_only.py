"""`python -m offline.sdk_only <stack>`: what the Pulumi SDK alone costs to register a stack's resources.

Reads the stack's last offline plan (build/<stack>/plan.json, written by `make plan`) and registers the
same resources again (the same types, names, parents, inputs and options, so the same URNs) from a
program with none of this project's code in it: no settings, catalog, workflows or policy pack, every
input a literal. It runs under the same mocks and harness as `make plan`, and ends the same way
(no interpreter teardown). `make benchmark` times it beside `make plan`: the part of the plan's time
above it is this project's own work; the part below it is the SDK's, and any program that deploys
these resources pays it. Literal inputs never wait on another resource's output, so this is a lower
bound of the SDK's share.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
from pulumi import dynamic

from offline.report import SECRET, SUMMARISED_INPUTS, to_json
from offline.runner import PROJECT_DIR, run_program
from offline.sdk_classes import args_class, property_names, resource_class

DYNAMIC_TYPE = "pulumi-python:dynamic:Resource"


class DynamicResource(dynamic.Resource):
    """A dynamic resource of the default type, `pulumi-python:dynamic:Resource`, as the plan's package blob."""


def _literal(value: Any) -> Any:
    """A recorded input as the program would pass it: a redacted secret becomes a secret again, a
    summarised one (the package's bytes) a string of the same length."""
    if value == SECRET:
        return pulumi.Output.secret(SECRET)
    if isinstance(value, dict):
        return {key: ("A" * int(item[1:].split()[0]) if key in SUMMARISED_INPUTS and isinstance(item, str)
                      else _literal(item)) for key, item in value.items()}
    if isinstance(value, list):
        return [_literal(item) for item in value]
    return value


def _keyword_arguments(cls: type, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The recorded inputs by the class's keyword names; nested values keep the engine's names, which the
    SDK passes on as they are."""
    python_names = property_names(args_class(cls))
    return {_keyword(python_names.get(key, key)): _literal(value) for key, value in inputs.items()}


def _keyword(python_name: str) -> str:
    # An input the generator named like the constructor's own first parameter gets a trailing underscore
    # (applicationinsights.Component(resource_name, resource_name_=...)).
    return f"{python_name}_" if python_name == "resource_name" else python_name


def register(document: Mapping[str, Any]) -> dict[str, pulumi.Resource]:
    """Registers every resource of a plan.json document, parents before children, in the plan's order."""
    from components.package_blob import PackageBlobProvider  # the provider the dynamic resource runs

    created: dict[str, pulumi.Resource] = {}
    components: list[pulumi.ComponentResource] = []
    for entry in document["resources"]:
        options = entry["options"]
        opts = pulumi.ResourceOptions(
            parent=created.get(entry["parent"]),
            depends_on=[created[urn] for urn in options["dependencies"] if urn in created],
            protect=options["protect"], delete_before_replace=options["deleteBeforeReplace"],
            replace_on_changes=options["replaceOnChanges"] or None, ignore_changes=options["ignoreChanges"] or None)
        inputs = {key: value for key, value in entry["inputs"].items() if key != "__provider"}
        resource: pulumi.Resource
        if not entry["custom"]:
            resource = pulumi.ComponentResource(entry["type"], entry["name"], None, opts)
            components.append(resource)
        elif entry["type"] == DYNAMIC_TYPE:
            resource = DynamicResource(PackageBlobProvider(), entry["name"], _literal(inputs), opts)
        else:
            cls = resource_class(entry["type"])
            if cls is None:
                raise ValueError(f"{entry['urn']}: no SDK class registers {entry['type']}")
            resource = cls(entry["name"], opts=opts, **_keyword_arguments(cls, inputs))
        created[entry["urn"]] = resource
    for component in components:
        component.register_outputs({})
    return created


def program_source(plan_path: Path) -> str:
    """The __main__.py of the SDK-only project: the checkout importable, then `register`."""
    return (f"import json, sys\nsys.path.insert(0, {str(PROJECT_DIR)!r})\n"
            f"from offline.sdk_only import register\n"
            f"register(json.loads(open({str(plan_path)!r}, encoding='utf-8').read()))\n")


COMPARED = ("urn", "type", "custom", "parent", "inputs", "secretInputs", "options")


def differences(plan_path: Path) -> list[str]:
    """Registers the plan's resources SDK-only and says where what was registered differs from the plan
    (nothing, when the SDK-only program registered the same resources with the same inputs and options)."""
    document = json.loads(plan_path.read_text("utf-8"))
    with tempfile.TemporaryDirectory(prefix="agent-obo-sdk-only-") as scratch:
        project = Path(scratch)
        (project / "Pulumi.yaml").write_text((PROJECT_DIR / "Pulumi.yaml").read_text("utf-8"))
        (project / "__main__.py").write_text(program_source(plan_path.resolve()))
        result = run_program(document["stack"], {}, project)
    if result.error is not None:
        raise result.error
    planned, registered = document["resources"], to_json(result.plan)["resources"]
    if len(planned) != len(registered):
        return [f"{len(planned)} resources planned, {len(registered)} registered"]
    found: list[str] = []
    for plan_entry, entry in zip(planned, registered, strict=True):
        found += [f"{plan_entry['urn']}: {key} differs" for key in COMPARED if plan_entry[key] != entry[key]]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stack", help="the stack whose build/<stack>/plan.json to register again")
    parser.add_argument("--plan", type=Path, help="another plan.json (default: build/<stack>/plan.json)")
    args = parser.parse_args(argv)
    plan_path = args.plan or PROJECT_DIR / "build" / args.stack / "plan.json"
    if not plan_path.is_file():
        print(f"error: {plan_path}: no such file; run `make plan STACK={args.stack}` first", file=sys.stderr)
        return 1
    found = differences(plan_path)
    if found:
        print("error: the SDK-only program did not register what the plan has:\n  " + "\n  ".join(found),
              file=sys.stderr)
        return 1
    print(f"The resources of {plan_path} registered again by the SDK alone: the same URNs, inputs and options")
    return 0


if __name__ == "__main__":
    gc.disable()  # as offline/preview.py: a short-lived process, freed whole at exit
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
