"""Throughput at an unknown rate limit: wall time against the floor, versions lost.

For each limit R the emulator (its own process) limits every operation to R requests/s
(token bucket, burst 10) with 20 ms latency; the scanner is not told R. Each contender runs
as a child process against a fresh emulator:

* ``auditor scan`` exactly as a user runs it (``--quiet``, json and html reports written);
  wall time is the whole process, interpreter start and report writing included (about
  0.6 s on top of the crawl); "scan s" is the scan proper, from the report's timestamps.
* the hand-written crawlers of ``bench.alternatives``: a sequential loop with botocore's
  default retries, ``asyncio.gather`` with ``standard`` retries at 50 in flight,
  ``adaptive`` retries at 50 and at 20.

The floor is versions / R: each version needs one GetTrainedModel, and that operation
alone is limited to R. Versions lost = versions in the fleet - versions read.

The wall-time target (<= 1.10x) is judged on rows whose floor is at least
``JUDGED_MIN_FLOOR`` seconds: a process's fixed cost (ours, wall s - scan s: interpreter,
SDK imports, reports, about 0.6 s) is 12% of a 5 s floor by itself, which says nothing about
throughput. A
row with a shorter floor still prints both ratios, unjudged; its scan proper is judged.

    .venv/bin/python -m bench.crawler_throughput --rate 100 --models 2000

``--context`` adds rows with the context policies on (the shipped context pack beside the
baseline, over a fleet whose versions refer to associations, channels, incremental bases
and inference jobs). There each version costs calls to several operations, each limited to R
on its own, so the floor is the largest per-operation count of answered calls / R. "context
calls" counts the answered related reads, "related" the distinct related resources: each is
read once a scan, so they must be equal.

    .venv/bin/python -m bench.crawler_throughput --rate 100 --models 2000 --context --scanner-only
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from auditor.crawler.api import RELATED_OPERATIONS
from auditor.policy import context_pack_path, default_pack_path
from bench.harness import (
    FleetShape,
    Table,
    emulator,
    run_measured,
    scan_command,
    scan_seconds,
    throttles,
    verdict,
    versions_in_report,
)

BURST = 10
LATENCY_MS = 20.0
TARGET_RATIO = 1.10
JUDGED_MIN_FLOOR = 20.0  # seconds


@dataclass(frozen=True, slots=True)
class Contender:
    name: str
    command: tuple[str, ...]  # empty: ``auditor scan``

    @property
    def is_scanner(self) -> bool:
        return not self.command


SCANNER = Contender("auditor scan", ())
ALTERNATIVES = (
    Contender("sequential loop, default retries", ("sequential",)),
    Contender("gather, standard retries, 50", ("gather", "--mode", "standard", "--concurrency", "50")),
    Contender("gather, adaptive retries, 50", ("gather", "--mode", "adaptive", "--concurrency", "50")),
    Contender("gather, adaptive retries, 20", ("gather", "--mode", "adaptive", "--concurrency", "20")),
)  # fmt: skip
CONTENDERS = (SCANNER, *ALTERNATIVES)


@dataclass(frozen=True, slots=True)
class Outcome:
    wall: float
    read: int
    throttles: int
    calls: int
    timed_out: bool
    scan: float | None = None  # auditor: the scan proper, from its report's timestamps


def run_one(contender: Contender, shape: FleetShape, rate: float, *, timeout: float) -> Outcome:
    """One contender against a fresh emulator limited to ``rate`` per operation."""
    with (
        emulator(shape, rate=rate, burst=BURST, latency_ms=LATENCY_MS) as emu,
        tempfile.TemporaryDirectory(prefix="bench-scan-") as out,
    ):
        if contender.is_scanner:
            command = scan_command(Path(out))
        else:
            command = [sys.executable, "-m", "bench.alternatives", *contender.command]
        measured = run_measured(command, env=emu.env(), timeout=timeout)
        counters = emu.counters()
        read = 0
        scan = None
        if contender.is_scanner:
            report = Path(out) / "report.json"
            if report.exists():
                read = versions_in_report(report)
                scan = scan_seconds(report)
        elif measured.stdout.strip():
            read = int(json.loads(measured.stdout.strip().splitlines()[-1])["read"])
    return Outcome(
        measured.wall, read, throttles(counters), counters["total"], measured.timed_out, scan
    )


def run(
    rates: Sequence[float],
    shapes: Sequence[FleetShape],
    contenders: Sequence[Contender] = CONTENDERS,
    *,
    alternatives_for: Sequence[FleetShape] | None = None,
) -> Table:
    """The throughput table: every contender at every R for each fleet shape.

    Alternatives run only for the shapes in ``alternatives_for`` (default: all).
    """
    table = Table(
        ["R/s", "fleet", "crawler", "wall s", "scan s", "floor s", "wall/floor", "scan/floor",
         "lost", "throttles", "calls"]
    )  # fmt: skip
    for shape in shapes:
        versions = shape.version_count()
        low, high = shape.versions_per_model
        fleet = (
            f"{versions:,} versions ({low}-{high}/model)" if high > 1 else f"{versions:,} versions"
        )
        for rate in rates:
            floor = versions / rate
            for contender in contenders:
                skipped = alternatives_for is not None and shape not in alternatives_for
                if skipped and not contender.is_scanner:
                    continue
                # an alternative that runs away is stopped, and reported as such
                timeout = 3600.0 if contender.is_scanner else 4 * floor + 120
                outcome = run_one(contender, shape, rate, timeout=timeout)
                lost = versions - outcome.read
                ratio = outcome.wall / floor
                ratio_text = f"{ratio:.2f}x"
                scan_ratio_text = scan_text = ""
                lost_text = f"{lost:,}"
                if contender.is_scanner:
                    if floor >= JUDGED_MIN_FLOOR:
                        ratio_text = verdict(ratio, TARGET_RATIO, "x")
                    else:
                        ratio_text += f" (floor < {JUDGED_MIN_FLOOR:g} s: not judged)"
                    lost_text = verdict(lost, 0, "", fmt="{:,}")
                    if outcome.scan is not None:
                        scan_text = f"{outcome.scan:.1f}"
                        scan_ratio_text = verdict(outcome.scan / floor, TARGET_RATIO, "x")
                wall_text = f"{outcome.wall:.1f}" + (" (stopped)" if outcome.timed_out else "")
                table.add(
                    f"{rate:g}", fleet, contender.name, wall_text, scan_text, f"{floor:.1f}",
                    ratio_text, scan_ratio_text, lost_text, f"{outcome.throttles:,}",
                    f"{outcome.calls:,}",
                )  # fmt: skip
    return table


@dataclass(frozen=True, slots=True)
class ContextOutcome:
    wall: float
    read: int
    scan: float | None
    answered: dict[str, int]  # operation -> calls answered 200
    context_calls: int
    related: int  # distinct related resources read


def run_context_one(shape: FleetShape, rate: float, *, timeout: float = 3600.0) -> ContextOutcome:
    """``auditor scan`` with the baseline and context packs against a context fleet."""
    with (
        emulator(shape, rate=rate, burst=BURST, latency_ms=LATENCY_MS) as emu,
        tempfile.TemporaryDirectory(prefix="bench-scan-") as out,
    ):
        command = [
            *scan_command(Path(out)),
            "--policies", str(default_pack_path()), "--policies", str(context_pack_path()),
        ]  # fmt: skip
        measured = run_measured(command, env=emu.env(), timeout=timeout)
        counters = emu.counters()
        report = Path(out) / "report.json"
        read = versions_in_report(report) if report.exists() else 0
        scan = scan_seconds(report) if report.exists() else None
    answered = {
        operation: int(statuses.get("200", 0))
        for operation, statuses in counters["statuses"].items()
    }
    related_ops = {str(op) for op in RELATED_OPERATIONS}
    context_calls = sum(n for op, n in answered.items() if op in related_ops)
    related = sum(
        len(resources) for op, resources in counters["resources"].items() if op in related_ops
    )
    return ContextOutcome(measured.wall, read, scan, answered, context_calls, related)


def run_context(rates: Sequence[float], shape: FleetShape) -> Table:
    """Rows with the context policies on: wall and scan against the per-operation floor."""
    table = Table(
        ["R/s", "fleet", "crawler", "wall s", "scan s", "floor s", "floor op", "wall/floor",
         "scan/floor", "lost", "context calls", "related"]
    )  # fmt: skip
    context_shape = FleetShape(
        shape.models, shape.versions_per_model, shape.memberships, shape.seed, context=True
    )
    versions = context_shape.version_count()
    for rate in rates:
        outcome = run_context_one(context_shape, rate)
        floor_op, most = max(outcome.answered.items(), key=lambda item: item[1])
        floor = most / rate
        ratio = outcome.wall / floor
        ratio_text = (
            verdict(ratio, TARGET_RATIO, "x")
            if floor >= JUDGED_MIN_FLOOR
            else f"{ratio:.2f}x (floor < {JUDGED_MIN_FLOOR:g} s: not judged)"
        )
        scan_text = scan_ratio = ""
        if outcome.scan is not None:
            scan_text = f"{outcome.scan:.1f}"
            scan_ratio = verdict(outcome.scan / floor, TARGET_RATIO, "x")
        table.add(
            f"{rate:g}", f"{versions:,} versions + context", "auditor scan (context on)",
            f"{outcome.wall:.1f}", scan_text, f"{floor:.1f}", f"{floor_op} {most:,}",
            ratio_text, scan_ratio, verdict(versions - outcome.read, 0, "", fmt="{:,}"),
            f"{outcome.context_calls:,}",
            f"{outcome.related:,} "
            + ("(equal) OK" if outcome.related == outcome.context_calls else "(NOT equal) MISSED"),
        )  # fmt: skip
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, action="append", help="limit R (repeatable)")
    parser.add_argument("--models", type=int, default=2000)
    parser.add_argument("--versions-per-model", default="1,1", metavar="LO,HI")
    parser.add_argument("--memberships", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scanner-only", action="store_true", help="skip the alternatives")
    parser.add_argument("--context", action="store_true", help="add rows with context policies")
    args = parser.parse_args(argv)
    low, _, high = args.versions_per_model.partition(",")
    shape = FleetShape(
        args.models, (int(low), int(high or low)), memberships=args.memberships, seed=args.seed
    )
    contenders = (SCANNER,) if args.scanner_only else CONTENDERS
    table = run(args.rate or [100.0], [shape], contenders)
    print(table.render())
    if args.context:
        print()
        print(run_context(args.rate or [100.0], shape).render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
