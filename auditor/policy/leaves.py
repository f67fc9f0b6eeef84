"""Leaf conditions: one ``op`` on the value at a ``path``.

Every leaf treats a missing or null value the same way: the leaf yields its ``missing``
outcome (default ``fail``; ``absent`` and the quantifiers default to ``pass``). A value of the
wrong JSON type for the op makes the leaf fail with evidence that says so; nothing raises.
"""

from __future__ import annotations

import fnmatch
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from auditor.models import Evidence
from auditor.policy.paths import ABSENT, DocPath, Locus
from auditor.policy.regex_guard import UnsafeRegex, compile_guarded
from auditor.policy.registry import (
    CONDITION_REF,
    MISSING_REF,
    PATH_REF,
    CompileContext,
    Condition,
    compile_condition,
    register,
)
from auditor.policy.values import (
    JSON_TYPES,
    article,
    has_json_type,
    is_number,
    json_equal,
    json_type,
    show,
    show_list,
    trimmed,
)

PARAM_REF = {"$ref": "#/$defs/param-ref"}


def _identity(subject: Any) -> Any:
    return subject


def _is_empty(value: Any) -> bool:
    return isinstance(value, str | list | tuple | Mapping) and len(value) == 0


def _state(locus: Locus, value: Any) -> str:
    """``tags.owner is 'x'``, or just the phrase when it already names the value."""
    return locus.phrase if locus.names_value else f"{locus.phrase} is {show(value)}"


def _subject(locus: Locus, value: Any) -> str:
    """``status 'CREATE_FAILED'`` / ``tags key 'aws:x'``: the subject of a ``matches`` sentence."""
    return locus.phrase if locus.names_value else f"{locus.phrase} {show(value)}"


