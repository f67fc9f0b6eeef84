"""A signal during a report write never leaves half a file: it is held until the file is in
place (then delivered), and a second one abandons the write cleanly."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest

from auditor.atomic import write_atomic


@pytest.fixture
def received() -> Iterator[list[int]]:
    got: list[int] = []

    def record(signum: int, frame: FrameType | None) -> None:
        got.append(signum)

    previous = signal.signal(signal.SIGTERM, record)
    try:
        yield got
    finally:
        signal.signal(signal.SIGTERM, previous)


def chunks(signals: list[signal.Signals], seen: list[int]) -> Iterator[bytes]:
    yield b'{"first": '
    for signum in signals:
        os.kill(os.getpid(), signum)
        seen.append(-1)  # the handler would have run by now had it not been held
    yield b'"half"}'


def tmp_files(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_a_signal_during_the_write_is_delivered_after_the_file_is_whole(
    tmp_path: Path, received: list[int]
) -> None:
    target = tmp_path / "report.json"

    write_atomic(target, chunks([signal.SIGTERM], received))

    assert target.read_bytes() == b'{"first": "half"}'
    assert received == [-1, signal.SIGTERM]  # held while writing, delivered after
    assert tmp_files(tmp_path) == []


def test_a_second_signal_abandons_the_write_and_keeps_the_old_file(
    tmp_path: Path, received: list[int]
) -> None:
    target = tmp_path / "report.json"
    target.write_bytes(b"old")

    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, chunks([signal.SIGTERM, signal.SIGINT], received))

    assert target.read_bytes() == b"old"
    assert tmp_files(tmp_path) == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_sigint_during_the_write_raises_keyboard_interrupt_only_afterwards(
    tmp_path: Path,
) -> None:
    target = tmp_path / "report.json"
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, chunks([signal.SIGINT], []))
    assert target.read_bytes() == b'{"first": "half"}'
    assert tmp_files(tmp_path) == []
