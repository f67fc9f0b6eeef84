"""Peak RSS of ``auditor scan`` at 10,000 and 100,000 versions (emulator, no throttling).

The scan is the CLI as a user runs it, json and html reports written; peak RSS is the
child's own ``ru_maxrss`` (the emulator's memory is its own process's). Models have five
versions each, over ten memberships.

    .venv/bin/python -m bench.memory --versions 10000 --versions 100000
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.harness import (
    FleetShape,
    Table,
    emulator,
    run_measured,
    scan_command,
    verdict,
    versions_in_report,
)

VERSIONS_PER_MODEL = 5
TARGET_MB = 400.0
TARGET_GROWTH = 2.0


def run(sizes: Sequence[int]) -> Table:
    """One scan per size; the growth column compares each with the smallest."""
    table = Table(["versions", "read", "calls", "wall s", "CPU s", "peak RSS", "vs smallest"])
    smallest: float | None = None
    for size in sorted(sizes):
        shape = FleetShape(
            max(1, size // VERSIONS_PER_MODEL),
            (VERSIONS_PER_MODEL, VERSIONS_PER_MODEL),
            memberships=10,
        )
        with emulator(shape) as emu, tempfile.TemporaryDirectory(prefix="bench-mem-") as out:
            measured = run_measured(scan_command(Path(out)), env=emu.env(), timeout=3600)
            calls = int(emu.counters()["total"])
            read = versions_in_report(Path(out) / "report.json")
        rss = measured.peak_rss_mb
        if smallest is None:
            smallest = rss
            growth = "1.00x"
        else:
            growth = verdict(rss / smallest, TARGET_GROWTH, "x")
        rss_text = (
            verdict(rss, TARGET_MB, " MB", fmt="{:.0f}") if size >= 100_000 else f"{rss:.0f} MB"
        )
        table.add(
            f"{size:,}", f"{read:,}", f"{calls:,}", f"{measured.wall:.1f}", f"{measured.cpu:.1f}",
            rss_text, growth,
        )  # fmt: skip
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--versions", type=int, action="append")
    args = parser.parse_args(argv)
    print(run(args.versions or [10_000, 100_000]).render())


if __name__ == "__main__":
    main()
