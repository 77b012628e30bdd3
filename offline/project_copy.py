"""A project directory that runs as this one does, with some of its files changed.

The program reads its files (stack files, the tool catalog, workflows/, the monitoring queries) from
the directory of its __main__.py, as under the Pulumi CLI; to run it with a changed file, run it from a
copy. Used by `make plan CATALOG=...` and by the tests, so that neither sets a module's global.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

from agent_obo.yaml_files import PROJECT_DIR

_NOT_COPIED = frozenset({"build", "node_modules", "__pycache__"})


def project_copy(into: Path, changes: Mapping[str, str | None] | None = None, base: Path = PROJECT_DIR,
                 copies: Iterable[str] = ()) -> Path:
    """A project directory that runs as `base` does, with some files changed: text by the path inside
    the project, None to delete one; `copies` are copied whole, for the test to edit in place. A program
    finds its files from its own __main__.py, so each Pulumi project's __main__.py is a copy and every
    other file a link into `base`; Python packages are left out (the program imports them from the
    checkout, where the harness runs from)."""
    changes = dict(changes or {})
    _mirror(base, into, changes, "")
    for relative in copies:
        (into / relative).unlink()
        shutil.copytree(base / relative, into / relative)
    for relative, text in changes.items():
        target = into / relative
        if target.is_symlink() or target.exists():
            target.unlink()
        if text is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    return into


def _mirror(source: Path, target: Path, changes: Mapping[str, str | None], prefix: str) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for entry in sorted(source.iterdir()):
        relative = prefix + entry.name
        if entry.name.startswith(".") or entry.name in _NOT_COPIED or (entry / "__init__.py").is_file():
            continue
        if entry.is_dir() and ((entry / "Pulumi.yaml").is_file() or any(c.startswith(relative + "/") for c in changes)):
            _mirror(entry, target / entry.name, changes, relative + "/")
        elif entry.name == "__main__.py":
            shutil.copyfile(entry, target / entry.name)
        else:
            (target / entry.name).symlink_to(entry)
