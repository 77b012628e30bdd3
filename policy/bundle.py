"""`make policy-bundle`: the pack and the code it imports in one folder, for `pulumi policy publish`.

Under `pulumi preview --policy-pack policy` the pack imports agent_obo and components from the project
around it. Pulumi Cloud publishes only the pack's folder, so the bundle carries them (and the catalog
with its schema, and the project's pinned requirements) beside it; policy/__main__.py finds them there.

    python -m policy.bundle [OUT]   # default build/policy-pack
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import yaml

from agent_obo.yaml_files import read_mapping

PROJECT_DIR = Path(__file__).resolve().parent.parent
PACKAGES = ("policy", "agent_obo", "components")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")


def build(out: Path) -> Path:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for package in PACKAGES:
        shutil.copytree(PROJECT_DIR / package, out / package, ignore=IGNORED)
    (out / "catalog").mkdir()
    for name in ("tools.yaml", "tools.schema.json"):  # the catalog, and the schema agent_obo checks it with
        shutil.copy2(PROJECT_DIR / "catalog" / name, out / "catalog" / name)
    shutil.copy2(PROJECT_DIR / "requirements.txt", out / "requirements.txt")
    shutil.copy2(PROJECT_DIR / "policy" / "__main__.py", out / "__main__.py")
    project = read_mapping(PROJECT_DIR / "policy" / "PulumiPolicy.yaml", "the policy pack's project file")
    project["runtime"]["options"]["virtualenv"] = "venv"  # created beside the pack from requirements.txt
    (out / "PulumiPolicy.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=PROJECT_DIR / "build" / "policy-pack")
    print(f"Wrote {build(parser.parse_args(argv).out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
