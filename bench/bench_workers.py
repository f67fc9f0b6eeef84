"""``--workers``: an organisation-wide scan at the sum of its account-regions' rate limits.

Each region of one account has its own per-operation limit (the emulator's per-account
buckets, one per region: ``--account-rate ACCOUNT=R:5``), 20 ms latency; the scanner is not
told R. Every case runs ``auditor scan`` with ``--workers 1`` and with workers, side by side,
each against a fresh emulator serving the same fleet:

* two regions of 4,000 versions, each region R = 200/s per operation (floor 20 s);
* one region of 8,000 versions at R = 400/s per operation (floor 20 s), split over 2 workers
  by model, the shares pacing together through one shared controller per operation;
* scaling: 1, 2 and 4 regions of 2,000 versions, each R = 200/s (floor 10 s whatever the
  count: the limits add up).

Columns: wall s is the whole ``auditor scan`` process tree; scan s its report's
``finished_at - started_at``; floor s = versions per region / R; lost = versions in the fleet
- versions in report.json; CPU s is the process and its reaped workers (``os.wait4``), per
API call the emulator answered (fixed CPU s: the same scan of an estate with no models;
marginal ms/call: the rest, per call); peak RSS is each process's own ``VmHWM`` (polled), the parent
and the largest worker, and the sum over every process of the tree.

A third table measures the scanner's own CPU per call: the emulator pinned to the last CPU,
the scan's process tree to the others, ``--workers 1`` and ``2`` interleaved ``--repeats``
times on four regions at R = 200; judged once, on the ratio of the medians (<= 1.05x).

    .venv/bin/python -m bench.bench_workers            # the issue's two cases and the scaling
    .venv/bin/python -m bench.bench_workers --quick    # smaller fleets
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from auditor.fleet import Fleet, generate_fleet
from bench.harness import (
    FleetShape,
    Table,
    emulator,
    hwm_mb,
    machine,
    scan_command,
    scan_seconds,
    throttles,
    verdict,
    versions_in_report,
)

ACCOUNT = "111122223333"  # the generated fleet's
BURST = 5
LATENCY_MS = 20.0
TARGET_RATIO = 1.10
CPU_TARGET = 1.05  # marginal CPU per call of --workers 2 over the median of --workers 1's:
# "no worse", within the run-to-run spread of one configuration (printed beside it)
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1")


@dataclass(frozen=True, slots=True)
class Run:
    wall: float
    scan: float | None
    read: int
    cpu: float
    calls: int
    throttles: int
    parent_mb: float
    worker_mb: float
    total_mb: float
    returncode: int


def write_fleet(path: Path, regions: int, versions_per_region: int) -> int:
    """A fleet of ``regions`` regions, each ``versions_per_region`` models of one version."""
    parts = [
        generate_fleet(
            seed=11 + i,
            memberships=3,
            models=versions_per_region,
            versions_per_model=(1, 1),
            region=REGIONS[i],
        )
        for i in range(regions)
    ]
    fleet = Fleet(
        memberships=tuple(m for p in parts for m in p.memberships),
        models=tuple(m for p in parts for m in p.models),
    )
    path.write_text(fleet.to_json())
    return fleet.version_count


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in map(int, (task / "children").read_text().split()):
                found += [child, *_descendants(child)]
    except OSError:
        pass
    return found


def _pin(pid: int, cpus: set[int]) -> None:
    """Every thread of ``pid`` onto ``cpus`` (``sched_setaffinity`` moves one thread)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        os.sched_setaffinity(int(task.name), cpus)


