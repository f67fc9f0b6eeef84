"""Publishing a report's findings to AWS Security Hub, kept in step with every run.

For each account of the report in the target region (one custom-integration product each):

1. ``GetFindings`` the findings this tool published there before (its product ARN and the
   ``auditor/Tool`` product field; checked again here, since a value from AWS is untrusted
   and a server may ignore filters).
2. Plan (pure, ``plan_target``): every failure of the report becomes a finding (active, or
   archived and suppressed when waived). Every earlier finding the report does not fail is
   accounted for exactly as a baseline failure is (``auditor.baseline``): ``resolved`` ->
   ``PASSED`` / ``ARCHIVED``, ``gone`` -> ``NOT_AVAILABLE`` / ``ARCHIVED``, ``not-rechecked``
   (an error, a narrower scope, another shard) -> left as it is. A finding whose content is
   unchanged (``auditor/ContentHash``) and whose observation time is the same is not sent,
   so re-publishing a report changes nothing; one whose hub copy is newer than the report
   is not overwritten by an older report.
3. ``BatchImportFindings`` in batches of at most 100 findings (and well under 6 MB), paced by
   the crawler's ``RateController`` (Security Hub documents 10 TPS, burst 30, for
   BatchImportFindings and 3 TPS, burst 6, for GetFindings; the controller starts below and
   never exceeds those) and retried by the crawler's retry loop: a throttled batch is sent
   again, never dropped (an import is an upsert by ``Id``, so a retry is harmless). Findings
   the service refuses (``FailedFindings``) are reported one by one.
"""

from __future__ import annotations

import json
import random
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from auditor.arns import parse_trained_model_arn
from auditor.baseline import account_for_baseline
from auditor.crawler.ratecontrol import Pacer, RateConfig, RateController
from auditor.crawler.retry import AnyioClock, Clock, RetryPolicy, call_with_retry
from auditor.errors import ApiError, ThrottledError, UsageError
from auditor.models import (
    PolicyInfo,
    PriorFailure,
    PriorOutcome,
    Report,
    Resource,
    Result,
    Severity,
    Status,
    fingerprint,
)
from auditor.reports.asff import (
    FIELD_HASH,
    FIELD_MEMBERSHIP,
    FIELD_MODEL_ARN,
    FIELD_POLICY_ID,
    FIELD_RESULT_ID,
    FIELD_SEVERITY,
    FIELD_TOOL,
    FIELD_VERSION,
    TOOL_MARKER,
    Target,
    asff_timestamp,
    closed_finding,
    failure_finding,
    finding_id,
    target_of,
)
from auditor.securityhub.api import FailedFinding, FindingsPage, Operation, SecurityHubApi

T = TypeVar("T")

MAX_BATCH_FINDINGS = 100  # BatchImportFindings' documented maximum
MAX_BATCH_BYTES = 5 * 1024 * 1024  # under the documented 6 MB per request
# FailedFindings codes that say "not now" rather than "never": those findings are sent again
RETRYABLE_CODES = frozenset(
    {"InternalError", "InternalFailure", "ServiceUnavailable", "ThrottlingException"}
)

IMPORT_RATE = RateConfig(initial_rate=5.0, max_rate=10.0, min_rate=0.2, doubling_time=1.0)
READ_RATE = RateConfig(initial_rate=2.0, max_rate=3.0, min_rate=0.2, doubling_time=1.0)


class Change(StrEnum):
    """What importing a planned finding does to Security Hub."""

    NEW = "new"
    UPDATED = "updated"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class PlannedFinding:
    finding: Mapping[str, Any]
    change: Change

    @property
    def id(self) -> str:
        return str(self.finding["Id"])


@dataclass(frozen=True, slots=True)
class Plan:
    """What publishing does to one account's findings in one region."""

    target: Target
    to_import: tuple[PlannedFinding, ...]
    unchanged: int = 0
    left: tuple[PriorFailure, ...] = ()  # active findings this run did not re-check
    newer_in_hub: int = 0  # findings the hub holds from a later run than this report
    unreadable: int = 0  # findings under this product that are not recognisably auditor's

    def count(self, change: Change) -> int:
        return sum(1 for item in self.to_import if item.change is change)


@dataclass(frozen=True, slots=True)
class PublishSettings:
    """Pacing and retrying of the two calls (rates in requests per second)."""

    import_rate: RateConfig = IMPORT_RATE
    read_rate: RateConfig = READ_RATE
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    batch_findings: int = MAX_BATCH_FINDINGS
    batch_bytes: int = MAX_BATCH_BYTES


