from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.inputs import read_input
from auditor.models import ErrorScope, ModelVersion, ScanError

ARN = (
    "arn:aws:cleanrooms-ml:eu-west-1:444455556666:membership/"
    "0b5c1a8e-1d8e-4c1e-9f1a-5a6b7c8d9e0f/trained-model/model-1"
)


def _doc(version: str = "v1", **extra: object) -> dict[str, object]:
    return {"trainedModelArn": ARN, "versionIdentifier": version, "name": "m", **extra}


def _split(items: list[ModelVersion | ScanError]) -> tuple[list[ModelVersion], list[ScanError]]:
    versions = [i for i in items if isinstance(i, ModelVersion)]
    errors = [i for i in items if isinstance(i, ScanError)]
    return versions, errors


def test_json_array_records_carry_account_and_region_from_the_arn(tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    path.write_text(json.dumps([_doc("v1"), _doc("v2")], indent=2))
    versions, errors = _split(list(read_input(path)))
    assert errors == []
    assert [v.resource.version_identifier for v in versions] == ["v1", "v2"]
    assert versions[0].resource.account == "444455556666"
    assert versions[0].resource.region == "eu-west-1"
    assert versions[0].resource.membership_id == "0b5c1a8e-1d8e-4c1e-9f1a-5a6b7c8d9e0f"


def test_aws_cli_single_response_drops_response_metadata(tmp_path: Path) -> None:
    path = tmp_path / "cli.json"
    path.write_text(json.dumps(_doc(ResponseMetadata={"RequestId": "x"}), indent=4))
    versions, errors = _split(list(read_input(path)))
    assert errors == []
    assert len(versions) == 1
    assert "ResponseMetadata" not in versions[0].document


def test_json_lines_bad_line_is_an_error_naming_it_and_the_rest_is_read(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    lines = [json.dumps(_doc("v1")), "{not json", "", json.dumps(_doc("v3")), "[1, 2]"]
    path.write_text("\n".join(lines) + "\n")
    versions, errors = _split(list(read_input(path)))
    assert [v.resource.version_identifier for v in versions] == ["v1", "v3"]
    assert [(e.line, e.code) for e in errors] == [(2, "MalformedJson"), (5, "MalformedRecord")]
    assert all(e.scope is ErrorScope.INPUT for e in errors)
    assert f"{path}:2:" in errors[0].message


def test_array_element_without_arn_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    path.write_text("[\n  " + json.dumps({"trainedModelArn": ARN}) + ',\n  {"name": "orphan"}\n]')
    versions, errors = _split(list(read_input(path)))
    assert len(versions) == 1
    assert [(e.line, e.code) for e in errors] == [(3, "MalformedRecord")]
    assert "trainedModelArn" in errors[0].message


def test_broken_array_keeps_records_before_the_break(tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    path.write_text("[\n" + json.dumps(_doc("v1")) + ",\n{oops\n]")
    versions, errors = _split(list(read_input(path)))
    assert len(versions) == 1
    assert [(e.line, e.code) for e in errors] == [(3, "MalformedJson")]


def test_duplicate_record_is_reported_not_evaluated_twice(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(_doc("v1")) + "\n" + json.dumps(_doc("v1")) + "\n")
    versions, errors = _split(list(read_input(path)))
    assert len(versions) == 1
    assert [e.code for e in errors] == ["DuplicateRecord"]


@pytest.mark.parametrize("text", ["", "   \n"])
def test_empty_input_is_an_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "empty.json"
    path.write_text(text)
    versions, errors = _split(list(read_input(path)))
    assert versions == []
    assert [e.code for e in errors] == ["EmptyInput"]


def test_appended_aws_cli_outputs_are_read_as_a_stream(tmp_path: Path) -> None:
    path = tmp_path / "appended.json"
    path.write_text(
        json.dumps(_doc("v1"), indent=4) + "\n" + json.dumps(_doc("v2"), indent=4) + "\n"
    )
    versions, errors = _split(list(read_input(path)))
    assert errors == []
    assert [v.resource.version_identifier for v in versions] == ["v1", "v2"]