def run_scan(
    fleet_file: Path,
    regions: int,
    rate: float,
    workers: int,
    pin: tuple[set[int], set[int]] | None = None,
) -> Run:
    """One ``auditor scan``; ``pin``: the CPUs of the scan's process tree and of the emulator."""
    knobs = [
        "--fleet", str(fleet_file), "--account", f"AKIDEXAMPLE={ACCOUNT}",
        "--account-rate", f"{ACCOUNT}={rate:g}:{BURST}",
    ]  # fmt: skip
    shape = FleetShape(models=1)  # ignored: --fleet serves the file
    with (
        emulator(shape, latency_ms=LATENCY_MS, knobs=knobs) as emu,
        tempfile.TemporaryDirectory(prefix="bench-workers-") as out,
    ):
        command = scan_command(Path(out))
        for region in REGIONS[:regions]:
            command += ["--region", region]
        command += ["--workers", str(workers)]
        if pin is not None:
            _pin(emu.pid, pin[1])
            command = ["taskset", "-c", ",".join(map(str, sorted(pin[0]))), *command]
        started = time.perf_counter()
        process = subprocess.Popen(
            command, env=emu.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        peaks: dict[int, float] = {}
        while True:
            for pid in [process.pid, *_descendants(process.pid)]:
                peaks[pid] = max(peaks.get(pid, 0.0), hwm_mb(pid))
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.02)
        wall = time.perf_counter() - started
        counters = emu.counters()
        report = Path(out) / "report.json"
        read = versions_in_report(report) if report.exists() else 0
        scan = scan_seconds(report) if report.exists() else None
    parent = peaks.pop(process.pid, 0.0)
    return Run(
        wall=wall,
        scan=scan,
        read=read,
        cpu=usage.ru_utime + usage.ru_stime,
        calls=int(counters["total"]),
        throttles=throttles(counters),
        parent_mb=parent,
        worker_mb=max(peaks.values(), default=0.0),
        total_mb=parent + sum(peaks.values()),
        returncode=os.waitstatus_to_exitcode(status),
    )


def case(
    table: Table,
    name: str,
    regions: int,
    per_region: int,
    rate: float,
    workers: tuple[int, ...],
    *,
    judged: bool = True,
) -> dict[int, float]:
    """Rows for one fleet, one per worker count; the wall/floor ratio of each.

    Beside each run, the same scan of an estate with no models (same regions, same workers):
    its CPU is the fixed cost (interpreters, imports, clients), and what is left over, per
    call, is the marginal CPU per call."""
    ratios: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as directory:
        fleet_file = Path(directory) / "fleet.json"
        versions = write_fleet(fleet_file, regions, per_region)
        empty_file = Path(directory) / "empty.json"
        write_fleet(empty_file, regions, 0)
        floor = per_region / rate
        base: float | None = None
        for count in workers:
            run = run_scan(fleet_file, regions, rate, count)
            empty = run_scan(empty_file, regions, rate, count)
            ratio = run.wall / floor
            ratios[count] = ratio
            ms = 1000 * run.cpu / max(1, run.calls)
            marginal = 1000 * (run.cpu - empty.cpu) / max(1, run.calls - empty.calls)
            if base is None:
                base = marginal
            judge = judged and count > 1
            table.add(
                name,
                count,
                f"{versions:,}",
                f"{run.wall:.1f}",
                f"{run.scan:.1f}" if run.scan is not None else "-",
                f"{floor:.1f}",
                verdict(ratio, TARGET_RATIO, "x") if judge else f"{ratio:.2f}x",
                verdict(versions - run.read, 0, "", fmt="{:,}"),
                f"{run.throttles:,}",
                f"{run.calls:,}",
                f"{run.cpu:.1f}",
                f"{ms:.3f}",
                f"{empty.cpu:.1f}",
                f"{marginal:.3f}"
                + ("" if count == workers[0] else f" ({marginal / base:.2f}x of --workers 1)"),
                f"{run.parent_mb:.0f} / {run.worker_mb:.0f} / {run.total_mb:.0f} MB"
                if run.worker_mb
                else f"{run.parent_mb:.0f} MB (one process)",
            )
    return ratios


