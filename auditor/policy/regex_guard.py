"""A static guard against regexes that can take exponential time (catastrophic backtracking).

Python's ``re`` is a backtracking engine with no timeout, and pack regexes run against values
from AWS. A pattern is rejected when loading the pack if:

* it nests a variable-count quantifier inside another where either is unbounded: ``(a+)+``,
  ``(a*)*``, ``(.*,)*x``, ``(a|b+){2,}`` - the star-height > 1 shape behind classic ReDoS
  (possessive quantifiers ``a++`` and atomic groups ``(?>...)`` never backtrack and are
  allowed);
* an unbounded quantifier repeats an alternation whose branches can start with the same
  character (``(.|a)+``, ``(x|xy)*``), or that has an empty branch (``re`` turns ``(a|aa)+``
  into ``a(|a)`` before matching, an optional ``a`` under ``+``): either way one string can be
  split into iterations in exponentially many ways. Branches ``re`` merges into one character
  class (``(a|b)+``, ``(\\d|\\w)+``) match one character an iteration and are safe;
* a quantifier's bound exceeds ``MAX_REPEAT_BOUND`` (``a{1,100000}``);
* the pattern is longer than ``MAX_PATTERN_LENGTH`` characters.

The checks are conservative: some refused patterns would be fine (``(x|xy|z)+``), and each
has a rewrite the guard accepts (a possessive quantifier or an atomic group). Polynomial
shapes (``.*a.*a.*a``) are not detected; the values they run against are short (AWS bounds
every field, and auditor refuses responses over 4 MiB), which keeps them in check.
"""

from __future__ import annotations

import re
import re._constants as _c  # type: ignore[import-not-found]
import re._parser as _parser  # type: ignore[import-not-found]
from typing import Any

MAX_PATTERN_LENGTH = 1000
MAX_REPEAT_BOUND = 1000

_REPEATS = (_c.MAX_REPEAT, _c.MIN_REPEAT)
_POSSESSIVE = getattr(_c, "POSSESSIVE_REPEAT", None)
_ATOMIC = getattr(_c, "ATOMIC_GROUP", None)


_NESTED = (
    "a quantifier nested inside another, one of them unbounded (like (a+)+ or (a{1,3})*), "
    "which can take exponential time on some inputs; use a single quantifier, a possessive "
    "one (a++) or an atomic group (?>...)"
)


_AMBIGUOUS = (
    "a repeated alternation whose branches can match the same text (like (.|a)+ or (a|aa)+), "
    "which can take exponential time on some inputs; make the branches start differently, "
    "or use a possessive quantifier (...)++ or an atomic group (?>...)"
)

# First characters are compared over this sample: ASCII, and a few characters that only
# Unicode-aware classes (\w, \d, \s) or a negated class match.
_SAMPLE = (
    *(chr(code) for code in range(128)),
    "\u00e9", "\u0660", "\u2028", "\u3000", "\u4e2d", "\U0001f600",
)  # fmt: skip
_EVERY = frozenset(_SAMPLE)
_CATEGORIES = {
    name: frozenset(c for c in _SAMPLE if re.fullmatch(escape, c))
    for name, escape in (
        (_c.CATEGORY_DIGIT, r"\d"),
        (_c.CATEGORY_NOT_DIGIT, r"\D"),
        (_c.CATEGORY_SPACE, r"\s"),
        (_c.CATEGORY_NOT_SPACE, r"\S"),
        (_c.CATEGORY_WORD, r"\w"),
        (_c.CATEGORY_NOT_WORD, r"\W"),
    )
}


class UnsafeRegex(ValueError):
    """A pattern the guard refuses; the message says why and how to fix it."""


