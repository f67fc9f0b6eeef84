"""Leaf conditions: one ``op`` on the value at a ``path``.

An op is one small class: its ``value`` schema, the JSON types it can judge (``accepts``),
``state`` (what it compiles from its ``value``: the one hook), ``test`` (its outcome on a
present value) and the words of its evidence. ``Leaf`` does the rest, the same for every op:

- a parent on the path that is not an object (``resourceConfig`` is a list) makes the leaf
  ``UNKNOWN``, whatever its ``missing`` says: the value may be there, in a shape the path cannot
  read;
- a missing or null value yields ``missing_truth``: ``TRUE`` with ``missing: pass``, else
  ``UNKNOWN``; ``present``, ``absent``, ``type`` and the quantifiers answer existence themselves;
- a value of a type the op cannot judge (a string under ``lt``) makes ``test`` ``UNKNOWN``.

Nothing raises on any JSON value.
"""

from __future__ import annotations

import fnmatch
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

import re2  # type: ignore[import-untyped]  # google-re2 ships no type information
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from auditor.models import Evidence, EvidenceKind
from auditor.policy.context import unreadable_evidence, unreadable_in
from auditor.policy.paths import ABSENT, BLOCKED, DocPath, Found, Locus, element_subject
from auditor.policy.registry import (
    CONDITION_REF,
    MISSING_REF,
    PATH_REF,
    CompileContext,
    Condition,
    compile_condition,
    refuse_negated_missing_pass,
    register,
)
from auditor.policy.truth import FALSE, TRUE, UNKNOWN, Truth
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
#: The JSON type of the classes ``json.loads`` produces (the hot path's shortcut to json_type).
_JSON_TYPE_OF = {
    str: "string",
    dict: "object",
    list: "array",
    bool: "boolean",
    int: "number",
    float: "number",
    type(None): "null",
}
#: How evidence for a condition that holds under a ``not`` begins.
MUST_NOT_HOLD = "must not hold, but does: "


def _is_empty(value: Any) -> bool:
    return isinstance(value, str | list | tuple | Mapping) and len(value) == 0


def _is_object(value: Any) -> bool:
    # dict first: a C-level check, much cheaper than the Mapping ABC on the hot path
    return value.__class__ is dict or isinstance(value, Mapping)


def _state(locus: Locus, value: Any) -> str:
    """``tags.owner is 'x'``, or just the phrase when it already names the value."""
    return locus.phrase if locus.names_value else f"{locus.phrase} is {show(value)}"


def _subject(locus: Locus, value: Any) -> str:
    """``status 'CREATE_FAILED'`` / ``tags key 'aws:x'``: the subject of a ``matches`` sentence."""
    return locus.phrase if locus.names_value else f"{locus.phrase} {show(value)}"


