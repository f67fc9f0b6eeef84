"""A static guard against regexes that can take exponential time (catastrophic backtracking).

Python's ``re`` is a backtracking engine with no timeout, and pack regexes run against values
from AWS. A pattern is rejected when loading the pack if:

* it nests a variable-count quantifier inside another where either is unbounded: ``(a+)+``,
  ``(a*)*``, ``(.*,)*x``, ``(a|b+){2,}`` - the star-height > 1 shape behind classic ReDoS
  (possessive quantifiers ``a++`` and atomic groups ``(?>...)`` never backtrack and are
  allowed);
* a quantifier's bound exceeds ``MAX_REPEAT_BOUND`` (``a{1,100000}``);
* the pattern is longer than ``MAX_PATTERN_LENGTH`` characters.

Alternations of overlapping branches under a quantifier (``(a|aa)+``) and polynomial shapes
(``.*a.*a.*a``) are not detected; the values they run against are short (AWS bounds every
field, and auditor refuses responses over 4 MiB), which keeps the polynomial cases in check.
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


class UnsafeRegex(ValueError):
    """A pattern the guard refuses; the message says why and how to fix it."""


def check_regex(pattern: str) -> None:
    """Raise ``UnsafeRegex`` (or ``re.error`` for a syntax error) for a pattern auditor will
    not run against AWS values."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise UnsafeRegex(f"longer than {MAX_PATTERN_LENGTH} characters")
    _walk(_parser.parse(pattern), inside_repeat=False)


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
