"""Paths into a document: parsing the two spellings, looking values up, naming them in evidence."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_@$:-]+$")


class _Absent:
    """The lookup result for a key that does not exist (distinct from a JSON null)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


def key_segment(key: str) -> str:
    """How one key reads inside a displayed path: ``.key`` or ``["a.b"]``."""
    return f".{key}" if _PLAIN_KEY.match(key) else f'["{key}"]'


def _lookup(keys: tuple[str, ...]) -> Callable[[Any], Any]:
    """A function returning the value at ``keys``, or None when it is missing or null."""
    if len(keys) == 1:
        (only,) = keys

        def lookup_one(subject: Any) -> Any:
            if isinstance(subject, dict):
                return subject.get(only)
            if isinstance(subject, Mapping):
                return subject.get(only)
            return None

        return lookup_one

    def lookup(subject: Any) -> Any:
        for key in keys:
            # dict first: a C-level check, much cheaper than the Mapping ABC on the hot path
            if isinstance(subject, dict) or isinstance(subject, Mapping):  # noqa: SIM101
                subject = subject.get(key)
            else:
                return None
        return subject

    return lookup


@dataclass(frozen=True, slots=True)
class DocPath:
    """A compiled path: its keys, how it reads, and a fast lookup (None when missing or null)."""

    keys: tuple[str, ...]
    display: str
    get: Callable[[Any], Any]

    @classmethod
    def parse(cls, spec: str | list[str]) -> DocPath:
        """From ``a.b.c`` or ``[a, "b.c"]`` (a list for keys that contain dots)."""
        keys = tuple(spec.split(".")) if isinstance(spec, str) else tuple(spec)
        display = "".join(key_segment(key) for key in keys).removeprefix(".")
        return cls(keys=keys, display=display, get=_lookup(keys))

    def find(self, subject: Any) -> Any:
        """The value at this path, ``ABSENT`` when a key does not exist (null stays None)."""
        for key in self.keys:
            if not isinstance(subject, Mapping) or key not in subject:
                return ABSENT
            subject = subject[key]
        return subject


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
