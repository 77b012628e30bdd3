"""`make plan STACK=<stack> [PREVIEW=first|update [BASE=<git ref>]]`: the offline preview of one stack.

Runs the real program under the mocks, prints what `pulumi preview` would do, and writes under
build/<stack>/: plan.json (the whole record), the workflow package zip exactly as it would be
uploaded, and its files unpacked for reading. The same inputs give byte-identical output, whatever
the hash seed. By default every resource answers with its outputs known. `--preview first` answers
as a new stack's first `pulumi preview` does, computed outputs unknown; `--preview update` as the
preview of this checkout against the stack deployed from `--base` (default HEAD): what is unchanged,
updated, replaced or deleted (offline/engine.py). A stack of another Pulumi project in this
repository (`make plan STACK=bootstrap`) is found by its stack file and planned the same way.
"""

from __future__ import annotations

import argparse
import base64
import gc
import io
import json
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

if __name__ == "__main__":
    # The command, not the library (tests import this module): a short-lived process that builds a
    # large object graph (the SDK's types, then the program's resources) and frees it all at exit; the
    # cyclic collector only costs it time (scripts/benchmark.py). Before the imports below, which load the SDK.
    gc.disable()

from agent_obo.catalog import CATALOG_FILE
from agent_obo.errors import SettingsError
from agent_obo.settings import PROJECT
from agent_obo.yaml_files import display_path, read_text
from offline.identity_report import identity_section
from offline.plan import Plan
from offline.project_copy import project_copy
from offline.report import render_text, to_json
from offline.runner import PROJECT_DIR, project_settings, run_stack, stacks

PACKAGE_TYPE = "pulumi-python:dynamic:Resource"
MAIN_PROJECT = PROJECT  # the project the policy pack guards


def project_of(stack: str, root: Path = PROJECT_DIR) -> Path:
    """The Pulumi project a stack belongs to: the main one, or a project folder beside it
    (bootstrap/) that has the stack file."""
    if (root / f"Pulumi.{stack}.yaml").is_file():
        return root
    owners = sorted(folder for folder in root.iterdir()
                    if (folder / "Pulumi.yaml").is_file() and (folder / f"Pulumi.{stack}.yaml").is_file())
    if len(owners) == 1:
        return owners[0]
    known = [*stacks(root), *(f"{s} ({folder.name}/)" for folder in sorted(root.iterdir())
                               if (folder / "Pulumi.yaml").is_file() for s in stacks(folder))]
    raise SettingsError(f"no stack {stack!r}", [
        f"Pulumi.{stack}.yaml: no such file in the project or a project folder beside it; "
        f"stacks: {', '.join(known)}"])


def default_build_dir(catalog: Path | None = None) -> Path:
    """Where `make plan` writes build/<stack>/: build/, or build/catalog-<name>/ for a plan with another catalog."""
    return PROJECT_DIR / "build" / (f"catalog-{catalog.stem}" if catalog else "")


def package_bytes(plan: Plan) -> tuple[str, bytes]:
    blob = plan.one(PACKAGE_TYPE)
    return blob.inputs["blob_name"], base64.b64decode(blob.inputs["content_base64"])


def write_build(plan: Plan, build_dir: Path) -> list[Path]:
    build_dir.mkdir(parents=True, exist_ok=True)
    plan_path = build_dir / "plan.json"
    plan_path.write_text(json.dumps(to_json(plan), indent=2, sort_keys=True) + "\n")
    if not plan.all(PACKAGE_TYPE):  # a project without a workflow package (bootstrap/)
        return [plan_path]
    name, content = package_bytes(plan)
    for old in build_dir.glob("workflows-*.zip"):
        old.unlink()
    zip_path = build_dir / name
    zip_path.write_bytes(content)
    unpacked = build_dir / "workflows"
    shutil.rmtree(unpacked, ignore_errors=True)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        archive.extractall(unpacked)
    return [plan_path, zip_path, unpacked]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stack", help="stack name: Pulumi.<stack>.yaml")
    parser.add_argument("--build-dir", type=Path, help="default: build/, or build/catalog-<name>/ with --catalog")
    parser.add_argument("--preview", choices=["first", "update"], help="answer as this kind of preview does")
    parser.add_argument("--base", default="HEAD", help="update previews: the git ref the stack was deployed from")
    parser.add_argument("--catalog", type=Path, help="plan with this tool catalog instead of catalog/tools.yaml "
                        "(scale tests and make benchmark: offline/large_catalog.py)")
    args = parser.parse_args(argv)
    build_dir = args.build_dir or default_build_dir(args.catalog)
    try:
        project_dir = project_of(args.stack)
        # A missing file, a directory or bytes that are not UTF-8 stop here with the path, not a traceback.
        catalog = read_text(args.catalog, "the tool catalog given with --catalog") if args.catalog else None
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="agent-obo-catalog-") as scratch:
        if catalog is not None:  # the project as it is, but for its catalog
            project_dir = project_copy(Path(scratch), {str(CATALOG_FILE): catalog}, base=project_dir)
        return _plan(args, project_dir, build_dir)


def _plan(args: argparse.Namespace, project_dir: Path, build_dir: Path) -> int:
    baseline = None
    if args.preview == "update":
        from offline.baseline import baseline_plan

        try:
            baseline = baseline_plan(args.stack, args.base)
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
    result = run_stack(args.stack, project_dir=project_dir, mode=args.preview or "up", baseline=baseline)
    if result.error is not None:
        print(f"error: {result.error}", file=sys.stderr)
        return 1
    plan = result.plan
    if project_settings(project_dir)["name"] == MAIN_PROJECT:
        from policy.declared import Undeclared, pack_config_for
        from policy.harness import run_policies, verdict_section

        try:  # the pack's configuration for the stack (policy/config/<stack>.json): refused as any bad input
            pack_config_for(args.stack)
        except Undeclared as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        verdicts = verdict_section(run_policies(plan))
    else:
        verdicts = (f"Policies: not run; the policy pack guards the {MAIN_PROJECT} stacks, and "
                    f"{display_path(project_dir)}/ is deployed by hand (docs/operations.md)")
    print(render_text(plan, extra_sections=[identity_section(plan), verdicts]))
    written = write_build(plan, build_dir / args.stack)
    print("\nWrote " + ", ".join(display_path(p) for p in written))
    return 0


if __name__ == "__main__":
    code = main()
    # Everything is written; skip the interpreter's teardown, which frees the SDK's thousands of types
    # one by one (about a third of a second, for nothing: the process ends here).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
