"""Three-valued outcomes: every condition is ``TRUE``, ``FALSE`` or ``UNKNOWN``.

``UNKNOWN`` means what the condition needs could not be read (missing, null, of the wrong type,
or behind a parent that is not an object). Combinators follow Kleene's logic, and a policy
whose check is ``UNKNOWN`` fails: an unknown never becomes a pass.

The hot path compares with the module constants by identity (``truth is FALSE``).
"""

from __future__ import annotations

from enum import Enum


class Truth(Enum):
    """A condition's outcome on one subject."""

    TRUE = "true"
    FALSE = "false"
    UNKNOWN = "unknown"

    def negated(self) -> Truth:
        """Kleene ``not``: true and false swap, unknown stays unknown."""
        return _NEGATION[self]


TRUE = Truth.TRUE
FALSE = Truth.FALSE
UNKNOWN = Truth.UNKNOWN

_NEGATION = {TRUE: FALSE, FALSE: TRUE, UNKNOWN: UNKNOWN}


def from_bool(holds: bool) -> Truth:
    """``TRUE`` or ``FALSE``."""
    return TRUE if holds else FALSE
