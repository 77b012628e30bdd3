"""A tool's operation path is the operation a reviewer reads, whatever value fills it at run time.

`encodeUriComponent()` turns '/', '\\', '?', '#' and '%' into escapes but leaves '.' alone, so a value of
'..' (or '.') still becomes a dot segment: `/me/events/..` is another operation of the connector than
`/me/events/{id}`. Microsoft documents neither how the managed connector service (nor the API behind it)
normalises dot segments and percent-escapes in the path it forwards, nor whether the Agent action checks
the model's arguments against `agentParameterSchema` before a tool runs. The safer reading of both: any
dot segment may be resolved (RFC 3986 section 5.2.4 says it is), an escape may be decoded once more (the
blob connector's dataset is encoded twice for this reason), and only what the catalog declares and the
program checks limits a value. So every expression in a path is one of:
- `encodeUriComponent(agentParameters('<argument>'))`: the argument's schema admits only path-safe values
  (below): an integer, number or boolean, an `enum` of path-safe values, or a string `pattern` anchored
  with ^ and $ whose every match is path-safe;
- `encodeUriComponent(parameters('<setting>'))`: a required setting whose declared pattern admits only
  path-safe values (the program checks the stack's value against it before anything is registered), or
  the storage account's name the program derives;
- `encodeUriComponent('<text>')`: a constant that is path-safe itself;
each with `encodeUriComponent` once or twice, and nothing else: no other function, no `?` or `[...]`.
A path-safe value is never empty or made of dots only, and holds none of / \\ % ? #: a segment holding
one is never '', '.' or '..', however expressions and dots are put together in it, and cannot become
more than one segment, whether the escapes are decoded once or twice.
"""

from __future__ import annotations

import re

# The parse tree of a Python pattern (the modules sre_parse and sre_constants were, before Python 3.11, and
# typeshed still stubs only under those deprecated names).
import re._constants as sre  # type: ignore[import-not-found]
import re._parser as sre_parse  # type: ignore[import-not-found]
from collections.abc import Mapping
from typing import Any

# The characters that end or escape a segment, or start a query or fragment, once escapes are decoded.
UNSAFE_CHARACTERS = "/\\%?#"
# Characters a server or library on the way may turn into one of those or into '.': every character whose Unicode
# compatibility form (NFKC) is made of dots or holds one of UNSAFE_CHARACTERS (full-width dot U+FF0E and solidus
# U+FF0F, two dot leader U+2025, small reverse solidus U+FE68; tests/test_path_segments.py recomputes the list),
# the ideographic full stops URL libraries map to '.' (UTS #46), and what Windows' "best fit" code page conversion
# maps to '/' or '\\' (division slash U+2215, fraction slash U+2044, set minus U+2216, yen U+00A5 and won U+20A9
# signs in Japanese and Korean code pages; the WorstFit research, blog.orange.tw, 2025).
LOOK_ALIKES = ("\u2024\u2025\u2026\u2047\u2048\u2049\u2100\u2101\u2105\u2106\ufe16\ufe19\ufe30\ufe52\ufe56\ufe5f"
               "\ufe68\ufe6a\uff03\uff05\uff0e\uff0f\uff1f\uff3c"
               "\u3002\uff61\u2215\u2044\u2216\u29f5\u29f8\u29f9\u2571\u2572\u00a5\u20a9")
# A string argument's values are tested for dots only up to this many characters, and must be no longer.
MAX_DOT_PROBE = 1024
SAFE_VALUE_WORDS = ("never empty, never made of dots only ('.', '..'), and never holding any of "
                    + " ".join(UNSAFE_CHARACTERS)
                    + " or a look-alike of them or of '.' (such as U+FF0E, a full-width dot)")
