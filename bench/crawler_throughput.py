"""How close the crawler runs to an unknown rate limit: wall time against the floor.

Starts the emulator in its own process (so it does not share the crawler's GIL) with every
operation limited to R requests/s (token bucket, burst 10) and 20 ms latency, crawls the
whole fleet through aioboto3 with default settings, and prints wall time / (versions / R).

    .venv/bin/python -m bench.crawler_throughput --rate 100 --models 1000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import anyio

from auditor.crawler import CrawlStats, collect, open_aws_api
from auditor.emulator.command import READY_PREFIX
from auditor.fleet import generate_fleet
from auditor.models import ModelVersion


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, action="append", help="limit R (repeatable)")
    parser.add_argument("--burst", type=int, default=10)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--memberships", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    fleet = generate_fleet(seed=args.seed, memberships=args.memberships, models=args.models)
    versions = fleet.version_count
    for rate in args.rate or [100.0]:
        command = [
            sys.executable, "-m", "auditor.emulator",
            "--seed", str(args.seed), "--memberships", str(args.memberships),
            "--models", str(args.models), "--rate", str(rate), "--burst", str(args.burst),
            "--latency-ms", str(args.latency_ms),
        ]  # fmt: skip
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as emulator:
            try:
                assert emulator.stdout is not None
                line = emulator.stdout.readline().strip()
                if not line.startswith(READY_PREFIX):
                    print(f"emulator did not start: {line!r}", file=sys.stderr)
                    return 1
                url = line.removeprefix(READY_PREFIX)
                os.environ.update(
                    AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
                    AWS_SECRET_ACCESS_KEY="bench-secret",
                    AWS_REGION="us-east-1",
                    AWS_ENDPOINT_URL_CLEANROOMS=url,
                    AWS_ENDPOINT_URL_CLEANROOMSML=url,
                )
                stats = CrawlStats()

                async def crawl_all(stats: CrawlStats = stats) -> list[object]:
                    async with open_aws_api() as api:
                        return list(await collect(api, stats=stats))

                started = time.monotonic()
                items = anyio.run(crawl_all)
                wall = time.monotonic() - started
            finally:
                emulator.terminate()
        read = sum(isinstance(i, ModelVersion) for i in items)
        floor = versions / rate
        print(
            f"R={rate:g}/s versions={versions} read={read} errors={len(items) - read} "
            f"wall={wall:.2f}s floor={floor:.2f}s ratio={wall / floor:.3f} "
            f"throttles={stats.throttles} calls={stats.total_calls} "
            f"measured_limits={ {k: round(v, 1) for k, v in stats.limits.items()} }",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
