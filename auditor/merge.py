"""`auditor merge`: shard reports combined into the report one run would have written.

Results and errors are concatenated (a version read by two shards is kept once); the scope is
the union of the shards' (the memberships each listed in full included); the report is
complete only when every shard was and every shard ``1..N`` is present. Baseline marks are
dropped (each shard compared itself with the whole baseline, so its account of the baseline's
other failures, resolved, gone or not re-checked, is wrong for the whole) and the gate,
waivers and baseline given to ``merge`` are applied to the merged whole.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from auditor import __version__
from auditor.audit import ReportOptions, finalize, utc_now
from auditor.errors import UsageError
from auditor.models import (
    Report,
    ResourceType,
    ScanError,
    ScanFilters,
    ScanInfo,
    VersionVerdict,
    Waiver,
    WaiverUse,
)
from auditor.shard import parse_shard


def merge_reports(reports: Sequence[tuple[str, Report]], options: ReportOptions) -> Report:
    """One report from ``(source, report)`` pairs; raises ``UsageError`` when they cannot be
    merged (different policies or packs, the same shard twice, shards of different splits)."""
    if not reports:
        raise UsageError("merge: no reports given")
    first_source, first = reports[0]
    for source, report in reports[1:]:
        if report.policies != first.policies:
            raise UsageError(
                f"merge: {source} was evaluated with other policies than {first_source}"
            )
        if report.scan.packs != first.scan.packs or report.scan.params != first.scan.params:
            raise UsageError(f"merge: {source} used other packs or params than {first_source}")
    unreached = _missing_shards(reports)
    verdicts: list[VersionVerdict | None] = []
    seen: dict[tuple[str, str | None], int] = {}  # key -> index in verdicts
    errors: list[ScanError] = []
    uses: dict[Waiver, WaiverUse] = {}
    for _, report in reports:
        for verdict in report.verdicts:
            key = verdict.resource.key
            index = seen.get(key)
            if index is not None:
                # one shard's collaboration view of a model another shard's account trained:
                # the owner's trained-model verdict is kept (see ``ReportBuilder.add``)
                earlier = verdicts[index]
                own = ResourceType.TRAINED_MODEL
                if earlier is None or earlier.resource.type is own:
                    continue
                if verdict.resource.type is not own:
                    continue
                verdicts[index] = None
            seen[key] = len(verdicts)
            failures = tuple(
                dataclasses.replace(r, baseline=None) if r.baseline else r for r in verdict.failures
            )
            verdicts.append(dataclasses.replace(verdict, failures=failures))
        errors.extend(report.errors)
        for use in report.waivers:
            known = uses.get(use.waiver)
            uses[use.waiver] = (
                use
                if known is None
                else dataclasses.replace(known, matched=known.matched + use.matched)
            )
        unreached.extend(report.scan.unreached)
    scans = [report.scan for _, report in reports]
    scan = ScanInfo(
        started_at=min(s.started_at for s in scans),
        finished_at=max([s.finished_at for s in scans] + [utc_now()]),
        complete=all(s.complete for s in scans) and not unreached,
        mode="merge",
        regions=tuple(sorted({r for s in scans for r in s.regions})),
        accounts=tuple(sorted({a for s in scans for a in s.accounts})),
        packs=first.scan.packs,
        params=first.scan.params,
        interrupted=any(s.interrupted for s in scans),
        unreached=tuple(unreached),
        filters=_merged_filters(scans),
        memberships_read=tuple(dict.fromkeys(m for s in scans for m in s.memberships_read)),
    )
    merged = Report(
        tool_version=__version__,
        scan=scan,
        policies=first.policies,
        verdicts=tuple(v for v in verdicts if v is not None),
        errors=tuple(errors),
        gate=options.gate,
        waivers=tuple(uses.values()),
    )
    return finalize(merged, options)


def _merged_filters(scans: Sequence[ScanInfo]) -> ScanFilters:
    """The shards' narrowed scopes together; ``latest_only`` if any shard had it, so no
    older version that shard did not read is called gone."""
    return ScanFilters(
        memberships=tuple(dict.fromkeys(m for s in scans for m in s.filters.memberships)),
        models=tuple(dict.fromkeys(m for s in scans for m in s.filters.models)),
        latest_only=any(s.filters.latest_only for s in scans),
    )


def _missing_shards(reports: Sequence[tuple[str, Report]]) -> list[str]:
    """What the shard set lacks, as ``unreached`` lines; raises on a shard given twice."""
    shards: dict[int, str] = {}
    counts: set[int] = set()
    for source, report in reports:
        if report.scan.shard is None:
            continue
        shard = parse_shard(report.scan.shard)
        counts.add(shard.count)
        if shard.index in shards:
            raise UsageError(
                f"merge: shard {shard} given twice ({shards[shard.index]} and {source})"
            )
        shards[shard.index] = source
    if len(counts) > 1:
        raise UsageError(
            f"merge: reports come from different splits ({', '.join(f'/{n}' for n in sorted(counts))})"
        )
    if not counts:
        return []
    count = counts.pop()
    return [
        f"shard {index}/{count}: no report given to merge; its accounts and regions were not read"
        for index in range(1, count + 1)
        if index not in shards
    ]
