"""Small text helpers every writer shares: how a version is named, what a failure says."""

from __future__ import annotations

import unicodedata

from auditor.models import Resource, Result, Severity

SEVERITIES = tuple(Severity)  # most severe first


def version_label(resource: Resource) -> str:
    """``arn@version``: how a single trained model version is named in flat formats."""
    return f"{resource.arn}@{resource.version_identifier or '-'}"


def failure_message(result: Result) -> str:
    """The evidence messages of a result, joined; the policy title when there is no evidence."""
    messages = [item.message for item in result.evidence if item.message]
    return "; ".join(messages) if messages else result.policy.title


# Unicode categories of characters that change how text around them displays without showing
# themselves: controls (NUL, C1), format controls (bidi overrides and isolates, zero-width
# characters, tags) and the line/paragraph separators; surrogates cannot be shown either.
_HIDDEN_CATEGORIES = frozenset(("Cc", "Cf", "Zl", "Zp", "Cs"))
_WHITESPACE = frozenset("\t\n\r")  # shown as the whitespace they are; they reorder nothing


def visible(text: str) -> str:
    """``text`` with every character that could change how it displays (a bidi override
    that reverses a name, a zero-width joiner, NUL) shown as ``<U+202E>`` instead of applied."""
    if text.isprintable():  # the common case, checked in C
        return text
    return "".join(
        f"<U+{ord(char):04X}>"
        if char not in _WHITESPACE and unicodedata.category(char) in _HIDDEN_CATEGORIES
        else char
        for char in text
    )
