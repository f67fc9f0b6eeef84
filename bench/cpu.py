"""CPU per API call, no throttling: the scanner against a bare aiobotocore loop.

The emulator (its own process, no latency, no limit) serves ``--models`` models of one
version each. Three figures, each CPU seconds / API calls the emulator counted:

* **bare client**: ``get_trained_model`` for every version (known up front, so no listing) on
  a default aiobotocore client, 32 in flight (``bench.alternatives bare``); the loop's
  process CPU, client creation included, interpreter start and imports not.
* **auditor crawl+evaluate**: ``auditor.scan.run_scan`` in a child process, 32 in flight
  (the default): every list and get call, the rate controller, retries, and evaluating each
  version against the shipped pack; client creation included, interpreter start, pack
  loading and report writing not. The target compares this with the bare client.
* **auditor scan, whole process**: the CLI as a user runs it (json and html reports), all of
  the process's CPU; and its marginal cost (minus a scan of an empty estate) per call.

    .venv/bin/python -m bench.cpu --models 10000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import (
    Emulator,
    FleetShape,
    Table,
    emulator,
    run_measured,
    scan_command,
    verdict,
)

CONCURRENCY = 32  # auditor's default, given to the bare loop too
TARGET_RATIO = 1.25


def _child_scan() -> None:
    """Run in the child: a whole ``run_scan``, printing its CPU seconds and versions read."""
    import anyio

    from auditor.audit import ReportOptions
    from auditor.crawler import CrawlConfig
    from auditor.policy import default_pack_path, load_packs
    from auditor.scan import ScanSettings, run_scan

    policy_set = load_packs([default_pack_path()])
    settings = ScanSettings(crawl=CrawlConfig(concurrency=CONCURRENCY))

    async def scan() -> int:
        report = await run_scan(settings, policy_set, ReportOptions(), handle_signals=False)
        return len(report.verdicts)

    started = time.process_time()
    versions = anyio.run(scan)
    print(json.dumps({"cpu": time.process_time() - started, "read": versions}), flush=True)


def _child(emu: Emulator, command: list[str]) -> tuple[dict[str, float], int, float]:
    """A child's JSON line, the calls the emulator counted and the emulator's CPU meanwhile."""
    emu.reset()
    emulator_cpu = emu.cpu_seconds()
    measured = run_measured(command, env=emu.env(), timeout=1800)
    if measured.returncode != 0:
        raise RuntimeError(f"{command} failed: {measured.returncode}")
    calls = int(emu.counters()["total"])
    return json.loads(measured.stdout.splitlines()[-1]), calls, emu.cpu_seconds() - emulator_cpu


def run(models: int) -> Table:
    shape = FleetShape(models)
    table = Table(
        ["what", "calls", "CPU s", "ms/call", "vs bare", "ms/version", "emulator ms/call"]
    )
    versions = shape.version_count()
    with emulator(shape) as emu, tempfile.TemporaryDirectory(prefix="bench-cpu-") as tmp:
        from auditor.fleet import generate_fleet

        fleet = generate_fleet(seed=shape.seed, memberships=shape.memberships, models=models,
                               versions_per_model=shape.versions_per_model)  # fmt: skip
        versions_file = Path(tmp) / "versions.json"
        versions_file.write_text(
            json.dumps(
                [[m.membership_id, m.arn, v.version_identifier] for m in fleet.models
                 for v in m.versions]
            )
        )  # fmt: skip
        bare_command = [
            sys.executable, "-m", "bench.alternatives", "bare",
            "--concurrency", str(CONCURRENCY), "--versions-file", str(versions_file),
        ]  # fmt: skip
        bare, bare_calls, bare_emu = _child(emu, bare_command)
        bare_ms = bare["cpu"] / bare_calls * 1e3
        table.add(
            f"bare aiobotocore get_trained_model, {CONCURRENCY} in flight",
            f"{bare_calls:,}", f"{bare['cpu']:.2f}", f"{bare_ms:.3f}", "1.00x",
            f"{bare['cpu'] / versions * 1e3:.3f}", f"{bare_emu / bare_calls * 1e3:.3f}",
        )  # fmt: skip

        scan, scan_calls, scan_emu = _child(emu, [sys.executable, "-m", "bench.cpu", "--child"])
        scan_ms = scan["cpu"] / scan_calls * 1e3
        table.add(
            "auditor crawl+evaluate (run_scan, in the child)",
            f"{scan_calls:,}", f"{scan['cpu']:.2f}", f"{scan_ms:.3f}",
            verdict(scan_ms / bare_ms, TARGET_RATIO, "x"), f"{scan['cpu'] / versions * 1e3:.3f}",
            f"{scan_emu / scan_calls * 1e3:.3f}",
        )  # fmt: skip

        emu.reset()
        whole = run_measured(scan_command(Path(tmp) / "out"), env=emu.env(), timeout=1800)
        whole_calls = int(emu.counters()["total"])
        with emulator(FleetShape(0)) as empty:
            idle = run_measured(scan_command(Path(tmp) / "empty"), env=empty.env(), timeout=600)
            idle_calls = int(empty.counters()["total"])
        marginal = (whole.cpu - idle.cpu) / (whole_calls - idle_calls) * 1e3
        table.add(
            "auditor scan, whole process (start, reports)",
            f"{whole_calls:,}", f"{whole.cpu:.2f}", f"{whole.cpu / whole_calls * 1e3:.3f}",
            f"{whole.cpu / whole_calls * 1e3 / bare_ms:.2f}x", f"{whole.cpu / versions * 1e3:.3f}",
            "",
        )  # fmt: skip
        table.add(
            f"  of which fixed (empty estate: {idle.cpu:.2f} s); marginal",
            "", "", f"{marginal:.3f}", f"{marginal / bare_ms:.2f}x", "", "",
        )  # fmt: skip
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child_scan()
        return
    print(run(args.models).render())


if __name__ == "__main__":
    main()
