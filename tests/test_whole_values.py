"""No regular expression of the project matches up to a trailing newline: `$` accepts "value\\n" (a
folded YAML scalar, a pasted id), so every pattern ends with `\\Z` or is matched with re.fullmatch."""

from __future__ import annotations

import ast
import re

from offline.runner import PROJECT_DIR

FUNCTIONS = {"compile", "match", "fullmatch", "search", "findall", "finditer", "sub", "split"}
DOLLAR = re.compile(r"(?<!\\)\$")


def _text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        parts = [_text(node.left), _text(node.right)]
        return "".join(part for part in parts if part) if any(part is not None for part in parts) else None
    return None


def test_no_pattern_ends_at_dollar():
    found = []
    for source in sorted(PROJECT_DIR.rglob("*.py")):
        relative = source.relative_to(PROJECT_DIR)
        if relative.parts[0] in {".venv", "build", "tests"} or "venv" in relative.parts:
            continue
        for node in ast.walk(ast.parse(source.read_text("utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "re"
                    and node.func.attr in FUNCTIONS and node.args):
                continue
            if "MULTILINE" in ast.unparse(node) or "re.M" in ast.unparse(node):
                continue  # line by line on purpose: `$` is the end of each line
            pattern = _text(node.args[0])
            if pattern and DOLLAR.search(pattern):
                found.append(f"{relative}:{node.lineno}: {pattern!r}")
    assert found == [], "use \\Z or re.fullmatch:\n" + "\n".join(found)
