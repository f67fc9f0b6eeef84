"""The condition registry: every condition kind, its schema fragment and how it compiles.

A condition kind is a class deriving from ``Condition`` and decorated with ``@register``. It
owns three things, so that the pack schema and the engine cannot drift apart:

- ``fragment()``: the JSON Schema (Draft 2020-12) of its spelling in a pack;
- ``compile(raw, context)``: a compiled, immutable condition, built once at load time;
- ``holds(subject)`` (the hot path) and ``explain(subject, locus)`` (only for failures).

``auditor.policy.schema.pack_schema()`` assembles the pack schema from this registry.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from auditor.errors import PackError
from auditor.models import Evidence
from auditor.policy.paths import ROOT, Locus

#: The ``$ref`` a fragment uses for a nested condition.
CONDITION_REF = {"$ref": "#/$defs/condition"}
#: The ``$ref`` a fragment uses for a path.
PATH_REF = {"$ref": "#/$defs/path"}
#: The ``$ref`` a fragment uses for ``missing``.
MISSING_REF = {"$ref": "#/$defs/missing"}


@dataclass(frozen=True, slots=True)
class Outcome:
    """A condition's verdict on one document: passed, or failed with evidence."""

    passed: bool
    evidence: tuple[Evidence, ...] = ()


PASSED = Outcome(passed=True)


@dataclass(frozen=True, slots=True)
class CompileContext:
    """What compiling a condition needs: the pack's effective params and where we are in it."""

    params: Mapping[str, Any]
    json_path: str
    pack_path: str | None = None
    policy_id: str | None = None
    line_of: Callable[[str], int | None] = lambda json_path: None
    in_element: bool = False

    def at(self, suffix: str) -> CompileContext:
        """The context of a child node (``suffix`` like ``.check`` or ``[2]``)."""
        return CompileContext(
            params=self.params,
            json_path=self.json_path + suffix,
            pack_path=self.pack_path,
            policy_id=self.policy_id,
            line_of=self.line_of,
            in_element=self.in_element,
        )

    def element(self) -> CompileContext:
        """The context of a check nested in ``keys``/``values``/``items``."""
        return CompileContext(
            params=self.params,
            json_path=self.json_path + ".check",
            pack_path=self.pack_path,
            policy_id=self.policy_id,
            line_of=self.line_of,
            in_element=True,
        )

    def error(self, message: str, suffix: str = "") -> PackError:
        """A ``PackError`` located at this node (or its child ``suffix``)."""
        json_path = self.json_path + suffix
        return PackError(
            message,
            path=self.pack_path,
            line=self.line_of(json_path),
            policy_id=self.policy_id,
            json_path=json_path,
        )


class Condition(ABC):
    """A compiled condition: pure, immutable, never raises on any JSON document."""

    __slots__ = ()

    #: The registry key: a leaf's ``op``, or the key of a combinator (``all``) or ``schema``.
    kind: ClassVar[str]

    @classmethod
    @abstractmethod
    def fragment(cls) -> dict[str, Any]:
        """The JSON Schema of this kind's spelling in a pack."""

    @classmethod
    @abstractmethod
    def compile(cls, raw: Mapping[str, Any], context: CompileContext) -> Condition:
        """The compiled condition; raises ``PackError`` for what the schema cannot catch."""

    @abstractmethod
    def holds(self, subject: Any) -> bool:
        """Whether the subject (a document, or an element under a quantifier) satisfies this."""

    @abstractmethod
    def explain(self, subject: Any, locus: Locus) -> tuple[Evidence, ...]:
        """Why ``holds(subject)`` is false: one evidence item per failing leaf."""

    @abstractmethod
    def explain_holding(self, subject: Any, locus: Locus) -> tuple[Evidence, ...]:
        """Why ``holds(subject)`` is true (what a failing ``not`` reports)."""

    def evaluate(self, document: Any) -> Outcome:
        """Pass, or fail with evidence."""
        if self.holds(document):
            return PASSED
        return Outcome(passed=False, evidence=self.explain(document, ROOT))


#: Every condition kind, by its key: leaf ops and the keys ``all``, ``any``, ``not``, ``schema``.
REGISTRY: dict[str, type[Condition]] = {}
#: The keys that pick a non-leaf kind; a condition holds exactly one of these or ``op``.
STRUCTURAL_KEYS: list[str] = []

_C = TypeVar("_C", bound=type[Condition])


def register(*, structural: bool = False) -> Callable[[_C], _C]:
    """Class decorator adding a condition kind to the registry (leaf ops unless ``structural``)."""

    def add(kind_class: _C) -> _C:
        key = kind_class.kind
        if key in REGISTRY:
            raise RuntimeError(f"condition kind {key!r} registered twice")
        REGISTRY[key] = kind_class
        if structural:
            STRUCTURAL_KEYS.append(key)
        return kind_class

    return add


def leaf_ops() -> list[str]:
    """Every leaf op, sorted."""
    return sorted(key for key in REGISTRY if key not in STRUCTURAL_KEYS)


def compile_condition(raw: Mapping[str, Any], context: CompileContext) -> Condition:
    """Compile one schema-valid condition by dispatching on its ``op`` or structural key."""
    if "op" in raw:
        return REGISTRY[raw["op"]].compile(raw, context)
    for key in STRUCTURAL_KEYS:
        if key in raw:
            return REGISTRY[key].compile(raw, context)
    raise context.error("a condition needs an op or one of " + ", ".join(STRUCTURAL_KEYS))