@dataclass(frozen=True, slots=True)
class Leaf(Condition):
    """Base of every leaf op: path lookup, missing and mistyped values, evidence plumbing."""

    path: DocPath | None
    get: Callable[[Any], Any]
    #: The outcome on a missing or null value (``missing_truth``, fixed at load).
    on_missing: Truth

    #: JSON Schema of a literal ``value``; None for ops that take no value.
    value_schema: ClassVar[dict[str, Any] | None] = None
    #: The JSON types the op can judge; any other type makes it unknown. None means any type.
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
        if path is not None:
            context.use_path(path)
        if path is None and not context.in_element:
            raise context.error(
                "this condition needs a path (only a check nested in keys, values or items "
                "may leave it out: it then applies to the element itself)"
            )
        refuse_negated_missing_pass(raw, context, cls.kind)
        value = cls._resolve_value(raw, context) if cls.value_schema is not None else None
        state = cls.state(value, raw, context)
        on_missing = cls.missing_truth(raw.get("missing"), state)
        return cls(path, path.get if path else element_subject, on_missing, *state)

    @classmethod
    def state(cls, value: Any, raw: Mapping[str, Any], context: CompileContext) -> tuple[Any, ...]:
        """The op's own fields, compiled from its resolved ``value`` (default: the value itself).

        Raises ``PackError`` (``context.error``) for what the schema cannot catch.
        """
        return () if cls.value_schema is None else (value,)

    @classmethod
    def missing_truth(cls, missing: str | None, state: tuple[Any, ...]) -> Truth:
        """The outcome on a missing or null value: ``missing: pass`` holds, else unknown."""
        return TRUE if missing == "pass" else UNKNOWN

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

    # -- evaluation (the hot path) -------------------------------------------------------------

    def truth(self, subject: Any) -> Truth:
        value = self.get(subject)
        if value is None:
            return self.on_missing
        if value is BLOCKED:
            return UNKNOWN
        return self.test(value)

    def test(self, value: Any) -> Truth:
        """The outcome on a present, non-null value: ``UNKNOWN`` for a type the op cannot judge."""
        raise NotImplementedError

    # -- evidence (failures only) ------------------------------------------------------------

    def explain(self, subject: Any, locus: Locus, wanted: Truth) -> tuple[Evidence, ...]:
        here = locus.join(self.path)
        found = self.path.find(subject) if self.path is not None else Found(subject)
        unreadable = unreadable_in(found.value)
        if unreadable is not None:
            return (unreadable_evidence(unreadable, here, self.expected()),)
        if found.blocked_at is not None:
            return (self._blocked(locus, here, found),)
        value = found.value
        if value is None or value is ABSENT:
            truth = self.on_missing
            if truth is wanted:
                return ()
            return (self._on_missing(here, value, truth, wanted),)
        truth = self.test(value)
        if truth is wanted:
            return ()
        return self.judged(value, here, truth, wanted)

    def judged(self, value: Any, here: Locus, truth: Truth, wanted: Truth) -> tuple[Evidence, ...]:
        """Evidence for a present value whose outcome ``truth`` is not ``wanted``."""
        if truth is UNKNOWN:
            return (self.wrong_type(value, here),)
        held = truth is TRUE
        item = self.describe(value, here, held=held)
        return (self._negated(item) if held else item,)

    def _blocked(self, locus: Locus, here: Locus, found: Found) -> Evidence:
        assert self.path is not None
        assert found.blocked_at is not None
        depth = found.blocked_at
        parent = locus.join(DocPath.parse(self.path.keys[:depth])) if depth else locus
        message = (
            f"{_state(parent, found.value)}, {article(json_type(found.value))}, not an object, "
            f"so {here.phrase} cannot be read"
        )
        return Evidence(
            path=here.path,
            actual=trimmed(found.value),
            expected=self.expected(),
            message=message,
            kind=EvidenceKind.WRONG_TYPE,
        )

    def _on_missing(self, here: Locus, value: Any, truth: Truth, wanted: Truth) -> Evidence:
        state = "null" if value is None else "missing"
        expected = self.expected() if wanted is TRUE else f"not {self.expected()}"
        if truth is TRUE:  # held, under a not
            message = f"{MUST_NOT_HOLD}{here.phrase} is {state}, which satisfies {self.kind}"
            kind = EvidenceKind.VIOLATED
        else:
            message = f"{here.phrase} is {state}; expected {expected}"
            kind = EvidenceKind.MISSING if truth is UNKNOWN else EvidenceKind.VIOLATED
        return Evidence(path=here.path, actual=None, expected=expected, message=message, kind=kind)

    def wrong_type(self, value: Any, here: Locus) -> Evidence:
        """Evidence for a value of a type this op cannot judge."""
        needed = " or ".join(article(t) for t in self.accepts or ())
        message = f"{_state(here, value)}, {article(json_type(value))}; {self.kind} needs {needed}"
        return self.evidence(here, value, message, kind=EvidenceKind.WRONG_TYPE)

    @staticmethod
    def _negated(item: Evidence) -> Evidence:
        return Evidence(
            path=item.path,
            actual=item.actual,
            expected=f"not {item.expected}",
            message=MUST_NOT_HOLD + item.message,
            kind=item.kind,
        )

    def evidence(
        self, here: Locus, value: Any, message: str, kind: EvidenceKind = EvidenceKind.VIOLATED
    ) -> Evidence:
        return Evidence(
            path=here.path,
            actual=trimmed(value),
            expected=self.expected(),
            message=message,
            kind=kind,
        )

    def expected(self) -> str:
        """What a compliant value looks like, in a few words."""
        raise NotImplementedError

    def describe(self, value: Any, here: Locus, *, held: bool) -> Evidence:
        """Evidence for a value the op judged: why it fails (or holds, when ``held``)."""
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
    """Holds when the value exists, is not null and is not an empty string, list or object.

    Never unknown on a missing value: that is the question it answers (false).
    """

    kind = "present"

    @classmethod
    def missing_truth(cls, missing: str | None, state: tuple[Any, ...]) -> Truth:
        return TRUE if missing == "pass" else FALSE

    def test(self, value: Any) -> Truth:
        return FALSE if _is_empty(value) else TRUE

    def expected(self) -> str:
        return "present (not null, not empty)"

    def describe(self, value: Any, here: Locus, *, held: bool) -> Evidence:
        if held:
            return self.evidence(here, value, f"{_state(here, value)} (present)")
        return self.evidence(here, value, f"{here.phrase} is empty ({show(value)})")


