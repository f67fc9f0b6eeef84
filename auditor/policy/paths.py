"""Paths into a document: parsing the two spellings, looking values up, naming them in evidence."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from auditor.models import Unreadable

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_@$:-]+$")


class _Absent:
    """The lookup result for a key that does not exist (distinct from a JSON null)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ABSENT"


class _Blocked:
    """The lookup result when a parent on the path is not an object (a list, a string...).

    That is not "missing": the value may well be there, in a shape the path cannot read, so a
    leaf on it is unknown whatever its ``missing`` says.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "BLOCKED"


ABSENT: Any = _Absent()
BLOCKED: Any = _Blocked()


def element_subject(subject: Any) -> Any:
    """The subject itself (a check nested in a quantifier, without a path); ``BLOCKED`` for an
    ``Unreadable`` related resource."""
    return BLOCKED if subject.__class__ is Unreadable else subject


def key_segment(key: str) -> str:
    """How one key reads inside a displayed path: ``.key`` or ``["a.b"]``."""
    return f".{key}" if _PLAIN_KEY.match(key) else f'["{key}"]'


def _lookup(keys: tuple[str, ...]) -> Callable[[Any], Any]:
    """A function returning the value at ``keys``: None when it is missing or null (or a parent
    is), ``BLOCKED`` when a parent is neither an object nor null (an ``Unreadable`` related
    resource included)."""
    if len(keys) == 1:
        (only,) = keys
        if only.startswith("$"):  # a context root, which may hold an Unreadable

            def lookup_root(subject: Any) -> Any:
                if not isinstance(subject, Mapping):
                    return None if subject is None else BLOCKED
                value = subject.get(only)
                return BLOCKED if value.__class__ is Unreadable else value

            return lookup_root

        def lookup_one(subject: Any) -> Any:
            if isinstance(subject, dict):
                return subject.get(only)
            if isinstance(subject, Mapping):
                return subject.get(only)
            return None if subject is None else BLOCKED

        return lookup_one

    def lookup(subject: Any) -> Any:
        for key in keys:
            # dict first: a C-level check, much cheaper than the Mapping ABC on the hot path
            if isinstance(subject, dict) or isinstance(subject, Mapping):  # noqa: SIM101
                subject = subject.get(key)
            elif subject is None:
                return None
            else:
                return BLOCKED
        return subject

    return lookup


@dataclass(frozen=True, slots=True)
class Found:
    """What a path finds, for evidence: the value (``ABSENT`` when a key does not exist, None
    for null), or the parent that blocked it (``blocked_at`` keys in) and its value."""

    value: Any
    blocked_at: int | None = None


@dataclass(frozen=True, slots=True)
class DocPath:
    """A compiled path: its keys, how it reads, and a fast lookup (see ``_lookup``)."""

    keys: tuple[str, ...]
    display: str
    get: Callable[[Any], Any]

    @classmethod
    def parse(cls, spec: str | list[str] | tuple[str, ...]) -> DocPath:
        """From ``a.b.c`` or ``[a, "b.c"]`` (a list for keys that contain dots)."""
        keys = tuple(spec.split(".")) if isinstance(spec, str) else tuple(spec)
        display = "".join(key_segment(key) for key in keys).removeprefix(".")
        return cls(keys=keys, display=display, get=_lookup(keys))

    def find(self, subject: Any) -> Found:
        """The value at this path, or where the path was blocked (only for evidence)."""
        for depth, key in enumerate(self.keys):
            if subject is None:
                return Found(ABSENT)
            if not isinstance(subject, Mapping):
                return Found(subject, blocked_at=depth)
            if key not in subject:
                return Found(ABSENT)
            subject = subject[key]
        return Found(subject)


class Locus(NamedTuple):
    """Where a subject sits, for evidence: its path, and the phrase a sentence starts with.

    ``names_value`` is true when the phrase already shows the value (``tags key 'aws:x'``).
    """

    path: str
    phrase: str
    names_value: bool = False

    def join(self, path: DocPath | None) -> Locus:
        if path is None:
            return self
        joined = (self._base() + "".join(key_segment(key) for key in path.keys)).removeprefix(".")
        return Locus(joined, joined)

    def key(self, key: str) -> Locus:
        """The locus of one key of the object here (under ``keys``)."""
        return Locus(self.path, f"{self.phrase} key {key!r}", names_value=True)

    def value(self, key: str) -> Locus:
        """The locus of the value under ``key`` of the object here (under ``values``)."""
        joined = self._base() + key_segment(key)
        return Locus(joined.removeprefix("."), joined.removeprefix("."))

    def item(self, index: int) -> Locus:
        """The locus of item ``index`` of the list here (under ``items``)."""
        joined = f"{self._base()}[{index}]"
        return Locus(joined, joined)

    def _base(self) -> str:
        return "" if self.path == ROOT.path else self.path


ROOT = Locus("$", "the document")
