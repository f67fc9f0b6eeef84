"""Where worker processes come from: a fork server that has already imported the scanner.

A worker started with ``spawn`` is a fresh interpreter that imports the SDK and the scanner
again (~0.4 s of CPU each, before its first call). With the ``forkserver`` start method (Linux,
macOS) one server process imports them once (``PRELOAD``) and every worker is a fork of it:
no import, no inherited event loop, threads or sockets of the scan's own process (the server
is a fresh interpreter, forked from nothing but itself). Where the platform has no fork server
(Windows), workers are spawned.

``start_early`` launches the server from the command's entry point, before the CLI imports
the scanner, so the two imports run side by side on two cores; it looks only at the command
line, as a hint: the scan decides how many workers it runs after parsing and planning, and a
server started for nothing is stopped then (``stop``). This module imports nothing heavy.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.context
import multiprocessing.forkserver
import os
import threading
from collections.abc import Sequence

# what every worker imports, loaded once by the fork server; the last freezes what is loaded
PRELOAD = (
    "auditor.workers",
    "auditor.scan",
    "auditor.crawler.aws",
    "auditor.crawler.transport",
    "auditor.prefork_server",
)
STOP_SECONDS = 5.0  # how long ``stop`` waits for the server to end


def usable_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def process_context() -> multiprocessing.context.BaseContext:
    """The start method for workers: the fork server where there is one, else spawn."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(PRELOAD))
        return context
    return multiprocessing.get_context("spawn")


_owned = False  # the running fork server was started here, so ``stop`` may end it


def start() -> None:
    """Start the fork server (if the platform has one and it is not running yet); it imports
    ``PRELOAD`` in the background while this process goes on."""
    global _owned
    if process_context().get_start_method() == "forkserver":
        _owned = _owned or not running()
        multiprocessing.forkserver.ensure_running()


def running() -> bool:
    """Whether this process has a fork server running."""
    return getattr(multiprocessing.forkserver._forkserver, "_forkserver_pid", None) is not None


def stop() -> None:
    """End the fork server ``start`` started and reap it (its CPU, and its workers', then
    counts as this process's children's, as ``time`` and ``wait4`` report); a server that
    something else in this process started is left alone. It ends once every worker has
    exited; after ``STOP_SECONDS`` it is left to end with this process."""
    global _owned
    server = multiprocessing.forkserver._forkserver
    stopper = getattr(server, "_stop", None)
    if stopper is None or not running() or not _owned:
        return
    _owned = False
    thread = threading.Thread(target=stopper, name="forkserver-stop", daemon=True)
    thread.start()
    thread.join(STOP_SECONDS)


def start_early(argv: Sequence[str]) -> None:
    """Start the server now if ``argv`` (the command line, without the program) is a scan that
    will likely run workers: ``--workers N`` with N > 1, or no ``--workers`` on a machine with
    more than one core and a scan of more than one account-region (two ``--region`` options,
    ``--region all``, an accounts file or ``--org``). A guess: any error is left to the parser."""
    if not argv or argv[0] != "scan":
        return
    values: dict[str, list[str]] = {}
    for index, arg in enumerate(argv[1:], start=1):
        if arg == "--":
            break
        name, equals, value = arg.partition("=")
        if not name.startswith("--"):
            continue
        if not equals:
            value = argv[index + 1] if index + 1 < len(argv) else ""
        values.setdefault(name, []).append(value)
    if "--workers" in values:
        try:
            wanted = int(values["--workers"][-1]) > 1
        except ValueError:
            return
    else:
        regions = values.get("--region", [])
        several = len(regions) > 1 or "all" in regions
        wanted = usable_cores() > 1 and (several or "--accounts" in values or "--org" in values)
    if wanted:
        with contextlib.suppress(OSError):  # no server: workers start the slow way, if at all
            start()