@dataclass(frozen=True, slots=True)
class PublishOutcome:
    """What a publication did: the plans, what was imported, what failed and why."""

    region: str
    plans: tuple[Plan, ...]
    imported: int
    failed: tuple[FailedFinding, ...] = ()
    error: ApiError | None = None  # a call that failed for good; the rest was not sent
    not_sent: int = 0
    other_regions: Mapping[str, int] = field(default_factory=dict)  # region -> failures
    throttles: int = 0
    retries: int = 0

    @property
    def complete(self) -> bool:
        return self.error is None and not self.failed and self.not_sent == 0


# --- planning (pure) -------------------------------------------------------------------


def targets_in(report: Report, region: str) -> tuple[Target, ...]:
    """The accounts of ``report`` in ``region``: where this run read or listed anything."""
    found: dict[str, Target] = {}
    for verdict in report.verdicts:
        target = target_of(verdict.resource)
        if target.region == region:
            found.setdefault(target.account, target)
    for listed in report.scan.memberships_read:
        if listed.account and listed.region == region:
            found.setdefault(listed.account, Target("aws", listed.account, region))
    return tuple(found[account] for account in sorted(found))


def regions_read(report: Report) -> set[str]:
    """Every region in which ``report`` read a model version."""
    return {target_of(verdict.resource).region for verdict in report.verdicts}


def failures_by_region(report: Report) -> dict[str, int]:
    counts: dict[str, int] = {}
    for result in report.failures():
        region = target_of(result.resource).region
        counts[region] = counts.get(region, 0) + 1
    return counts


def own_filters(target: Target) -> dict[str, Any]:
    """``GetFindings`` filters for what this tool published under ``target``'s product."""
    return {
        "ProductArn": [{"Value": target.product_arn, "Comparison": "EQUALS"}],
        "AwsAccountId": [{"Value": target.account, "Comparison": "EQUALS"}],
        "ProductFields": [{"Key": FIELD_TOOL, "Value": TOOL_MARKER, "Comparison": "EQUALS"}],
    }


def _field(fields: Mapping[str, Any], key: str) -> str:
    value = fields.get(key)
    return value if isinstance(value, str) else ""


def _published_result(
    finding: Mapping[str, Any], target: Target, policies: Mapping[str, PolicyInfo]
) -> Result | None:
    """The failure an earlier finding of this tool stood for; None when it is not one."""
    fields = finding.get("ProductFields")
    if finding.get("ProductArn") != target.product_arn or not isinstance(fields, dict):
        return None
    if fields.get(FIELD_TOOL) != TOOL_MARKER:
        return None
    result_id = _field(fields, FIELD_RESULT_ID)
    policy_id = _field(fields, FIELD_POLICY_ID)
    arn = _field(fields, FIELD_MODEL_ARN)
    version = fields.get(FIELD_VERSION, "")
    if not (result_id and policy_id and arn) or not isinstance(version, str):
        return None
    # the fields must add up to the finding's own id: a cut or edited one is not trusted
    if finding.get("Id") != finding_id(result_id):
        return None
    if fingerprint(policy_id, arn, version or None) != result_id:
        return None
    parsed = parse_trained_model_arn(arn)
    if parsed is None:
        return None
    policy = policies.get(policy_id)
    if policy is None:
        try:
            severity = Severity(str(fields.get(FIELD_SEVERITY)))
        except ValueError:
            return None
        policy = PolicyInfo(id=policy_id, title=policy_id, severity=severity, pack_id="")
    membership = fields.get(FIELD_MEMBERSHIP)
    resource = Resource(
        arn=arn,
        version_identifier=version or None,
        membership_id=membership if isinstance(membership, str) and membership else None,
        account=parsed.account,
        region=parsed.region,
    )
    return Result(policy=policy, resource=resource, status=Status.FAIL)


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(asff_timestamp(value))
    except UsageError:  # not a time: treated as unknown, never as newer
        return None


