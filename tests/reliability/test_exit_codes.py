"""Exit codes that tell the truth: 3 for any interruption (start-up included) and never a
traceback; 4 when a finished scan cannot write its reports (the verdict still printed, the
file named); 70 for a bug, with its traceback; a closed stdout/stderr changes nothing; error
lines name what they concern."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import auditor.atomic
import auditor.cli
from auditor.cli import (
    EXIT_INCOMPLETE,
    EXIT_INTERNAL_ERROR,
    EXIT_REPORTS_NOT_WRITTEN,
    main,
)
from auditor.emulator import EmulatorConfig, EmulatorServer, Fault, FaultKind
from auditor.fleet import Fleet
from auditor.reports import Format

from .conftest import version_key
from .test_cli_runs import scan_env

HANG_GUARD_S = 120  # subprocess waits are hang guards, never measurements


@pytest.fixture
def responses(tmp_path: Path, fleet: Fleet) -> Path:
    """Saved responses with one broken record: `evaluate` on it exits 3."""
    path = tmp_path / "responses.json"
    records: list[Any] = [v.document for m in fleet.models for v in m.versions]
    records.append({"no": "arn"})
    path.write_text(json.dumps(records))
    return path


def _cli(*argv: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "auditor", *argv],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
        check=False,
        **kwargs,
    )


# -- interruption during start-up -------------------------------------------------------------

# A meta-path hook that signals the process the moment the CLI starts importing the policy
# engine: the signal lands mid-import, deterministically.
_SIGNAL_DURING_IMPORT = textwrap.dedent(
    """
    import os, signal, sys
    class SignalOnImport:
        def find_spec(self, name, path=None, target=None):
            if name == "auditor.policy":
                os.kill(os.getpid(), signal.{signame})
            return None
    sys.meta_path.insert(0, SignalOnImport())
    from auditor.entry import main
    sys.argv[1:] = {argv!r}
    raise SystemExit(main())
    """
)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_start_up_exits_3_without_a_traceback(
    signum: signal.Signals, responses: Path, tmp_path: Path
) -> None:
    argv = ["evaluate", "--input", str(responses), "--output-dir", str(tmp_path / "out")]
    code = _SIGNAL_DURING_IMPORT.format(signame=signum.name, argv=argv)
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
        check=False,
    )
    assert done.returncode == EXIT_INCOMPLETE, done.stderr
    assert "Traceback" not in done.stderr
    assert f"interrupted by {signum.name}" in done.stderr
    assert not (tmp_path / "out").exists()


# -- closed pipes -----------------------------------------------------------------------------


def _run_into_closed_pipe(argv: list[str], *, stdout: bool, stderr: bool) -> int:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line: every write is EPIPE
    try:
        process = subprocess.run(
            [sys.executable, "-m", "auditor", *argv],
            stdout=write_end if stdout else subprocess.DEVNULL,
            stderr=write_end if stderr else subprocess.DEVNULL,
            timeout=HANG_GUARD_S,
            check=False,
        )
    finally:
        os.close(write_end)
    return process.returncode


@pytest.mark.parametrize(
    ("stdout", "stderr"), [(True, True), (True, False), (False, True)], ids=["both", "out", "err"]
)
def test_a_closed_stdout_or_stderr_never_changes_the_exit_code(
    responses: Path, tmp_path: Path, stdout: bool, stderr: bool
) -> None:
    argv = ["evaluate", "--input", str(responses), "--output-dir", str(tmp_path / "a")]
    reference = _cli(*argv)
    assert reference.returncode == EXIT_INCOMPLETE  # the broken record
    assert "error: input" in reference.stderr  # so stderr is written to
    argv[-1] = str(tmp_path / "b")
    assert _run_into_closed_pipe(argv, stdout=stdout, stderr=stderr) == EXIT_INCOMPLETE
    assert (tmp_path / "b" / "report.json").exists()


# -- reports that cannot be written -------------------------------------------------------------


def test_reports_that_cannot_be_written_exit_4_with_the_verdict_and_the_file_named(
    responses: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "out"
    argv = ["evaluate", "--input", str(responses), "--output-dir", str(out), "--format", "all"]
    assert main(argv) == EXIT_INCOMPLETE
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(auditor.atomic.os, "fsync", disk_full)
    assert main(argv) == EXIT_REPORTS_NOT_WRITTEN
    err = capsys.readouterr().err
    assert err.startswith("INCOMPLETE (")  # the verdict it reached, though no report holds it
    assert f"cannot write {out / 'report.html'}: No space left on device" in err
    assert "Traceback" not in err
    # the earlier set is untouched and nothing is left behind
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_an_output_dir_that_cannot_exist_is_refused_before_any_work(
    responses: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["evaluate", "--input", str(responses), "--output-dir", "/proc/self/auditor-reports"]
    assert main(argv) == 2
    assert "/proc/self/auditor-reports: cannot write there" in capsys.readouterr().err


# -- a bug --------------------------------------------------------------------------------------


def test_a_bug_exits_70_with_its_traceback_never_1_or_2(
    responses: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def broken(*args: Any, **kwargs: Any) -> str:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(auditor.cli, "verdict_line", broken)
    argv = ["evaluate", "--input", str(responses), "--output-dir", str(tmp_path / "out")]
    assert main(argv) == EXIT_INTERNAL_ERROR
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert "ZeroDivisionError: a bug" in err
    assert "internal error" in err


# -- a signal while the reports are written ---------------------------------------------------


@pytest.mark.parametrize("count", [1, 2])
def test_a_signal_while_writing_reports_finishes_or_rolls_back_then_exits_3(
    responses: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    count: int,
) -> None:
    out = tmp_path / "out"
    argv = ["evaluate", "--input", str(responses), "--output-dir", str(out), "--format", "all"]
    assert main([*argv, "--fail-on", "critical"]) == EXIT_INCOMPLETE
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    render = auditor.cli.iter_render

    def signalled(report: Any, fmt: Format, **kwargs: Any) -> Iterator[bytes]:
        chunks = render(report, fmt, **kwargs)
        if fmt is Format.SARIF:  # mid-set: some files staged, others not yet
            for _ in range(count):
                os.kill(os.getpid(), signal.SIGTERM)
        yield from chunks

    monkeypatch.setattr(auditor.cli, "iter_render", signalled)
    assert main(argv) == EXIT_INCOMPLETE
    err = capsys.readouterr().err
    assert err.startswith("INCOMPLETE (")
    assert "interrupted by SIGTERM while writing the reports" in err
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    manifest = json.loads(after["report.manifest.json"])
    if count == 1:  # finished: the whole new set
        assert "(reports written)" in err
        assert after != before
    else:  # rolled back: the whole old set
        assert "rolled back" in err
        assert after == before
    # either way the set on disk is the one its manifest describes
    for entry in manifest["files"]:
        assert hashlib.sha256(after[entry["name"]]).hexdigest() == entry["sha256"]
    assert sorted(after) == sorted(
        [*(e["name"] for e in manifest["files"]), "report.manifest.json"]
    )


# -- error lines --------------------------------------------------------------------------------


def test_error_lines_name_the_arn_and_version_they_concern(
    fleet: Fleet,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    broken = fleet.models[0]
    faults = {version_key(broken): Fault(FaultKind.NOT_JSON)}
    with EmulatorServer(fleet, EmulatorConfig(faults=faults)) as server:
        for key, value in scan_env(server.endpoint_url).items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
        code = main(["scan", "--output-dir", str(tmp_path), "--format", "json", "--quiet"])
    assert code == EXIT_INCOMPLETE
    err = capsys.readouterr().err
    [line] = [line for line in err.splitlines() if line.startswith("  error: ")]
    version = broken.versions[0].version_identifier
    assert line.startswith(f"  error: version {broken.arn} version {version}: GetTrainedModel: ")
    assert "MalformedResponse" in line
