"""Every file the CLI reads is bounded: hostile nesting, alias bombs, devices, pipes with no
writer, binary data and folders get one clear line and exit 2 (or, for one record of
`evaluate --input`, an errors entry and exit 3), never a traceback or a hang."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from auditor import inputfiles
from auditor.cli import EXIT_INCOMPLETE, EXIT_USAGE, main
from auditor.inputfiles import (
    MAX_RECORD_DEPTH,
    MAX_REPORT_DEPTH,
    json_nesting_exceeds,
    value_nesting_exceeds,
)
from auditor.policy.loader import MAX_NESTING, MAX_NODES

from ..policy.conftest import COMPLIANT

HANG_GUARD_S = 120


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.fixture
def record(tmp_path: Path) -> Path:
    path = tmp_path / "one.json"
    path.write_text(json.dumps([COMPLIANT]))
    return path


@pytest.fixture
def saved_report(tmp_path: Path, record: Path) -> Path:
    main(["evaluate", "--input", str(record), "--output-dir", str(tmp_path / "saved")])
    return tmp_path / "saved" / "report.json"


@pytest.mark.parametrize("depth", [MAX_REPORT_DEPTH + 1, 2_500])
@pytest.mark.parametrize("command", ["baseline", "report", "diff-old", "diff-new", "merge"])
def test_deep_json_in_any_report_input_is_a_usage_error_naming_the_limit(
    tmp_path: Path,
    record: Path,
    saved_report: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    depth: int,
) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text(nested(depth))
    out = ["--output-dir", str(tmp_path / "out")]
    argv = {
        "baseline": ["evaluate", "--input", str(record), "--baseline", str(deep), *out],
        "report": ["report", "--input", str(deep), *out],
        "diff-old": ["diff", str(deep), str(saved_report)],
        "diff-new": ["diff", str(saved_report), str(deep)],
        "merge": ["merge", str(saved_report), str(deep), *out],
    }[command]
    capsys.readouterr()
    assert main(argv) == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"{deep}: nested more than {MAX_REPORT_DEPTH} levels deep" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("depth", [MAX_RECORD_DEPTH + 1, 2_500])
@pytest.mark.parametrize("layout", ["array", "lines"])
def test_a_deep_record_is_an_error_entry_and_the_others_are_evaluated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], depth: int, layout: str
) -> None:
    good = json.dumps(COMPLIANT)
    deep_record = '{"x": ' + nested(depth) + "}"
    path = tmp_path / "in.json"
    if layout == "array":
        path.write_text(f"[{good},\n{deep_record}]")
    else:
        path.write_text(f"{good}\n{deep_record}\n")
    out = tmp_path / "out"
    assert main(["evaluate", "--input", str(path), "--output-dir", str(out)]) == EXIT_INCOMPLETE
    report = json.loads((out / "report.json").read_text())
    assert report["summary"]["versions"] == 1  # the good record
    [error] = report["errors"]
    assert error["code"] == "RecordTooDeep"
    assert f"nested more than {MAX_RECORD_DEPTH} levels deep" in error["message"]
    assert "Traceback" not in capsys.readouterr().err


def test_a_waivers_file_nested_10000_deep_is_refused_by_the_limit(
    tmp_path: Path, record: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    waivers = tmp_path / "w.yaml"
    waivers.write_text("version: 1\nwaivers: " + nested(10_000) + "\n")
    argv = ["evaluate", "--input", str(record), "--waivers", str(waivers)]
    assert main([*argv, "--output-dir", str(tmp_path / "out")]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"nested more than {MAX_NESTING} levels deep" in err
    assert "Traceback" not in err


def test_a_billion_laughs_waivers_file_is_refused_by_the_alias_budget(
    tmp_path: Path, record: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = ["version: 1", 'a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    for level in range(1, 10):
        refs = ",".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    lines.append("waivers: *a9")
    waivers = tmp_path / "lol.yaml"
    waivers.write_text("\n".join(lines) + "\n")
    argv = ["evaluate", "--input", str(record), "--waivers", str(waivers)]
    assert main([*argv, "--output-dir", str(tmp_path / "out")]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"over {MAX_NODES} values" in err


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        ("--input", "/dev/zero: is a character device, not a file"),
        ("--policies", "/dev/zero: is a character device, not a pack file or folder"),
        ("--waivers", "/dev/zero: is a character device, not a file"),
        ("--baseline", "/dev/zero: is a character device, not a file"),
    ],
)
def test_dev_zero_is_named_for_what_it_is(
    tmp_path: Path, record: Path, capsys: pytest.CaptureFixture[str], flag: str, expected: str
) -> None:
    argv = ["evaluate", "--input", str(record), "--output-dir", str(tmp_path / "out")]
    if flag == "--input":
        argv[2] = "/dev/zero"
    else:
        argv += [flag, "/dev/zero"]
    assert main(argv) == EXIT_USAGE
    err = capsys.readouterr().err
    assert expected in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("flag", ["--input", "--waivers", "--baseline"])
def test_binary_data_and_folders_are_one_line_usage_errors(
    tmp_path: Path, record: Path, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)))
    # a report is JSON bytes: its reader says so; text files say they are not UTF-8
    binary_says = "not JSON: 'utf-8' codec" if flag == "--baseline" else "not UTF-8 text"
    for bad, expected in ((binary, binary_says), (tmp_path, "is a folder, not a file")):
        argv = ["evaluate", "--input", str(record), "--output-dir", str(tmp_path / "out")]
        if flag == "--input":
            argv[2] = str(bad)
        else:
            argv += [flag, str(bad)]
        capsys.readouterr()
        assert main(argv) == EXIT_USAGE
        err = capsys.readouterr().err
        assert expected in err, err
        assert "Traceback" not in err


def test_a_named_pipe_with_no_writer_does_not_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    monkeypatch.setattr(inputfiles, "PIPE_WAIT_S", 0.2)
    assert main(["report", "--input", str(fifo), "--output-dir", str(tmp_path / "out")]) == (
        EXIT_USAGE
    )
    err = capsys.readouterr().err
    assert f"{fifo}: a pipe nothing was written to within 0.2 s" in err
    assert "Traceback" not in err


def test_a_report_through_a_pipe_is_still_read(tmp_path: Path, saved_report: Path) -> None:
    with saved_report.open("rb") as source:
        done = subprocess.run(
            [sys.executable, "-m", "auditor", "report", "--input", "/dev/stdin"],
            stdin=source,
            capture_output=True,
            text=True,
            timeout=HANG_GUARD_S,
            check=False,
            cwd=tmp_path,
        )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "reports" / "report.json").exists()


def test_nesting_checks_ignore_brackets_inside_strings() -> None:
    assert not json_nesting_exceeds(json.dumps(["[" * 500]), 3)
    escaped_quote = '{"a\\\\\\"[": ' + nested(4) + "}"  # {"a\\\"[": [[[[]]]]}
    assert json.loads(escaped_quote) == {'a\\"[': [[[[]]]]}  # valid JSON, 4 deep
    assert json_nesting_exceeds(escaped_quote.encode(), 3)
    assert not json_nesting_exceeds(nested(3), 3)
    assert value_nesting_exceeds([[[[]]]], 3)
    assert not value_nesting_exceeds([[["[[[["]]], 3)
