"""What a GetTrainedModel record must look like before a policy judges it.

One contract for ``auditor scan`` and ``auditor evaluate``: a record (the JSON of one
GetTrainedModel response, as it came over the wire or as ``aws cleanroomsml
get-trained-model`` printed it) is checked against the operation's output shape in the
installed botocore's ``cleanroomsml`` service model: required members, types (integer,
float, boolean, string, timestamp, list, map, structure, nested), string enums.

``check_document`` returns the document policies judge and every way the record departs
from the shape, each with its JSON path (``stoppingCondition.maxRuntimeInSeconds: expected
integer, got boolean true``). The document is the record with:

- members the service model does not know, and members that are null, left out (what the
  SDK does when it parses a response);
- timestamps as ISO 8601 UTC strings (``2024-01-01T00:00:00Z``), whether the record holds
  an ISO 8601 string or epoch seconds; a value that is no timestamp is left as it is;
- every other value exactly as the record has it, mistyped ones included, so a policy sees
  what AWS sent and a mistyped value fails closed (it is never coerced into a passing one).

A record that does not conform is still evaluated; the caller adds one ``errors`` entry
(code ``MalformedResponse``) whose message is ``CheckedDocument.message``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import cache
from typing import Any

from botocore.loaders import create_loader
from botocore.model import ListShape, MapShape, ServiceModel, Shape, StructureShape
from botocore.utils import parse_timestamp

SERVICE = "cleanroomsml"
OPERATION = "GetTrainedModel"
# the record of a model another member trained (``auditor scan --collaboration-models``)
COLLABORATION_OPERATION = "GetCollaborationTrainedModel"
MALFORMED_RESPONSE = "MalformedResponse"
MAX_LISTED_PROBLEMS = 5
_MAX_SHOWN = 40  # characters of an offending value or key quoted in a problem

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)


class Kind(StrEnum):
    """The service model's shape types, as a document check tells them apart."""

    STRUCTURE = "structure"
    LIST = "list"
    MAP = "map"
    STRING = "string"
    INTEGER = "integer"
    LONG = "long"
    FLOAT = "float"
    DOUBLE = "double"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"
    BLOB = "blob"
    ANY = "any"  # a type this check does not know (a newer model's): not judged


_KINDS = frozenset(Kind)


@dataclass(frozen=True, slots=True)
class Problem:
    """One way a record departs from the shape: where (a JSON path) and what is wrong."""

    path: str
    what: str

    def __str__(self) -> str:
        return f"{self.path}: {self.what}"


@dataclass(frozen=True, slots=True)
class CheckedDocument:
    """A record as policies see it, and how it departs from the SDK's shape (if at all)."""

    document: Mapping[str, Any]
    problems: tuple[Problem, ...] = ()

    @property
    def conforms(self) -> bool:
        return not self.problems

    @property
    def message(self) -> str:
        """The ``errors`` entry's message: the first few problems, and how many more."""
        shown = "; ".join(str(p) for p in self.problems[:MAX_LISTED_PROBLEMS])
        more = len(self.problems) - MAX_LISTED_PROBLEMS
        return f"{shown}; and {more} more" if more > 0 else shown


@dataclass(slots=True, eq=False)
class _Node:
    """One shape of the service model, compiled once for a fast walk (never shared out)."""

    kind: Kind
    name: str
    members: dict[str, _Node]
    required: tuple[str, ...] = ()
    enum: frozenset[str] = frozenset()
    item: _Node | None = None  # a list's member, a map's value


def _compile(shape: Shape, memo: dict[str, _Node]) -> _Node:
    known = memo.get(shape.name)
    if known is not None:
        return known
    kind = Kind(shape.type_name) if shape.type_name in _KINDS else Kind.ANY
    node = _Node(
        kind=kind,
        name=shape.name,
        members={},
        required=tuple(shape.metadata.get("required", ())),
        enum=frozenset(shape.metadata.get("enum", ())),
    )
    memo[shape.name] = node  # before the children: a recursive shape refers to itself
    if isinstance(shape, StructureShape):
        node.members = {name: _compile(member, memo) for name, member in shape.members.items()}
    elif isinstance(shape, ListShape):
        node.item = _compile(shape.member, memo)
    elif isinstance(shape, MapShape):
        node.item = _compile(shape.value, memo)
    return node


@cache
def output_shape(operation: str = OPERATION) -> StructureShape:
    """``operation``'s output shape (GetTrainedModel by default) from the installed botocore's
    data files (no client).

    Loaded once per process. Raises ``botocore.exceptions.DataNotFoundError`` when the
    installed botocore has no Clean Rooms ML model.
    """
    loader = create_loader()
    model = ServiceModel(loader.load_service_model(SERVICE, "service-2"), SERVICE)
    shape = model.operation_model(operation).output_shape
    assert isinstance(shape, StructureShape)
    return shape


@cache
def _root(operation: str = OPERATION) -> _Node:
    return _compile(output_shape(operation), {})


def check_document(record: Any, operation: str = OPERATION) -> CheckedDocument:
    """``record`` judged against ``operation``'s output shape (GetTrainedModel, or
    GetCollaborationTrainedModel for a collaboration model), and the document policies see
    (see the module docstring). Never raises on bad data."""
    problems: list[Problem] = []
    document = _walk(_root(operation), record, "", problems)
    if not isinstance(document, Mapping):
        document = {}
    return CheckedDocument(document=document, problems=tuple(problems))


