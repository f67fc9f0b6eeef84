"""Files named on the command line, opened and read within bounds.

Every file the CLI reads (packs, waivers, accounts, baselines and reports, evaluate inputs)
is opened here: a regular file, or a pipe (``/dev/stdin``, ``<(...)``); anything else (a
folder, ``/dev/zero``, a socket) is refused by name, and so is more than the caller's limit
of bytes or of nesting. Every refusal is an ``InputFileError`` with one line that names the
file, what it is and the limit.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import select
import stat
from collections.abc import Iterator
from itertools import accumulate
from pathlib import Path
from typing import Any, BinaryIO

from auditor.errors import InputFileError

MIB = 1024 * 1024
GIB = 1024 * MIB

# The limits of what the CLI reads (packs, waivers and accounts files: see their modules).
# A report.json of 2,000,000 results is about 1.2 GB; our own are nested at most ~60 deep
# (evidence values are cut at 50 levels).
MAX_REPORT_BYTES = 4 * GIB
MAX_REPORT_DEPTH = 100
# `evaluate --input`: GetTrainedModel responses are a few KB and nested a few levels.
MAX_INPUT_BYTES = 2 * GIB
MAX_RECORD_DEPTH = 64
# A named pipe opened before its writer: how long to wait for the first byte (or the writer
# closing) before calling it empty. Bounds `--input fifo` with no writer instead of hanging.
PIPE_WAIT_S = 30.0


def describe(mode: int) -> str:
    """What a file of ``mode`` is, in words (``a character device``)."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISFIFO(mode):
        return "a pipe"
    return "a regular file"


def _readable_kind(mode: int) -> bool:
    return stat.S_ISREG(mode) or stat.S_ISFIFO(mode)


@contextlib.contextmanager
def open_input(path: Path, what: str) -> Iterator[BinaryIO]:
    """``path`` opened for reading in binary; raises ``InputFileError`` for a file that does
    not exist, cannot be opened, or is neither a regular file nor a pipe. A named pipe is
    opened without waiting for a writer (no writer: it reads as empty)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file ({what})") from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read {what}: {exc.strerror or exc}") from exc
    if not _readable_kind(mode):
        raise InputFileError(f"{path}: is {describe(mode)}, not a file ({what})")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read {what}: {exc.strerror or exc}") from exc
    if stat.S_ISFIFO(mode):
        _wait_for_writer(fd, path, what)
    os.set_blocking(fd, True)
    with os.fdopen(fd, "rb") as handle:
        yield handle


def _wait_for_writer(fd: int, path: Path, what: str) -> None:
    """Wait until a pipe opened without blocking has data or its writer closed; a pipe whose
    writer has not even opened it reads as empty until then, which would race the writer."""
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP)
    if not poller.poll(PIPE_WAIT_S * 1000):
        os.close(fd)
        raise InputFileError(
            f"{path}: a pipe nothing was written to within {PIPE_WAIT_S:g} s ({what})"
        )


def read_limited(handle: BinaryIO, path: Path, what: str, max_bytes: int) -> bytes:
    """All of ``handle``; raises ``InputFileError`` past ``max_bytes`` (read no further)."""
    try:
        data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read {what}: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise InputFileError(f"{path}: larger than {_size(max_bytes)}, the limit for {what}")
    return data


def read_bytes(path: Path, what: str, max_bytes: int) -> bytes:
    """The bytes of ``path`` (see ``open_input`` and ``read_limited``)."""
    with open_input(path, what) as handle:
        return read_limited(handle, path, what, max_bytes)


def read_text(path: Path, what: str, max_bytes: int) -> str:
    """The UTF-8 text of ``path`` (a byte-order mark is dropped); raises ``InputFileError``
    for binary data, naming the byte offset."""
    return decode_utf8(read_bytes(path, what, max_bytes), path, what)


def decode_utf8(data: bytes, path: Path, what: str) -> str:
    """``data`` as UTF-8 text (a byte-order mark is dropped); raises ``InputFileError``."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"{path}: not UTF-8 text (a binary file?): {exc.reason} at byte {exc.start} ({what})"
        ) from None
    if "\x00" in text:
        raise InputFileError(f"{path}: not text (a binary file?): it holds NUL bytes ({what})")
    return text.removeprefix("\ufeff")


def seekable_or_buffered(handle: BinaryIO, path: Path, what: str, max_bytes: int) -> BinaryIO:
    """``handle`` when it can seek (checked against ``max_bytes`` by its size), else its
    content read into memory within ``max_bytes`` (a pipe)."""
    if handle.seekable():
        size = os.fstat(handle.fileno()).st_size
        if size > max_bytes:
            raise InputFileError(f"{path}: larger than {_size(max_bytes)}, the limit for {what}")
        return handle
    return io.BytesIO(read_limited(handle, path, what, max_bytes))


def _size(count: int) -> str:
    if count >= GIB and count % GIB == 0:
        return f"{count // GIB} GiB"
    if count >= MIB and count % MIB == 0:
        return f"{count // MIB} MiB"
    return f"{count} bytes"


# -- nesting --------------------------------------------------------------------------------

_STRINGS_B = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_OPENERS_B = (b"[", b"{")
_DELTA = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_NOT_BRACKETS = bytes(b for b in range(256) if b not in _DELTA)


def json_nesting_exceeds(data: bytes | str, max_depth: int) -> bool:
    """Whether JSON text nests containers deeper than ``max_depth`` (brackets inside strings
    do not count). Costs two ``count`` calls when the text has few brackets."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if sum(raw.count(opener) for opener in _OPENERS_B) <= max_depth:
        return False
    brackets = _STRINGS_B.sub(b"", raw).translate(None, _NOT_BRACKETS)
    return max(accumulate(_DELTA[b] for b in brackets), default=0) > max_depth


def value_nesting_exceeds(value: Any, max_depth: int) -> bool:
    """Whether a parsed JSON value nests lists/objects deeper than ``max_depth``."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth + 1 > max_depth:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def loads_json(data: bytes | str, path: Path | str, what: str, max_depth: int) -> Any:
    """``json.loads`` within ``max_depth``; raises ``InputFileError`` (not JSON, too deep)."""
    if json_nesting_exceeds(data, max_depth):
        raise too_deep(path, what, max_depth)
    try:
        return json.loads(data)
    except RecursionError:
        raise too_deep(path, what, max_depth) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputFileError(f"{path}: not JSON ({what}): {exc}") from None


def too_deep(path: Path | str, what: str, max_depth: int) -> InputFileError:
    return InputFileError(f"{path}: nested more than {max_depth} levels deep, the limit for {what}")