@register()
@dataclass(frozen=True, slots=True)
class Absent(Leaf):
    """Holds when the value is missing, null, or an empty string, list or object.

    Never unknown on a missing value: that is the question it answers (true, or false with an
    explicit ``missing: fail``).
    """

    kind = "absent"

    @classmethod
    def missing_truth(cls, missing: str | None, state: tuple[Any, ...]) -> Truth:
        return FALSE if missing == "fail" else TRUE

    def test(self, value: Any) -> Truth:
        return TRUE if _is_empty(value) else FALSE

    def expected(self) -> str:
        return "absent (missing, null or empty)"

    def describe(self, value: Any, here: Locus, *, held: bool) -> Evidence:
        if held:
            return self.evidence(here, value, f"{here.phrase} is empty ({show(value)})")
        return self.evidence(here, value, f"{_state(here, value)}; expected it to be absent")


# -- eq / ne / in / not-in --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Equality(Leaf):
    operand: Any

    value_schema: ClassVar[dict[str, Any] | None] = {}

    @classmethod
    def value_fragment(cls) -> dict[str, Any]:
        # Any JSON value; an object of the form {param: NAME} names a param.
        return {}


@register()
@dataclass(frozen=True, slots=True)
class Eq(_Equality):
    """Holds when the value equals ``value`` (JSON equality: ``1`` is not ``true``)."""

    kind = "eq"

    def test(self, value: Any) -> Truth:
        return TRUE if json_equal(value, self.operand) else FALSE

    def expected(self) -> str:
        return show(self.operand)

    def describe(self, value: Any, here: Locus, *, held: bool) -> Evidence:
        if held:
            return self.evidence(here, value, _state(here, value))
        return self.evidence(here, value, f"{_state(here, value)}; expected {self.expected()}")


@register()
@dataclass(frozen=True, slots=True)
class Ne(_Equality):
    """Holds when the value differs from ``value`` (JSON equality)."""

    kind = "ne"

    def test(self, value: Any) -> Truth:
        return FALSE if json_equal(value, self.operand) else TRUE

    def expected(self) -> str:
        return f"not {show(self.operand)}"

    def describe(self, value: Any, here: Locus, *, held: bool) -> Evidence:
        if held:
            message = f"{_state(here, value)}, not {show(self.operand)}"
        else:
            message = f"{_state(here, value)}, which it must not be"
        return self.evidence(here, value, message)


