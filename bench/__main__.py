"""``python -m bench``: every benchmark in one run, each part in its own process.

    .venv/bin/python -m bench                       # the full suite (~20 min on a quiet box)
    .venv/bin/python -m bench --quick               # every part, small sizes (~2-3 min)
    .venv/bin/python -m bench --only throughput,cpu # some parts

Each part runs as a child process so that one part's memory (a 100,000-version report)
cannot leak into the next part's figures. See bench/README.md for what each part measures.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass

from bench.harness import machine


@dataclass(frozen=True, slots=True)
class Part:
    title: str
    full: tuple[str, ...]  # command lines: a module, then its arguments
    quick: tuple[str, ...]


PARTS = {
    "throughput": Part(
        "Throttled throughput: per-operation limit R unknown to the crawler (token bucket, "
        "burst 10), 20 ms latency; floor = versions / R",
        full=(
            "bench.crawler_throughput --rate 20 --rate 100 --rate 400 --models 2000",
            # R=400 on 2,000 versions is a 5 s floor, too short to judge wall time on (the
            # process's fixed start-up is a tenth of it): the judged R=400 row is 8,000
            # versions, a 20 s floor as R=100 has on 2,000
            "bench.crawler_throughput --rate 400 --models 8000 --scanner-only",
            "bench.crawler_throughput --rate 100 --models 700 --versions-per-model 2,4 "
            "--scanner-only",
        ),
        quick=("bench.crawler_throughput --rate 100 --models 500",),
    ),
    "workers": Part(
        "--workers: account-regions each limited to R per operation (burst 5, 20 ms latency), "
        "--workers 1 beside --workers 2; floor = versions per region / R",
        full=("bench.bench_workers",),
        quick=("bench.bench_workers --quick",),
    ),
    "faults": Part(
        "Faults cost time, never data: injected 5xx (15%, 30%) under throttling (R=200, "
        "burst 10), pages of 3, five seeds each",
        full=("bench.bench_faults --models 200",),
        quick=("bench.bench_faults --models 40 --seeds 2",),
    ),
    "cpu": Part(
        "CPU per API call, no throttling, no latency",
        full=("bench.cpu --models 10000",),
        quick=("bench.cpu --models 2000",),
    ),
    "memory": Part(
        "Peak RSS of auditor scan (json + html reports), no throttling",
        full=("bench.memory --versions 10000 --versions 100000",),
        quick=("bench.memory --versions 2000 --versions 10000",),
    ),
    "reports": Part(
        "Writing the reports (iter_render -> write_atomic), synthetic report; reading it back",
        full=("bench.bench_reports --versions 100000 --load",),
        quick=("bench.bench_reports --versions 10000 --load",),
    ),
    "evaluate": Part(
        "Policy evaluation, one core: compiled engine vs jsonschema per policy",
        full=("bench.bench_evaluate --count 100000 --naive-count 5000",),
        quick=("bench.bench_evaluate --count 10000 --naive-count 500",),
    ),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--only", default=",".join(PARTS), help=f"comma list of parts (default: {','.join(PARTS)})"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, every part")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    print(f"machine: {machine()}", flush=True)
    failed = 0
    started = time.monotonic()
    for name in chosen:
        part = PARTS[name]
        print(f"\n== {name}: {part.title}{' (quick)' if args.quick else ''}", flush=True)
        part_started = time.monotonic()
        for command in part.quick if args.quick else part.full:
            result = subprocess.run([sys.executable, "-m", *command.split()], check=False)
            if result.returncode != 0:
                failed += 1
                print(f"!! {command} exited {result.returncode}", flush=True)
        print(f"({name}: {time.monotonic() - part_started:.0f} s)", flush=True)
    print(f"\nall parts: {time.monotonic() - started:.0f} s; machine after: {machine()}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
