from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor.atomic import (
    MANIFEST_NAME,
    FileSetWriteError,
    remove_stale_staging,
    write_atomic,
    write_file_set,
)


def test_write_replaces_content_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.json"
    write_atomic(target, b"old")
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert os.listdir(target.parent) == ["report.json"]


def test_failed_write_keeps_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.json"
    write_atomic(target, b"complete old report")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, b"half")
    assert target.read_bytes() == b"complete old report"
    assert os.listdir(tmp_path) == ["report.json"]


# -- a report set, published as one unit -------------------------------------------------------


def _set(tag: bytes) -> list[tuple[str, list[bytes]]]:
    return [
        ("report.json", [b'{"run": "', tag, b'"}']),
        ("report.html", [b"<p>", tag, b"</p>"]),
        ("report.csv", [b"run\n", tag, b"\n"]),
    ]


def _consistent(folder: Path) -> dict[str, bytes]:
    """The set as a reader following the README's recipe sees it (manifest, then sha256s)."""
    manifest = json.loads((folder / MANIFEST_NAME).read_bytes())
    files = {entry["name"]: (folder / entry["name"]).read_bytes() for entry in manifest["files"]}
    for entry in manifest["files"]:
        assert hashlib.sha256(files[entry["name"]]).hexdigest() == entry["sha256"]
        assert len(files[entry["name"]]) == entry["bytes"]
    return files


def test_a_set_is_published_with_a_manifest_and_nothing_left_behind(tmp_path: Path) -> None:
    written = write_file_set(tmp_path, _set(b"one"), last="report.json")
    assert written.published
    assert written.signal is None
    assert _consistent(tmp_path)["report.html"] == b"<p>one</p>"
    write_file_set(tmp_path, _set(b"two"), last="report.json")
    assert set(_consistent(tmp_path).values()) == {b'{"run": "two"}', b"<p>two</p>", b"run\ntwo\n"}
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["report.json", "report.html", "report.csv", MANIFEST_NAME]
    )


def test_report_json_is_renamed_in_last(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    order: list[str] = []
    replace = os.replace

    def recording(src: str | Path, dst: str | Path) -> None:
        order.append(Path(dst).name)
        replace(src, dst)

    monkeypatch.setattr(os, "replace", recording)
    write_file_set(tmp_path, _set(b"one"), last="report.json")
    assert order[-2:] == [MANIFEST_NAME, "report.json"]
    assert sorted(order[:-2]) == ["report.csv", "report.html"]


def test_a_failed_write_keeps_the_old_set_and_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_file_set(tmp_path, _set(b"old"), last="report.json")

    def full(chunks: list[bytes]) -> Iterator[bytes]:
        yield chunks[0]
        raise OSError(errno.ENOSPC, "No space left on device")

    broken = [
        (name, full(chunks)) if name == "report.csv" else (name, iter(chunks))
        for name, chunks in _set(b"new")
    ]
    with pytest.raises(FileSetWriteError) as caught:
        write_file_set(tmp_path, broken, last="report.json")
    assert caught.value.filename == str(tmp_path / "report.csv")
    assert caught.value.strerror == "No space left on device"
    assert b"old" in _consistent(tmp_path)["report.json"]
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]


def test_stale_temporaries_of_dead_runs_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    dead = tmp_path / ".auditor-staging-dead"
    dead.mkdir()
    (dead / ".lock").touch()  # nobody holds its lock: its process is gone
    (dead / "report.json").write_bytes(b"half")
    legacy = tmp_path / ".report.json.x1y2z3.tmp"  # the per-file writer's, from before
    legacy.write_bytes(b"x" * 1000)
    old = time.time() - 3600
    os.utime(legacy, (old, old))
    live = tmp_path / ".auditor-staging-live"
    live.mkdir()
    lock = os.open(live / ".lock", os.O_WRONLY | os.O_CREAT)
    fcntl.flock(lock, fcntl.LOCK_EX)  # a live writer holds it
    try:
        write_file_set(tmp_path, _set(b"one"), last="report.json")
        assert not dead.exists()
        assert not legacy.exists()
        assert live.exists()
    finally:
        os.close(lock)
    assert b"one" in _consistent(tmp_path)["report.json"]


def test_a_set_cut_between_renames_is_completed_by_the_next_run(tmp_path: Path) -> None:
    write_file_set(tmp_path, _set(b"old"), last="report.json")
    # a run killed after renaming report.html in: its staging folder holds the rest
    staging = tmp_path / ".auditor-staging-killed"
    staging.mkdir()
    (staging / ".lock").touch()
    new = {name: b"".join(chunks) for name, chunks in _set(b"new")}
    (tmp_path / "report.html").write_bytes(new["report.html"])
    for name in ("report.json", "report.csv"):
        (staging / name).write_bytes(new[name])
    manifest = {
        "files": [
            {"name": n, "bytes": len(b), "sha256": hashlib.sha256(b).hexdigest()}
            for n, b in new.items()
        ]
    }
    (staging / MANIFEST_NAME).write_text(json.dumps(manifest))
    (staging / ".complete").touch()

    remove_stale_staging(tmp_path)

    assert _consistent(tmp_path) == new
    assert not staging.exists()
