"""Reading a report.json back into a ``Report`` (for ``--baseline``, ``diff``, ``report`` and
``merge``), and the report's published JSON Schema.

The writer is ``auditor.reports.json``; this module reads what it writes, and any other layout
of a valid report.
"""

from __future__ import annotations

import gc
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any, BinaryIO, cast

import jsonschema

from auditor.errors import ReportInputError
from auditor.inputfiles import MAX_REPORT_DEPTH, json_nesting_exceeds, too_deep
from auditor.models import (
    BaselineState,
    ErrorScope,
    Evidence,
    EvidenceKind,
    Gate,
    InferenceJobUse,
    Lineage,
    ListingComplete,
    PackRef,
    PolicyInfo,
    PriorFailure,
    PriorOutcome,
    Report,
    Resource,
    ResourceType,
    Result,
    ResultIds,
    ScanError,
    ScanFilters,
    ScanInfo,
    Severity,
    Status,
    VersionVerdict,
    Waiver,
    WaiverUse,
    encode_statuses,
    version_material,
)
from auditor.reports.json import PRIOR_KEYS

# Reading back is built for 2,000,000 results too (a 1.2 GB file). Four things dominate:
# - Memory: ``json.loads`` of the whole file builds every result at once (about 6 GB at that
#   size). A report in the layout the writer uses (one result per line between a
#   ``"results": [`` line and a ``],`` line) is read a line at a time instead, and each
#   result is folded into its version's compact verdict as soon as it is read; any other
#   layout of valid JSON (pretty-printed by another tool, say) is read whole.
# - ``json.loads`` builds some 40 million objects, and the cyclic garbage collector, which
#   runs over all of them again and again while they pile up, triples its time; the
#   collector is paused while a report is read (nothing read here forms reference cycles).
# - Validating each result with jsonschema costs about 200 us, 7 minutes in all. Everything
#   but the results is still validated by jsonschema; each result goes through a fast check
#   that accepts only results that certainly satisfy the schema's ``result`` definition, and
#   whatever it does not accept is judged by jsonschema, one result at a time. So the
#   verdict is always the schema's, and so is the message; it names the first bad result.
# - Rebuilding: one ``Resource`` per version; the ids checked with ``ResultIds``.


@cache
def report_schema() -> dict[str, Any]:
    """The published JSON Schema of report.json (Draft 2020-12)."""
    text = resources.files("auditor").joinpath("schemas/report.schema.json").read_text("utf-8")
    return cast(dict[str, Any], json.loads(text))


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = report_schema()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


