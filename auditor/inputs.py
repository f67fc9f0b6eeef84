"""Saved GetTrainedModel responses for `auditor evaluate --input`.

Accepted: a JSON array of responses, JSON Lines (one response a line), or one response as
`aws cleanroomsml get-trained-model` prints it. A record that is not a response becomes an
``errors`` entry naming its line; the rest is still evaluated.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from auditor.arns import resource_from_document
from auditor.inputfiles import MAX_INPUT_BYTES, MAX_RECORD_DEPTH, read_text, value_nesting_exceeds
from auditor.models import ErrorScope, ModelVersion, ScanError

_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\r\n"


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _skip_space(text: str, offset: int) -> int:
    while offset < len(text) and text[offset] in _WHITESPACE:
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


def _array_records(text: str, start: int, source: str) -> Iterator[tuple[int, Any] | ScanError]:
    """Each element of a top-level array with its line; stops with an error at broken JSON."""
    offset = _skip_space(text, start + 1)
    if offset < len(text) and text[offset] == "]":
        return
    while True:
        try:
            value, end = _DECODER.raw_decode(text, offset)
        except json.JSONDecodeError as exc:
            yield _input_error(
                source, exc.lineno, "MalformedJson", f"not valid JSON ({exc.msg}); rest not read"
            )
            return
        except RecursionError:
            yield _too_deep(source, _line_of(text, offset), "; rest not read")
            return
        yield _line_of(text, offset), value
        offset = _skip_space(text, end)
        if offset < len(text) and text[offset] == ",":
            offset = _skip_space(text, offset + 1)
            continue
        if offset < len(text) and text[offset] == "]":
            return
        yield _input_error(
            source, _line_of(text, offset), "MalformedJson", "expected ',' or ']'; rest not read"
        )
        return


def _jsonl_records(text: str, source: str) -> Iterator[tuple[int, Any] | ScanError]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except RecursionError:
            yield _too_deep(source, number)
        except json.JSONDecodeError as exc:
            yield _input_error(source, number, "MalformedJson", f"not valid JSON ({exc.msg})")


def _raw_records(text: str, source: str) -> Iterator[tuple[int, Any] | ScanError]:
    start = _skip_space(text, 0)
    if start == len(text):
        yield _input_error(source, None, "EmptyInput", "no records")
        return
    if text[start] == "[":
        yield from _array_records(text, start, source)
        return
    try:
        value, end = _DECODER.raw_decode(text, start)
    except (json.JSONDecodeError, RecursionError):
        value, end = None, -1
    if end != -1 and _skip_space(text, end) == len(text):
        yield _line_of(text, start), value  # one response, as the AWS CLI prints it
        return
    stream = _value_stream(text, start) if end != -1 else None
    if stream is not None:  # responses appended one after another (`aws ... >> file`)
        yield from stream
        return
    yield from _jsonl_records(text, source)


def _value_stream(text: str, start: int) -> list[tuple[int, Any]] | None:
    """Whitespace-separated JSON values with their lines, or None if any of them is broken
    (then the file is read line by line, so one bad line costs only itself)."""
    values: list[tuple[int, Any]] = []
    offset = start
    while offset < len(text):
        try:
            value, end = _DECODER.raw_decode(text, offset)
        except (json.JSONDecodeError, RecursionError):
            return None
        values.append((_line_of(text, offset), value))
        offset = _skip_space(text, end)
    return values


def read_input(path: Path) -> Iterator[ModelVersion | ScanError]:
    """Parse a saved-responses file into versions and per-record errors.

    Raises ``InputFileError`` when the file cannot be read, is not a file, not UTF-8 text or
    over ``MAX_INPUT_BYTES`` (a usage error). A record nested deeper than
    ``MAX_RECORD_DEPTH`` is an error entry.
    """
    source = str(path)
    text = read_text(path, "an input file", MAX_INPUT_BYTES)
    seen: set[tuple[str, str | None]] = set()
    for item in _raw_records(text, source):
        if isinstance(item, ScanError):
            yield item
            continue
        line, record = item
        if value_nesting_exceeds(record, MAX_RECORD_DEPTH):
            yield _too_deep(source, line)
            continue
        if not isinstance(record, dict):
            yield _input_error(
                source, line, "MalformedRecord", "record is not a GetTrainedModel response object"
            )
            continue
        document = {key: value for key, value in record.items() if key != "ResponseMetadata"}
        try:
            resource = resource_from_document(document)
        except ValueError as exc:
            yield _input_error(source, line, "MalformedRecord", str(exc))
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
        yield ModelVersion(resource=resource, document=document)
