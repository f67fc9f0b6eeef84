"""Where a scan's CPU goes: ``run_scan`` in-process under cProfile against the emulator.

The emulator runs in its own process, unthrottled, so the profile is the scanner's alone
(crawl, botocore, evaluation; report writing is timed by ``bench.bench_reports``).

    .venv/bin/python -m bench.profile_scan --models 2000 --sort tottime --limit 40
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time

import anyio

from auditor.audit import ReportOptions
from auditor.crawler import CrawlStats
from auditor.policy import default_pack_path, load_packs
from auditor.scan import ScanSettings, run_scan
from bench.harness import FleetShape, emulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=2000)
    parser.add_argument("--versions-per-model", type=int, default=1)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--dump", help="write the raw pstats here too")
    args = parser.parse_args(argv)
    shape = FleetShape(args.models, (args.versions_per_model, args.versions_per_model))
    policy_set = load_packs([default_pack_path()])
    with emulator(shape) as emu:
        os.environ.update(emu.env())
        stats = CrawlStats()

        async def scan() -> None:
            await run_scan(
                ScanSettings(), policy_set, ReportOptions(), stats=stats, handle_signals=False
            )

        profiler = cProfile.Profile()
        started = time.process_time()
        profiler.enable()
        anyio.run(scan)
        profiler.disable()
        cpu = time.process_time() - started
        calls = emu.counters()["total"]
    print(f"{calls} calls, {cpu:.2f} s CPU under the profiler ({cpu / calls * 1e3:.2f} ms a call)")
    result = pstats.Stats(profiler)
    if args.dump:
        result.dump_stats(args.dump)
    result.sort_stats(args.sort).print_stats(args.limit)


if __name__ == "__main__":
    main()
