"""Write a synthetic 100,000-version x 20-policy report (~10% failing) as the CLI does.

Each format goes through ``iter_render`` into ``auditor.atomic.write_atomic``, the path
``auditor scan`` takes; the target is report.json + report.html in under 10 s at 100,000.
The synthetic report fails more (two failures a version) than the shipped pack usually does.

With ``--load`` it also reads that report.json back, each way in a child process of its
own (wall, CPU, peak RSS): ``read_report`` a result line at a time, as ``--baseline``,
``diff``, ``report`` and ``merge`` do, beside the whole-document path (one ``json.loads``),
which a report in another layout takes and every report took before.

Run: ``.venv/bin/python -m bench.bench_reports [--versions N] [--formats json,html,...] [--load]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from auditor.atomic import write_atomic
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
from auditor.reports import DEFAULT_FORMATS, FILENAMES, Format, iter_render, parse_formats, render
from auditor.reports import load as report_load
from auditor.reports.load import read_report
from bench.harness import Table, run_measured, verdict

POLICY_COUNT = 20
FAIL_RATE = 0.10
TARGET_SECONDS = 10.0


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


def write_times(versions: int, formats: tuple[Format, ...] = DEFAULT_FORMATS) -> Table:
    """Time what ``auditor scan`` does with a finished report: each format streamed by
    ``iter_render`` into ``write_atomic`` (temporary file, fsync, rename)."""
    started = time.perf_counter()
    report = synthetic_report(versions)
    built = time.perf_counter() - started
    summary = report.summary()
    table = Table(["format", "versions", "results", "seconds", "MB", "note"])
    total = 0.0
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as folder:
        for fmt in formats:
            path = Path(folder) / FILENAMES[fmt]
            started = time.perf_counter()
            write_atomic(path, iter_render(report, fmt))
            elapsed = time.perf_counter() - started
            total += elapsed
            table.add(
                FILENAMES[fmt], f"{summary.versions:,}",
                f"{summary.passed + summary.failed + summary.skipped:,}", f"{elapsed:.2f}",
                f"{path.stat().st_size / 1e6:.1f}", "",
            )  # fmt: skip
            path.unlink()
    names = " + ".join(FILENAMES[fmt] for fmt in formats)
    note = f"synthetic: {POLICY_COUNT} policies, {summary.failed:,} failing; built in {built:.1f} s"
    target = verdict(total, TARGET_SECONDS, " s") if versions >= 100_000 else f"{total:.2f} s"
    table.add(names, "", "", target, "", note)
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--formats", default="json,html")
    parser.add_argument(
        "--in-memory", action="store_true", help="also time render() of each format to bytes"
    )
    parser.add_argument("--load", action="store_true", help="also time reading report.json back")
    parser.add_argument("--read", nargs=2, metavar=("HOW", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.read:
        read_child(*args.read)
        return
    formats = parse_formats(args.formats)
    print(write_times(args.versions, formats).render())
    if args.load:
        print(read_times(args.versions).render())
    if not args.in_memory:
        return
    report = synthetic_report(args.versions)
    for fmt in formats:
        started = time.perf_counter()
        data = render(report, fmt)
        elapsed = time.perf_counter() - started
        print(f"{fmt.value:>9}: {elapsed:6.2f} s  {len(data) / 1e6:9.1f} MB  (render, in memory)")
        del data


READERS = (
    ("read_report: the file, a result line at a time", "stream"),
    ("whole-document path: json.loads of it all", "whole"),
)


def read_times(versions: int) -> Table:
    """Each reader of a synthetic report.json in a child process: wall, CPU, peak RSS."""
    table = Table(["reader", "versions", "results", "file MB", "wall s", "CPU s", "peak RSS"])
    with tempfile.TemporaryDirectory(prefix="bench-read-") as folder:
        path = Path(folder) / "report.json"
        report = synthetic_report(versions)
        results = len(report.verdicts) * len(report.policies)
        write_atomic(path, iter_render(report, Format.JSON))
        del report
        size = path.stat().st_size / 1e6
        for name, how in READERS:
            command = [sys.executable, "-m", "bench.bench_reports", "--read", how, str(path)]
            measured = run_measured(command, env=dict(os.environ), timeout=3600)
            read = json.loads(measured.stdout.strip().splitlines()[-1])["versions"]
            if measured.returncode != 0 or read != versions:
                raise SystemExit(f"{how}: exit {measured.returncode}, read {read} versions")
            table.add(
                name, f"{versions:,}", f"{results:,}", f"{size:,.0f}", f"{measured.wall:.1f}",
                f"{measured.cpu:.1f}", f"{measured.peak_rss_mb:,.0f} MB",
            )  # fmt: skip
    return table


def read_child(how: str, path: str) -> None:
    """The child of ``read_times``: read the report one way, print how many versions."""
    if how == "whole":
        # the path a report in any other layout takes, and every report took before: no
        # line layout is seen, so the file is parsed in one json.loads
        report_load._line_layout = lambda handle: None
    with open(path, "rb") as handle:
        report = read_report(handle, path)
    print(json.dumps({"versions": len(report.verdicts)}))


if __name__ == "__main__":
    main()
