"""The README and docs/ stand alone: every link they make resolves inside the repository or is a public
web address, and the README's layout names every top-level entry of the tree."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from offline.runner import PROJECT_DIR

DOCUMENTS = [PROJECT_DIR / "README.md", *sorted((PROJECT_DIR / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def tracked_top_level() -> set[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=PROJECT_DIR, capture_output=True, text=True, check=True)
    return {line.split("/", 1)[0] for line in listed.stdout.splitlines()}


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_link_resolves_inside_the_repository_or_is_public(document):
    for target in LINK.findall(document.read_text()):
        if re.match(r"https://", target):
            continue
        path = (document.parent / target.split("#", 1)[0]).resolve()
        assert target.startswith("#") or (path.is_relative_to(PROJECT_DIR) and path.exists()), \
            f"{document.name} links to {target}, which is not a file of the repository"


@pytest.mark.parametrize("document", [*DOCUMENTS, *sorted(PROJECT_DIR.glob("*/*.py")), PROJECT_DIR / "__main__.py"],
                         ids=lambda path: str(path.relative_to(PROJECT_DIR)))
def test_nothing_points_outside_the_repository(document):
    """A reader of the repository alone has no ../shared: sources are cited by their public address."""
    if document == Path(__file__):
        return
    assert not re.search(r"\.\./shared|AZURE_CONTRACTS", document.read_text()), \
        f"{document.relative_to(PROJECT_DIR)} refers to a file outside the repository"


def test_the_readme_layout_names_every_top_level_entry():
    readme = PROJECT_DIR.joinpath("README.md").read_text()
    layout = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"[\w.-]+", layout))
    stacks = {entry for entry in tracked_top_level() if re.fullmatch(r"Pulumi\.\w+\.yaml", entry)}
    requirements = {entry for entry in tracked_top_level() if entry.startswith("requirements")}
    for entry in tracked_top_level() - stacks - requirements - {".gitignore", "README.md"}:
        assert entry in named or entry.rstrip("/") + "/" in layout, f"README's layout does not mention {entry}"
    assert "Pulumi.<stack>.yaml" in layout and "requirements*" in layout
