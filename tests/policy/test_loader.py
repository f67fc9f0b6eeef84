"""Loading packs: files and folders, and every way a pack is refused with a located PackError."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from auditor.errors import PackError
from auditor.policy import load_packs

WritePack = Callable[..., Path]

HEADER = "version: 1\npolicies:\n"


def policy_yaml(policy_id: str, check: str = "{path: a, op: present}") -> str:
    return f"  - id: {policy_id}\n    title: T\n    severity: high\n    check: {check}\n"


def refused(paths: list[Path], overrides: dict[str, object] | None = None) -> PackError:
    with pytest.raises(PackError) as caught:
        load_packs(paths, overrides)
    return caught.value


def test_a_file_loads_with_its_ref(write_pack: WritePack) -> None:
    path = write_pack(HEADER + policy_yaml("one"), "mine.yaml")

    policy_set = load_packs([path])

    (ref,) = policy_set.packs
    assert ref.id == "mine"
    assert ref.path == str(path)
    assert ref.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert [info.id for info in policy_set.infos] == ["one"]
    assert policy_set.infos[0].pack_id == "mine"


def test_a_folder_loads_its_packs_in_sorted_order(write_pack: WritePack) -> None:
    write_pack(HEADER + policy_yaml("from-b"), "b.yml")
    write_pack(
        json.dumps(
            {
                "version": 1,
                "policies": [
                    {
                        "id": "from-a",
                        "title": "T",
                        "severity": "low",
                        "check": {"path": "a", "op": "present"},
                    }
                ],
            }
        ),
        "a.json",
    )
    folder = write_pack("ignored", "notes.txt").parent

    policy_set = load_packs([folder])

    assert [info.id for info in policy_set.infos] == ["from-a", "from-b"]


def test_disabled_policies_are_validated_but_not_evaluated(write_pack: WritePack) -> None:
    text = (
        HEADER + policy_yaml("enabled-one") + policy_yaml("disabled-one") + "    enabled: false\n"
    )

    policy_set = load_packs([write_pack(text)])

    assert [policy.id for policy in policy_set.policies] == ["enabled-one", "disabled-one"]
    assert [info.id for info in policy_set.infos] == ["enabled-one"]
    assert len(policy_set.evaluate_document({"a": 1}).statuses) == 1

    broken = (
        HEADER
        + policy_yaml("enabled-one")
        + policy_yaml("disabled-one", "{path: a, op: regex, value: '('}")
        + "    enabled: false\n"
    )
    assert "invalid regex" in str(refused([write_pack(broken)]))


def test_yaml_timestamps_stay_strings(write_pack: WritePack) -> None:
    text = HEADER + policy_yaml("t", "{path: createTime, op: eq, value: 2025-01-02T03:04:05Z}")

    policy_set = load_packs([write_pack(text)])

    assert policy_set.evaluate_document({"createTime": "2025-01-02T03:04:05Z"}).statuses == b"\x00"


def test_unknown_op_lists_the_valid_ones_with_line_policy_and_path(write_pack: WritePack) -> None:
    text = (
        HEADER
        + policy_yaml("one")
        + policy_yaml("two", "\n      all:\n        - {path: a, op: bogus}")
    )
    path = write_pack(text)

    error = refused([path])

    assert error.path == str(path)
    assert error.line == 12
    assert error.policy_id == "two"
    assert error.json_path == "$.policies[1].check.all[0].op"
    assert "unknown op 'bogus'; valid ops: absent, eq, ge," in error.detail
    assert str(error).startswith(f"{path}:12: policy 'two': at $.policies[1].check.all[0].op: ")


@pytest.mark.parametrize(
    ("check", "json_path", "message"),
    [
        (
            "{path: a, op: in, value: 5}",
            "$.policies[0].check.value",
            "expected an array, got a number (5)",
        ),
        (
            "{path: a, op: present, value: 1}",
            "$.policies[0].check.value",
            "unexpected key 'value' (allowed here: op, path, missing)",
        ),
        (
            "{path: a, op: le, value: '5'}",
            "$.policies[0].check.value",
            "expected a number, got a string ('5')",
        ),
        ("{path: a, op: eq}", "$.policies[0].check", "missing required key 'value'"),
        (
            "{path: a}",
            "$.policies[0].check",
            "a condition needs an 'op' or one of all, any, not, schema",
        ),
        (
            "{op: present, path: a, not: {path: b, op: present}}",
            "$.policies[0].check.not",
            "unexpected key 'not' (allowed here: op, path, missing)",
        ),
        (
            "{any: [{path: a, op: present}], not: {path: b, op: present}}",
            "$.policies[0].check.not",
            "unexpected key 'not' (allowed here: any)",
        ),
        ("{all: []}", "$.policies[0].check.all", "needs at least 1 item(s)"),
        ("{path: 5, op: present}", "$.policies[0].check.path", "a path is a dotted string"),
        (
            "{path: a, op: present, missing: maybe}",
            "$.policies[0].check.missing",
            "'maybe' is not one of: fail, pass",
        ),
        (
            "{path: a, op: regex, value: '(unclosed'}",
            "$.policies[0].check.value",
            "invalid regex '(unclosed'",
        ),
        ("{schema: {type: 5}}", "$.policies[0].check.schema.type", "not a valid JSON Schema"),
        (
            "{path: a, op: in, value: {param: nope}}",
            "$.policies[0].check.value.param",
            "unknown param 'nope' (this pack defines: none)",
        ),
    ],
)
def test_invalid_checks_are_refused_at_their_json_path(
    write_pack: WritePack, check: str, json_path: str, message: str
) -> None:
    path = write_pack(HEADER + policy_yaml("one", check))

    error = refused([path])

    assert error.json_path == json_path
    assert message in error.detail
    assert error.policy_id == "one"
    assert error.line == 6
    assert error.path == str(path)


def test_bad_severity_and_id_and_version_are_refused(write_pack: WritePack) -> None:
    bad_severity = refused([write_pack(HEADER + policy_yaml("one").replace("high", "hi"))])
    bad_id = refused([write_pack(HEADER + policy_yaml("Bad_Id"))])
    bad_version = refused([write_pack(HEADER.replace("1", "2") + policy_yaml("one"))])

    assert bad_severity.detail == "'hi' is not one of: critical, high, medium, low, info"
    assert bad_severity.line == 5
    assert "id 'Bad_Id' must be lower-case letters" in bad_id.detail
    assert bad_version.detail == "unsupported pack version 2; this auditor reads version 1"
    assert bad_version.json_path == "$.version"
    assert bad_version.line == 1


def test_unexpected_policy_key_is_named(write_pack: WritePack) -> None:
    error = refused([write_pack(HEADER + policy_yaml("one") + "    sevrity: high\n")])

    assert error.json_path == "$.policies[0].sevrity"
    assert error.line == 7
    assert error.detail.startswith("unexpected key 'sevrity'")


def test_invalid_yaml_names_the_line(write_pack: WritePack) -> None:
    error = refused([write_pack("version: 1\npolicies: [\n")])

    assert error.detail.startswith("invalid YAML")
    assert error.line == 3


def test_invalid_json_names_the_line(write_pack: WritePack) -> None:
    error = refused([write_pack('{"version": 1,\n "policies": [}', "p.json")])

    assert error.detail.startswith("invalid JSON")
    assert error.line == 2


def test_json_pack_errors_name_the_json_path(write_pack: WritePack) -> None:
    data = {
        "version": 1,
        "policies": [
            {"id": "j", "title": "T", "severity": "high", "check": {"path": "a", "op": "nope"}}
        ],
    }

    text = json.dumps(data, indent=2)
    error = refused([write_pack(text, "p.json")])

    assert error.json_path == "$.policies[0].check.op"
    assert error.policy_id == "j"
    op_line = next(n for n, line in enumerate(text.splitlines(), 1) if '"op": "nope"' in line)
    assert error.line == op_line > 1


def test_json_that_yaml_reads_differently_still_loads_without_lines(
    write_pack: WritePack,
) -> None:
    # YAML caps a flow mapping's key at 1024 characters, JSON does not: JSON's to judge
    data = {
        "version": 1,
        "params": {"k" * 2000: 1},
        "policies": [
            {"id": "j", "title": "T", "severity": "high", "check": {"path": "a", "op": "nope"}}
        ],
    }
    text = json.dumps(data)

    error = refused([write_pack(text, "p.json")])

    assert error.json_path == "$.policies[0].check.op"
    assert error.line is None


def test_duplicate_json_keys_are_refused_with_line_and_policy(write_pack: WritePack) -> None:
    text = (
        '{"version": 1,\n'
        ' "policies": [\n'
        '  {"id": "j", "title": "T", "severity": "high",\n'
        '   "severity": "low", "check": {"path": "a", "op": "present"}}]}\n'
    )

    error = refused([write_pack(text, "p.json")])

    assert error.detail == "duplicate key 'severity'"
    assert (error.line, error.policy_id, error.json_path) == (4, "j", "$.policies[0].severity")


def test_duplicate_json_keys_yaml_cannot_place_are_still_refused(write_pack: WritePack) -> None:
    text = json.dumps({"params": {"k" * 2000: 1}}).replace("{", '{"version": 1, "version": 1, ', 1)

    error = refused([write_pack(text, "p.json")])

    assert error.detail == "duplicate key 'version'"
    assert error.line is None


def test_duplicate_yaml_keys_are_refused(write_pack: WritePack) -> None:
    error = refused([write_pack(HEADER + policy_yaml("one") + "    title: Again\n")])

    assert error.detail == "duplicate key 'title'"
    assert error.line == 7
    assert error.policy_id == "one"


def test_non_string_keys_are_refused(write_pack: WritePack) -> None:
    error = refused([write_pack(HEADER + policy_yaml("one") + "params: {1: x}\n")])

    assert "object keys must be strings" in error.detail


def test_duplicate_policy_ids_across_packs_are_refused(write_pack: WritePack) -> None:
    first = write_pack(HEADER + policy_yaml("same"), "a.yaml")
    second = write_pack(HEADER + policy_yaml("other") + policy_yaml("same"), "b.yaml")

    error = refused([first, second])

    assert error.path == str(second)
    assert error.policy_id == "same"
    assert error.json_path == "$.policies[1].id"
    assert error.line == 7
    assert error.detail == f"duplicate policy id (already defined in {first})"


def test_missing_paths_and_empty_folders_are_refused(tmp_path: Path) -> None:
    assert refused([tmp_path / "nope.yaml"]).detail == "no such file or folder"
    assert "no packs" in refused([tmp_path]).detail


def test_yaml_booleans_in_place_of_strings_get_a_quoting_hint(write_pack: WritePack) -> None:
    error = refused([write_pack(HEADER + policy_yaml("off"))])

    assert error.json_path == "$.policies[0].id"
    assert "quote it" in error.detail


@pytest.mark.parametrize(
    ("check", "line", "json_path", "instead"),
    [
        (
            "{not: {path: kmsKeyArn, op: glob, value: '*:alias/aws/*', missing: pass}}",
            6,
            "$.policies[0].check.not.missing",
            "write {op: not-glob, missing: pass} without the 'not' instead",
        ),
        (
            "\n      any:\n        - {path: a, op: present}\n"
            "        - not: {path: status, op: eq, value: X, missing: pass}",
            9,
            "$.policies[0].check.any[1].not.missing",
            "{op: ne, missing: pass}",
        ),
        (
            "{not: {path: tags, op: keys, check: {op: regex, value: x, missing: pass}}}",
            6,
            "$.policies[0].check.not.check.missing",
            "{op: not-regex, missing: pass}",
        ),
        (
            "{not: {not: {not: {path: n, op: le, value: 1, missing: pass}}}}",
            6,
            "$.policies[0].check.not.not.not.missing",
            "{op: gt, missing: pass}",
        ),
        (
            "{not: {path: tags, op: values, missing: pass, check: {op: present}}}",
            6,
            "$.policies[0].check.not.missing",
            "rewrite the condition without the 'not'",
        ),
        (
            "{not: {path: v, schema: {type: string}, missing: pass}}",
            6,
            "$.policies[0].check.not.missing",
            "rewrite the condition without the 'not'",
        ),
    ],
)
def test_missing_pass_under_an_odd_number_of_nots_is_refused_naming_the_positive_op(
    write_pack: WritePack, check: str, line: int, json_path: str, instead: str
) -> None:
    path = write_pack(HEADER + policy_yaml("flipped", check))

    error = refused([path])

    assert error.policy_id == "flipped"
    assert error.line == line
    assert error.json_path == json_path
    assert "'missing: pass' under an odd number of 'not's" in error.detail
    assert instead in error.detail


def test_missing_pass_under_an_even_number_of_nots_or_in_a_where_loads(
    write_pack: WritePack,
) -> None:
    checks = [
        "{not: {not: {path: a, op: eq, value: 1, missing: pass}}}",
        "{path: a, op: ne, value: 1, missing: pass}",
        "{not: {path: a, op: eq, value: 1, missing: fail}}",
    ]
    text = HEADER + "".join(policy_yaml(f"p{index}", check) for index, check in enumerate(checks))

    policy_set = load_packs([write_pack(text)])

    assert [info.id for info in policy_set.infos] == ["p0", "p1", "p2"]


def test_missing_pass_under_a_not_in_a_where_is_refused_too(write_pack: WritePack) -> None:
    text = (
        HEADER
        + policy_yaml("scoped").rstrip("\n")
        + ("\n    where: {not: {path: status, op: eq, value: DELETED, missing: pass}}\n")
    )

    error = refused([write_pack(text)])

    assert error.json_path == "$.policies[0].where.not.missing"
    assert "{op: ne, missing: pass}" in error.detail


def test_missing_pass_under_a_not_exits_2_through_the_cli(
    write_pack: WritePack, capsys: pytest.CaptureFixture[str]
) -> None:
    from auditor.cli import main

    path = write_pack(
        HEADER + policy_yaml("flipped", "{not: {path: v, op: in, value: [a], missing: pass}}")
    )

    assert main(["policies", "validate", str(path)]) == 2

    _, err = capsys.readouterr()
    assert f"{path}:6: policy 'flipped'" in err
    assert "{op: not-in, missing: pass}" in err