@dataclass(frozen=True, slots=True)
class _Membership(Leaf):
    options: tuple[Any, ...]
    string_options: frozenset[str]

    value_schema: ClassVar[dict[str, Any] | None] = {"type": "array"}

    @classmethod
    def state(cls, value: Any, raw: Mapping[str, Any], context: CompileContext) -> tuple[Any, ...]:
        return tuple(value), frozenset(option for option in value if isinstance(option, str))

    def is_member(self, value: Any) -> bool:
        if isinstance(value, str):
            return value in self.string_options
        return any(json_equal(value, option) for option in self.options)


@register()
@dataclass(frozen=True, slots=True)
class In(_Membership):
    """Holds when the value is one of the list ``value``."""

    kind = "in"

    def test(self, value: Any) -> Truth:
        return TRUE if self.is_member(value) else FALSE

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

    def test(self, value: Any) -> Truth:
        return FALSE if self.is_member(value) else TRUE

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
    def state(cls, value: Any, raw: Mapping[str, Any], context: CompileContext) -> tuple[Any, ...]:
        patterns = (value,) if isinstance(value, str) else tuple(value)
        # fnmatch.translate gives fnmatchcase semantics: case-sensitive on every platform. Its
        # patterns match in linear time (Python 3.11+ translates * without backtracking).
        return patterns, tuple(re.compile(fnmatch.translate(pattern)) for pattern in patterns)

    def first_match(self, value: str) -> str | None:
        for pattern, matcher in zip(self.patterns, self.matchers, strict=True):
            if matcher.match(value):
                return pattern
        return None

    def matches(self, value: str) -> bool:
        for matcher in self.matchers:  # noqa: SIM110 (hot path: a loop beats all()/any() over a generator)
            if matcher.match(value):
                return True
        return False


@register()
@dataclass(frozen=True, slots=True)
class Glob(_Glob):
    """Holds when the value is a string matching one of the shell patterns (case-sensitive)."""

    kind = "glob"

    def test(self, value: Any) -> Truth:
        if not isinstance(value, str):
            return UNKNOWN
        return TRUE if self.matches(value) else FALSE

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

    def test(self, value: Any) -> Truth:
        if not isinstance(value, str):
            return UNKNOWN
        return FALSE if self.matches(value) else TRUE

    def expected(self) -> str:
        return f"matching none of: {show_list(self.patterns)}"

    def describe(self, value: Any, here: Locus, *, held: bool) -> Evidence:
        if held:
            message = f"{_subject(here, value)} matches none of: {show_list(self.patterns)}"
        else:
            message = f"{_subject(here, value)} matches {self.first_match(value)}"
        return self.evidence(here, value, message)


#: RE2 options for pack regexes: errors are raised (as ``re2.error``), never logged to stderr;
#: no capture groups (only "is it found" is asked, and capturing costs time).
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False
_RE2_OPTIONS.never_capture = True

#: What RE2's parser says, and the construct (absent from RE2, which matches in linear time)
#: a pack author should hear about.
_RE2_UNSUPPORTED = (
    ("(?=", "a lookahead (?=...)"),
    ("(?!", "a negative lookahead (?!...)"),
    ("(?<=", "a lookbehind (?<=...)"),
    ("(?<!", "a negative lookbehind (?<!...)"),
    ("(?>", "an atomic group (?>...)"),
    ("*+", "a possessive quantifier"),
    ("++", "a possessive quantifier"),
    ("?+", "a possessive quantifier"),
    ("}+", "a possessive quantifier"),
    ("\\Z", "\\Z (RE2 writes the end of the text as \\z; $ also matches only at the very end)"),
    ("\\u", "a \\uXXXX escape (RE2 writes \\x{XXXX})"),
    ("(?#", "a (?#...) comment"),
    ("(?x", "verbose mode (?x)"),
)
_BACKREFERENCE = re.compile(r"invalid escape sequence: \\[1-9]")
#: Python reads a{,3} as a{0,3}; RE2 reads it as the literal text "a{,3}".
_OPEN_LOWER_BOUND = re.compile(r"(?<!\\)\{,[0-9]+\}")


