"""Turning evaluated versions and errors into a Report: the step between engine and writers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from auditor import __version__
from auditor.baseline import apply_baseline
from auditor.lineage import ContextTally, lineage_of
from auditor.models import (
    Gate,
    Lineage,
    ListingComplete,
    ModelVersion,
    Report,
    ResourceType,
    ScanError,
    ScanFilters,
    ScanInfo,
    VersionVerdict,
    Waiver,
)
from auditor.policy import PolicySet
from auditor.waivers import apply_waivers


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """What turns raw verdicts into the report a user asked for."""

    gate: Gate = field(default_factory=Gate)
    waivers: tuple[Waiver, ...] = ()
    baseline: Report | None = None
    baseline_path: str | None = None
    today: date | None = None


class ReportBuilder:
    """Evaluates each version as it arrives and keeps only its compact verdict."""

    def __init__(
        self,
        policy_set: PolicySet,
        *,
        mode: str,
        regions: Sequence[str] = (),
        accounts: Sequence[str] = (),
        filters: ScanFilters | None = None,
        shard: str | None = None,
        started_at: str | None = None,
    ) -> None:
        self.policy_set = policy_set
        self.mode = mode
        self.regions = tuple(regions)
        self.accounts = tuple(accounts)
        self.filters = filters or ScanFilters()
        self.shard = shard
        self.started_at = started_at or utc_now()
        self.verdicts: list[VersionVerdict] = []
        self.errors: list[ScanError] = []
        self.listed_in_full: dict[ListingComplete, None] = {}
        # A model one scanned account trained is, to another scanned account in the same
        # collaboration, another member's model: it is reported once, as its owner's
        # trained-model (read with GetTrainedModel, which tells more), whichever comes first.
        self._own: set[tuple[str, str | None]] = set()
        self._shared: dict[tuple[str, str | None], int] = {}  # key -> index in verdicts
        self._dropped: set[int] = set()
        self.lineage: list[Lineage] = []
        self.context = ContextTally()

    def add(self, item: ModelVersion | ScanError | ListingComplete) -> None:
        if isinstance(item, ScanError):
            self.errors.append(item)
        elif isinstance(item, ListingComplete):
            self.listed_in_full[item] = None
        elif item.resource.type is ResourceType.TRAINED_MODEL:
            key = item.resource.key
            self._own.add(key)
            shared = self._shared.pop(key, None)
            if shared is not None:
                self._dropped.add(shared)
            verdict = self.policy_set.evaluate(item)
            self.verdicts.append(verdict)
            if item.context:
                self.context.add(item, verdict)
                lineage = lineage_of(item, verdict)
                if lineage is not None:
                    self.lineage.append(lineage)
        else:
            key = item.resource.key
            if key in self._own or key in self._shared:
                return
            self._shared[key] = len(self.verdicts)
            self.verdicts.append(self.policy_set.evaluate(item))

    def add_all(self, items: Iterable[ModelVersion | ScanError | ListingComplete]) -> None:
        for item in items:
            self.add(item)

    def build(
        self,
        options: ReportOptions,
        *,
        finished_reading: bool = True,
        interrupted: bool = False,
        unreached: Sequence[str] = (),
    ) -> Report:
        """The report; ``complete`` only when everything was read and nothing failed."""
        regions = set(self.regions)
        accounts = set(self.accounts)
        verdicts = self.verdicts
        if self._dropped:
            verdicts = [v for i, v in enumerate(verdicts) if i not in self._dropped]
        for verdict in verdicts:
            if verdict.resource.region:
                regions.add(verdict.resource.region)
            if verdict.resource.account:
                accounts.add(verdict.resource.account)
        for error in self.errors:
            if error.region:
                regions.add(error.region)
            if error.account:
                accounts.add(error.account)
        complete = finished_reading and not interrupted and not self.errors and not unreached
        scan = ScanInfo(
            started_at=self.started_at,
            finished_at=utc_now(),
            complete=complete,
            mode=self.mode,
            regions=tuple(sorted(regions)),
            accounts=tuple(sorted(accounts)),
            packs=self.policy_set.packs,
            params=self.policy_set.params,
            interrupted=interrupted,
            unreached=tuple(unreached),
            shard=self.shard,
            filters=self.filters,
            # An interrupted run may have listed a membership and lost some of its reads
            # without an error: then no listing proves a version gone by its absence.
            memberships_read=() if interrupted else _sorted_listings(self.listed_in_full),
        )
        report = Report(
            tool_version=__version__,
            scan=scan,
            policies=self.policy_set.infos,
            verdicts=tuple(verdicts),
            errors=tuple(self.errors),
            gate=options.gate,
            lineage=tuple(self.lineage),
        )
        return finalize(report, options)


def _sorted_listings(listings: Iterable[ListingComplete]) -> tuple[ListingComplete, ...]:
    return tuple(sorted(listings, key=lambda m: (m.account or "", m.region or "", m.membership_id)))


def finalize(report: Report, options: ReportOptions) -> Report:
    """Apply the gate, waivers and baseline to a report (fresh or re-read from disk)."""
    report = replace(report, gate=options.gate)
    today = options.today or date.today()
    if options.waivers:
        report = apply_waivers(report, options.waivers, today)
    if options.baseline is not None:
        live = [waiver for waiver in options.waivers if today < waiver.expires]
        report = apply_baseline(report, options.baseline, options.baseline_path or "baseline", live)
    return report
