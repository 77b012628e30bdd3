"""The deployed stack an offline update preview diffs against: the program as committed at a git ref.

`make plan STACK=dev PREVIEW=update [BASE=main]` previews the working tree as a change to the stack
deployed from BASE (default HEAD), the way the pull-request preview shows a branch against what main
deployed. The program at BASE runs in a subprocess from an export of that commit (its own catalog,
stack files and components) with this checkout's offline harness, every output known, as `pulumi up`
left the stack.

`python -m offline.baseline STACK OUT` (run inside such an export) writes that plan to OUT.
"""

from __future__ import annotations

import io
import pickle
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from offline.plan import Plan
from offline.runner import PROJECT_DIR, run_stack


def baseline_plan(stack: str, ref: str, project_dir: Path = PROJECT_DIR) -> Plan:
    # Resolved to a commit first, as a revision and never as an option (a BASE starting with "-").
    commit = subprocess.run(["git", "-C", str(project_dir), "rev-parse", "--verify", "--quiet", "--end-of-options",
                             f"{ref}^{{commit}}"], capture_output=True, text=True, check=False)
    if commit.returncode != 0:
        raise ValueError(f"BASE={ref}: not a commit of this repository")
    archive = subprocess.run(["git", "-C", str(project_dir), "archive", "--format=tar", commit.stdout.strip()],
                             capture_output=True, check=True)
    with tempfile.TemporaryDirectory(prefix="agent-obo-baseline-") as scratch:
        tree = Path(scratch) / "tree"
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(tree, filter="data")
        shutil.rmtree(tree / "offline", ignore_errors=True)
        shutil.copytree(project_dir / "offline", tree / "offline", ignore=shutil.ignore_patterns("__pycache__"))
        out = Path(scratch) / "plan.pickle"
        run = subprocess.run([sys.executable, "-m", "offline.baseline", stack, str(out)], cwd=tree,
                             capture_output=True, text=True, check=False)
        if run.returncode != 0:
            raise ValueError(f"BASE={ref}: stack {stack} does not run there:\n{run.stderr.strip()[-2000:]}")
        return pickle.loads(out.read_bytes())


def main(argv: list[str]) -> int:
    stack, out = argv
    result = run_stack(stack, project_dir=PROJECT_DIR)
    if result.error is not None:
        print(f"error: {result.error}", file=sys.stderr)
        return 1
    Path(out).write_bytes(pickle.dumps(result.plan))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
