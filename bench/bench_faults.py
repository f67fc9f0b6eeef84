"""Faults cost time, never data: injected 5xx under throttling, pages of 3, several seeds.

Each run starts the emulator (its own process) with every operation limited to R requests/s
(token bucket), a share of requests answered 500 at random (``--error-rate``, seeded by
``--error-seed``) and every listing cut into pages of 3 (``--page-cap 3``), then runs
``auditor scan`` as a user does. What it prints per run:

* versions expected (the fleet), read (``summary.versions`` of report.json) and lost (the
  difference; target 0), and the report's ``errors`` (target 0);
* reads/version (max): the most successful GetTrainedModel calls the emulator served for
  any one version (target 1: re-driving a page must not read anything twice);
* calls, throttles and 5xx injected, from the emulator's counters; wall s of the scan.

    .venv/bin/python -m bench.bench_faults --models 200 --error-rate 0.15 --error-rate 0.30
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.harness import FleetShape, Table, emulator, run_measured, scan_command, throttles

RATE = 200.0
BURST = 10
PAGE_CAP = 3


def run(shape: FleetShape, error_rates: Sequence[float], seeds: Sequence[int]) -> Table:
    expected = shape.version_count()
    table = Table(
        ["seed", "5xx rate", "expected", "read", "lost", "errors", "reads/version (max)",
         "calls", "throttles", "5xx injected", "wall s"]
    )  # fmt: skip
    for error_rate in error_rates:
        for seed in seeds:
            knobs = ["--error-rate", f"{error_rate:g}", "--error-seed", str(seed)]
            knobs += ["--page-cap", str(PAGE_CAP)]
            with (
                emulator(shape, rate=RATE, burst=BURST, knobs=knobs) as emu,
                tempfile.TemporaryDirectory(prefix="bench-faults-") as out,
            ):
                measured = run_measured(
                    scan_command(Path(out), formats="json"), env=emu.env(), timeout=600
                )
                counters = emu.counters()
                report_path = Path(out) / "report.json"
                report = json.loads(report_path.read_text()) if report_path.exists() else {}
            read = int(report.get("summary", {}).get("versions", 0))
            served = counters.get("resources", {}).get("GetTrainedModel", {})
            injected = sum(s.get("500", 0) for s in counters.get("statuses", {}).values())
            table.add(
                seed, f"{error_rate:.0%}", f"{expected:,}", f"{read:,}", f"{expected - read:,}",
                len(report.get("errors", [])), max(served.values(), default=0),
                f"{counters['total']:,}", f"{throttles(counters):,}", f"{injected:,}",
                f"{measured.wall:.1f}" + (" (stopped)" if measured.timed_out else ""),
            )  # fmt: skip
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=200, help="models (2-4 versions each)")
    parser.add_argument("--memberships", type=int, default=3)
    parser.add_argument("--fleet-seed", type=int, default=7)
    parser.add_argument("--error-rate", type=float, action="append", help="5xx share (repeatable)")
    parser.add_argument("--seeds", type=int, default=5, help="runs per 5xx rate (seeds 1..N)")
    args = parser.parse_args(argv)
    shape = FleetShape(args.models, (2, 4), memberships=args.memberships, seed=args.fleet_seed)
    table = run(shape, args.error_rate or [0.15, 0.30], range(1, args.seeds + 1))
    print(table.render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
