"""Time of `make plan`, against merely importing the SDK modules the program uses.

Each command runs as a fresh process (what a user waits for), after one warm-up run each so that
bytecode caches and the file system cache are warm; the commands take turns, run after run, so a
busy machine slows all of them alike. The verdict compares CPU time (user + system, best run), which
a busy machine disturbs far less than wall time; wall times, best and median, are printed beside
it. The floor imports the SDK modules that planning the stack really executes (a fresh process
plans it once and names them), each touched so that pulumi_azure_native's lazy modules really load.
Two plans are measured: the stack with
catalog/tools.yaml, and the same stack with a generated 100-tool catalog (offline/large_catalog.py),
which shows how the plan grows with a catalog. Beside each, the same resources registered again by
the SDK alone (offline/sdk_only.py: no settings, catalog, workflows or policy pack; literal inputs):
what any program that deploys them pays, so the part of the plan above it is this project's own.

    make benchmark            # or: .venv/bin/python scripts/benchmark.py --runs 7 --stack prod
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 1.2
LARGE_CATALOG = ROOT / "build" / "benchmark" / "tools-100.yaml"


# Run in a fresh process: plans the stack as `make plan` does, then names the Pulumi SDK modules that
# really executed. pulumi_azure_native imports each service lazily (importlib's LazyLoader): a service
# the stack never touches (say `network` on a stack without private networking) is imported by name
# but never runs, so it is no part of what the plan pays and no part of the floor either.
_LOADED_SDK_MODULES = """
import contextlib, io, sys, types
from offline import preview
with contextlib.redirect_stdout(io.StringIO()):
    preview.main(sys.argv[1:])
names = sorted(name for name, module in sys.modules.items()
               if type(module) is types.ModuleType
               and (name in ("pulumi", "pulumi.dynamic", "pulumi_azuread", "pulumi_random", "pulumi_policy")
                    or (name.startswith("pulumi_azure_native.") and name.count(".") == 1)))
print(" ".join(names))
"""


def sdk_modules(plan_arguments: list[str]) -> list[str]:
    """`pulumi` (with `pulumi.dynamic`, the package upload's provider), the other Pulumi SDK packages (the
    policy SDK included: `make plan` runs the pack) and each `pulumi_azure_native.<service>` that planning
    the stack executes (not merely names in an import statement)."""
    answer = subprocess.run([sys.executable, "-c", _LOADED_SDK_MODULES, *plan_arguments], cwd=ROOT,
                            env=ENVIRONMENT, check=True, capture_output=True, text=True)
    return answer.stdout.split()


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
    from offline.preview import default_build_dir

    parser = argparse.ArgumentParser(description="Benchmark `make plan` against importing the SDK.")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--stack", default="dev")
    args = parser.parse_args(argv)
    LARGE_CATALOG.parent.mkdir(parents=True, exist_ok=True)
    LARGE_CATALOG.write_text(large_catalog_yaml(100))
    modules = sdk_modules([args.stack])
    plan = ["make", "--no-print-directory", "-s", "plan", f"STACK={args.stack}"]
    large = f"make plan STACK={args.stack}, 100 tools"
    plans = {
        f"make plan STACK={args.stack}": (plan, default_build_dir() / args.stack / "plan.json"),
        large: ([*plan, f"CATALOG={LARGE_CATALOG.relative_to(ROOT)}"],
                default_build_dir(LARGE_CATALOG) / args.stack / "plan.json"),
    }
    commands = {
        "import SDK modules": import_command(modules, teardown=False),
        "import SDK modules, then exit normally": import_command(modules, teardown=True),
    }
    for label, (command, plan_json) in plans.items():
        commands[label] = command
        # Registers what the plan above wrote (its warm-up runs first): the dict keeps this order.
        commands[f"{label} | SDK alone"] = [sys.executable, "-m", "offline.sdk_only", args.stack,
                                            "--plan", str(plan_json)]
    timings = measure(commands, args.runs)
    floor = min(timings["import SDK modules"].cpu)
    print(f"SDK modules imported: {', '.join(modules)}")
    print(f"{args.runs} runs each, taking turns; wall time best and median, CPU time (user + system) best")
    for label, timing in timings.items():
        print(f"{label:<52} wall {timing.best():.2f} s (median {timing.median():.2f} s)  CPU {min(timing.cpu):.2f} s")
    met = True
    print("Against the import (CPU; on a shared machine wall time measures the neighbours as much as the command):")
    for label in plans:
        ratio = min(timings[label].cpu) / floor
        sdk_alone = min(timings[f"{label} | SDK alone"].cpu) / floor
        met = met and ratio <= TARGET_RATIO
        print(f"  {label:<40} {ratio:.2f}x, target {TARGET_RATIO}x or less -> "
              f"{'met' if ratio <= TARGET_RATIO else 'MISSED'}\n"
              f"  {'':<40} of which the SDK registering its resources alone {sdk_alone:.2f}x, "
              f"this project's own work {ratio - sdk_alone:+.2f}x")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