# One layer of encodeUriComponent( ... ), whatever the case of its name and the spaces around it.
_ENCODE_OPEN = re.compile(r"\s*encodeuricomponent\s*\(", re.IGNORECASE)
_CLOSE = re.compile(r"\s*\)")
_INNER = re.compile(r"\s*(?:(agentparameters|parameters)\s*\(\s*'([^']*)'\s*\)|'((?:[^']|'')*)')", re.IGNORECASE)
_CATEGORIES = {sre.CATEGORY_DIGIT: r"\d", sre.CATEGORY_NOT_DIGIT: r"\D", sre.CATEGORY_SPACE: r"\s",
               sre.CATEGORY_NOT_SPACE: r"\S", sre.CATEGORY_WORD: r"\w", sre.CATEGORY_NOT_WORD: r"\W"}


def path_read(expression: str) -> tuple[str, str] | None:
    """("agentparameters" | "parameters" | "constant", name or text) when `expression` is one of the forms a
    path may hold (above), else None."""
    index, layers = 0, 0
    while (opened := _ENCODE_OPEN.match(expression, index)) is not None:
        index, layers = opened.end(), layers + 1
    inner = _INNER.match(expression, index)
    if not 1 <= layers <= 2 or inner is None:
        return None
    index = inner.end()
    for _ in range(layers):
        closed = _CLOSE.match(expression, index)
        if closed is None:
            return None
        index = closed.end()
    if expression[index:].strip():
        return None
    if inner.group(1):
        return inner.group(1).lower(), inner.group(2)
    return "constant", inner.group(3).replace("''", "'")


def safe_value(value: str) -> bool:
    return value.strip(".") != "" and not any(character in value for character in UNSAFE_CHARACTERS + LOOK_ALIKES)


def named(character: str) -> str:
    """A character as a message shows it: the code point of a look-alike, which a reader could not tell apart."""
    return character if character.isascii() and character.isprintable() else f"U+{ord(character):04X} {character!r}"


def _consumes(tree: Any, character: str) -> bool:
    """Whether some match of the parsed pattern can hold `character` (lookarounds consume nothing)."""
    code = ord(character)
    for op, value in tree:
        if (op == sre.LITERAL and value == code) or (op == sre.NOT_LITERAL and value != code) or op == sre.ANY:
            return True
        if op == sre.IN and _in_set(value, character):
            return True
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT) and value[1] > 0 and \
                _consumes(value[2], character):
            return True
        if op == sre.SUBPATTERN and _consumes(value[3], character):
            return True
        if op == sre.ATOMIC_GROUP and _consumes(value, character):
            return True
        if op == sre.BRANCH and any(_consumes(branch, character) for branch in value[1]):
            return True
        if op == sre.GROUPREF_EXISTS and any(branch is not None and _consumes(branch, character)
                                             for branch in value[1:]):
            return True
    return False


def _in_set(items: list[tuple[Any, Any]], character: str) -> bool:
    code = ord(character)
    negated = any(op == sre.NEGATE for op, _ in items)
    found = any((op == sre.LITERAL and value == code) or (op == sre.RANGE and value[0] <= code <= value[1])
                or (op == sre.CATEGORY and re.fullmatch(_CATEGORIES.get(value, r"[\s\S]"), character))
                for op, value in items)
    return found != negated