@dataclass(frozen=True, slots=True)
class Leaf(Condition):
    """Base of every leaf op: path lookup, ``missing`` handling and evidence plumbing."""

    path: DocPath | None
    get: Callable[[Any], Any]
    missing_holds: bool

    #: JSON Schema of a literal ``value``; None for ops that take no value.
    value_schema: ClassVar[dict[str, Any] | None] = None
    #: Whether a missing or null value satisfies the op when ``missing`` is not given.
    missing_default: ClassVar[bool] = False
    #: The JSON types the op can judge (for the wrong-type evidence); None means any.
    accepts: ClassVar[tuple[str, ...] | None] = None

    # -- schema and compilation -------------------------------------------------------------

    @classmethod
    def value_fragment(cls) -> dict[str, Any]:
        """The schema of ``value`` in a pack: a literal, or an object naming a param."""
        literal = cls.value_schema or {}
        return {"if": {"type": "object"}, "then": PARAM_REF, "else": literal}

    @classmethod
    def fragment(cls) -> dict[str, Any]:
        properties: dict[str, Any] = {
            "op": {"const": cls.kind},
            "path": PATH_REF,
            "missing": MISSING_REF,
        }
        required = ["op"]
        if cls.value_schema is not None:
            properties["value"] = cls.value_fragment()
            required.append("value")
        properties.update(cls.extra_properties())
        required.extend(cls.extra_properties())
        return {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        }

    @classmethod
    def extra_properties(cls) -> dict[str, Any]:
        """Schemas of required keys beyond ``op``/``path``/``value``/``missing``."""
        return {}

    @classmethod
    def compile(cls, raw: Mapping[str, Any], context: CompileContext) -> Condition:
        path = DocPath.parse(raw["path"]) if "path" in raw else None
        if path is None and not context.in_element:
            raise context.error(
                "this condition needs a path (only a check nested in keys, values or items "
                "may leave it out: it then applies to the element itself)"
            )
        missing = raw.get("missing")
        missing_holds = cls.missing_default if missing is None else missing == "pass"
        value = cls._resolve_value(raw, context) if cls.value_schema is not None else None
        return cls.build(path, path.get if path else _identity, missing_holds, value, raw, context)

    @classmethod
    def build(
        cls,
        path: DocPath | None,
        get: Callable[[Any], Any],
        missing_holds: bool,
        value: Any,
        raw: Mapping[str, Any],
        context: CompileContext,
    ) -> Leaf:
        """The compiled leaf from its parsed parts (ops with extra state override this)."""
        return cls(path, get, missing_holds)

    @classmethod
    def _resolve_value(cls, raw: Mapping[str, Any], context: CompileContext) -> Any:
        value = raw["value"]
        if not (isinstance(value, Mapping) and set(value) == {"param"}):
            return value
        name = value["param"]
        if name not in context.params:
            defined = ", ".join(sorted(context.params)) or "none"
            raise context.error(
                f"unknown param {name!r} (this pack defines: {defined})", ".value.param"
            )
        resolved = context.params[name]
        error = best_match(_literal_validator(cls.kind).iter_errors(resolved))
        if error is not None:
            raise context.error(
                f"param {name!r} is {show(resolved)}, which op {cls.kind!r} cannot use: "
                f"{error.message}",
                ".value.param",
            )
        return resolved

    # -- evaluation ---------------------------------------------------------------------------

    def holds(self, subject: Any) -> bool:
        value = self.get(subject)
        if value is None:
            return self.missing_holds
        return self.judge(value)

    def judge(self, value: Any) -> bool:
        """Whether a present (non-null) value satisfies the op; false for a wrong type."""
        raise NotImplementedError

    def explain(self, subject: Any, locus: Locus) -> tuple[Evidence, ...]:
        return self._explain(subject, locus, held=False)

    def explain_holding(self, subject: Any, locus: Locus) -> tuple[Evidence, ...]:
        return self._explain(subject, locus, held=True)

    def _explain(self, subject: Any, locus: Locus, *, held: bool) -> tuple[Evidence, ...]:
        here = locus.join(self.path)
        value = self.path.find(subject) if self.path is not None else subject
        if value is None or value is ABSENT:
            return (self._missing_evidence(here, value, held=held),)
        if self.accepts is not None and not any(has_json_type(value, t) for t in self.accepts):
            needed = " or ".join(article(t) for t in self.accepts)
            message = (
                f"{_state(here, value)}, {article(json_type(value))}; {self.kind} needs {needed}"
            )
            return (self.evidence(here, value, message),)
        return (self.describe(value, here, held=held),)

    def _missing_evidence(self, here: Locus, value: Any, *, held: bool) -> Evidence:
        state = "null" if value is None else "missing"
        if held:
            message = f"{here.phrase} is {state}, which counts as satisfying {self.kind}"
        else:
            message = f"{here.phrase} is {state}; expected {self.expected()}"
        return Evidence(path=here.path, actual=None, expected=self.expected(), message=message)

    def evidence(self, here: Locus, value: Any, message: str) -> Evidence:
        return Evidence(
            path=here.path, actual=trimmed(value), expected=self.expected(), message=message
        )

    def expected(self) -> str:
        """What a compliant value looks like, in a few words."""
        raise NotImplementedError

    def describe(self, value: Any, here: Locus, *, held: bool) -> Evidence:
        """Evidence for a value of an accepted type: why it fails (or holds, when ``held``)."""
        raise NotImplementedError


@cache
def _literal_validator(op: str) -> Draft202012Validator:
    from auditor.policy.registry import REGISTRY

    kind = REGISTRY[op]
    assert issubclass(kind, Leaf)
    return Draft202012Validator(kind.value_schema or {})


# -- present / absent -------------------------------------------------------------------------


@register()
@dataclass(frozen=True, slots=True)
class Present(Leaf):
    """Holds when the value exists, is not null and is not an empty string, list or object."""

    kind = "present"

    def judge(self, value: Any) -> bool:
        return not _is_empty(value)

    def expected(self) -> str:
        return "present (not null, not empty)"

    def describe(self, value: Any, here: Locus, *, held: bool) -> Evidence:
        if held:
            return self.evidence(here, value, f"{_state(here, value)} (present)")
        return self.evidence(here, value, f"{here.phrase} is empty ({show(value)})")


