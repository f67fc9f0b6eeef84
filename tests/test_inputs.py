"""`auditor evaluate --input`: every complete record is read, each broken one is one error
naming its line, and every record is held to the GetTrainedModel contract."""

from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Any

import pytest

from auditor.fleet import generate_fleet
from auditor.inputs import read_input
from auditor.models import ErrorScope, ModelVersion, ScanError

FLEET = generate_fleet(seed=11, memberships=2, models=24, versions_per_model=(2, 4))
DOCUMENTS = [dict(v.document) for v in FLEET.versions()]


def _doc(index: int = 0, **changes: Any) -> dict[str, Any]:
    return {**DOCUMENTS[index], **changes}


def _key(document: dict[str, Any]) -> tuple[str, str]:
    return (document["trainedModelArn"], document["versionIdentifier"])


def _split(items: list[ModelVersion | ScanError]) -> tuple[list[ModelVersion], list[ScanError]]:
    versions = [i for i in items if isinstance(i, ModelVersion)]
    errors = [i for i in items if isinstance(i, ScanError)]
    return versions, errors


def _read(path: Path) -> tuple[list[ModelVersion], list[ScanError]]:
    return _split(list(read_input(path)))


def _pretty(document: dict[str, Any]) -> str:
    """As `aws cleanroomsml get-trained-model` prints it."""
    return json.dumps(document, indent=4, ensure_ascii=False) + "\n"


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_json_array_records_carry_account_and_region_from_the_arn(tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    path.write_text(json.dumps(DOCUMENTS[:2], indent=2))
    versions, errors = _read(path)
    assert errors == []
    assert [v.resource.key for v in versions] == [_key(d) for d in DOCUMENTS[:2]]
    membership = FLEET.memberships[0]
    assert versions[0].resource.account == membership.account
    assert versions[0].resource.region == membership.region
    assert versions[0].resource.membership_id == DOCUMENTS[0]["membershipIdentifier"]
    assert versions[0].document == DOCUMENTS[0]


def test_aws_cli_single_response_drops_response_metadata(tmp_path: Path) -> None:
    path = tmp_path / "cli.json"
    path.write_text(_pretty(_doc(ResponseMetadata={"RequestId": "x"})))
    versions, errors = _read(path)
    assert errors == []
    assert [v.document for v in versions] == [DOCUMENTS[0]]


def test_json_lines_bad_line_is_an_error_naming_it_and_the_rest_is_read(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    lines = [json.dumps(DOCUMENTS[0]), "{not json", "", json.dumps(DOCUMENTS[2]), "[1, 2]"]
    path.write_text("\n".join(lines) + "\n")
    versions, errors = _read(path)
    assert [v.resource.key for v in versions] == [_key(DOCUMENTS[0]), _key(DOCUMENTS[2])]
    assert [(e.line, e.code) for e in errors] == [(2, "MalformedJson"), (5, "MalformedRecord")]
    assert all(e.scope is ErrorScope.INPUT for e in errors)
    assert errors[0].message.startswith(f"{path}:2: record is not valid JSON (")


def test_a_truncated_json_line_costs_only_itself(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    whole = [json.dumps(d) for d in DOCUMENTS[:5]]
    whole[2] = whole[2][: len(whole[2]) // 2]
    path.write_text("\n".join(whole) + "\n")
    versions, errors = _read(path)
    assert [v.resource.key for v in versions] == [
        _key(d) for i, d in enumerate(DOCUMENTS[:5]) if i != 2
    ]
    assert [(e.line, e.code) for e in errors] == [(3, "MalformedJson")]
    assert errors[0].message.endswith("reading goes on at line 4")


def test_array_element_without_arn_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    path.write_text("[\n  " + json.dumps(DOCUMENTS[0]) + ',\n  {"name": "orphan"}\n]')
    versions, errors = _read(path)
    assert len(versions) == 1
    assert [(e.line, e.code) for e in errors] == [(3, "MalformedRecord")]
    assert "trainedModelArn" in errors[0].message


def test_a_broken_array_element_costs_only_itself(tmp_path: Path) -> None:
    elements = [json.dumps(d, indent=2) for d in DOCUMENTS[:6]]
    # a syntax error early in element 3: the nested objects after it must not be taken
    # for records
    assert '"status": "ACTIVE"' in elements[3]
    elements[3] = elements[3].replace('"status": "ACTIVE"', '"status": tru', 1)
    path = tmp_path / "in.json"
    path.write_text("[\n" + ",\n".join(elements) + "\n]\n")
    versions, errors = _read(path)
    assert [v.resource.key for v in versions] == [
        _key(d) for i, d in enumerate(DOCUMENTS[:6]) if i != 3
    ]
    assert [(e.code, e.line) for e in errors] == [
        ("MalformedJson", 2 + sum(e.count("\n") + 1 for e in elements[:3]))
    ]


def test_broken_array_at_the_end_keeps_records_before_the_break(tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    path.write_text("[\n" + json.dumps(DOCUMENTS[0]) + ",\n{oops\n]")
    versions, errors = _read(path)
    assert len(versions) == 1
    assert [(e.line, e.code) for e in errors] == [(3, "MalformedJson")]
    assert errors[0].message.endswith("no complete record follows it")


def test_duplicate_record_is_reported_not_evaluated_twice(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(DOCUMENTS[0]) + "\n" + json.dumps(DOCUMENTS[0]) + "\n")
    versions, errors = _read(path)
    assert len(versions) == 1
    assert [e.code for e in errors] == ["DuplicateRecord"]


@pytest.mark.parametrize("text", ["", "   \n", "\ufeff\n"])
def test_empty_input_is_an_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "empty.json"
    path.write_text(text, encoding="utf-8")
    versions, errors = _read(path)
    assert versions == []
    assert [e.code for e in errors] == ["EmptyInput"]


def test_appended_aws_cli_outputs_are_read_as_a_stream(tmp_path: Path) -> None:
    path = tmp_path / "appended.json"
    path.write_text(_pretty(DOCUMENTS[0]) + _pretty(DOCUMENTS[1]))
    versions, errors = _read(path)
    assert errors == []
    assert [v.resource.key for v in versions] == [_key(DOCUMENTS[0]), _key(DOCUMENTS[1])]


def _appended_with_one_cut(records: int, broken: int, glue: bool) -> tuple[str, int]:
    """``records`` pretty outputs appended, record ``broken`` cut off half-way; with ``glue``
    the next output starts right where the cut one stopped (`aws ... >> file` after a killed
    run), else on a line of its own. Returns the text and the broken record's first line."""
    parts = [_pretty(d) for d in DOCUMENTS[:records]]
    first_line = sum(p.count("\n") for p in parts[:broken]) + 1
    cut = parts[broken][: len(parts[broken]) // 2]
    parts[broken] = cut if glue else cut + "\n"
    return "".join(parts), first_line


@pytest.mark.parametrize("glue", [True, False])
def test_one_truncated_record_among_64_costs_only_itself(tmp_path: Path, glue: bool) -> None:
    assert len(DOCUMENTS) >= 64
    text, broken_line = _appended_with_one_cut(64, 20, glue)
    path = tmp_path / "appended.json"
    path.write_text(text)
    versions, errors = _read(path)
    assert [v.resource.key for v in versions] == [
        _key(d) for i, d in enumerate(DOCUMENTS[:64]) if i != 20
    ]
    assert [(e.scope, e.code, e.line) for e in errors] == [
        (ErrorScope.INPUT, "MalformedJson", broken_line)
    ]
    assert errors[0].message.startswith(f"{path}:{broken_line}: record is not valid JSON (")


def test_a_record_truncated_at_the_end_of_the_file_costs_only_itself(tmp_path: Path) -> None:
    text, broken_line = _appended_with_one_cut(10, 9, glue=True)
    path = tmp_path / "appended.json"
    path.write_text(text)
    versions, errors = _read(path)
    assert [v.resource.key for v in versions] == [_key(d) for d in DOCUMENTS[:9]]
    assert [(e.code, e.line) for e in errors] == [("MalformedJson", broken_line)]
    assert errors[0].message.endswith("no complete record follows it")


def test_a_multibyte_character_cut_by_the_end_of_the_file_costs_only_its_record(
    tmp_path: Path,
) -> None:
    last = _doc(2, description="caf\u00e9 \u00e9t\u00e9")
    data = (_pretty(DOCUMENTS[0]) + _pretty(DOCUMENTS[1]) + _pretty(last)).encode()
    cut = data.index("\u00e9t".encode()) + 1  # inside the two bytes of é
    path = tmp_path / "appended.json"
    path.write_bytes(data[:cut])
    versions, errors = _read(path)
    assert [v.resource.key for v in versions] == [_key(DOCUMENTS[0]), _key(DOCUMENTS[1])]
    assert [e.code for e in errors] == ["MalformedJson"]


def test_a_record_that_is_not_utf8_costs_only_itself(tmp_path: Path) -> None:
    latin1 = _pretty(_doc(1, description="caf\u00e9")).encode("latin-1")
    path = tmp_path / "latin1.json"
    path.write_bytes(_pretty(DOCUMENTS[0]).encode() + latin1 + _pretty(DOCUMENTS[2]).encode())
    versions, errors = _read(path)
    assert [v.resource.key for v in versions] == [_key(DOCUMENTS[0]), _key(DOCUMENTS[2])]
    assert [(e.code, e.line) for e in errors] == [
        ("MalformedRecord", _pretty(DOCUMENTS[0]).count("\n") + 1)
    ]
    assert errors[0].message.endswith("record is not UTF-8 text")


@pytest.mark.parametrize(
    "layout",
    ["pretty", "array", "jsonl", "each-with-bom"],
)
def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path, layout: str) -> None:
    records = DOCUMENTS[:3]
    bom = codecs.BOM_UTF8
    if layout == "pretty":
        data = bom + "".join(_pretty(d) for d in records).encode()
    elif layout == "array":
        data = bom + json.dumps(records, indent=2).encode()
    elif layout == "jsonl":
        data = bom + "".join(json.dumps(d) + "\r\n" for d in records).encode()
    else:  # files that each began with a mark, concatenated
        data = b"".join(bom + _pretty(d).encode() for d in records)
    path = tmp_path / "bom.json"
    path.write_bytes(data)
    versions, errors = _read(path)
    assert errors == []
    assert [v.document for v in versions] == records


def test_a_mistyped_record_is_evaluated_and_reported_with_its_json_path(tmp_path: Path) -> None:
    mistyped = _doc(1, stoppingCondition={"maxRuntimeInSeconds": True}, kmsKeyArn=123)
    path = tmp_path / "appended.json"
    text = _pretty(DOCUMENTS[0]) + _pretty(mistyped)
    path.write_text(text)
    versions, errors = _read(path)
    assert [v.document for v in versions] == [DOCUMENTS[0], mistyped]  # judged as written
    [error] = errors
    assert (error.scope, error.operation, error.code) == (
        ErrorScope.VERSION,
        "GetTrainedModel",
        "MalformedResponse",
    )
    assert (error.resource_arn, error.version_identifier) == _key(mistyped)
    assert (error.account, error.region) == (FLEET.memberships[0].account, "us-east-1")
    assert error.line == _pretty(DOCUMENTS[0]).count("\n") + 1
    assert error.message == (
        "stoppingCondition.maxRuntimeInSeconds: expected integer, got boolean true; "
        "kmsKeyArn: expected string, got integer 123"
    )


def test_epoch_second_timestamps_read_as_iso8601(tmp_path: Path) -> None:
    # what `aws ... get-trained-model` prints with cli_timestamp_format set to epoch seconds
    path = tmp_path / "epoch.json"
    path.write_text(_pretty(_doc(0, createTime=1704067200, updateTime=1704067200.5)))
    [version], errors = _read(path)
    assert errors == []
    assert version.document["createTime"] == "2024-01-01T00:00:00Z"
    assert version.document["updateTime"] == "2024-01-01T00:00:00.500000Z"


def test_context_roots_in_a_record_are_its_context_not_response_members(tmp_path: Path) -> None:
    association = {"privacyConfiguration": {"policies": {}}}
    path = tmp_path / "in.json"
    path.write_text(json.dumps([_doc(0, **{"$association": association, "$inputChannels": []})]))
    versions, errors = _read(path)
    assert errors == []  # a conforming response: the roots are not unknown members
    (version,) = versions
    assert version.document == DOCUMENTS[0]
    assert version.context == {"$association": association, "$inputChannels": []}


def test_a_record_without_context_roots_has_none(tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    path.write_text(json.dumps([_doc(0, **{"$unknownRoot": 1})]))
    (version,), _ = _read(path)
    assert version.context is None
    assert "$unknownRoot" not in version.document
