"""Warm wall time of `make plan`, against merely importing the SDK modules the program uses.

Both are run as fresh processes (what a user waits for), after one warm-up run each so that
bytecode caches and the file system cache are warm; the median of several runs is reported.
The SDK modules are read from the program's own imports, and each is touched so that
pulumi_azure_native's lazy modules really load.

    make benchmark            # or: .venv/bin/python scripts/benchmark.py --runs 7 --stack prod
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROGRAM_SOURCES = [ROOT / "__main__.py", *sorted((ROOT / "components").glob("*.py")),
                   *sorted((ROOT / "agent_obo").glob("*.py"))]
TARGET_RATIO = 1.5


def sdk_modules() -> list[str]:
    """`pulumi`, each other Pulumi SDK package and each `pulumi_azure_native.<service>` the program imports."""
    modules = {"pulumi"}
    for source in PROGRAM_SOURCES:
        text = source.read_text()
        for services in re.findall(r"^from pulumi_azure_native import ([\w, ]+)$", text, re.M):
            modules |= {f"pulumi_azure_native.{s.strip()}" for s in services.split(",")}
        modules |= set(re.findall(r"^(?:import|from) (pulumi_azuread|pulumi_random)\b", text, re.M))
    return sorted(modules)


def import_command(modules: list[str]) -> list[str]:
    code = "import importlib\n" + "\n".join(
        # getattr on a missing name forces a lazy module to execute.
        f"getattr(importlib.import_module({m!r}), '_benchmark_touch', None)" for m in modules)
    return [sys.executable, "-c", code]


def median_seconds(command: list[str], runs: int) -> float:
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark `make plan` against importing the SDK.")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stack", default="dev")
    args = parser.parse_args(argv)
    modules = sdk_modules()
    imports = median_seconds(import_command(modules), args.runs)
    plan = median_seconds(["make", "--no-print-directory", "-s", "plan", f"STACK={args.stack}"], args.runs)
    ratio = plan / imports
    print(f"SDK modules imported: {', '.join(modules)}")
    print(f"import SDK modules      median of {args.runs}: {imports:.2f} s")
    print(f"make plan STACK={args.stack:<6} median of {args.runs}: {plan:.2f} s")
    print(f"ratio: {ratio:.2f}x (target: under {TARGET_RATIO}x) -> {'met' if ratio < TARGET_RATIO else 'MISSED'}")
    return 0 if ratio < TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