def iso8601(moment: datetime | date) -> str:
    """``2026-01-01T00:00:00Z``: UTC, fractional seconds only when there are some."""
    if not isinstance(moment, datetime):
        return moment.isoformat()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def normalise_timestamp(value: Any) -> str | None:
    """``value`` (ISO 8601 or another form botocore reads, or epoch seconds) as an ISO 8601
    UTC string; None when it is no timestamp."""
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            return iso8601(datetime.fromtimestamp(value, UTC))
        if isinstance(value, str):
            try:
                return iso8601(datetime.fromisoformat(value))
            except ValueError:
                parsed: datetime = parse_timestamp(value)  # RFC 822, epoch text, ...
                return iso8601(parsed)
    except (ValueError, TypeError, OverflowError, OSError):
        return None
    return None


def _got(value: Any) -> str:
    """What a value is, in JSON's words, with a short rendering of scalars."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean true" if value else "boolean false"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, int):
        kind = "integer"
    elif isinstance(value, float):
        kind = "float"
    elif isinstance(value, str):
        kind = "string"
    else:
        return type(value).__name__
    text = json.dumps(value)
    if len(text) > _MAX_SHOWN:
        text = text[:_MAX_SHOWN] + "..."
    return f"{kind} {text}"


def _key_path(path: str, key: str) -> str:
    shown = key if len(key) <= _MAX_SHOWN else key[:_MAX_SHOWN] + "..."
    return f"{path or 'record'}[{json.dumps(shown)}]"


def _walk(node: _Node, value: Any, path: str, problems: list[Problem]) -> Any:
    kind = node.kind
    if kind is Kind.STRING:
        if not isinstance(value, str):
            problems.append(Problem(path or "record", f"expected string, got {_got(value)}"))
        elif node.enum and value not in node.enum:
            problems.append(
                Problem(path, f"{_got(value)} is not one of the documented {node.name} values")
            )
        return value
    if kind is Kind.STRUCTURE:
        return _structure(node, value, path, problems)
    if kind is Kind.LIST:
        return _list(node, value, path, problems)
    if kind is Kind.MAP:
        return _map(node, value, path, problems)
    if kind is Kind.TIMESTAMP:
        stamp = normalise_timestamp(value)
        if stamp is None:
            problems.append(Problem(path, f"expected timestamp, got {_got(value)}"))
            return value
        return stamp
    if kind in (Kind.INTEGER, Kind.LONG):
        low, high = _INT32 if kind is Kind.INTEGER else _INT64
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(Problem(path, f"expected {kind}, got {_got(value)}"))
        elif not low <= value <= high:
            problems.append(Problem(path, f"{value} is out of the {kind} range"))
        return value
    if kind in (Kind.FLOAT, Kind.DOUBLE):
        if not isinstance(value, int | float) or isinstance(value, bool):
            problems.append(Problem(path, f"expected {kind}, got {_got(value)}"))
        return value
    if kind is Kind.BOOLEAN:
        if not isinstance(value, bool):
            problems.append(Problem(path, f"expected boolean, got {_got(value)}"))
        return value
    if kind is Kind.ANY:
        return value
    # blob: base64 text in JSON
    if not isinstance(value, str):
        problems.append(Problem(path, f"expected {kind}, got {_got(value)}"))
    return value


def _structure(node: _Node, value: Any, path: str, problems: list[Problem]) -> Any:
    if not isinstance(value, Mapping):
        problems.append(Problem(path or "record", f"expected structure, got {_got(value)}"))
        return value
    members = node.members
    out: dict[str, Any] | None = None  # a copy, made only when something changes
    for index, (name, item) in enumerate(value.items()):
        member = members.get(name)
        if member is None or item is None:
            if out is None:
                out = dict(list(value.items())[:index])
            continue
        checked = _walk(member, item, f"{path}.{name}" if path else name, problems)
        if out is not None:
            out[name] = checked
        elif checked is not item:
            out = dict(list(value.items())[:index])
            out[name] = checked
    for name in node.required:
        if value.get(name) is None:
            where = f"{path}.{name}" if path else name
            what = "required member is null" if name in value else "required member is missing"
            problems.append(Problem(where, what))
    return value if out is None else out


def _list(node: _Node, value: Any, path: str, problems: list[Problem]) -> Any:
    if not isinstance(value, list):
        problems.append(Problem(path, f"expected list, got {_got(value)}"))
        return value
    item_node = node.item
    assert item_node is not None
    out: list[Any] | None = None
    for index, item in enumerate(value):
        checked = _walk(item_node, item, f"{path}[{index}]", problems)
        if checked is not item and out is None:
            out = list(value)
        if out is not None:
            out[index] = checked
    return value if out is None else out


def _map(node: _Node, value: Any, path: str, problems: list[Problem]) -> Any:
    if not isinstance(value, Mapping):
        problems.append(Problem(path, f"expected map, got {_got(value)}"))
        return value
    value_node = node.item
    assert value_node is not None
    out: dict[str, Any] | None = None
    for key, item in value.items():
        where = _key_path(path, str(key))
        if not isinstance(key, str):
            problems.append(Problem(where, f"expected a string key, got {_got(key)}"))
        checked = _walk(value_node, item, where, problems)
        if checked is not item and out is None:
            out = dict(value)
        if out is not None:
            out[key] = checked
    return value if out is None else out