def check_regex(pattern: str) -> None:
    """Raise ``UnsafeRegex`` (or ``re.error`` for a syntax error) for a pattern auditor will
    not run against AWS values."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise UnsafeRegex(f"longer than {MAX_PATTERN_LENGTH} characters")
    parsed = _parser.parse(pattern)
    _walk(parsed, inside_repeat=False)
    _check_alternations(parsed, bool(parsed.state.flags & re.IGNORECASE), repeated=False)


def _walk(items: Any, *, inside_repeat: bool) -> bool:
    """Check ``items``; returns whether they contain a variable-count quantifier."""
    variable = False
    for op, av in items:
        if op in _REPEATS:
            low, high, sub = av
            unbounded = high == _c.MAXREPEAT
            if (not unbounded and high > MAX_REPEAT_BOUND) or low > MAX_REPEAT_BOUND:
                raise UnsafeRegex(f"a repeat bound above {MAX_REPEAT_BOUND}")
            repeats = high != low and high > 1
            inner = _walk(sub, inside_repeat=inside_repeat or repeats)
            if repeats and ((inner and unbounded) or (inside_repeat and unbounded)):
                raise UnsafeRegex(_NESTED)
            variable = variable or repeats or inner
        elif op in (_POSSESSIVE, _ATOMIC):
            # no backtracking into it: safe inside, and opaque to an enclosing quantifier
            sub = av[2] if op == _POSSESSIVE else av
            _walk(sub, inside_repeat=False)
        elif op == _c.SUBPATTERN:
            variable = _walk(av[3], inside_repeat=inside_repeat) or variable
        elif op == _c.BRANCH:
            for branch in av[1]:
                variable = _walk(branch, inside_repeat=inside_repeat) or variable
        elif op in (_c.ASSERT, _c.ASSERT_NOT):
            _walk(av[1], inside_repeat=False)
        elif op == _c.GROUPREF_EXISTS:
            for branch in av[1:]:
                if branch is not None:
                    variable = _walk(branch, inside_repeat=inside_repeat) or variable
    return variable


def _check_alternations(items: Any, ignore_case: bool, *, repeated: bool) -> None:
    """Refuse an ambiguous alternation anywhere under an unbounded, backtracking repeat."""
    for op, av in items:
        if op in _REPEATS:
            _, high, sub = av
            _check_alternations(sub, ignore_case, repeated=repeated or high == _c.MAXREPEAT)
        elif op == _c.BRANCH:
            if repeated and _ambiguous(av[1], ignore_case):
                raise UnsafeRegex(_AMBIGUOUS)
            for branch in av[1]:
                _check_alternations(branch, ignore_case, repeated=repeated)
        elif op == _c.SUBPATTERN:
            scoped = (ignore_case or bool(av[1] & re.IGNORECASE)) and not av[2] & re.IGNORECASE
            _check_alternations(av[3], scoped, repeated=repeated)
        elif op in (_c.ASSERT, _c.ASSERT_NOT):
            _check_alternations(av[1], ignore_case, repeated=repeated)
        # possessive repeats and atomic groups never backtrack: nothing under them matters


def _ambiguous(branches: list[Any], ignore_case: bool) -> bool:
    seen: set[str] = set()
    for branch in branches:
        first, nullable = _first(branch, ignore_case)
        if nullable or seen & first:
            return True
        seen |= first
    return False


def _first(items: Any, ignore_case: bool) -> tuple[frozenset[str], bool]:
    """The (sampled) characters a match of ``items`` can start with; whether it can be empty."""
    found: set[str] = set()
    for op, av in items:
        first, nullable = _first_of(op, av, ignore_case)
        found |= first
        if not nullable:
            return frozenset(found), False
    return frozenset(found), True


def _first_of(op: Any, av: Any, ignore_case: bool) -> tuple[frozenset[str], bool]:
    if op == _c.LITERAL:
        char = chr(av)
        return frozenset({char, char.swapcase()} if ignore_case else {char}), False
    if op == _c.NOT_LITERAL:
        return _EVERY - {chr(av)}, False
    if op == _c.ANY:
        return _EVERY, False
    if op == _c.IN:
        return _class(av, ignore_case), False
    if op in _REPEATS or op == _POSSESSIVE:
        low, _, sub = av
        first, nullable = _first(sub, ignore_case)
        return first, nullable or low == 0
    if op == _c.SUBPATTERN:
        return _first(av[3], ignore_case or bool(av[1] & re.IGNORECASE))
    if op == _ATOMIC:
        return _first(av, ignore_case)
    if op == _c.BRANCH:
        found: set[str] = set()
        any_nullable = False
        for branch in av[1]:
            first, nullable = _first(branch, ignore_case)
            found |= first
            any_nullable = any_nullable or nullable
        return frozenset(found), any_nullable
    if op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
        return frozenset(), True  # zero width
    return _EVERY, True  # a back-reference or a conditional: could be anything


def _class(items: Any, ignore_case: bool) -> frozenset[str]:
    negate = False
    found: set[str] = set()
    for op, av in items:
        if op == _c.NEGATE:
            negate = True
        elif op == _c.LITERAL:
            found.add(chr(av))
        elif op == _c.RANGE:
            low, high = av
            found.update(c for c in _SAMPLE if low <= ord(c) <= high)
        elif op == _c.CATEGORY:
            found |= _CATEGORIES.get(av, _EVERY)
        else:
            found |= _EVERY
    if ignore_case:
        found |= {c.swapcase() for c in found}
    return _EVERY - found if negate else frozenset(found)


def compile_guarded(pattern: str) -> re.Pattern[str]:
    """``re.compile`` after ``check_regex``; raises ``UnsafeRegex`` or ``re.error``."""
    check_regex(pattern)
    return re.compile(pattern)


__all__ = [
    "MAX_PATTERN_LENGTH",
    "MAX_REPEAT_BOUND",
    "UnsafeRegex",
    "check_regex",
    "compile_guarded",
]
