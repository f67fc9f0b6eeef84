"""Atomic file writes: a reader sees the old file or the new one, never half of either.

``write_file_set`` publishes several files (the reports of one run) as one unit: see there.

SIGINT and SIGTERM arriving during a write are held until the file is in place (in the main
thread; elsewhere signals cannot be caught and the temporary file is still removed on any
exception): a second signal abandons the write, removes the temporary file and raises
``KeyboardInterrupt``. After the write a held signal is delivered as it would have been.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
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


# --- a set of files published as one unit ---------------------------------------------------

MANIFEST_NAME = "report.manifest.json"
_STAGING_PREFIX = ".auditor-staging-"
_LOCK_NAME = ".lock"
_COMPLETE_NAME = ".complete"
# A staging folder with no lock file yet is some process's, for the moment between mkdtemp
# and locking; older than this it is nobody's.
_UNLOCKED_GRACE_S = 60.0
# Temporary files of the per-file writer before report sets (``.report.json.x1y2.tmp``).
_LEGACY_TMP = re.compile(r"^\.report\..+\.tmp$")


@dataclass(frozen=True, slots=True)
class SetWritten:
    """What ``write_file_set`` did: ``published`` is False only when a second signal rolled
    the write back (the old set stays); ``signal`` names the first signal received."""

    paths: tuple[Path, ...]
    published: bool
    signal: str | None


class FileSetWriteError(OSError):
    """A file of the set could not be written; ``filename`` is the file's final path."""


def write_file_set(
    folder: Path,
    files: Sequence[tuple[str, Iterable[bytes]]],
    *,
    last: str | None = None,
) -> SetWritten:
    """Write every ``(name, chunks)`` into a staging folder inside ``folder``, fsync them,
    then rename each into ``folder``: the other files first, then ``MANIFEST_NAME`` (names,
    sizes and sha256s of the set), then ``last`` (report.json), so a reader who finds a new
    ``last`` finds the whole new set, and a reader of the manifest can check each file.

    SIGINT/SIGTERM during the write are held (main thread only): the write finishes and the
    first signal's name is returned; a second one before publishing starts rolls the write
    back (the old set stays whole). Stale staging folders of dead runs are removed first (a
    complete one is published first: it is newer than what it would have replaced).
    Raises ``FileSetWriteError`` naming the file that could not be written.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileSetWriteError(exc.errno, exc.strerror, str(folder)) from exc
    remove_stale_staging(folder)
    ordered = sorted(files, key=lambda item: item[0] == last)
    with SignalsNoted() as noted:
        staging, lock_fd = _new_staging(folder)
        try:
            manifest: list[dict[str, Any]] = []
            for name, chunks in ordered:
                digest, size = _stage(staging, folder, name, chunks, noted)
                manifest.append({"name": name, "bytes": size, "sha256": digest})
            body = json.dumps({"files": manifest}, indent=2).encode("ascii") + b"\n"
            _stage(staging, folder, MANIFEST_NAME, [body], noted)
            _write_marker(staging / _COMPLETE_NAME)
            noted.publishing = True  # from here on the renames finish, whatever arrives
            names = [n for n, _ in ordered if n != last] + [MANIFEST_NAME]
            names += [last] if last is not None and any(n == last for n, _ in ordered) else []
            _publish(staging, folder, names)
        except _Abandoned:
            shutil.rmtree(staging, ignore_errors=True)
            return SetWritten((), published=False, signal=noted.first)
        except BaseException:
            if not noted.publishing:
                shutil.rmtree(staging, ignore_errors=True)
            raise
        finally:
            os.close(lock_fd)
    shutil.rmtree(staging, ignore_errors=True)
    return SetWritten(tuple(folder / name for name, _ in files), published=True, signal=noted.first)


def _new_staging(folder: Path) -> tuple[Path, int]:
    try:
        staging = Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=folder))
        lock_fd = os.open(staging / _LOCK_NAME, os.O_WRONLY | os.O_CREAT, 0o600)
    except OSError as exc:
        raise FileSetWriteError(exc.errno, exc.strerror, str(folder)) from exc
    fcntl.flock(lock_fd, fcntl.LOCK_EX)  # held as long as this process lives
    return staging, lock_fd


class _Abandoned(Exception):
    """A second signal arrived before publishing: roll the write back."""


def _stage(
    staging: Path, folder: Path, name: str, chunks: Iterable[bytes], noted: SignalsNoted
) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    try:
        fd = os.open(staging / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                if noted.abandon:
                    raise _Abandoned
                handle.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise FileSetWriteError(exc.errno, exc.strerror, str(folder / name)) from exc
    return digest.hexdigest(), size


def _write_marker(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    _fsync_dir(path.parent)


def _publish(staging: Path, folder: Path, names: Sequence[str]) -> None:
    for name in names:
        source = staging / name
        if source.exists():  # a resumed publish: what is gone was renamed in already
            try:
                os.replace(source, folder / name)
            except OSError as exc:
                raise FileSetWriteError(exc.errno, exc.strerror, str(folder / name)) from exc
    _fsync_dir(folder)


def remove_stale_staging(folder: Path) -> list[Path]:
    """Remove the staging folders no live process holds (and old per-file temporaries);
    a complete one is published first. Returns what was removed."""
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if entry.name.startswith(_STAGING_PREFIX) and entry.is_dir():
            if _owned_by_live_process(entry, now):
                continue
            if (entry / _COMPLETE_NAME).exists():
                with contextlib.suppress(FileSetWriteError):
                    _publish(entry, folder, _publish_order(entry))
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
        elif _LEGACY_TMP.match(entry.name) and entry.is_file():
            with contextlib.suppress(OSError):
                if now - entry.stat().st_mtime > _UNLOCKED_GRACE_S:
                    entry.unlink()
                    removed.append(entry)
    return removed


def _publish_order(staging: Path) -> list[str]:
    names = sorted(p.name for p in staging.iterdir() if not p.name.startswith("."))
    rest = [n for n in names if n not in (MANIFEST_NAME, "report.json")]
    return [*rest, MANIFEST_NAME, "report.json"]


def _owned_by_live_process(staging: Path, now: float) -> bool:
    try:
        fd = os.open(staging / _LOCK_NAME, os.O_RDONLY)
    except FileNotFoundError:
        with contextlib.suppress(OSError):
            return now - staging.stat().st_mtime < _UNLOCKED_GRACE_S
        return False
    except OSError:
        return True  # cannot tell: leave it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


class SignalsNoted:
    """Hold SIGINT/SIGTERM while in use (main thread only): ``first`` names the first one; a
    second one before ``publishing`` is set asks to abandon (``abandon``)."""

    def __init__(self) -> None:
        self.first: str | None = None
        self.abandon = False
        self.publishing = False
        self._previous: dict[int, Any] = {}

    def _note(self, signum: int, frame: FrameType | None) -> None:
        if self.first is None:
            self.first = signal.Signals(signum).name
        elif not self.publishing:
            self.abandon = True

    def __enter__(self) -> SignalsNoted:
        if threading.current_thread() is threading.main_thread():
            for signum in _DEFERRED:
                self._previous[signum] = signal.signal(signum, self._note)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