@register()
@dataclass(frozen=True, slots=True)
class Absent(Leaf):
    """Holds when the value is missing, null, or an empty string, list or object."""

    kind = "absent"
    missing_default = True

    def judge(self, value: Any) -> bool:
        return _is_empty(value)

    def expected(self) -> str:
        return "absent (missing, null or empty)"

    def describe(self, value: Any, here: Locus, *, held: bool) -> Evidence:
        if held:
            return self.evidence(here, value, f"{here.phrase} is empty ({show(value)})")
        return self.evidence(here, value, f"{_state(here, value)}; expected it to be absent")


# -- eq / ne / in / not-in --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Equality(Leaf):
    expected_value: Any

    value_schema: ClassVar[dict[str, Any] | None] = {}

    @classmethod
    def value_fragment(cls) -> dict[str, Any]:
        # Any JSON value; an object of the form {param: NAME} names a param.
        return {}

    @classmethod
    def build(
        cls,
        path: DocPath | None,
        get: Callable[[Any], Any],
        missing_holds: bool,
        value: Any,
        raw: Mapping[str, Any],
        context: CompileContext,
    ) -> Leaf:
        return cls(path, get, missing_holds, value)


@register()
@dataclass(frozen=True, slots=True)
class Eq(_Equality):
    """Holds when the value equals ``value`` (JSON equality: ``1`` is not ``true``)."""

    kind = "eq"

    def judge(self, value: Any) -> bool:
        return json_equal(value, self.expected_value)

    def expected(self) -> str:
        return show(self.expected_value)

    def describe(self, value: Any, here: Locus, *, held: bool) -> Evidence:
        if held:
            return self.evidence(here, value, _state(here, value))
        return self.evidence(here, value, f"{_state(here, value)}; expected {self.expected()}")


@register()
@dataclass(frozen=True, slots=True)
class Ne(_Equality):
    """Holds when the value differs from ``value`` (JSON equality)."""

    kind = "ne"

    def judge(self, value: Any) -> bool:
        return not json_equal(value, self.expected_value)

    def expected(self) -> str:
        return f"not {show(self.expected_value)}"

    def describe(self, value: Any, here: Locus, *, held: bool) -> Evidence:
        if held:
            message = f"{_state(here, value)}, not {show(self.expected_value)}"
        else:
            message = f"{_state(here, value)}, which it must not be"
        return self.evidence(here, value, message)


@dataclass(frozen=True, slots=True)
class _Membership(Leaf):
    options: tuple[Any, ...]
    string_options: frozenset[str]

    value_schema: ClassVar[dict[str, Any] | None] = {"type": "array"}

    @classmethod
    def build(
        cls,
        path: DocPath | None,
        get: Callable[[Any], Any],
        missing_holds: bool,
        value: Any,
        raw: Mapping[str, Any],
        context: CompileContext,
    ) -> Leaf:
        strings = frozenset(option for option in value if isinstance(option, str))
        return cls(path, get, missing_holds, tuple(value), strings)

    def is_member(self, value: Any) -> bool:
        if isinstance(value, str):
            return value in self.string_options
        return any(json_equal(value, option) for option in self.options)


@register()
@dataclass(frozen=True, slots=True)
class In(_Membership):
    """Holds when the value is one of the list ``value``."""

    kind = "in"

    def judge(self, value: Any) -> bool:
        return self.is_member(value)

    def expected(self) -> str:
        return f"one of: {show_list(self.options)}"

    def describe(self, value: Any, here: Locus, *, held: bool) -> Evidence:
        if held:
            message = f"{_state(here, value)}, one of: {show_list(self.options)}"
        else:
            message = f"{_state(here, value)}; allowed: {show_list(self.options)}"
        return self.evidence(here, value, message)


