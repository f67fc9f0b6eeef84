"""Lineage and blast radius from a version's context: its base chain and its inference jobs.

Pure functions over ``ModelVersion.context`` (``auditor.policy.context`` roots), used by the
``ReportBuilder``; plus ``ContextTally``, what a scan's context found (``auditor demo``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from auditor.models import BaseVersion, InferenceJobUse, Lineage, ModelVersion, VersionVerdict
from auditor.policy.context import ASSOCIATION, BASE_MODELS, INFERENCE_JOBS, INPUT_CHANNELS

MAX_CHAIN = 8


def base_chain(context: Mapping[str, Any]) -> tuple[tuple[str | None, str | None], ...]:
    """The first base, its first base, ... (nearest first; at most ``MAX_CHAIN``)."""
    chain: list[tuple[str | None, str | None]] = []
    bases = context.get(BASE_MODELS)
    while isinstance(bases, list) and bases and len(chain) < MAX_CHAIN:
        base = bases[0]
        if not isinstance(base, BaseVersion):
            break
        chain.append((base.arn, base.version))
        bases = base.context.get(BASE_MODELS)
    return tuple(chain)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def job_use(job: Mapping[str, Any]) -> InferenceJobUse | None:
    arn = _text(job.get("trainedModelInferenceJobArn"))
    if arn is None:
        return None
    output = job.get("outputConfiguration")
    members = output.get("members") if isinstance(output, Mapping) else None
    accounts = tuple(
        account
        for member in (members if isinstance(members, list) else ())
        if isinstance(member, Mapping) and (account := _text(member.get("accountId")))
    )
    return InferenceJobUse(
        arn=arn,
        status=_text(job.get("status")),
        name=_text(job.get("name")),
        output_members=accounts,
    )


def lineage_of(version: ModelVersion, verdict: VersionVerdict) -> Lineage | None:
    """The version's lineage, or None when it has no base and no (known) jobs."""
    context = version.context
    if not context:
        return None
    bases = base_chain(context)
    jobs_value = context.get(INFERENCE_JOBS)
    jobs_read = isinstance(jobs_value, list) and all(isinstance(j, Mapping) for j in jobs_value)
    jobs = tuple(
        use
        for job in (jobs_value if isinstance(jobs_value, list) else ())
        if isinstance(job, Mapping) and (use := job_use(job)) is not None
    )
    if not bases and not jobs:
        return None
    return Lineage(
        arn=version.resource.arn,
        version_identifier=version.resource.version_identifier,
        bases=bases,
        jobs=jobs,
        jobs_read=jobs_read,
        failing=tuple(failure.policy.id for failure in verdict.failures),
    )


@dataclass(slots=True)
class ContextTally:
    """What the context of a scan's versions held (distinct resources by ARN)."""

    associations: set[str] = field(default_factory=set)
    channels: set[str] = field(default_factory=set)
    unencrypted_channels: set[str] = field(default_factory=set)
    incremental_versions: int = 0
    jobs_on_failing: set[str] = field(default_factory=set)
    failing_versions_with_jobs: int = 0
    versions_with_context: int = 0

    def add(self, version: ModelVersion, verdict: VersionVerdict) -> None:
        context = version.context
        if not context:
            return
        self.versions_with_context += 1
        association = context.get(ASSOCIATION)
        if isinstance(association, Mapping):
            arn = _text(association.get("configuredModelAlgorithmAssociationArn"))
            if arn:
                self.associations.add(arn)
        channels = context.get(INPUT_CHANNELS)
        for channel in channels if isinstance(channels, list) else ():
            if isinstance(channel, Mapping) and (arn := _text(channel.get("mlInputChannelArn"))):
                self.channels.add(arn)
                if not _text(channel.get("kmsKeyArn")):
                    self.unencrypted_channels.add(arn)
        if base_chain(context):
            self.incremental_versions += 1
        jobs = context.get(INFERENCE_JOBS)
        if verdict.failures and isinstance(jobs, list):
            arns = {use.arn for job in jobs if isinstance(job, Mapping) and (use := job_use(job))}
            if arns:
                self.failing_versions_with_jobs += 1
                self.jobs_on_failing |= arns

    def line(self) -> str:
        """``context: 12 associations, 30 input channels (4 unencrypted), ...``."""
        if not self.versions_with_context:
            return "context: not read (no enabled policy reads a related resource)"
        return (
            f"context: {len(self.associations)} associations, {len(self.channels)} input "
            f"channels ({len(self.unencrypted_channels)} unencrypted), "
            f"{self.incremental_versions} incremental chains, {len(self.jobs_on_failing)} "
            f"inference jobs on {self.failing_versions_with_jobs} failing versions"
        )