def compile_re2(pattern: str) -> Any:
    """The RE2 form of a pack regex (``search`` semantics, linear time in the input).

    Raises ``ValueError``, naming the construct where it can, for a pattern RE2 cannot run
    (backreferences, lookaround, possessive and atomic forms: what needs backtracking) or does
    not parse. RE2 never falls back to a backtracking engine.
    """
    try:
        compiled = re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else ""
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        reason = str(reason)
        if _BACKREFERENCE.search(reason) or "(?P=" in pattern:
            construct = "a backreference"
        else:
            construct = next((name for marker, name in _RE2_UNSUPPORTED if marker in reason), "")
        if construct:
            raise ValueError(
                f"regex {pattern!r} uses {construct}, which RE2 (linear-time matching) does not "
                f"support ({reason})"
            ) from exc
        raise ValueError(f"invalid regex {pattern!r}: {reason} (RE2 syntax)") from exc
    if _OPEN_LOWER_BOUND.search(pattern):
        raise ValueError(
            f"regex {pattern!r} uses {{,n}}, which RE2 reads as literal text: write {{0,n}}"
        )
    return compiled


#: A regex leaf remembers its answer for at most this many texts of at most this length.
_MEMO_ENTRIES = 4096
_MEMO_TEXT_LENGTH = 256


def searcher(compiled: Any) -> Callable[[str], bool]:
    """``found(text)``: whether the compiled RE2 pattern occurs in ``text`` (search semantics).

    Text goes to RE2 as UTF-8 bytes; a lone surrogate (JSON can carry ``"\\ud800"``) is passed
    through as invalid UTF-8, which no character class matches, instead of raising. The
    module's ``search`` on ``str`` decodes match offsets back to characters, an order of
    magnitude slower than the match itself; only a yes/no is needed here, so this calls RE2's
    ``Match`` directly when the installed google-re2 exposes it (tests check both paths agree).
    """
    match = getattr(getattr(compiled, "_regexp", None), "Match", None)
    anchor = getattr(getattr(getattr(re2, "_re2", None), "RE2", None), "Anchor", None)
    if match is None or anchor is None:
        search = compiled.search

        def found_slowly(text: str) -> bool:
            return search(text.encode("utf-8", "surrogatepass")) is not None

        return found_slowly
    unanchored = anchor.UNANCHORED
    # Tag keys, environment and hyperparameter names repeat across a fleet: remember the
    # answer for short texts, up to a bound (then stop adding: memory stays bounded).
    remembered: dict[str, bool] = {}

    def found(text: str) -> bool:
        known = remembered.get(text)
        if known is not None:
            return known
        data = text.encode("utf-8", "surrogatepass")
        answer = match(unanchored, data, 0, len(data))[0][0] >= 0
        if len(text) <= _MEMO_TEXT_LENGTH and len(remembered) < _MEMO_ENTRIES:
            remembered[text] = answer
        return bool(answer)

    return found


@dataclass(frozen=True, slots=True)
class _Regex(Leaf):
    pattern: str
    found: Callable[[str], bool]

    value_schema: ClassVar[dict[str, Any] | None] = {"type": "string"}
    accepts = ("string",)

    @classmethod
    def state(cls, value: Any, raw: Mapping[str, Any], context: CompileContext) -> tuple[Any, ...]:
        # Compiled once, here, at load, by RE2: no pattern can make matching backtrack.
        try:
            compiled = compile_re2(value)
        except ValueError as exc:
            raise context.error(str(exc), ".value") from exc
        return value, searcher(compiled)