@register()
@dataclass(frozen=True, slots=True)
class NotIn(_Membership):
    """Holds when the value is none of the list ``value``."""

    kind = "not-in"

    def judge(self, value: Any) -> bool:
        return not self.is_member(value)

    def expected(self) -> str:
        return f"none of: {show_list(self.options)}"

    def describe(self, value: Any, here: Locus, *, held: bool) -> Evidence:
        if held:
            message = f"{_state(here, value)}, none of: {show_list(self.options)}"
        else:
            message = f"{_state(here, value)}, which is not allowed (disallowed: {show_list(self.options)})"
        return self.evidence(here, value, message)


# -- glob / regex -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Glob(Leaf):
    patterns: tuple[str, ...]
    matchers: tuple[re.Pattern[str], ...]

    value_schema: ClassVar[dict[str, Any] | None] = {
        "if": {"type": "array"},
        "then": {"items": {"type": "string"}, "minItems": 1},
        "else": {"type": "string"},
    }
    accepts = ("string",)

    @classmethod
    def build(
        cls,
        path: DocPath | None,
        get: Callable[[Any], Any],
        missing_holds: bool,
        value: Any,
        raw: Mapping[str, Any],
        context: CompileContext,
    ) -> Leaf:
        patterns = (value,) if isinstance(value, str) else tuple(value)
        # fnmatch.translate gives fnmatchcase semantics: case-sensitive on every platform.
        matchers = tuple(re.compile(fnmatch.translate(pattern)) for pattern in patterns)
        return cls(path, get, missing_holds, patterns, matchers)

    def first_match(self, value: str) -> str | None:
        for pattern, matcher in zip(self.patterns, self.matchers, strict=True):
            if matcher.match(value):
                return pattern
        return None

    def matches(self, value: Any) -> bool:
        if not isinstance(value, str):
            return False
        for matcher in self.matchers:  # noqa: SIM110 (hot path: a loop beats all()/any() over a generator)
            if matcher.match(value):
                return True
        return False


@register()
@dataclass(frozen=True, slots=True)
class Glob(_Glob):
    """Holds when the value is a string matching one of the shell patterns (case-sensitive)."""

    kind = "glob"

    def judge(self, value: Any) -> bool:
        return self.matches(value)

    def expected(self) -> str:
        return f"matching {show_list(self.patterns)}"

    def describe(self, value: Any, here: Locus, *, held: bool) -> Evidence:
        if held:
            message = f"{_subject(here, value)} matches {self.first_match(value)}"
        else:
            message = f"{_subject(here, value)} does not match {show_list(self.patterns)}"
        return self.evidence(here, value, message)


@register()
@dataclass(frozen=True, slots=True)
class NotGlob(_Glob):
    """Holds when the value is a string matching none of the shell patterns (case-sensitive)."""

    kind = "not-glob"

    def judge(self, value: Any) -> bool:
        return isinstance(value, str) and not self.matches(value)

    def expected(self) -> str:
        return f"matching none of: {show_list(self.patterns)}"

    def describe(self, value: Any, here: Locus, *, held: bool) -> Evidence:
        if held:
            message = f"{_subject(here, value)} matches none of: {show_list(self.patterns)}"
        else:
            message = f"{_subject(here, value)} matches {self.first_match(value)}"
        return self.evidence(here, value, message)


@dataclass(frozen=True, slots=True)
class _Regex(Leaf):
    pattern: re.Pattern[str]

    value_schema: ClassVar[dict[str, Any] | None] = {"type": "string"}
    accepts = ("string",)

    @classmethod
    def build(
        cls,
        path: DocPath | None,
        get: Callable[[Any], Any],
        missing_holds: bool,
        value: Any,
        raw: Mapping[str, Any],
        context: CompileContext,
    ) -> Leaf:
        # Compiled once, here, at load; refused when it could backtrack catastrophically.
        try:
            pattern = compile_guarded(value)
        except re.error as exc:
            raise context.error(f"invalid regex {value!r}: {exc}", ".value") from exc
        except UnsafeRegex as exc:
            raise context.error(f"unsafe regex {value!r}: {exc}", ".value") from exc
        return cls(path, get, missing_holds, pattern)


