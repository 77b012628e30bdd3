"""`make help` lists every target a user runs: each phony target carries a `## what it does` text."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

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


# --- targets that need the Pulumi CLI or Azure say so first --------------------------------------

CLI_TARGETS = ["preview", "up", "destroy", "authorize-connections", "grant-sign-in"]


def _bin(tmp_path, **scripts: str):
    """A PATH with the shell tools make's recipes use, and the given fake commands, nothing else."""
    directory = tmp_path / "bin"
    directory.mkdir()
    for tool in ("sh", "sed", "awk", "env", "cat"):
        found = shutil.which(tool)
        if found:
            (directory / tool).symlink_to(found)
    for name, body in scripts.items():
        (directory / name).write_text(f"#!/bin/sh\n{body}\n")
        (directory / name).chmod(0o755)
    return str(directory)


def _make(target: str, path: str, **env: str) -> subprocess.CompletedProcess:
    environment = {"PATH": path, "HOME": os.environ.get("HOME", "/tmp"), **env}
    return subprocess.run([shutil.which("make") or "make", "--no-print-directory", target, "STACK=dev"],
                          cwd=PROJECT_DIR, env=environment, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("target", CLI_TARGETS)
def test_a_target_without_the_pulumi_cli_says_how_to_get_it(target, tmp_path):
    done = _make(target, _bin(tmp_path))
    assert done.returncode != 0
    assert "this target runs the Pulumi CLI, which is not on PATH" in done.stderr
    assert "get.pulumi.com" in done.stderr and "--version 3." in done.stderr
    assert "No such file or directory" not in done.stderr and "pip install" not in done.stdout


@pytest.mark.parametrize("target", CLI_TARGETS)
def test_a_target_without_the_azure_cli_says_how_to_get_it(target, tmp_path):
    done = _make(target, _bin(tmp_path, pulumi="exit 0"))
    assert done.returncode != 0
    assert "az is not on PATH" in done.stderr and "install-azure-cli" in done.stderr


def test_a_signed_out_azure_cli_is_named(tmp_path):
    done = _make("preview", _bin(tmp_path, pulumi="exit 0", az="exit 1"))
    assert done.returncode != 0 and "run az login" in done.stderr


def test_recreate_connections_needs_the_cli_only_to_execute(tmp_path):
    done = subprocess.run([shutil.which("make") or "make", "--no-print-directory", "-n", "recreate-connections",
                           "STACK=dev", "CONNECTOR=office365"], cwd=PROJECT_DIR, capture_output=True, text=True)
    assert "pulumi CLI" not in done.stdout
    done = _make("recreate-connections", _bin(tmp_path), EXECUTE="1", CONNECTOR="office365")
    assert done.returncode != 0 and "this target runs the Pulumi CLI" in done.stderr
