"""Scan progress for people: a live bar on a terminal, plain log lines anywhere else.

Both read ``CrawlStats`` a few times a second and never print anything but counts and
rates (no credentials, no AWS values).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine
from typing import IO, Any

import anyio

from auditor.crawler import CrawlStats

log = logging.getLogger("auditor.progress")


ProgressWatcher = Callable[[CrawlStats], Coroutine[Any, Any, None]]


def _status_text(stats: CrawlStats, rate: float) -> str:
    return (
        f"{rate:6.1f} versions/s  throttles {stats.throttles}  retries {stats.retries}  "
        f"errors {stats.errors}"
    )


class _Rate:
    """Versions per second over the last few seconds (a moving window, not since start)."""

    def __init__(self, window: float = 5.0) -> None:
        self.window = window
        self.samples: list[tuple[float, int]] = []

    def update(self, done: int) -> float:
        now = time.monotonic()
        self.samples.append((now, done))
        while len(self.samples) > 2 and now - self.samples[0][0] > self.window:
            self.samples.pop(0)
        first_time, first_done = self.samples[0]
        elapsed = now - first_time
        return (done - first_done) / elapsed if elapsed > 0 else 0.0


def live_bar(stream: IO[str]) -> ProgressWatcher:
    """A rich progress bar: done/total versions, rate, throttles, retries, errors."""

    # imported here: rich costs every run ~25 ms, and only a terminal shows the bar
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    async def watch(stats: CrawlStats) -> None:
        console = Console(file=stream)
        rate = _Rate()
        columns = (
            TextColumn("[bold]scanning"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task("scan", total=None, status="")
            try:
                while True:
                    progress.update(
                        task,
                        completed=stats.versions_done,
                        total=max(stats.versions_discovered, 1),
                        status=_status_text(stats, rate.update(stats.versions_done)),
                    )
                    await anyio.sleep(0.2)
            finally:
                progress.update(
                    task,
                    completed=stats.versions_done,
                    total=max(stats.versions_discovered, 1),
                    status=_status_text(stats, rate.update(stats.versions_done)),
                )

    return watch


def log_lines(every: float = 10.0) -> ProgressWatcher:
    """One log line every ``every`` seconds, for CI logs and cron mail."""

    async def watch(stats: CrawlStats) -> None:
        rate = _Rate(window=every * 2)
        while True:
            await anyio.sleep(every)
            log.info(
                "progress: %d/%d versions, memberships %d, models %d, %s",
                stats.versions_done,
                stats.versions_discovered,
                stats.memberships,
                stats.models,
                _status_text(stats, rate.update(stats.versions_done)).strip(),
            )

    return watch


def choose(stream: IO[str], *, quiet: bool = False) -> ProgressWatcher | None:
    """A live bar on a terminal, log lines otherwise, nothing when ``quiet``."""
    if quiet:
        return None
    return live_bar(stream) if stream.isatty() else log_lines()