@register()
@dataclass(frozen=True, slots=True)
class Regex(_Regex):
    """Holds when the value is a string in which the pattern is found (``re.search``)."""

    kind = "regex"

    def judge(self, value: Any) -> bool:
        return isinstance(value, str) and self.pattern.search(value) is not None

    def expected(self) -> str:
        return f"matching {self.pattern.pattern}"

    def describe(self, value: Any, here: Locus, *, held: bool) -> Evidence:
        verb = "matches" if held else "does not match"
        return self.evidence(here, value, f"{_subject(here, value)} {verb} {self.pattern.pattern}")


@register()
@dataclass(frozen=True, slots=True)
class NotRegex(_Regex):
    """Holds when the value is a string in which the pattern is not found (``re.search``)."""

    kind = "not-regex"

    def judge(self, value: Any) -> bool:
        return isinstance(value, str) and self.pattern.search(value) is None

    def expected(self) -> str:
        return f"not matching {self.pattern.pattern}"

    def describe(self, value: Any, here: Locus, *, held: bool) -> Evidence:
        verb = "does not match" if held else "matches"
        return self.evidence(here, value, f"{_subject(here, value)} {verb} {self.pattern.pattern}")


# -- lt / le / gt / ge ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Compare(Leaf):
    bound: float

    value_schema: ClassVar[dict[str, Any] | None] = {"type": "number"}
    accepts = ("number",)
    symbol: ClassVar[str]
    compare: ClassVar[Callable[[Any, Any], bool]]

    @classmethod
    def build(
        cls,
        path: DocPath | None,
        get: Callable[[Any], Any],
        missing_holds: bool,
        value: Any,
        raw: Mapping[str, Any],
        context: CompileContext,
    ) -> Leaf:
        return cls(path, get, missing_holds, value)

    def judge(self, value: Any) -> bool:
        return is_number(value) and type(self).compare(value, self.bound)

    def expected(self) -> str:
        return f"{self.symbol} {show(self.bound)}"

    def describe(self, value: Any, here: Locus, *, held: bool) -> Evidence:
        if held:
            message = f"{_state(here, value)}, {self.expected()}"
        else:
            message = f"{_state(here, value)}; expected {self.expected()}"
        return self.evidence(here, value, message)


@register()
@dataclass(frozen=True, slots=True)
class Lt(_Compare):
    """Holds when the value is a number (not a boolean) less than ``value``."""

    kind = "lt"
    symbol = "<"
    compare = operator.lt


@register()
@dataclass(frozen=True, slots=True)
class Le(_Compare):
    """Holds when the value is a number (not a boolean) at most ``value``."""

    kind = "le"
    symbol = "<="
    compare = operator.le


@register()
@dataclass(frozen=True, slots=True)
class Gt(_Compare):
    """Holds when the value is a number (not a boolean) greater than ``value``."""

    kind = "gt"
    symbol = ">"
    compare = operator.gt


@register()
@dataclass(frozen=True, slots=True)
class Ge(_Compare):
    """Holds when the value is a number (not a boolean) at least ``value``."""

    kind = "ge"
    symbol = ">="
    compare = operator.ge


# -- has-keys / min-items / max-items / type --------------------------------------------------


@register()
@dataclass(frozen=True, slots=True)
class HasKeys(Leaf):
    """Holds when the value is an object holding every key in ``value`` (case-sensitive)."""

    required_keys: tuple[str, ...]

    kind = "has-keys"
    value_schema: ClassVar[dict[str, Any] | None] = {
        "type": "array",
        "items": {"type": "string"},
    }
    accepts = ("object",)

    @classmethod
    def build(
        cls,
        path: DocPath | None,
        get: Callable[[Any], Any],
        missing_holds: bool,
        value: Any,
        raw: Mapping[str, Any],
        context: CompileContext,
    ) -> Leaf:
        return cls(path, get, missing_holds, tuple(value))

    def judge(self, value: Any) -> bool:
        if not isinstance(value, Mapping):
            return False
        for key in self.required_keys:  # noqa: SIM110 (hot path: a loop beats all()/any() over a generator)
            if key not in value:
                return False
        return True

    def expected(self) -> str:
        return f"keys {show_list(self.required_keys)}"

    def describe(self, value: Any, here: Locus, *, held: bool) -> Evidence:
        actual = sorted(value)
        if held:
            message = f"{here.phrase} has every required key ({show_list(self.required_keys)})"
            return self.evidence(here, actual, message)
        absent = [key for key in self.required_keys if key not in value]
        noun = "key" if len(absent) == 1 else "keys"
        named = ", ".join(repr(key) for key in absent)
        message = f"{here.phrase} has no {noun} {named} (required: {show_list(self.required_keys)})"
        return self.evidence(here, actual, message)