@register()
@dataclass(frozen=True, slots=True)
class Regex(_Regex):
    """Holds when the value is a string in which the RE2 pattern is found (search semantics)."""

    kind = "regex"

    def test(self, value: Any) -> Truth:
        if not isinstance(value, str):
            return UNKNOWN
        return TRUE if self.found(value) else FALSE

    def expected(self) -> str:
        return f"matching {self.pattern}"

    def describe(self, value: Any, here: Locus, *, held: bool) -> Evidence:
        verb = "matches" if held else "does not match"
        return self.evidence(here, value, f"{_subject(here, value)} {verb} {self.pattern}")


@register()
@dataclass(frozen=True, slots=True)
class NotRegex(_Regex):
    """Holds when the value is a string in which the RE2 pattern is not found."""

    kind = "not-regex"

    def test(self, value: Any) -> Truth:
        if not isinstance(value, str):
            return UNKNOWN
        return FALSE if self.found(value) else TRUE

    def expected(self) -> str:
        return f"not matching {self.pattern}"

    def describe(self, value: Any, here: Locus, *, held: bool) -> Evidence:
        verb = "does not match" if held else "matches"
        return self.evidence(here, value, f"{_subject(here, value)} {verb} {self.pattern}")


# -- lt / le / gt / ge ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Compare(Leaf):
    bound: float

    value_schema: ClassVar[dict[str, Any] | None] = {"type": "number"}
    accepts = ("number",)
    symbol: ClassVar[str]
    compare: ClassVar[Callable[[Any, Any], bool]]

    def test(self, value: Any) -> Truth:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return UNKNOWN
        return TRUE if type(self).compare(value, self.bound) else FALSE

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
    def state(cls, value: Any, raw: Mapping[str, Any], context: CompileContext) -> tuple[Any, ...]:
        return (tuple(value),)

    def test(self, value: Any) -> Truth:
        if not _is_object(value):
            return UNKNOWN
        for key in self.required_keys:
            if key not in value:
                return FALSE
        return TRUE

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
    def state(cls, value: Any, raw: Mapping[str, Any], context: CompileContext) -> tuple[Any, ...]:
        return (int(value),)

    def test(self, value: Any) -> Truth:
        if not (isinstance(value, str | list | tuple) or _is_object(value)):
            return UNKNOWN
        if self.at_least:
            return TRUE if len(value) >= self.limit else FALSE
        return TRUE if len(value) <= self.limit else FALSE

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
    boolean. A missing value has type ``null``: never unknown, that is the question it answers.
    """

    type_names: tuple[str, ...]

    kind = "type"
    value_schema: ClassVar[dict[str, Any] | None] = {
        "if": {"type": "array"},
        "then": {"items": {"enum": list(JSON_TYPES)}, "minItems": 1},
        "else": {"enum": list(JSON_TYPES)},
    }

    @classmethod
    def state(cls, value: Any, raw: Mapping[str, Any], context: CompileContext) -> tuple[Any, ...]:
        return ((value,) if isinstance(value, str) else tuple(value),)

    @classmethod
    def missing_truth(cls, missing: str | None, state: tuple[Any, ...]) -> Truth:
        if missing is not None:
            return TRUE if missing == "pass" else FALSE
        (type_names,) = state
        return TRUE if "null" in type_names else FALSE

    def test(self, value: Any) -> Truth:
        name = _JSON_TYPE_OF.get(value.__class__) or json_type(value)
        if name in self.type_names:
            return TRUE
        if name == "number" and "integer" in self.type_names and has_json_type(value, "integer"):
            return TRUE
        return FALSE

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


def _object_keys(value: Any) -> Iterable[Any] | None:
    return value if _is_object(value) else None


def _object_values(value: Any) -> Iterable[Any] | None:
    return value.values() if _is_object(value) else None


def _list_items(value: Any) -> Iterable[Any] | None:
    return value if isinstance(value, list | tuple) else None


@dataclass(frozen=True, slots=True)
class _Quantifier(Leaf):
    check: Condition
    #: The nested check's outcome on each short string element seen (tag keys and values,
    #: environment names repeat across a fleet), up to ``_MEMO_ENTRIES``: a string element is
    #: judged by the check alone, so its outcome never changes.
    remembered: dict[str, Truth]

    element_noun: ClassVar[str]

    @classmethod
    def extra_properties(cls) -> dict[str, Any]:
        return {"check": CONDITION_REF}

    @classmethod
    def state(cls, value: Any, raw: Mapping[str, Any], context: CompileContext) -> tuple[Any, ...]:
        return (compile_condition(raw["check"], context.element()), {})

    @classmethod
    def missing_truth(cls, missing: str | None, state: tuple[Any, ...]) -> Truth:
        # Nothing to violate in a missing collection, unless the pack says it must be there.
        return UNKNOWN if missing == "fail" else TRUE

    #: The elements the nested check judges, from a value of the right type (else None).
    elements: ClassVar[Callable[[Any], Iterable[Any] | None]]

    def locate(self, here: Locus, value: Any) -> list[tuple[Any, Locus]]:
        """Each element with its locus (only for evidence: the hot path does not build these)."""
        raise NotImplementedError

    def test(self, value: Any) -> Truth:
        elements = type(self).elements(value)
        if elements is None:
            return UNKNOWN
        check = self.check.truth
        remembered = self.remembered
        outcome = TRUE
        for element in elements:
            if type(element) is str:
                truth = remembered.get(element)
                if truth is None:
                    truth = check(element)
                    if len(element) <= _MEMO_TEXT_LENGTH and len(remembered) < _MEMO_ENTRIES:
                        remembered[element] = truth
            else:
                truth = check(element)
            if truth is FALSE:
                return FALSE
            if truth is UNKNOWN:
                outcome = UNKNOWN
        return outcome

    def expected(self) -> str:
        return f"every {self.element_noun} satisfies the nested check"

    def describe(self, value: Any, here: Locus, *, held: bool) -> Evidence:
        count = len(value)
        message = (
            f"every {self.element_noun} of {here.phrase} satisfies the check ({count} checked)"
        )
        return self.evidence(here, value, message)

    def judged(self, value: Any, here: Locus, truth: Truth, wanted: Truth) -> tuple[Evidence, ...]:
        if truth is TRUE or type(self).elements(value) is None:
            return Leaf.judged(self, value, here, truth, wanted)
        # FALSE: the elements that are false; UNKNOWN: the elements that could not be judged.
        evidence: list[Evidence] = []
        for element, element_locus in self.locate(here, value):
            if self.check.truth(element) is truth:
                evidence.extend(self.check.explain(element, element_locus, TRUE))
        return tuple(evidence)


@register()
@dataclass(frozen=True, slots=True)
class Keys(_Quantifier):
    """Holds when the value is an object whose every key (a string) satisfies ``check``."""

    kind = "keys"
    accepts = ("object",)
    element_noun = "key"

    elements = _object_keys

    def locate(self, here: Locus, value: Any) -> list[tuple[Any, Locus]]:
        return [(key, here.key(key)) for key in value]


@register()
@dataclass(frozen=True, slots=True)
class Values(_Quantifier):
    """Holds when the value is an object whose every value satisfies ``check``."""

    kind = "values"
    accepts = ("object",)
    element_noun = "value"

    elements = _object_values

    def locate(self, here: Locus, value: Any) -> list[tuple[Any, Locus]]:
        return [(item, here.value(str(key))) for key, item in value.items()]


@register()
@dataclass(frozen=True, slots=True)
class Items(_Quantifier):
    """Holds when the value is a list whose every item satisfies ``check``."""

    kind = "items"
    accepts = ("array",)
    element_noun = "item"

    elements = _list_items

    def locate(self, here: Locus, value: Any) -> list[tuple[Any, Locus]]:
        return [(item, here.item(index)) for index, item in enumerate(value)]
