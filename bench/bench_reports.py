"""Render a synthetic 100,000-version x 20-policy report (~10% failing) in every format, and
read the report.json back with ``load_report``.

Run: ``.venv/bin/python -m bench.bench_reports [--versions N] [--formats json,html] [--no-load]``
"""

from __future__ import annotations

import argparse
import gc
import random
import time

from auditor.models import (
    Evidence,
    PolicyInfo,
    Report,
    Resource,
    Result,
    ScanInfo,
    Severity,
    Status,
    VersionVerdict,
)
from auditor.reports import Format, iter_render, parse_formats, render
from auditor.reports.json import load_report, render_json

POLICY_COUNT = 20
FAIL_RATE = 0.10


def synthetic_report(versions: int, seed: int = 7) -> Report:
    """A fleet of ``versions`` model versions against 20 policies, about 10% failing."""
    rng = random.Random(seed)
    severities = list(Severity)
    policies = tuple(
        PolicyInfo(
            id=f"policy-{index:02d}",
            title=f"Policy number {index} checks something important",
            severity=severities[index % len(severities)],
            pack_id="bench",
            description="A synthetic policy.",
            remediation="Fix it.",
            references=("https://example.com/policy",),
            frameworks={"cis": (f"{index}.1",)},
        )
        for index in range(POLICY_COUNT)
    )
    pass_codes = bytes(POLICY_COUNT)
    verdicts = []
    for number in range(versions):
        membership = f"{number % 500:08x}-aaaa-bbbb-cccc-{number % 500:012x}"
        model = f"{number // 3:08x}-1111-2222-3333-{number // 3:012x}"
        where = Resource(
            arn=f"arn:aws:cleanrooms-ml:us-east-1:111122223333:membership/{membership}/trained-model/{model}",
            version_identifier=f"{number:08x}-9999-8888-7777-{number:012x}",
            name=f"model-{number // 3}",
            membership_id=membership,
            collaboration_id="c0ffee00-0000-0000-0000-000000000000",
            account="111122223333",
            region="us-east-1",
            status="ACTIVE",
        )
        codes = bytearray(pass_codes)
        failures = []
        for index, policy in enumerate(policies):
            draw = rng.random()
            if draw < FAIL_RATE:
                codes[index] = 1
                failures.append(
                    Result(
                        policy=policy,
                        resource=where,
                        status=Status.FAIL,
                        evidence=(
                            Evidence(
                                path="tags.owner",
                                actual=None,
                                expected="present",
                                message=f"tag owner is missing on {where.name}",
                            ),
                        ),
                    )
                )
            elif draw < FAIL_RATE + 0.02:
                codes[index] = 2
        verdicts.append(VersionVerdict(where, bytes(codes), tuple(failures)))
    return Report(
        tool_version="bench",
        scan=ScanInfo(
            started_at="2025-01-01T00:00:00Z", finished_at="2025-01-01T01:00:00Z", complete=True
        ),
        policies=policies,
        verdicts=tuple(verdicts),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--formats", default="all")
    parser.add_argument(
        "--no-load", action="store_true", help="skip reading report.json back (load_report)"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    report = synthetic_report(args.versions)
    built = time.perf_counter() - started
    summary = report.summary()
    print(
        f"report: {summary.versions:,} versions x {len(report.policies)} policies = "
        f"{summary.passed + summary.failed + summary.skipped:,} results "
        f"({summary.failed:,} failing), built in {built:.2f} s"
    )
    for fmt in parse_formats(args.formats):
        started = time.perf_counter()
        data = render(report, fmt)
        elapsed = time.perf_counter() - started
        print(f"{fmt.value:>9}: {elapsed:6.2f} s  {len(data) / 1e6:9.1f} MB")
        del data
        if fmt is Format.JSON:
            # What the CLI should do for big reports: write chunks as they come.
            started = time.perf_counter()
            size = sum(len(chunk) for chunk in iter_render(report, fmt))
            elapsed = time.perf_counter() - started
            print(
                f"{'json*':>9}: {elapsed:6.2f} s  {size / 1e6:9.1f} MB  (streamed by iter_render)"
            )
    if not args.no_load:
        data = render_json(report)
        del report  # what is timed is reading back, not holding two reports
        gc.collect()
        bench_load(data)


def bench_load(data: bytes) -> None:
    """Time ``load_report`` on a report.json."""
    started = time.perf_counter()
    cpu = time.process_time()
    loaded = load_report(data, "bench.json")
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"{'load':>9}: {elapsed:6.2f} s  {len(data) / 1e6:9.1f} MB  "
        f"(load_report, {cpu:.2f} s CPU, {len(loaded.verdicts):,} versions)"
    )


if __name__ == "__main__":
    main()