@dataclass(frozen=True, slots=True)
class _Size(Leaf):
    limit: int

    value_schema: ClassVar[dict[str, Any] | None] = {"type": "integer", "minimum": 0}
    accepts = ("object", "array", "string")
    at_least: ClassVar[bool]

    @classmethod
    def build(
        cls,
        path: DocPath | None,
        get: Callable[[Any], Any],
        missing_holds: bool,
        value: Any,
        raw: Mapping[str, Any],
        context: CompileContext,
    ) -> Leaf:
        return cls(path, get, missing_holds, int(value))

    def judge(self, value: Any) -> bool:
        if not isinstance(value, str | list | tuple | Mapping):
            return False
        return len(value) >= self.limit if self.at_least else len(value) <= self.limit

    def expected(self) -> str:
        return f"{'at least' if self.at_least else 'at most'} {self.limit}"

    def describe(self, value: Any, here: Locus, *, held: bool) -> Evidence:
        unit = (
            "characters"
            if isinstance(value, str)
            else "keys"
            if isinstance(value, Mapping)
            else "items"
        )
        size = f"{here.phrase} has {len(value)} {unit}"
        if held:
            return self.evidence(here, value, f"{size}, {self.expected()}")
        return self.evidence(here, value, f"{size}; expected {self.expected()}")


@register()
@dataclass(frozen=True, slots=True)
class MinItems(_Size):
    """Holds when the value is an object, list or string of length at least ``value``."""

    kind = "min-items"
    at_least = True


@register()
@dataclass(frozen=True, slots=True)
class MaxItems(_Size):
    """Holds when the value is an object, list or string of length at most ``value``."""

    kind = "max-items"
    at_least = False


@register()
@dataclass(frozen=True, slots=True)
class Type(Leaf):
    """Holds when the value is of one of the JSON types in ``value``.

    ``integer`` follows JSON Schema: an int, or a float with no fraction (``1.0``); never a
    boolean. ``null`` counts as missing, so ``{op: type, value: null}`` holds only with
    ``missing: pass`` (use ``absent`` instead).
    """

    type_names: tuple[str, ...]

    kind = "type"
    value_schema: ClassVar[dict[str, Any] | None] = {
        "if": {"type": "array"},
        "then": {"items": {"enum": list(JSON_TYPES)}, "minItems": 1},
        "else": {"enum": list(JSON_TYPES)},
    }

    @classmethod
    def build(
        cls,
        path: DocPath | None,
        get: Callable[[Any], Any],
        missing_holds: bool,
        value: Any,
        raw: Mapping[str, Any],
        context: CompileContext,
    ) -> Leaf:
        return cls(path, get, missing_holds, (value,) if isinstance(value, str) else tuple(value))

    def judge(self, value: Any) -> bool:
        return any(has_json_type(value, name) for name in self.type_names)

    def expected(self) -> str:
        return " or ".join(article(name) for name in self.type_names)

    def describe(self, value: Any, here: Locus, *, held: bool) -> Evidence:
        actual_type = (
            "integer" if is_number(value) and has_json_type(value, "integer") else json_type(value)
        )
        if held:
            return self.evidence(here, value, f"{_state(here, value)}, {article(actual_type)}")
        message = f"{_state(here, value)}, {article(actual_type)}; expected {self.expected()}"
        return self.evidence(here, value, message)