def plan_target(report: Report, target: Target, existing: Iterable[Mapping[str, Any]]) -> Plan:
    """What to import under ``target`` so that Security Hub matches ``report``, given the
    findings it holds there (raw ``GetFindings`` output)."""
    observed_at = asff_timestamp(report.scan.finished_at)
    observed = _moment(observed_at)
    policies = {policy.id: policy for policy in report.policies}
    held: dict[str, Mapping[str, Any]] = {}
    before: list[Result] = []
    unreadable = 0
    for finding in existing:
        result = _published_result(finding, target, policies)
        if result is None:
            unreadable += 1
            continue
        held[finding_id(result.id)] = finding
        before.append(result)

    desired: list[tuple[dict[str, Any], bool]] = [
        (failure_finding(result, observed_at), False)
        for result in report.failures()
        if target_of(result.resource) == target
    ]
    left: list[PriorFailure] = []
    for item in account_for_baseline(before, report):
        if item.outcome is PriorOutcome.NOT_RECHECKED:
            # left as it is; counted when it is a live failure (an archived one is settled)
            if held[finding_id(item.id)].get("RecordState") == "ACTIVE":
                left.append(item)
        else:
            desired.append((closed_finding(item, policies.get(item.policy_id), observed_at), True))

    to_import: list[PlannedFinding] = []
    unchanged = newer = 0
    for finding, closing in desired:
        hub = held.get(finding["Id"])
        if hub is None:
            to_import.append(PlannedFinding(finding, Change.CLOSED if closing else Change.NEW))
            continue
        hub_updated = _moment(hub.get("UpdatedAt"))
        if hub_updated is not None and observed is not None and hub_updated > observed:
            newer += 1  # an older report must not undo what a later run published
            continue
        hub_fields = hub.get("ProductFields")
        same = (
            isinstance(hub_fields, dict)
            and hub_fields.get(FIELD_HASH) == (finding["ProductFields"][FIELD_HASH])
        )
        seen_again = finding["RecordState"] == "ACTIVE" and _moment(
            hub.get("LastObservedAt")
        ) != _moment(finding["LastObservedAt"])
        if same and not seen_again:
            unchanged += 1
            continue
        for name in ("CreatedAt", "FirstObservedAt"):  # when it was first found stays
            if _moment(hub.get(name)) is not None:
                finding[name] = hub[name]
        to_import.append(PlannedFinding(finding, Change.CLOSED if closing else Change.UPDATED))
    return Plan(
        target=target,
        to_import=tuple(to_import),
        unchanged=unchanged,
        left=tuple(left),
        newer_in_hub=newer,
        unreadable=unreadable,
    )


