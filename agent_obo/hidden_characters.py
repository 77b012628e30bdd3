"""Characters that change how text displays without showing themselves, refused in every file the
project reads (agent_obo/yaml_files.py, agent_obo/json_files.py).

A right-to-left override (U+202E) or an isolate (U+2066..U+2069) reorders what a reviewer sees of a
line, a comment included ("Trojan Source", CVE-2021-42574); a zero-width space or joiner makes two
names look equal that are not; a line or paragraph separator (U+2028, U+2029) breaks a line for one
reader and not for another. A reviewer of the diff, the plan and the portal could then read one value
while another applies. None of them has a use in a stack file, the tool catalog, the workflow project
or the pack's configuration, so each is refused wherever it stands: raw in the text (comments too), or
written as an escape (`"\\u202e"`) that only the parsed value shows.

Refused: Unicode's format characters (Cf: bidirectional controls, zero-width characters, a byte order
mark after the first character, soft hyphens), line and paragraph separators (Zl, Zp), private-use
and surrogate code points (Co, Cs), control characters (Cc) other than tab, line feed and carriage
return, and characters that render blank though Unicode classes them otherwise (Hangul fillers, the
Braille blank, variation selectors, the combining grapheme joiner). Printable text in any script,
emoji without variation selectors, and no-break spaces pass.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any

# Where one may stand: an ASCII control character other than tab, line feed and carriage return, or any
# character outside ASCII (then its category decides). Found by the regex engine, so ASCII text, nearly
# all of what the project reads, costs one scan in C.
_CANDIDATE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\U0010ffff]")
_REFUSED_CATEGORIES = frozenset({"Cf", "Zl", "Zp", "Co", "Cs", "Cc"})
_ALLOWED_CONTROLS = frozenset("\t\n\r")
# Letters, symbols and marks that render as nothing or as a blank though Unicode does not class them as
# format characters: Hangul fillers, the Braille blank, the combining grapheme joiner, variation
# selectors and Mongolian and Khmer invisible marks.
_BLANK_LOOKING = frozenset(
    "\u115f\u1160\u3164\uffa0\u2800\u034f\u17b4\u17b5\u180b\u180c\u180d\u180f"
    + "".join(chr(c) for c in range(0xFE00, 0xFE10))
    + "".join(chr(c) for c in range(0xE0100, 0xE01F0)))
ALLOWED = "printable text (no invisible formatting, bidirectional or zero-width characters)"


def is_hidden(character: str) -> bool:
    return character in _BLANK_LOOKING or (unicodedata.category(character) in _REFUSED_CATEGORIES
                                           and character not in _ALLOWED_CONTROLS)


def refusal(character: str) -> str:
    """`character U+202E is not allowed (RIGHT-TO-LEFT OVERRIDE): ...; allowed: ...`."""
    name = unicodedata.name(character, "")
    return (f"character U+{ord(character):04X} is not allowed{f' ({name})' if name else ''}: it changes "
            f"how the text displays without showing itself; allowed: {ALLOWED}")


def written_problem(text: str, shown: str) -> str | None:
    """The first hidden character written in a file's text (comments too), naming its line and column:
    checked before parsing, so that it is named whatever the parser makes of it."""
    written = in_text(text)
    if written is None:
        return None
    line, column, character = written
    return f"{shown} line {line}, column {column}: {refusal(character)}"


def escaped_problems(document: Any, shown: str) -> list[str]:
    """Each key or string value of a parsed document that holds a hidden character through an escape
    (`"\\u202e"`), which the text alone does not show."""
    return [f"{shown}: {where}: {refusal(character)}" for where, character in in_values(document)]


def in_text(text: str) -> tuple[int, int, str] | None:
    """The line, column and character of the first hidden character written in `text`, if any."""
    for candidate in _CANDIDATE.finditer(text):
        character, offset = candidate.group(), candidate.start()
        if is_hidden(character):
            line_start = text.rfind("\n", 0, offset) + 1
            return text.count("\n", 0, offset) + 1, offset - line_start + 1, character
    return None


def in_values(document: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(where, character) for each key or string value of a parsed document holding a hidden
    character, `where` a path such as `tools[2].description`."""
    if isinstance(document, str):
        hidden = next((c.group() for c in _CANDIDATE.finditer(document) if is_hidden(c.group())), None)
        if hidden is not None:
            yield path or "the document", hidden
    elif isinstance(document, dict):
        for key, value in document.items():
            where = f"{path}.{key}" if path else str(key)
            yield from in_values(key, f"the key {where}") if isinstance(key, str) else iter(())
            yield from in_values(value, where)
    elif isinstance(document, list):
        for index, item in enumerate(document):
            yield from in_values(item, f"{path}[{index}]")
