"""The command line contract: exit codes, what is written, what is refused."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from auditor.cli import main
from auditor.demo import DemoSettings
from auditor.fleet import generate_fleet
from auditor.reports.load import validate_report_document

FLEET = generate_fleet(seed=21, models=40, noncompliant_share=0.5)


@pytest.fixture
def saved_responses(tmp_path: Path) -> Path:
    path = tmp_path / "responses.json"
    path.write_text(json.dumps([v.document for v in FLEET.versions()], indent=1))
    return path


@pytest.fixture
def run(tmp_path: Path) -> Callable[..., int]:
    def _run(*argv: str) -> int:
        return main([*argv, "--output-dir", str(tmp_path / "out")])

    return _run


def _report(tmp_path: Path) -> dict[str, object]:
    document = json.loads((tmp_path / "out" / "report.json").read_text())
    validate_report_document(document, "report.json")
    return document


def test_evaluate_fails_the_gate_exactly_on_injected_high_violations(
    saved_responses: Path, run: Callable[..., int], tmp_path: Path
) -> None:
    assert run("evaluate", "--input", str(saved_responses)) == 1
    report = _report(tmp_path)
    expected = {
        (v.document["trainedModelArn"], v.version_identifier, control)
        for v in FLEET.versions()
        for control in v.violations
    }
    failures = {
        (r["resource"]["arn"], r["resource"]["version_identifier"], r["policy_id"])
        for r in report["results"]  # type: ignore[attr-defined]
        if r["status"] == "fail"
    }
    assert failures == expected
    assert report["summary"]["versions"] == FLEET.version_count  # type: ignore[index]
    assert report["scan"]["complete"] is True  # type: ignore[index]


def test_gate_at_critical_passes_when_nothing_critical_fails(
    saved_responses: Path, run: Callable[..., int]
) -> None:
    assert run("evaluate", "--input", str(saved_responses), "--fail-on", "critical") == 0


def test_invalid_pack_exits_2_and_writes_nothing(
    saved_responses: Path,
    run: Callable[..., int],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pack = tmp_path / "bad.yaml"
    pack.write_text(
        "version: 1\npolicies:\n  - id: broken\n    title: t\n    severity: high\n"
        "    check: {path: tags, op: regex, value: '(unclosed'}\n"
    )
    assert run("evaluate", "--input", str(saved_responses), "--policies", str(pack)) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err
    assert "broken" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_malformed_record_makes_the_run_incomplete_unless_allowed(
    tmp_path: Path, run: Callable[..., int]
) -> None:
    good = next(FLEET.versions()).document
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(good) + "\n{truncated\n")
    assert run("evaluate", "--input", str(path)) == 3
    errors = _report(tmp_path)["errors"]
    assert [(e["scope"], e["line"]) for e in errors] == [("input", 2)]  # type: ignore[attr-defined]
    assert run("evaluate", "--input", str(path), "--allow-incomplete") in (0, 1)


def test_waiving_every_failure_passes_the_gate(
    saved_responses: Path, run: Callable[..., int], tmp_path: Path
) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "version: 1\nwaivers:\n  - policy: '*'\n    resource: '*'\n"
        "    reason: accepted for the test\n    expires: 2999-01-01\n"
        "    approved_by: security@example.com\n"
    )
    assert run("evaluate", "--input", str(saved_responses), "--waivers", str(waivers)) == 0
    summary = _report(tmp_path)["summary"]
    assert summary["fail_by_severity"]["high"] == 0  # type: ignore[index]


def test_expired_waiver_no_longer_applies(
    saved_responses: Path, run: Callable[..., int], tmp_path: Path
) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "version: 1\nwaivers:\n  - policy: '*'\n    resource: '*'\n"
        "    reason: too late\n    expires: 2020-01-01\n    approved_by: someone\n"
    )
    assert run("evaluate", "--input", str(saved_responses), "--waivers", str(waivers)) == 1


def test_baseline_new_only_gate_passes_on_a_rerun(
    saved_responses: Path, run: Callable[..., int], tmp_path: Path
) -> None:
    assert run("evaluate", "--input", str(saved_responses)) == 1
    baseline = tmp_path / "baseline.json"
    (tmp_path / "out" / "report.json").rename(baseline)
    argv = ["evaluate", "--input", str(saved_responses), "--baseline", str(baseline)]
    assert run(*argv, "--fail-on-new-only") == 0
    results = _report(tmp_path)["results"]
    assert {r["baseline"] for r in results if r["status"] == "fail"} == {"unchanged"}  # type: ignore[attr-defined]


def test_fail_on_new_only_without_baseline_is_a_usage_error(
    saved_responses: Path, run: Callable[..., int]
) -> None:
    assert run("evaluate", "--input", str(saved_responses), "--fail-on-new-only") == 2


def test_unknown_format_is_a_usage_error(saved_responses: Path, run: Callable[..., int]) -> None:
    assert run("evaluate", "--input", str(saved_responses), "--format", "json,pdf") == 2


def test_report_rerenders_every_format_from_a_saved_report(
    saved_responses: Path, run: Callable[..., int], tmp_path: Path
) -> None:
    run("evaluate", "--input", str(saved_responses), "--format", "json")
    saved = tmp_path / "saved.json"
    (tmp_path / "out" / "report.json").rename(saved)
    assert main(["report", "--input", str(saved), "--output-dir", str(tmp_path / "again")]) == 0
    names = sorted(p.name for p in (tmp_path / "again").iterdir())
    assert names == sorted(
        [
            "report.json",
            "report.html",
            "report.sarif",
            "report.junit.xml",
            "report.md",
            "report.csv",
            "report.manifest.json",
            "report.asff.json",
            "report.ocsf.json",
        ]
    )
    assert (tmp_path / "again" / "report.json").read_bytes() == saved.read_bytes()


def test_diff_lists_new_failures_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    versions = list(FLEET.versions())
    clean = [v.document for v in versions if not v.violations]
    old_in, new_in = tmp_path / "old.json", tmp_path / "new.json"
    old_in.write_text(json.dumps(clean))
    new_in.write_text(json.dumps([v.document for v in versions]))
    main(["evaluate", "--input", str(old_in), "--output-dir", str(tmp_path / "old")])
    main(["evaluate", "--input", str(new_in), "--output-dir", str(tmp_path / "new")])
    capsys.readouterr()
    code = main(
        [
            "diff",
            str(tmp_path / "old" / "report.json"),
            str(tmp_path / "new" / "report.json"),
            "--json",
        ]
    )
    diff = json.loads(capsys.readouterr().out)
    assert code == 1
    assert len(diff["new"]) == sum(len(v.violations) for v in versions)
    assert diff["resolved"] == diff["gone"] == diff["not_rechecked"] == []


def test_policies_test_runs_the_shipped_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policies", "test"]) == 0
    assert " 0 failed" in capsys.readouterr().out


def test_policies_list_json_names_the_five_mission_controls(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["policies", "list", "--json"]) == 0
    ids = {row["id"] for row in json.loads(capsys.readouterr().out)}
    assert {
        "kms-key-present",
        "required-tags",
        "allowed-instance-types",
        "max-training-runtime",
        "no-reserved-tag-prefix",
    } <= ids


def test_policies_subcommands_take_packs_as_paths_or_as_policies_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = tmp_path / "one.yaml"
    pack.write_text(
        "version: 1\n"
        "pack: {id: one, title: One}\n"
        "policies:\n"
        "  - id: has-name\n"
        "    title: Has a name\n"
        "    severity: low\n"
        "    check: {path: name, op: present}\n"
        "    examples: {pass: [{name: a}], fail: [{}]}\n"
    )
    listings = []
    for argv in (["list", str(pack)], ["list", "--policies", str(pack)]):
        assert main(["policies", *argv, "--json"]) == 0
        listings.append([row["id"] for row in json.loads(capsys.readouterr().out)])
    assert listings == [["has-name"], ["has-name"]]
    for argv in (["validate", str(pack)], ["validate", "--policies", str(pack)]):
        assert main(["policies", *argv]) == 0
        assert "1 policies valid" in capsys.readouterr().out
    assert main(["policies", "test", "--policies", str(pack)]) == 0
    capsys.readouterr()


def test_demo_scans_the_whole_seeded_fleet_and_exits_0_despite_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALKEYMUSTNOTBEUSED")
    out = tmp_path / "demo"
    argv = ["demo", "--models", "40", "--rate", "200", "--quiet", "--output-dir", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr()
    fleet = generate_fleet(
        seed=7,
        memberships=4,
        models=40,
        versions_per_model=(1, 3),
        collaboration_models=DemoSettings().collaboration_models,
    )
    assert f"read {fleet.version_count} of {fleet.version_count} versions (0 lost)" in printed.out
    assert "FAIL:" in printed.err  # the seeded fleet is partly non-compliant; verdict: stderr
    document = json.loads((out / "report.json").read_text())
    validate_report_document(document, "report.json")
    # the demo reads the collaboration view too: other members' models, each version once
    others = sum(len(m.versions) for m in fleet.collaboration_models)
    assert others > 0
    assert document["summary"]["versions"] == fleet.version_count + others
    assert "collaboration: 40 models by 3 other members in 4 collaborations;" in printed.out
    # ... and each of this account's versions in its context, with both packs loaded
    heads = [line.split(" ", 2)[:2] for line in printed.out.splitlines()]
    assert heads[heads.index(["emulator:", "and"]) - 1][0] == "emulator:"
    kinds = [head[0] for head in heads]
    assert kinds.index("context:") < kinds.index("collaboration:")
    types = {r["resource"]["type"] for r in document["results"]}
    assert types == {"trained-model", "collaboration-trained-model"}
    context_ids = {p["id"] for p in document["policies"] if p["pack_id"] == "cleanrooms-ml-context"}
    assert "input-channels-encrypted" in context_ids
    assert document["lineage"]
    assert document["scan"]["complete"] is True
    assert {p.name for p in out.iterdir()} >= {"report.json", "report.html", "report.sarif"}
    assert os.environ["AWS_ACCESS_KEY_ID"] == "AKIAREALKEYMUSTNOTBEUSED"  # restored afterwards


def test_new_only_verdict_counts_only_the_new_failures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    versions = list(FLEET.versions())
    with_kms_gap = [v for v in versions if "kms-key-present" in v.violations]
    old_in, new_in = tmp_path / "old.json", tmp_path / "new.json"
    old_in.write_text(json.dumps([v.document for v in versions if v is not with_kms_gap[0]]))
    new_in.write_text(json.dumps([v.document for v in versions]))
    main(["evaluate", "--input", str(old_in), "--output-dir", str(tmp_path / "old")])
    capsys.readouterr()
    argv = ["evaluate", "--input", str(new_in), "--output-dir", str(tmp_path / "new")]
    baseline = ["--baseline", str(tmp_path / "old" / "report.json"), "--fail-on-new-only"]
    assert main([*argv, *baseline]) == 1
    verdict = capsys.readouterr().err.splitlines()[0]
    new_high = sum(
        1 for c in with_kms_gap[0].violations if c in ("kms-key-present", "no-reserved-tag-prefix")
    )
    noun = "failure" if new_high == 1 else "failures"
    assert verdict.startswith(
        f"FAIL: {new_high} unwaived new {noun} at or above high ({new_high} high)"
    )


def test_starting_the_cli_does_not_load_what_a_scan_does_not_use() -> None:
    # Every scan pays for its imports before the first call: the emulator (aiohttp.web) and
    # rich (only a terminal shows the bar) are loaded when used, not at start-up.
    import subprocess
    import sys

    probe = (
        "import sys, auditor.cli; "
        "print(sorted(m for m in ('rich', 'auditor.emulator', 'aiohttp.web') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