# -- keys / values / items --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Quantifier(Leaf):
    check: Condition

    missing_default = True
    element_noun: ClassVar[str]

    @classmethod
    def extra_properties(cls) -> dict[str, Any]:
        return {"check": CONDITION_REF}

    @classmethod
    def build(
        cls,
        path: DocPath | None,
        get: Callable[[Any], Any],
        missing_holds: bool,
        value: Any,
        raw: Mapping[str, Any],
        context: CompileContext,
    ) -> Leaf:
        return cls(path, get, missing_holds, compile_condition(raw["check"], context.element()))

    def locate(self, here: Locus, value: Any) -> list[tuple[Any, Locus]]:
        """Each element with its locus (only for evidence: the hot path does not build these)."""
        raise NotImplementedError

    def expected(self) -> str:
        return f"every {self.element_noun} satisfies the nested check"

    def describe(self, value: Any, here: Locus, *, held: bool) -> Evidence:
        count = len(value)
        message = (
            f"every {self.element_noun} of {here.phrase} satisfies the check ({count} checked)"
        )
        return self.evidence(here, value, message)

    def _explain(self, subject: Any, locus: Locus, *, held: bool) -> tuple[Evidence, ...]:
        here = locus.join(self.path)
        value = self.path.find(subject) if self.path is not None else subject
        if held or value is None or value is ABSENT or not self.judge_type(value):
            return Leaf._explain(self, subject, locus, held=held)
        evidence: list[Evidence] = []
        for element, element_locus in self.locate(here, value):
            if not self.check.holds(element):
                evidence.extend(self.check.explain(element, element_locus))
        return tuple(evidence)

    def judge_type(self, value: Any) -> bool:
        raise NotImplementedError


@register()
@dataclass(frozen=True, slots=True)
class Keys(_Quantifier):
    """Holds when the value is an object whose every key (a string) satisfies ``check``."""

    kind = "keys"
    accepts = ("object",)
    element_noun = "key"

    def judge(self, value: Any) -> bool:
        if not isinstance(value, Mapping):
            return False
        check = self.check.holds
        for key in value:  # noqa: SIM110 (hot path: a loop beats all()/any() over a generator)
            if not check(key):
                return False
        return True

    def judge_type(self, value: Any) -> bool:
        return isinstance(value, Mapping)

    def locate(self, here: Locus, value: Any) -> list[tuple[Any, Locus]]:
        return [(key, here.key(key)) for key in value]


@register()
@dataclass(frozen=True, slots=True)
class Values(_Quantifier):
    """Holds when the value is an object whose every value satisfies ``check``."""

    kind = "values"
    accepts = ("object",)
    element_noun = "value"

    def judge(self, value: Any) -> bool:
        if not isinstance(value, Mapping):
            return False
        check = self.check.holds
        for item in value.values():  # noqa: SIM110 (hot path: a loop beats all()/any() over a generator)
            if not check(item):
                return False
        return True

    def judge_type(self, value: Any) -> bool:
        return isinstance(value, Mapping)

    def locate(self, here: Locus, value: Any) -> list[tuple[Any, Locus]]:
        return [(item, here.value(str(key))) for key, item in value.items()]


@register()
@dataclass(frozen=True, slots=True)
class Items(_Quantifier):
    """Holds when the value is a list whose every item satisfies ``check``."""

    kind = "items"
    accepts = ("array",)
    element_noun = "item"

    def judge(self, value: Any) -> bool:
        if not isinstance(value, list | tuple):
            return False
        check = self.check.holds
        for item in value:  # noqa: SIM110 (hot path: a loop beats all()/any() over a generator)
            if not check(item):
                return False
        return True

    def judge_type(self, value: Any) -> bool:
        return isinstance(value, list | tuple)

    def locate(self, here: Locus, value: Any) -> list[tuple[Any, Locus]]:
        return [(item, here.item(index)) for index, item in enumerate(value)]
