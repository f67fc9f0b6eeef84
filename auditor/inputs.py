"""Saved GetTrainedModel responses for `auditor evaluate --input`.

Accepted, UTF-8 with or without a byte-order mark: a JSON array of responses, JSON Lines
(one response a line), or what ``aws cleanroomsml get-trained-model`` prints (one object,
pretty-printed; several such outputs appended to one file are read one after another).

Records are decoded one at a time (``json.JSONDecoder.raw_decode``), so a broken or
truncated record costs only itself: it becomes an ``errors`` entry (scope ``input``) naming
the line it starts on, and reading goes on with the next record. Each record is then held to
the GetTrainedModel contract (``auditor.documents``), exactly as a live scan holds a
response: one that does not conform is evaluated and also reported (scope ``version``, code
``MalformedResponse``, the same message a scan gives).
"""

from __future__ import annotations

import codecs
import json
import re
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from auditor.arns import resource_from_document
from auditor.documents import MALFORMED_RESPONSE, OPERATION, check_document
from auditor.errors import InputFileError
from auditor.inputfiles import MAX_INPUT_BYTES, MAX_RECORD_DEPTH, read_bytes, value_nesting_exceeds
from auditor.models import ErrorScope, ModelVersion, ScanError
from auditor.policy.context import CONTEXT_ROOTS

_DECODER = json.JSONDecoder()
# a byte-order mark counts as space between records: `cat a.json b.json` keeps b's
_SPACE = " \t\r\n\ufeff"
_UNDECODABLE = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8 (surrogateescape)


class _Lines:
    """Line numbers of offsets, counted incrementally (records are read front to back)."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._offset = 0
        self._line = 1

    def at(self, offset: int) -> int:
        if offset < self._offset:
            self._offset, self._line = 0, 1
        self._line += self._text.count("\n", self._offset, offset)
        self._offset = offset
        return self._line


def _skip_space(text: str, offset: int) -> int:
    while offset < len(text) and text[offset] in _SPACE:
        offset += 1
    return offset


def _input_error(source: str, line: int | None, code: str, message: str) -> ScanError:
    return ScanError(
        scope=ErrorScope.INPUT,
        operation="ReadInput",
        code=code,
        message=f"{source}:{line}: {message}" if line else f"{source}: {message}",
        line=line,
    )


def _too_deep(source: str, line: int | None, rest: str = "") -> ScanError:
    return _input_error(
        source,
        line,
        "RecordTooDeep",
        f"record nested more than {MAX_RECORD_DEPTH} levels deep, the limit{rest}",
    )


def _column(text: str, offset: int) -> int | None:
    """The column of ``offset`` when only space precedes it on its line, else None."""
    line_start = text.rfind("\n", 0, offset) + 1
    if text[line_start:offset].strip(_SPACE):
        return None
    return offset - line_start


def _next_record(text: str, start: int, failed_at: int) -> int | None:
    """Where reading resumes after the broken record at ``start``: the first ``{`` after it
    from which a whole object decodes past the point where the broken one failed, and which
    either starts a line no deeper than the broken record (the next line of JSON Lines, the
    next appended or array-element object) or is a GetTrainedModel response (the next
    output glued to a truncated one). Nested objects of the broken record are neither."""
    record_column = _column(text, start)
    candidate = text.find("{", start + 1)
    while candidate != -1:
        try:
            value, end = _DECODER.raw_decode(text, candidate)
        except json.JSONDecodeError:
            pass
        else:
            if end > failed_at:
                column = _column(text, candidate)
                if (
                    record_column is not None and column is not None and column <= record_column
                ) or (isinstance(value, dict) and "trainedModelArn" in value):
                    return candidate
        candidate = text.find("{", candidate + 1)
    return None


def _raw_records(text: str, source: str) -> Iterator[tuple[int, int, int, Any] | ScanError]:
    """``(line, start offset, end offset, value)`` for each top-level value (each element
    when the file is one array), and an error for each broken one."""
    lines = _Lines(text)
    offset = _skip_space(text, 0)
    if offset == len(text):
        yield _input_error(source, None, "EmptyInput", "no records")
        return
    in_array = text[offset] == "["
    if in_array:
        offset = _skip_space(text, offset + 1)
    while offset < len(text):
        if in_array and text[offset] in ",]":
            in_array = text[offset] == ","
            offset = _skip_space(text, offset + 1)
            continue
        try:
            value, end = _DECODER.raw_decode(text, offset)
        except json.JSONDecodeError as exc:
            line = lines.at(offset)
            resume = _next_record(text, offset, exc.pos)
            problem = f"record is not valid JSON ({exc.msg}: line {exc.lineno} column {exc.colno})"
            if resume is None:
                yield _input_error(
                    source, line, "MalformedJson", f"{problem}; no complete record follows it"
                )
                return
            yield _input_error(
                source,
                line,
                "MalformedJson",
                f"{problem}; reading goes on at line {lines.at(resume)}",
            )
            offset = resume
            continue
        except RecursionError:
            line = lines.at(offset)
            resume = _next_record(text, offset, offset)
            if resume is None:
                yield _too_deep(source, line, "; no complete record follows it")
                return
            yield _too_deep(source, line, f"; reading goes on at line {lines.at(resume)}")
            offset = resume
            continue
        yield lines.at(offset), offset, end, value
        offset = _skip_space(text, end)


def _decode(data: bytes) -> tuple[str, Sequence[int]]:
    """The text, and the offsets of bytes that are not UTF-8 (each record holding one is an
    error of its own). A multi-byte character cut off by the end of the file is dropped: the
    record it belongs to is truncated anyway."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8"), ()
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.end == len(data):
            try:
                return data[: exc.start].decode("utf-8"), ()
            except UnicodeDecodeError:
                pass
    text = data.decode("utf-8", errors="surrogateescape")
    return text, [m.start() for m in _UNDECODABLE.finditer(text)]


