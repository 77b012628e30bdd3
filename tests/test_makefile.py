"""`make help` lists every target a user runs: each phony target carries a `## what it does` text."""

from __future__ import annotations

import re
import subprocess

from offline.runner import PROJECT_DIR


def _phony_targets(makefile: str) -> set[str]:
    return {name for line in re.findall(r"^\.PHONY:(.*)$", makefile, re.MULTILINE) for name in line.split()}


def test_every_phony_target_is_described_in_make_help():
    makefile = (PROJECT_DIR / "Makefile").read_text()
    described = set(re.findall(r"^([a-z][a-z-]*):[^\n]*## ", makefile, re.MULTILINE))
    missing = sorted(_phony_targets(makefile) - described)
    assert not missing, f"targets without a `## description` (make help cannot list them): {missing}"
    shown = subprocess.run(["make", "--no-print-directory", "-s", "help"], cwd=PROJECT_DIR, check=True,
                           capture_output=True, text=True).stdout
    listed = {line.split()[0] for line in shown.splitlines() if line.strip()}
    assert listed == described