def pattern_problem(pattern: str, whole: bool, max_length: int | None = None) -> str | None:
    """Why a value matching `pattern` may not be path-safe, or None. `whole`: the pattern must match the
    whole value (a setting's); else it is a JSON Schema pattern, which may match anywhere in the value."""
    try:
        tree = sre_parse.parse(pattern)
    except re.error as error:
        return f"the pattern is not a regular expression Python reads ({error}), so nothing here can check it"
    if not whole:
        # Whoever checks the model's arguments against their JSON schema (if anything does) reads the pattern as
        # ECMA-262 (json-schema.org draft 2020-12, section 6.3.3) or .NET does, not as Python: a construct they read
        # otherwise ('\\A' and '\\Z' are the letters A and Z in ECMA-262) would let the check below prove a
        # pattern nobody applies. Only their common ground is accepted.
        construct = _unportable(tree.data) or _unportable_flags(tree)
        if construct:
            return (f"the pattern uses {construct}, which JSON Schema's regular expressions (ECMA-262) read "
                    "otherwise or not at all; allowed: ^ $ . classes, groups (?:...), | and quantifiers, "
                    "lookaheads and backreferences")
        first, last = tree.data[:1], tree.data[-1:]
        if first != [(sre.AT, sre.AT_BEGINNING)] or last != [(sre.AT, sre.AT_END)]:
            return "the pattern must match the whole value: start it with ^ and end it with $ (no | outside a group)"
    unsafe = [named(character) for character in UNSAFE_CHARACTERS + LOOK_ALIKES if _consumes(tree.data, character)]
    if unsafe:
        return f"the pattern admits {' '.join(unsafe)}"
    longest = tree.getwidth()[1]
    if max_length is not None:
        longest = min(longest, max_length)
    probes = [""]
    if _consumes(tree.data, "."):
        if longest > MAX_DOT_PROBE:
            return (f"the pattern admits '.' and values of any length; bound it (such as {{1,255}}"
                    f"{'' if whole else ' or maxLength'}), at most {MAX_DOT_PROBE} characters")
        probes = ["." * length for length in range(longest + 1)]
    match = re.fullmatch if whole else re.search
    for probe in probes:
        for value in (probe, probe + "\n"):
            if match(pattern, value):
                return f"the pattern admits {value!r}"
    return None


_UNPORTABLE = {sre.ATOMIC_GROUP: "an atomic group (?>...)", sre.POSSESSIVE_REPEAT: "a possessive quantifier (*+ ++ ?+)",
               sre.GROUPREF_EXISTS: "a conditional (?(1)...|...)"}
_UNPORTABLE_AT = {sre.AT_BEGINNING_STRING: "\\A", sre.AT_END_STRING: "\\Z"}


def _unportable(tree: Any) -> str | None:
    """The first construct of a parsed pattern that ECMA-262 reads otherwise than Python, or None."""
    for op, value in tree:
        if op in _UNPORTABLE:
            return _UNPORTABLE[op]
        if op == sre.AT and value in _UNPORTABLE_AT:
            return _UNPORTABLE_AT[value]
        if op == sre.SUBPATTERN:
            if value[1] or value[2]:
                return "an inline flag such as (?i:...)"
            nested = [value[3]]
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            nested = [value[2]]
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            nested = [value[1]]
        elif op == sre.BRANCH:
            nested = list(value[1])
        else:
            nested = []
        for part in nested:
            found = _unportable(part)
            if found:
                return found
    return None


def _unportable_flags(tree: Any) -> str | None:
    if tree.state.flags & ~re.UNICODE:  # a str pattern is Unicode by default
        return "a global flag such as (?i), (?m), (?s) or (?x)"
    if tree.state.groupdict:
        return "a named group (?P<name>...)"
    return None


def argument_problem(schema: Any) -> str | None:
    """Why the values an argument's schema admits may not be path-safe, or None."""
    if not isinstance(schema, Mapping):
        return "its schema is not a mapping"
    if "enum" in schema:
        if not isinstance(schema["enum"], list):
            return "its enum is not a list"
        unsafe = [value for value in schema["enum"] if not (isinstance(value, (int, float)) or
                                                             (isinstance(value, str) and safe_value(value)))]
        return f"its enum holds {unsafe!r}" if unsafe else None
    kind = schema.get("type")
    if kind in ("integer", "number", "boolean"):
        return None
    if kind != "string":
        return f"its type is {kind!r}; allowed here: integer, number, boolean, or string with an enum or a pattern"
    if not isinstance(schema.get("pattern"), str):
        return "a string argument needs an enum or a pattern"
    max_length = schema.get("maxLength")
    return pattern_problem(schema["pattern"], whole=False,
                           max_length=int(max_length) if isinstance(max_length, (int, float)) else None)