@cache
def result_validator() -> jsonschema.protocols.Validator:
    """The schema's ``result`` definition on its own: validates one result."""
    schema = report_schema()
    validator_class = jsonschema.validators.validator_for(schema)
    return validator_class(
        {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": "#/$defs/result"}
    )


def _raise_first_error(
    errors: Iterable[jsonschema.ValidationError], source: str, prefix: tuple[str, ...] = ()
) -> None:
    error = jsonschema.exceptions.best_match(errors)
    if error is not None:
        path = [*prefix, *(str(part) for part in error.absolute_path)]
        where = "/".join(path) or "(top level)"
        raise ReportInputError(f"{source}: not a valid auditor report at {where}: {error.message}")


def validate_report_document(document: Any, source: str) -> None:
    """Raise ``ReportInputError`` naming the first schema violation of a parsed report.json.

    Exactly as strict as validating the whole document against the schema; the results are
    checked by ``unproven_results`` first, and only those it cannot vouch for by jsonschema.
    A problem outside the results is named first, then the first bad result in file order.
    """
    for _ in _checked_results(_validated_frame(document, source), source):
        pass


def _validated_frame(document: Any, source: str) -> list[Any]:
    """Validate everything but the results; return the results, still unchecked."""
    results = document.get("results") if isinstance(document, dict) else None
    if not isinstance(results, list):
        _raise_first_error(_validator().iter_errors(document), source)
        return []
    _raise_first_error(_validator().iter_errors({**document, "results": []}), source)
    return results


def _checked_results(results: Iterable[Any], source: str) -> Iterator[Any]:
    """The results, each proven valid (fast check, else jsonschema) before it is passed on."""
    check = _ResultCheck()
    for number, item in enumerate(results):
        if not check.proven(item):
            errors = result_validator().iter_errors(item)
            _raise_first_error(errors, source, ("results", str(number)))
        yield item


_RESULT_KEYS = frozenset(
    ("id", "policy_id", "title", "severity", "status", "resource", "evidence", "waiver")
)
_RESULT_KEYS_WITH_BASELINE = _RESULT_KEYS | {"baseline"}
_RESOURCE_KEYS = frozenset(
    (
        "arn",
        "version_identifier",
        "name",
        "membership_id",
        "collaboration_id",
        "account",
        "region",
        "status",
    )
)
# written since resources have types (``type``, ``creator_account``); older reports lack them
_RESOURCE_KEYS_WITH_TYPE = _RESOURCE_KEYS | {"type", "creator_account"}
_RESOURCE_TYPES = frozenset(kind.value for kind in ResourceType)
_EVIDENCE_KEYS = frozenset(("path", "actual", "expected", "message", "kind"))
_EVIDENCE_KINDS = frozenset(kind.value for kind in EvidenceKind)
_WAIVER_STRINGS = ("policy", "resource", "version", "reason", "expires", "approved_by")
_WAIVER_KEYS = frozenset(_WAIVER_STRINGS)
_WAIVER_KEYS_WITH_INDEX = _WAIVER_KEYS | {"index"}
_SEVERITIES = frozenset(("critical", "high", "medium", "low", "info"))
_STATUSES = frozenset(("pass", "fail", "skip"))
_BASELINES = frozenset(("new", "unchanged", None))
_STRING_OR_NULL = frozenset((str, type(None)))
_STRING = frozenset((str,))
# The schema's pattern for ``expires``, applied as jsonschema applies patterns (``re.search``).
_EXPIRES = re.compile("^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def unproven_results(results: Iterable[Any]) -> Iterator[int]:
    """Positions of the results that a fast check cannot prove valid against the schema.

    The check accepts only results that satisfy the schema's ``result`` definition, with the
    exact types ``json.loads`` produces: every result it accepts is valid (a property test
    holds it to that). What it does not accept may be invalid, or valid in a way it does not
    look for (``1.0`` for an integer, a ``str`` subclass): the caller asks jsonschema.
    """
    check = _ResultCheck()
    for number, item in enumerate(results):
        if not check.proven(item):
            yield number


class _ResultCheck:
    """The fast check of one result after another (see ``unproven_results``)."""

    __slots__ = ("known_resource",)

    def __init__(self) -> None:
        # the last resource proven valid: a version's results repeat it
        self.known_resource: Any = None

    def proven(self, item: Any) -> bool:
        try:
            resource = item["resource"]
            proven = (
                _result_is_valid(item)
                and type(resource) is dict
                and (resource == self.known_resource or _resource_is_valid(resource))
            )
        except (AttributeError, KeyError, TypeError):
            return False
        if proven:
            self.known_resource = resource
        return proven


def _result_is_valid(item: Any) -> bool:
    """Everything in a result but its resource."""
    if type(item) is not dict:
        return False
    keys = item.keys()
    if keys != _RESULT_KEYS and keys != _RESULT_KEYS_WITH_BASELINE:
        return False
    evidence = item["evidence"]
    waiver = item["waiver"]
    return (
        type(item["id"]) is str
        and type(item["policy_id"]) is str
        and type(item["title"]) is str
        and item["severity"] in _SEVERITIES
        and item["status"] in _STATUSES
        and item.get("baseline") in _BASELINES
        and type(evidence) is list
        and (not evidence or _evidence_is_valid(evidence))
        and (waiver is None or _waiver_is_valid(waiver))
    )


def _resource_is_valid(resource: dict[str, Any]) -> bool:
    keys = resource.keys()
    if keys == _RESOURCE_KEYS_WITH_TYPE:
        if resource["type"] not in _RESOURCE_TYPES:
            return False
    elif keys != _RESOURCE_KEYS:
        return False
    return type(resource["arn"]) is str and _STRING_OR_NULL.issuperset(map(type, resource.values()))


def _evidence_is_valid(evidence: list[Any]) -> bool:
    for item in evidence:
        if not (
            type(item) is dict
            and item.keys() == _EVIDENCE_KEYS
            and type(item["path"]) is str
            and type(item["message"]) is str
            and item["kind"] in _EVIDENCE_KINDS
        ):
            return False
    return True


def _waiver_is_valid(waiver: Any) -> bool:
    if type(waiver) is not dict:
        return False
    keys = waiver.keys()
    if keys != _WAIVER_KEYS and keys != _WAIVER_KEYS_WITH_INDEX:
        return False
    index = waiver.get("index", 0)
    return (
        _STRING.issuperset(type(waiver[key]) for key in _WAIVER_STRINGS)
        and _EXPIRES.search(waiver["expires"]) is not None
        and type(index) is int
        and index >= 0
    )


def load_report(data: bytes, source: str) -> Report:
    """Read a report.json back into a ``Report`` (see ``read_report``)."""
    return read_report(io.BytesIO(data), source)


def read_report(handle: BinaryIO, source: str) -> Report:
    """Read a report.json from a seekable binary file into a ``Report``.

    Raises ``ReportInputError`` when it is not JSON, does not validate against the report
    schema, or is inconsistent (unknown policy, duplicate or missing result, wrong id). A
    report in auditor's own layout is read a result line at a time; any other is read whole.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        start = handle.tell()
        try:
            return _read_lines(handle, source)
        except _NotTheLayout:
            pass
        # Another layout, or a report from before the ``policies`` extension, whose policies
        # are recovered from its results before they are read: all of it at once.
        handle.seek(start)
        document = _parse(handle.read(), source)
        results = list(_checked_results(_validated_frame(document, source), source))
        return _Loader(document, source).report(results)
    finally:
        if collecting:
            gc.enable()


class _NotTheLayout(Exception):
    """The file is not (or not entirely) in the layout ``iter_json`` writes."""


def _read_lines(handle: BinaryIO, source: str) -> Report:
    layout = _line_layout(handle)
    if layout is None:
        raise _NotTheLayout
    try:
        document = json.loads(layout.frame)
    except (ValueError, RecursionError):
        raise _NotTheLayout from None  # the whole file is judged, for an exact message
    if not isinstance(document, dict) or "policies" not in document:
        raise _NotTheLayout
    _validated_frame(document, source)
    handle.seek(layout.results_at)
    results = _checked_results(_result_lines(handle, layout.results), source)
    return _Loader(document, source).report(results)


def _result_lines(handle: BinaryIO, count: int) -> Iterator[Any]:
    for _ in range(count):
        text = handle.readline(_MAX_LINE).rstrip()
        if json_nesting_exceeds(text, MAX_REPORT_DEPTH):
            raise _NotTheLayout  # the whole file is judged, against the limit
        try:
            yield json.loads(text[:-1] if text.endswith(b",") else text)
        except (ValueError, RecursionError):
            # ``{...}, {...}`` on one line is still JSON, just not this layout
            raise _NotTheLayout from None


def _parse(data: bytes, source: str) -> Any:
    if json_nesting_exceeds(data, MAX_REPORT_DEPTH):
        raise ReportInputError(str(too_deep(source, "a report", MAX_REPORT_DEPTH)))
    try:
        return json.loads(data)
    except RecursionError:
        raise ReportInputError(str(too_deep(source, "a report", MAX_REPORT_DEPTH))) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ReportInputError(f"{source}: not JSON: {exc}") from exc


# One line of the layout longer than this is not the layout (a whole report on one line).
_MAX_LINE = 64 << 20
_RESULTS_OPENING = b'"results": ['


@dataclass(frozen=True, slots=True)
class _LineLayout:
    frame: bytes  # the document with an empty results list
    results_at: int  # file offset of the first result line
    results: int  # how many result lines


def _line_layout(handle: BinaryIO) -> _LineLayout | None:
    """Where the results are, if the file has the layout ``iter_json`` writes: a
    ``"results": [`` line, then one ``{...}`` per line, comma-terminated but the last, then a
    line opening with ``]``. A first pass reads no result, so memory stays flat."""
    head = bytearray()
    while True:
        line = handle.readline(_MAX_LINE)
        if not line.endswith(b"\n"):
            return None  # end of file, or a line too long to be the layout
        head += line
        if line.rstrip() == _RESULTS_OPENING:
            break
    results_at = handle.tell()
    count = 0
    expect_more = True  # after the opening, or after a result that ended with a comma
    while True:
        line = handle.readline(_MAX_LINE)
        text = line.rstrip()
        if text.startswith(b"]"):
            if count and expect_more:
                return None  # a trailing comma: leave the verdict to json.loads
            return _LineLayout(bytes(head) + line + handle.read(), results_at, count)
        if not expect_more or not line.endswith(b"\n"):
            return None
        expect_more = text.endswith(b",")
        if expect_more:
            text = text[:-1]
        if not (text.startswith(b"{") and text.endswith(b"}")):
            return None
        count += 1


# Status codes as ``VersionVerdict.statuses`` holds them; NO_RESULT marks a policy not yet seen.
_STATUS_CODES = {status.value: encode_statuses((status,))[0] for status in Status}
_FAIL_CODE = _STATUS_CODES[Status.FAIL.value]
_NO_RESULT = 255


class _Row:
    """The results of one version, while they are being read."""

    __slots__ = ("codes", "failures", "resource", "version")

    def __init__(self, resource: Resource, count: int) -> None:
        self.resource = resource
        self.codes = bytearray((_NO_RESULT,)) * count
        self.failures: list[tuple[int, Result]] = []
        self.version = version_material(resource.arn, resource.version_identifier)


class _Loader:
    """A ``Report`` from the parsed frame of a report.json and its results, read once, in
    order (they may be streamed)."""

    def __init__(self, document: dict[str, Any], source: str) -> None:
        self.document = document
        self.source = source
        self.resources: dict[tuple[str, str | None], Resource] = {}
        self.waivers: dict[tuple[Any, ...], Waiver] = {}

    def fail(self, message: str) -> ReportInputError:
        return ReportInputError(f"{self.source}: {message}")

    def report(self, results: Iterable[Any]) -> Report:
        document = self.document
        policies = self.policies()
        scan_doc = document["scan"]
        gate_doc = document["summary"]["gate"]
        return Report(
            tool_version=document["tool"]["version"],
            scan=self.scan(scan_doc),
            policies=policies,
            verdicts=self.verdicts(policies, results),
            errors=tuple(self.error(item) for item in document["errors"]),
            gate=Gate(
                fail_on=Severity(gate_doc["fail_on"]), new_only=gate_doc.get("new_only", False)
            ),
            waivers=tuple(
                WaiverUse(
                    waiver=_waiver(item, self.source),
                    matched=item["matched"],
                    expired=item["expired"],
                )
                for item in document.get("waivers", ())
            ),
            baseline_path=scan_doc.get("baseline"),
            prior_failures=tuple(
                self.prior_failure(item, outcome)
                for outcome, key in PRIOR_KEYS.items()
                for item in document.get(key, ())
            ),
            lineage=tuple(_lineage(item) for item in document.get("lineage", ())),
        )

    def prior_failure(self, doc: dict[str, Any], outcome: PriorOutcome) -> PriorFailure:
        reason = doc.get("reason")
        if reason is None:  # only ``resolved`` items may lack one (the schema says so)
            # An older auditor listed every baseline failure not failing now as "resolved",
            # read or not: nothing says this one was re-checked.
            outcome = PriorOutcome.NOT_RECHECKED
            reason = "listed as resolved by an older auditor that did not check it was read"
        waiver = doc.get("waiver")
        return PriorFailure(
            id=doc["id"],
            policy_id=doc["policy_id"],
            severity=Severity(doc["severity"]),
            resource=self.resource(doc["resource"]),
            outcome=outcome,
            reason=reason,
            waiver=None if waiver is None else self.waiver(waiver),
        )

    def scan(self, doc: dict[str, Any]) -> ScanInfo:
        return ScanInfo(
            started_at=doc["started_at"],
            finished_at=doc["finished_at"],
            complete=doc["complete"],
            mode=doc.get("mode", "scan"),
            regions=tuple(doc["regions"]),
            accounts=tuple(doc["accounts"]),
            packs=tuple(
                PackRef(id=p["id"], path=p["path"], sha256=p["sha256"], title=p.get("title"))
                for p in doc["packs"]
            ),
            params=doc["params"],
            interrupted=doc.get("interrupted", False),
            unreached=tuple(doc.get("unreached", ())),
            shard=doc.get("shard"),
            filters=ScanFilters(
                memberships=tuple(doc.get("filters", {}).get("memberships", ())),
                models=tuple(doc.get("filters", {}).get("models", ())),
                latest_only=doc.get("filters", {}).get("latest_only", False),
            ),
            memberships_read=tuple(
                ListingComplete(
                    membership_id=item["membership_id"],
                    account=item["account"],
                    region=item["region"],
                )
                for item in doc.get("memberships_read", ())
            ),
        )

    def policies(self) -> tuple[PolicyInfo, ...]:
        listed = self.document.get("policies")
        if listed is not None:
            policies = tuple(
                PolicyInfo(
                    id=item["id"],
                    title=item["title"],
                    severity=Severity(item["severity"]),
                    pack_id=item["pack_id"],
                    description=item.get("description"),
                    remediation=item.get("remediation"),
                    references=tuple(item.get("references", ())),
                    frameworks={k: tuple(v) for k, v in item.get("frameworks", {}).items()},
                    line=item.get("line"),
                    resource_type=ResourceType(
                        item.get("resource_type", ResourceType.TRAINED_MODEL.value)
                    ),
                )
                for item in listed
            )
        else:
            # A report without the ``policies`` extension: recover what the results say.
            seen: dict[str, PolicyInfo] = {}
            for item in self.document["results"]:
                if item["policy_id"] not in seen:
                    seen[item["policy_id"]] = PolicyInfo(
                        id=item["policy_id"],
                        title=item["title"],
                        severity=Severity(item["severity"]),
                        pack_id="",
                    )
            policies = tuple(seen.values())
        ids = [policy.id for policy in policies]
        if len(set(ids)) != len(ids):
            raise self.fail("policies: a policy id is listed twice")
        return policies

    def resource(self, doc: dict[str, Any]) -> Resource:
        key = (doc["arn"], doc["version_identifier"])
        known = self.resources.get(key)
        if known is None:
            known = self.resources[key] = Resource(
                arn=doc["arn"],
                version_identifier=doc["version_identifier"],
                name=doc["name"],
                membership_id=doc["membership_id"],
                collaboration_id=doc["collaboration_id"],
                account=doc["account"],
                region=doc["region"],
                status=doc["status"],
                type=ResourceType(doc.get("type", ResourceType.TRAINED_MODEL.value)),
                creator_account=doc.get("creator_account"),
            )
        return known

    def verdicts(
        self, policies: tuple[PolicyInfo, ...], results: Iterable[Any]
    ) -> tuple[VersionVerdict, ...]:
        position = {policy.id: index for index, policy in enumerate(policies)}
        count = len(policies)
        ids = ResultIds(policy.id for policy in policies)
        codes = _STATUS_CODES
        rows: dict[tuple[str, str | None], _Row] = {}
        arn: str | None = None
        version: str | None = None
        row: _Row | None = None
        for number, item in enumerate(results):
            index = position.get(item["policy_id"])
            if index is None:
                raise self.fail(f"results/{number}: unknown policy {item['policy_id']!r}")
            doc = item["resource"]
            # A version's results normally follow one another: look the row up only on change.
            if row is None or doc["arn"] != arn or doc["version_identifier"] != version:
                arn, version = key = doc["arn"], doc["version_identifier"]
                row = rows.get(key)
                if row is None:
                    row = rows[key] = _Row(self.resource(doc), count)
            if row.codes[index] != _NO_RESULT:
                raise self.fail(
                    f"results/{number}: a second result for the same policy and version"
                )
            code = row.codes[index] = codes[item["status"]]
            if item["id"] != ids.of(index, row.version):
                raise self.fail(f"results/{number}: id does not match policy, ARN and version")
            if code == _FAIL_CODE:
                row.failures.append((index, self.failure(item, policies[index], row.resource)))
        verdicts = []
        for row in rows.values():
            resource = row.resource
            if _NO_RESULT in row.codes:
                missing = [
                    p.id for p, c in zip(policies, row.codes, strict=True) if c == _NO_RESULT
                ]
                raise self.fail(
                    f"results: {resource.arn} version {resource.version_identifier} "
                    f"has no result for {', '.join(missing)}"
                )
            failures = row.failures
            if len(failures) > 1:
                failures.sort(key=_position)
            verdicts.append(
                VersionVerdict(
                    resource=resource,
                    statuses=bytes(row.codes),
                    failures=tuple([result for _, result in failures]),
                )
            )
        return tuple(verdicts)

    def failure(self, item: dict[str, Any], policy: PolicyInfo, resource: Resource) -> Result:
        waiver = item["waiver"]
        baseline = item.get("baseline")
        return Result(
            policy=policy,
            resource=resource,
            status=Status.FAIL,
            evidence=tuple(
                Evidence(
                    path=e["path"],
                    actual=e["actual"],
                    expected=e["expected"],
                    message=e["message"],
                    kind=EvidenceKind(e["kind"]),
                )
                for e in item["evidence"]
            ),
            waiver=None if waiver is None else self.waiver(waiver),
            baseline=None if baseline is None else BaselineState(baseline),
        )

    def waiver(self, doc: dict[str, Any]) -> Waiver:
        """The waiver a result names, made once for all the results it covers."""
        key = tuple(doc.items())
        known = self.waivers.get(key)
        if known is None:
            known = self.waivers[key] = _waiver(doc, self.source)
        return known

    def error(self, doc: dict[str, Any]) -> ScanError:
        return ScanError(
            scope=ErrorScope(doc["scope"]),
            operation=doc["operation"],
            code=doc["code"],
            message=doc["message"],
            attempts=doc["attempts"],
            account=doc["account"],
            region=doc["region"],
            membership_id=doc["membership_id"],
            resource_arn=doc["resource_arn"],
            version_identifier=doc.get("version_identifier"),
            line=doc.get("line"),
        )


def _lineage(doc: Mapping[str, Any]) -> Lineage:
    return Lineage(
        arn=doc["arn"],
        version_identifier=doc["version_identifier"],
        bases=tuple((base["arn"], base["version_identifier"]) for base in doc["bases"]),
        jobs=tuple(
            InferenceJobUse(
                arn=job["arn"],
                status=job["status"],
                name=job["name"],
                output_members=tuple(job["output_members"]),
            )
            for job in doc["inference_jobs"]
        ),
        jobs_read=doc["inference_jobs_read"],
        failing=tuple(doc["failing"]),
    )


def _position(item: tuple[int, Result]) -> int:
    return item[0]


def _waiver(doc: Mapping[str, Any], source: str) -> Waiver:
    try:
        expires = date.fromisoformat(doc["expires"])
    except ValueError as exc:
        raise ReportInputError(
            f"{source}: waiver expires {doc['expires']!r} is not a date"
        ) from exc
    return Waiver(
        policy=doc["policy"],
        resource=doc["resource"],
        version=doc["version"],
        reason=doc["reason"],
        expires=expires,
        approved_by=doc["approved_by"],
        index=doc.get("index", 0),
    )