def batches(
    findings: Sequence[Mapping[str, Any]],
    *,
    max_findings: int = MAX_BATCH_FINDINGS,
    max_bytes: int = MAX_BATCH_BYTES,
) -> Iterator[list[Mapping[str, Any]]]:
    """``findings`` in order, in batches of at most ``max_findings`` and about ``max_bytes``."""
    batch: list[Mapping[str, Any]] = []
    size = 0
    for finding in findings:
        length = len(json.dumps(finding, separators=(",", ":")))
        if batch and (len(batch) >= max_findings or size + length > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(finding)
        size += length
    if batch:
        yield batch


# --- calling Security Hub --------------------------------------------------------------


class _Caller:
    """Every call through its operation's pacer and the crawler's retry loop."""

    def __init__(self, settings: PublishSettings, clock: Clock, rng: random.Random | None) -> None:
        self.settings = settings
        self.clock = clock
        self.rng = rng
        now = clock.now()
        self.pacers = {
            Operation.GET_FINDINGS: Pacer(RateController(settings.read_rate, now=now), clock),
            Operation.BATCH_IMPORT_FINDINGS: Pacer(
                RateController(settings.import_rate, now=now), clock
            ),
        }
        self.throttles = 0
        self.retries = 0

    async def call(self, op: Operation, request: Callable[[], Awaitable[T]]) -> T:
        pacer = self.pacers[op]

        async def attempt() -> T:
            ticket = await pacer.acquire()
            try:
                result = await request()
            except ThrottledError:
                self.throttles += 1
                pacer.throttled(ticket)
                raise
            except ApiError:
                pacer.succeeded(ticket)  # answered, not throttled: the rate was fine
                raise
            pacer.succeeded(ticket)
            return result

        def on_retry(error: ApiError, attempts: int, delay: float) -> None:
            self.retries += 1

        return await call_with_retry(
            op,
            attempt,
            policy=self.settings.retry,
            clock=self.clock,
            rng=self.rng,
            on_retry=on_retry,
        )


async def _held_findings(
    api: SecurityHubApi, caller: _Caller, target: Target
) -> list[Mapping[str, Any]]:
    filters = own_filters(target)
    findings: list[Mapping[str, Any]] = []
    token: str | None = None
    seen_tokens: set[str] = set()
    while True:

        async def read(current: str | None = token) -> FindingsPage:
            return await api.get_findings(filters, next_token=current)

        page = await caller.call(Operation.GET_FINDINGS, read)
        findings += page.findings
        token = page.next_token
        if token is None or token in seen_tokens:  # a repeated token would never end
            return findings
        seen_tokens.add(token)


@dataclass
class _Progress:
    """What has been imported or refused so far (kept when a call fails for good)."""

    imported: int = 0
    failed: list[FailedFinding] = field(default_factory=list)


async def _import(
    api: SecurityHubApi,
    caller: _Caller,
    findings: Sequence[Mapping[str, Any]],
    progress: _Progress,
) -> None:
    """Import ``findings``; findings refused with a retryable code are sent again."""
    settings = caller.settings
    policy = settings.retry
    pending = list(findings)
    for round_number in range(1, policy.failure_attempts + 1):
        last_round = round_number == policy.failure_attempts
        again: list[Mapping[str, Any]] = []
        for batch in batches(
            pending, max_findings=settings.batch_findings, max_bytes=settings.batch_bytes
        ):

            async def send(batch: list[Mapping[str, Any]] = batch) -> tuple[FailedFinding, ...]:
                return await api.batch_import_findings(batch)

            refused = await caller.call(Operation.BATCH_IMPORT_FINDINGS, send)
            by_id = {finding["Id"]: finding for finding in batch}
            refused_ids = set()
            for item in refused:
                refused_ids.add(item.id)
                if item.code in RETRYABLE_CODES and item.id in by_id and not last_round:
                    again.append(by_id[item.id])
                else:
                    progress.failed.append(item)
            progress.imported += sum(1 for finding in batch if finding["Id"] not in refused_ids)
        if not again:
            return
        caller.retries += 1
        delay = min(policy.max_delay, policy.failure_base_delay * 2.0 ** (round_number - 1))
        await caller.clock.sleep(delay)
        pending = again


async def publish_report(
    report: Report,
    api: SecurityHubApi,
    *,
    region: str,
    settings: PublishSettings | None = None,
    clock: Clock | None = None,
    rng: random.Random | None = None,
) -> PublishOutcome:
    """Bring Security Hub's findings of ``region`` in step with ``report`` (see the module).

    A call that fails for good (after retries) ends the publication: the outcome carries
    the error and how many planned findings were not sent; it never raises ``ApiError``.
    """
    caller = _Caller(settings or PublishSettings(), clock or AnyioClock(), rng)
    other_regions = {
        name: count for name, count in failures_by_region(report).items() if name != region
    }
    plans: list[Plan] = []
    progress = _Progress()
    error: ApiError | None = None
    not_sent = 0
    for target in targets_in(report, region):
        plan: Plan | None = None
        before = progress.imported + len(progress.failed)
        try:
            held = await _held_findings(api, caller, target)
            plan = plan_target(report, target, held)
            plans.append(plan)
            await _import(api, caller, [item.finding for item in plan.to_import], progress)
        except ApiError as exc:
            error = exc
            done = progress.imported + len(progress.failed) - before
            # without a plan nothing is known of this account's findings: count it as one
            not_sent = len(plan.to_import) - done if plan is not None else 1
            break
    return PublishOutcome(
        region=region,
        plans=tuple(plans),
        imported=progress.imported,
        failed=tuple(progress.failed),
        error=error,
        not_sent=not_sent,
        other_regions=other_regions,
        throttles=caller.throttles,
        retries=caller.retries,
    )


def describe(outcome: PublishOutcome) -> list[str]:
    """What a publication did, as lines for a person (every refused finding named)."""
    lines = []
    for plan in outcome.plans:
        target = plan.target
        parts = [
            f"{plan.count(Change.NEW)} new",
            f"{plan.count(Change.UPDATED)} updated",
            f"{plan.count(Change.CLOSED)} closed",
            f"{plan.unchanged} unchanged",
            f"{len(plan.left)} not re-checked (left as they are)",
        ]
        if plan.newer_in_hub:
            parts.append(f"{plan.newer_in_hub} newer in Security Hub than this report (kept)")
        if plan.unreadable:
            parts.append(f"{plan.unreadable} not recognisably auditor's (ignored)")
        lines.append(f"account {target.account} {target.region}: " + ", ".join(parts))
    lines.append(
        f"imported {outcome.imported} findings into Security Hub {outcome.region}"
        f" ({outcome.throttles} throttled calls, {outcome.retries} retries)"
    )
    for region, count in sorted(outcome.other_regions.items()):
        lines.append(
            f"not published: {count} failures in region {region} (publish again with "
            f"--region {region})"
        )
    for failed in outcome.failed:
        lines.append(f"refused: {failed.id}: {failed.code}: {failed.message}")
    if outcome.error is not None:
        lines.append(
            f"stopped: {outcome.error} (after {outcome.error.attempts} attempts); "
            f"{outcome.not_sent} planned findings not sent"
        )
    return lines
