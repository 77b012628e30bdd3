"""Time of `make plan`, against merely importing the SDK modules the program uses.

Each command runs as a fresh process (what a user waits for), after one warm-up run each so that
bytecode caches and the file system cache are warm; the commands take turns, run after run, so a
busy machine slows all of them alike. The verdict compares CPU time (user + system, best run), which
a busy machine disturbs far less than wall time; wall times, best and median, are printed beside
it. The SDK modules are read from the program's own imports, and each is touched so that
pulumi_azure_native's lazy modules really load. Two plans are measured: the stack with
catalog/tools.yaml, and the same stack with a generated 100-tool catalog (offline/large_catalog.py),
which shows how the plan grows with a catalog.

    make benchmark            # or: .venv/bin/python scripts/benchmark.py --runs 7 --stack prod
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROGRAM_SOURCES = [ROOT / "__main__.py", *sorted((ROOT / "components").glob("*.py")),
                   *sorted((ROOT / "agent_obo").glob("*.py"))]
TARGET_RATIO = 1.2
LARGE_CATALOG = ROOT / "build" / "benchmark" / "tools-100.yaml"


def sdk_modules() -> list[str]:
    """`pulumi`, each other Pulumi SDK package and each `pulumi_azure_native.<service>` the program imports."""
    modules = {"pulumi"}
    for source in PROGRAM_SOURCES:
        text = source.read_text()
        for services in re.findall(r"^from pulumi_azure_native import ([\w, ]+)$", text, re.M):
            modules |= {f"pulumi_azure_native.{s.strip()}" for s in services.split(",")}
        modules |= set(re.findall(r"^(?:import|from) (pulumi_azuread|pulumi_random)\b", text, re.M))
    return sorted(modules)


def import_command(modules: list[str], teardown: bool) -> list[str]:
    code = "import importlib, os\n" + "\n".join(
        # getattr on a missing name forces a lazy module to execute.
        f"getattr(importlib.import_module({m!r}), '_benchmark_touch', None)" for m in modules)
    # `make plan` ends without the interpreter's teardown (offline/preview.py), which frees the SDK's
    # types one by one: the like-for-like floor ends the same way; the other is a plain import.
    return [sys.executable, "-c", code if teardown else code + "\nos._exit(0)"]


# Warm runs, as Python's defaults give every user: the warm-up writes the project's bytecode caches
# (the SDK's came with pip), even where the environment turns writing them off.
ENVIRONMENT = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


@dataclass
class Timing:
    wall: list[float]
    cpu: list[float]  # user + system time of the process and its children

    def best(self) -> float:
        return min(self.wall)

    def median(self) -> float:
        return statistics.median(self.wall)


def measure(commands: dict[str, list[str]], runs: int) -> dict[str, Timing]:
    """Each command `runs` times after a warm-up, the commands taking turns run after run, so that a
    busy machine disturbs all of them alike."""
    for command in commands.values():
        subprocess.run(command, cwd=ROOT, env=ENVIRONMENT, check=True, capture_output=True)  # warm-up
    timings = {label: Timing([], []) for label in commands}
    for _ in range(runs):
        for label, command in commands.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(command, cwd=ROOT, env=ENVIRONMENT, check=True, capture_output=True)
            timings[label].wall.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            timings[label].cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return timings


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(ROOT))
    from offline.large_catalog import large_catalog_yaml

    parser = argparse.ArgumentParser(description="Benchmark `make plan` against importing the SDK.")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stack", default="dev")
    args = parser.parse_args(argv)
    modules = sdk_modules()
    LARGE_CATALOG.parent.mkdir(parents=True, exist_ok=True)
    LARGE_CATALOG.write_text(large_catalog_yaml(100))
    plan = ["make", "--no-print-directory", "-s", "plan", f"STACK={args.stack}"]
    commands = {
        "import SDK modules": import_command(modules, teardown=False),
        "import SDK modules, then exit normally": import_command(modules, teardown=True),
        f"make plan STACK={args.stack}": plan,
        f"make plan STACK={args.stack}, 100 tools": [*plan, f"CATALOG={LARGE_CATALOG.relative_to(ROOT)}"],
    }
    timings = measure(commands, args.runs)
    floor = timings["import SDK modules"]
    print(f"SDK modules imported: {', '.join(modules)}")
    print(f"{args.runs} runs each, taking turns; wall time best and median, CPU time (user + system) best")
    met = True
    plain = timings["import SDK modules, then exit normally"]
    for label, timing in timings.items():
        line = (f"{label:<40} wall {timing.best():.2f} s (median {timing.median():.2f} s)  "
                f"CPU {min(timing.cpu):.2f} s")
        if label.startswith("make plan"):
            # The verdict is on CPU time against the like-for-like floor: on a shared machine wall time
            # measures the neighbours as much as the command. Wall ratios are shown beside it.
            ratio = min(timing.cpu) / min(floor.cpu)
            met = met and ratio <= TARGET_RATIO
            line += (f"\n{'':<40} ratio (CPU) {ratio:.2f}x, target {TARGET_RATIO}x or less -> "
                     f"{'met' if ratio <= TARGET_RATIO else 'MISSED'}; wall {timing.best() / floor.best():.2f}x, "
                     f"{timing.best() / plain.best():.2f}x a plain import")
        print(line)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
