"""The audit and troubleshooting queries: monitoring/queries/*.kql, the one source for the workbook and the alerts.

Each query file starts with `// key: value` lines:
    title            what the workbook shows above it
    shows            table, barchart or timechart
    troubleshooting  the row of the module's troubleshooting table it answers (TROUBLESHOOTING)
    alert            `severity=<0-4>; threshold=<rows>; frequency=<ISO 8601>; window=<ISO 8601>`:
                     a scheduled query alert fires when more rows than the threshold come back
Files whose name starts with `_` hold shared `let` definitions, put in front of every query.
Every problem is reported at once, before any resource is registered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from agent_obo import hidden_characters
from agent_obo.errors import SettingsError
from agent_obo.yaml_files import PROJECT_DIR

QUERIES = Path("monitoring", "queries")  # in the project directory
QUERIES_DIR = PROJECT_DIR / QUERIES
NAME = re.compile(r"^[a-z][a-z0-9-]{2,40}\Z")
HEADER = re.compile(r"^//\s*([a-z]+):\s*(.*?)\s*\Z")
VISUALIZATIONS = ("table", "barchart", "timechart")
# Durations a log alert accepts for its frequency and window (Azure Monitor scheduled query rules).
DURATIONS = {"PT1M": 1, "PT5M": 5, "PT10M": 10, "PT15M": 15, "PT30M": 30, "PT45M": 45, "PT1H": 60,
             "PT2H": 120, "PT3H": 180, "PT4H": 240, "PT5H": 300, "PT6H": 360, "PT12H": 720, "PT24H": 1440,
             "P1D": 1440}

# The module's troubleshooting table, one row each: the problem as the module names it, and the
# docs section (docs/audit-and-troubleshooting.md) that maps it to its query and its fix.
TROUBLESHOOTING = {
    "unauthorized": "401/403 Unauthorized",
    "consent-scope": "Consent or scope mismatch",
    "token-audience": "Token audience (aud) errors",
    "rate-limits": "Rate limits (429 errors)",
    "mixed-identity": "Mixed identity confusion",
}


@dataclass(frozen=True)
class Alert:
    severity: int
    threshold: int
    frequency: str
    window: str


@dataclass(frozen=True)
class Query:
    name: str  # the file name without .kql
    title: str
    visualization: str
    troubleshooting: str | None
    alert: Alert | None
    body: str  # the query without its header
    prelude: str  # the shared definitions

    @property
    def text(self) -> str:
        """What runs: the shared definitions, then the query."""
        return f"{self.prelude}\n{self.body}" if self.prelude else self.body


def load_queries(directory: Path = QUERIES_DIR) -> list[Query]:
    problems: list[str] = []
    prelude = "\n".join((_read(path, problems) or "").strip() for path in sorted(directory.glob("_*.kql")))
    queries = [query for path in sorted(directory.glob("[!_]*.kql"))
               if (query := _parse(path, prelude, problems)) is not None]
    if not queries:
        problems.append(f"{directory}: no query files (*.kql)")
    answered = [q.troubleshooting for q in queries if q.troubleshooting]
    for row, problem in TROUBLESHOOTING.items():
        if answered.count(row) != 1:
            problems.append(f"troubleshooting row {row!r} ({problem}) is answered by {answered.count(row)} "
                            "queries; allowed: exactly one")
    if problems:
        raise SettingsError("monitoring/queries is invalid", problems)
    return queries


def _read(path: Path, problems: list[str]) -> str | None:
    """A query file's text, refused like every file the project reads (agent_obo/yaml_files.py) when it is not
    UTF-8 or hides characters: a bidirectional override in a `//` comment can show a reviewer a query that is not
    the one the alert runs, and a line separator splits a line for Python (a header) but not for Kusto."""
    where = f"monitoring/queries/{path.name}"
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError as error:
        problems.append(f"{where}: byte 0x{error.object[error.start]:02x} is not UTF-8; allowed: UTF-8 text")
        return None
    written = hidden_characters.written_problem(text, where)
    if written is not None:
        problems.append(written)
        return None
    return text


def _parse(path: Path, prelude: str, problems: list[str]) -> Query | None:
    where = f"monitoring/queries/{path.name}"
    name = path.stem
    before = len(problems)
    if not NAME.match(name):
        problems.append(f"{where}: file name {name!r} not allowed; allowed: 3-41 lower-case letters, digits "
                        "or '-' (it names the alert rule)")
    text = _read(path, problems)
    if text is None:
        return None
    lines = text.splitlines()
    header: dict[str, str] = {}
    body_start = 0
    for index, line in enumerate(lines):
        match = HEADER.match(line)
        if match and match.group(1) in ("title", "shows", "troubleshooting", "alert") and body_start == index:
            if match.group(1) in header:
                problems.append(f"{where}: `{match.group(1)}` given twice")
            header[match.group(1)] = match.group(2)
            body_start = index + 1
    body = "\n".join(lines[body_start:]).strip()
    if not header.get("title"):
        problems.append(f"{where}: needs a `// title: ...` line first")
    visualization = header.get("shows", "table")
    if visualization not in VISUALIZATIONS:
        problems.append(f"{where}: shows = {visualization!r}; allowed values: {', '.join(VISUALIZATIONS)}")
    row = header.get("troubleshooting")
    if row is not None and row not in TROUBLESHOOTING:
        problems.append(f"{where}: troubleshooting = {row!r}; allowed values: {', '.join(TROUBLESHOOTING)}")
    alert = _parse_alert(header["alert"], where, problems) if "alert" in header else None
    if not any(line.strip() and not line.strip().startswith("//") for line in body.splitlines()):
        problems.append(f"{where}: has no query after its header")
    if len(problems) > before:
        return None
    return Query(name=name, title=header["title"], visualization=visualization, troubleshooting=row,
                 alert=alert, body=body, prelude=prelude)


def _parse_alert(value: str, where: str, problems: list[str]) -> Alert | None:
    allowed = "allowed: severity=<0-4>; threshold=<0 or more rows>; frequency=<duration>; window=<duration>"
    fields = dict(part.strip().split("=", 1) for part in value.split(";") if "=" in part)
    if set(fields) != {"severity", "threshold", "frequency", "window"}:
        problems.append(f"{where}: alert = {value!r}; {allowed}")
        return None
    ok = True
    if not fields["severity"].isdigit() or not 0 <= int(fields["severity"]) <= 4:
        problems.append(f"{where}: alert severity = {fields['severity']!r}; allowed: 0 (critical) to 4 (verbose)")
        ok = False
    if not fields["threshold"].isdigit():
        problems.append(f"{where}: alert threshold = {fields['threshold']!r}; allowed: a whole number of rows")
        ok = False
    for key in ("frequency", "window"):
        if fields[key] not in DURATIONS:
            problems.append(f"{where}: alert {key} = {fields[key]!r}; allowed values: {', '.join(DURATIONS)}")
            ok = False
    if ok and DURATIONS[fields["window"]] < DURATIONS[fields["frequency"]]:
        problems.append(f"{where}: alert window {fields['window']} is shorter than its frequency "
                        f"{fields['frequency']}; allowed: a window at least as long, so no row goes unseen")
        ok = False
    if not ok:
        return None
    return Alert(severity=int(fields["severity"]), threshold=int(fields["threshold"]),
                 frequency=fields["frequency"], window=fields["window"])