def isolated_cpu(
    table: Table, regions: int, per_region: int, rate: float, repeats: int
) -> dict[int, list[float]]:
    """CPU per call with the emulator on a core of its own and the scan's whole process tree
    on the others: the scanner's own CPU, without the stand-in service's (a real service does
    not run on the scanner's cores; here it would take turns with the workers on theirs).
    ``repeats`` runs of each, interleaved; returns the marginal ms/call of each run."""
    cpus = sorted(os.sched_getaffinity(0))
    pin = (set(cpus[:-1]), {cpus[-1]})
    marginals: dict[int, list[float]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as directory:
        fleet_file = Path(directory) / "fleet.json"
        versions = write_fleet(fleet_file, regions, per_region)
        empty_file = Path(directory) / "empty.json"
        write_fleet(empty_file, regions, 0)
        runs: dict[int, list[tuple[Run, Run]]] = {1: [], 2: []}
        for _ in range(repeats):
            for count in (1, 2):
                run = run_scan(fleet_file, regions, rate, count, pin)
                empty = run_scan(empty_file, regions, rate, count, pin)
                runs[count].append((run, empty))
                marginals[count].append(
                    1000 * (run.cpu - empty.cpu) / max(1, run.calls - empty.calls)
                )
    base = statistics.median(marginals[1])
    for count in (1, 2):
        for (run, empty), marginal in zip(runs[count], marginals[count], strict=True):
            table.add(
                f"{regions} regions x R={rate:g}",
                count,
                f"{versions:,}",
                f"{run.wall:.1f}",
                verdict(versions - run.read, 0, "", fmt="{:,}"),
                f"{run.calls:,}",
                f"{run.cpu:.2f}",
                f"{1000 * run.cpu / max(1, run.calls):.3f}",
                f"{empty.cpu:.2f}",
                f"{marginal:.3f}",
                f"{marginal / base:.2f}x",
            )
    return marginals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a quarter of the versions")
    parser.add_argument("--no-scaling", action="store_true")
    parser.add_argument("--no-isolated", action="store_true", help="skip the pinned CPU runs")
    parser.add_argument("--only-isolated", action="store_true")
    parser.add_argument("--repeats", type=int, default=3, help="pinned CPU runs of each")
    args = parser.parse_args(argv)
    scale = 4 if args.quick else 1
    print(f"machine before: {machine()}", flush=True)
    table = Table(
        ["case", "workers", "versions", "wall s", "scan s", "floor s", "wall/floor", "lost",
         "throttles", "calls", "CPU s", "CPU ms/call", "fixed CPU s", "marginal ms/call",
         "peak RSS parent / worker max / total"]
    )  # fmt: skip
    if not args.only_isolated:
        case(table, "2 regions x R=200", 2, 4000 // scale, 200.0, (1, 2))
        case(table, "1 region, R=400", 1, 8000 // scale, 400.0, (1, 2))
        print(table.render(), flush=True)
    if not args.no_isolated and len(os.sched_getaffinity(0)) >= 2:
        isolated = Table(
            ["case", "workers", "versions", "wall s", "lost", "calls", "CPU s", "CPU ms/call",
             "fixed CPU s", "marginal ms/call", "marginal / --workers 1 median"]
        )  # fmt: skip
        marginals = isolated_cpu(isolated, 4, 2000 // scale, 200.0, args.repeats)
        print(
            "\nCPU per call, the emulator on a core of its own, the scan's process tree on the "
            "other(s) (wall times are not comparable here: two workers share one core):"
        )
        print(isolated.render())
        for count, values in marginals.items():
            low, high = (
                min(values) / statistics.median(values),
                max(values) / statistics.median(values),
            )
            print(
                f"--workers {count}: marginal ms/call median {statistics.median(values):.3f}, "
                f"runs {min(values):.3f}-{max(values):.3f} ({low:.2f}x-{high:.2f}x of their median)"
            )
        ratio = statistics.median(marginals[2]) / statistics.median(marginals[1])
        print(
            "marginal CPU per call, --workers 2 / --workers 1 (medians): "
            + verdict(ratio, CPU_TARGET, "x")
        )
    if not args.no_scaling and not args.only_isolated:
        scaling = Table(
            ["case", "workers", "versions", "wall s", "scan s", "floor s", "wall/floor", "lost",
             "throttles", "calls", "CPU s", "CPU ms/call", "fixed CPU s", "marginal ms/call",
         "peak RSS parent / worker max / total"]
        )  # fmt: skip
        summary: list[str] = []
        for regions in (1, 2, 4):
            ratios = case(
                scaling,
                f"{regions} region(s) x R=200",
                regions,
                2000 // scale,
                200.0,
                (1, 2),
                judged=False,
            )
            summary.append(
                f"{regions} account-region(s): --workers 1 {ratios[1]:.2f}x, "
                f"--workers 2 {ratios[2]:.2f}x the floor"
            )
        print("\nscaling with the number of account-regions (each R = 200/s, 2 cores):")
        print(scaling.render())
        print("\n".join(summary))
    print(f"machine after: {machine()}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
