"""The condition registry: every condition kind, its schema fragment and how it compiles.

A condition kind is a class deriving from ``Condition`` and decorated with ``@register``. It
owns its schema, its compilation and its evaluation, so that the pack schema and the engine
cannot drift apart:

- ``fragment()``: the JSON Schema (Draft 2020-12) of its spelling in a pack;
- ``compile(raw, context)``: a compiled, immutable condition, built once at load time;
- ``truth(subject)``, the hot path: ``TRUE``, ``FALSE`` or ``UNKNOWN`` (``auditor.policy.truth``);
- ``explain(subject, locus, wanted)``, only for failures: evidence for why the outcome is not
  ``wanted`` (``TRUE`` for a check; ``FALSE`` for a condition under an odd number of ``not``).

``auditor.policy.schema.pack_schema()`` assembles the pack schema from this registry.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, TypeVar

from auditor.errors import PackError
from auditor.models import Evidence
from auditor.policy.context import CONTEXT_ROOTS
from auditor.policy.paths import DocPath, Locus
from auditor.policy.truth import Truth

#: The ``$ref`` a fragment uses for a nested condition.
CONDITION_REF = {"$ref": "#/$defs/condition"}
#: The ``$ref`` a fragment uses for a path.
PATH_REF = {"$ref": "#/$defs/path"}
#: The ``$ref`` a fragment uses for ``missing``.
MISSING_REF = {"$ref": "#/$defs/missing"}


@dataclass(frozen=True, slots=True)
class CompileContext:
    """What compiling a condition needs: the pack's effective params and where we are in it."""

    params: Mapping[str, Any]
    json_path: str
    pack_path: str | None = None
    policy_id: str | None = None
    line_of: Callable[[str], int | None] = lambda json_path: None
    in_element: bool = False
    #: Whether this node sits under an odd number of ``not`` (quantifiers keep the parity).
    negated: bool = False
    #: The context roots (``$association``, ...) the policy's paths name; filled while compiling.
    roots: set[str] = field(default_factory=set)
    #: Whether the policy's documents have context roots: only ``trained-model`` ones do
    #: (the crawler reads a version's related resources; a collaboration model has none).
    context_allowed: bool = True

    def use_path(self, path: DocPath) -> None:
        """Note the context root ``path`` starts from, if any.

        Raises ``PackError`` for a ``$``-key that names no context root, and for any context
        root in a policy whose documents have none (``context_allowed``). Inside
        ``keys``/``values``/``items`` a path starts from the element, so it names none.
        """
        first = path.keys[0]
        if self.in_element or not first.startswith("$"):
            return
        if first not in CONTEXT_ROOTS:
            known = ", ".join(CONTEXT_ROOTS)
            raise self.error(f"unknown context root {first!r} (known: {known})", ".path")
        if not self.context_allowed:
            raise self.error(
                f"context root {first!r}: context documents exist only for trained-model "
                "policies (a collaboration-trained-model document has no context)",
                ".path",
            )
        self.roots.add(first)

    def at(self, suffix: str) -> CompileContext:
        """The context of a child node (``suffix`` like ``.all[0]`` or ``.not``)."""
        return replace(self, json_path=self.json_path + suffix)

    def element(self) -> CompileContext:
        """The context of a check nested in ``keys``/``values``/``items``."""
        return replace(self, json_path=self.json_path + ".check", in_element=True)

    def inverted(self) -> CompileContext:
        """The context of the condition under a ``not``."""
        return replace(self, json_path=self.json_path + ".not", negated=not self.negated)

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
    """A compiled condition: pure, immutable, never raises on any JSON document.

    ``truth`` is the only thing the hot path calls; ``explain`` runs only for a failure.
    """

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
    def truth(self, subject: Any) -> Truth:
        """This condition's outcome on the subject (a document, or an element under a
        quantifier): ``UNKNOWN`` when what it needs cannot be read."""

    @abstractmethod
    def explain(self, subject: Any, locus: Locus, wanted: Truth) -> tuple[Evidence, ...]:
        """Why ``truth(subject)`` is not ``wanted`` (``TRUE`` or ``FALSE``): one evidence item
        per leaf that decides it. An unknown outcome reports the values that could not be read,
        whatever was wanted; ``()`` when the outcome is ``wanted``."""


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


#: For each op, the op that holds where it does not (on values of the right type): what to
#: write instead of ``{not: {op: X, missing: pass}}``.
COMPLEMENT_OP = {
    "present": "absent",
    "absent": "present",
    "eq": "ne",
    "ne": "eq",
    "in": "not-in",
    "not-in": "in",
    "glob": "not-glob",
    "not-glob": "glob",
    "regex": "not-regex",
    "not-regex": "regex",
    "lt": "ge",
    "le": "gt",
    "gt": "le",
    "ge": "lt",
    "min-items": "max-items (one less)",
    "max-items": "min-items (one more)",
}


def refuse_negated_missing_pass(raw: Mapping[str, Any], context: CompileContext, kind: str) -> None:
    """Raise ``PackError`` for ``missing: pass`` under an odd number of ``not``: the leaf holds
    on a missing value and the ``not`` turns that into false, so the author's "a missing value
    is fine" becomes a failure (or, in a ``where``, a skip)."""
    if not (context.negated and raw.get("missing") == "pass"):
        return
    complement = COMPLEMENT_OP.get(kind)
    instead = (
        f"write {{op: {complement}, missing: pass}} without the 'not' instead"
        if complement is not None
        else "rewrite the condition without the 'not'"
    )
    raise context.error(
        f"'missing: pass' under an odd number of 'not's: on a missing value the {kind} leaf "
        f"holds and the 'not' turns that into false; {instead}",
        ".missing",
    )