def read_input(path: Path) -> Iterator[ModelVersion | ScanError]:
    """Parse a saved-responses file into versions and per-record errors.

    Raises ``InputFileError`` when the file cannot be read, is not a file or a pipe, holds
    NUL bytes (a binary file) or is over ``MAX_INPUT_BYTES`` (a usage error). A record that
    is not UTF-8, or nested deeper than ``MAX_RECORD_DEPTH``, is an error entry.
    """
    source = str(path)
    data = read_bytes(path, "an input file", MAX_INPUT_BYTES)
    if b"\x00" in data:
        raise InputFileError(
            f"{path}: not UTF-8 text (a binary file?): it holds NUL bytes (an input file)"
        )
    text, undecodable = _decode(data)
    seen: set[tuple[str, str | None]] = set()
    for item in _raw_records(text, source):
        if isinstance(item, ScanError):
            yield item
            continue
        line, start, end, record = item
        if undecodable:
            first_bad = bisect_left(undecodable, start)
            if first_bad < len(undecodable) and undecodable[first_bad] < end:
                yield _input_error(source, line, "MalformedRecord", "record is not UTF-8 text")
                continue
        if value_nesting_exceeds(record, MAX_RECORD_DEPTH):
            yield _too_deep(source, line)
            continue
        if not isinstance(record, dict):
            yield _input_error(
                source, line, "MalformedRecord", "record is not a GetTrainedModel response object"
            )
            continue
        # context roots ($association, ...) a record carries are the version's context,
        # not members of the GetTrainedModel response
        context = {key: value for key, value in record.items() if key in CONTEXT_ROOTS}
        if context:
            record = {key: value for key, value in record.items() if key not in context}
        checked = check_document(record)
        try:
            resource = resource_from_document(checked.document)
        except ValueError as exc:
            detail = f" ({checked.message})" if checked.problems else ""
            yield _input_error(source, line, "MalformedRecord", f"{exc}{detail}")
            continue
        if resource.key in seen:
            yield _input_error(
                source,
                line,
                "DuplicateRecord",
                f"{resource.arn} version {resource.version_identifier} appears again; "
                "the first record was evaluated",
            )
            continue
        seen.add(resource.key)
        yield ModelVersion(resource=resource, document=checked.document, context=context or None)
        if not checked.conforms:
            yield ScanError(
                scope=ErrorScope.VERSION,
                operation=OPERATION,
                code=MALFORMED_RESPONSE,
                message=checked.message,
                account=resource.account,
                region=resource.region,
                membership_id=resource.membership_id,
                resource_arn=resource.arn,
                version_identifier=resource.version_identifier,
                line=line,
            )
