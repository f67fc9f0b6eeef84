"""Atomic file writes: a reader sees the old file or the new one, never half of either.

SIGINT and SIGTERM arriving during a write are held until the file is in place (in the main
thread; elsewhere signals cannot be caught and the temporary file is still removed on any
exception): a second signal abandons the write, removes the temporary file and raises
``KeyboardInterrupt``. After the write a held signal is delivered as it would have been.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

_DEFERRED = (signal.SIGINT, signal.SIGTERM)


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# mkstemp creates files 0600; a report should get the mode any new file gets (0666 & ~umask).
_FILE_MODE = 0o666 & ~_current_umask()


def write_atomic(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Write ``data`` (bytes, or chunks of it) to ``path`` via a temporary file in the same
    folder and ``os.replace``; a failure midway leaves the old file as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _signals_held():
        _write(path, data)
    _fsync_dir(path.parent)


def _write(path: Path, data: bytes | Iterable[bytes]) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, _FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            if isinstance(data, bytes):
                handle.write(data)
            else:
                for chunk in data:
                    handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM for the duration; re-deliver the first one afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        if held:  # asked twice: give up on this file now
            raise KeyboardInterrupt
        held.append(signum)

    previous: dict[int, Any] = {}
    try:
        for deferred in _DEFERRED:
            previous[deferred] = signal.signal(deferred, hold)
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if held:
        _deliver(held[0], previous.get(held[0]))


def _deliver(signum: int, handler: Any) -> None:
    if callable(handler):
        handler(signum, None)
    elif handler == signal.SIG_DFL:
        os.kill(os.getpid(), signum)
    # SIG_IGN (or unknown): dropped, as it would have been


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not every platform lets a directory be opened.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
