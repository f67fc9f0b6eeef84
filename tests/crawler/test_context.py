"""Related resources through the real SDK against the emulator: read once, only when a policy
needs them, unreadable ones fail closed, and throttling or 5xx never lose any."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

import pytest

from auditor.crawler import CrawlScope
from auditor.emulator import EmulatorConfig, Fault, FaultKind
from auditor.emulator.config import RateLimit
from auditor.fleet import FOREIGN_ACCOUNT, Fleet, generate_fleet
from auditor.models import BaseVersion, ErrorScope, ModelVersion, Unreadable
from auditor.policy.context import CONTEXT_ROOTS

from ..reliability.conftest import FAST, Outcome, run_crawl

ALL_ROOTS = frozenset(CONTEXT_ROOTS)
RELATED_OPERATIONS = (
    "GetConfiguredModelAlgorithmAssociation",
    "GetConfiguredModelAlgorithm",
    "GetMLInputChannel",
    "ListTrainedModelInferenceJobs",
    "GetTrainedModelInferenceJob",
)


@pytest.fixture(scope="module")
def context_fleet() -> Fleet:
    return generate_fleet(seed=3, memberships=2, models=10, versions_per_model=(1, 3), context=True)


def _versions(outcome: Outcome) -> list[ModelVersion]:
    return [item for item in outcome.items if isinstance(item, ModelVersion)]


def _by_arn(bodies: Any, key: str) -> dict[str, Any]:
    return {body[key]: body for body in bodies}


def _crawl(
    aws_env: pytest.MonkeyPatch,
    fleet: Fleet,
    emulator: EmulatorConfig | None = None,
    roots: frozenset[str] = ALL_ROOTS,
) -> Outcome:
    return run_crawl(
        aws_env,
        fleet,
        emulator or EmulatorConfig(),
        replace(FAST, context_roots=roots),
        CrawlScope(),
    )


def _plain(value: Any) -> Any:
    """A context value with its records as comparable tuples."""
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, BaseVersion):
        return ("base", value.arn, value.version, value.unreadable, _plain(dict(value.context)))
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def test_context_is_what_the_fleet_refers_to(
    aws_env: pytest.MonkeyPatch, context_fleet: Fleet
) -> None:
    outcome = _crawl(aws_env, context_fleet)
    context = context_fleet.context
    associations = _by_arn(context.associations, "configuredModelAlgorithmAssociationArn")
    algorithms = _by_arn(context.algorithms, "configuredModelAlgorithmArn")
    channels = _by_arn(context.input_channels, "mlInputChannelArn")
    versions = _versions(outcome)
    assert len(versions) == context_fleet.version_count
    for version in versions:
        document, got = version.document, version.context
        assert got is not None
        association = associations[document["configuredModelAlgorithmAssociationArn"]]
        assert got["$association"] == association
        algorithm_arn = association["configuredModelAlgorithmArn"]
        if f":{FOREIGN_ACCOUNT}:" in algorithm_arn:
            assert isinstance(got["$algorithm"], Unreadable)
            assert got["$algorithm"].code == "AccessDeniedException"
        else:
            assert got["$algorithm"] == algorithms[algorithm_arn]
        assert got["$inputChannels"] == [
            channels[c["mlInputChannelArn"]] for c in document["dataChannels"]
        ]
        jobs = [
            job
            for job in context.inference_jobs
            if job["trainedModelArn"] == document["trainedModelArn"]
            and job["trainedModelVersionIdentifier"] == document["versionIdentifier"]
        ]
        assert got["$inferenceJobs"] == jobs
        incremental = document.get("incrementalTrainingDataChannels")
        if incremental:
            (base,) = got["$baseModels"]
            assert isinstance(base, BaseVersion)
            assert base.version == incremental[0]["versionIdentifier"]
            assert base.document is not None
            assert base.document["name"] == incremental[0]["modelName"]
        else:
            assert got["$baseModels"] == []


def test_each_related_resource_is_read_once_per_scan(
    aws_env: pytest.MonkeyPatch, context_fleet: Fleet
) -> None:
    outcome = _crawl(aws_env, context_fleet)
    resources = outcome.counters["resources"]
    for operation in RELATED_OPERATIONS:
        per_resource = resources.get(operation, {})
        assert per_resource, f"{operation} was never called"
        assert set(per_resource.values()) == {1}, operation
    referred = {v.document["configuredModelAlgorithmAssociationArn"] for v in _versions(outcome)}
    assert outcome.counters["operations"]["GetConfiguredModelAlgorithmAssociation"] == len(referred)
    assert len(referred) < context_fleet.version_count  # shared, so "once" is a real claim
    channels = {
        c["mlInputChannelArn"] for v in _versions(outcome) for c in v.document["dataChannels"]
    }
    assert outcome.counters["operations"]["GetMLInputChannel"] == len(channels)


def test_a_pack_without_context_makes_no_related_call(
    aws_env: pytest.MonkeyPatch, context_fleet: Fleet
) -> None:
    outcome = _crawl(aws_env, context_fleet, roots=frozenset())
    assert not set(outcome.counters["operations"]) & set(RELATED_OPERATIONS)
    assert all(v.context is None for v in _versions(outcome))


def test_only_the_named_roots_are_read(aws_env: pytest.MonkeyPatch, context_fleet: Fleet) -> None:
    outcome = _crawl(aws_env, context_fleet, roots=frozenset({"$inputChannels"}))
    called = set(outcome.counters["operations"]) & set(RELATED_OPERATIONS)
    assert called == {"GetMLInputChannel"}
    assert all(set(v.context or {}) == {"$inputChannels"} for v in _versions(outcome))


def test_an_unreadable_algorithm_is_one_related_error(
    aws_env: pytest.MonkeyPatch, context_fleet: Fleet
) -> None:
    outcome = _crawl(aws_env, context_fleet)
    related = [e for e in outcome.errors if e.scope is ErrorScope.RELATED]
    foreign = {
        v.context["$association"]["configuredModelAlgorithmArn"]
        for v in _versions(outcome)
        if v.context
        and f":{FOREIGN_ACCOUNT}:" in v.context["$association"]["configuredModelAlgorithmArn"]
    }
    assert foreign, "the fleet should refer to an algorithm in another account"
    assert sorted(e.resource_arn or "" for e in related) == sorted(foreign)
    assert all(e.code == "AccessDeniedException" for e in related)
    assert all(e.operation == "GetConfiguredModelAlgorithm" for e in related)


def test_throttling_and_5xx_on_related_reads_lose_nothing(
    aws_env: pytest.MonkeyPatch, context_fleet: Fleet
) -> None:
    clean = _crawl(aws_env, context_fleet)
    channel = context_fleet.context.input_channels[0]["mlInputChannelArn"]
    association = context_fleet.context.associations[0]["configuredModelAlgorithmAssociationArn"]
    stormy = EmulatorConfig(
        rate_limits={op: RateLimit(rate=200.0, burst=2) for op in RELATED_OPERATIONS},
        faults={
            # fails every attempt of the first pass, then recovers: re-driven, not lost
            channel: Fault(FaultKind.SERVER_ERROR, times=FAST.retry.failure_attempts),
            association: Fault(FaultKind.RESET, times=2),
            "GetTrainedModelInferenceJob": Fault(FaultKind.SERVER_ERROR, times=2),
        },
    )
    outcome = _crawl(aws_env, context_fleet, stormy)
    assert sum(outcome.counters["throttled"].values()) > 0
    assert outcome.counters["faulted"]
    assert outcome.stats.deferred >= 1  # the channel's versions were re-driven, not dropped
    assert outcome.counters["resources"]["GetMLInputChannel"][channel] > 1
    assert [e for e in outcome.errors if e.scope is not ErrorScope.RELATED] == []
    assert Counter(e.resource_arn for e in outcome.errors) == Counter(
        e.resource_arn for e in clean.errors
    )

    def contexts(result: Outcome) -> dict[Any, Any]:
        return {v.resource.key: _plain(dict(v.context or {})) for v in _versions(result)}

    assert contexts(outcome) == contexts(clean)


def test_a_base_outside_the_scope_is_read_once_and_judged(
    aws_env: pytest.MonkeyPatch, context_fleet: Fleet
) -> None:
    built_on = [
        model
        for model in context_fleet.models
        if model.versions[0].document.get("incrementalTrainingDataChannels")
    ]
    model = built_on[0]
    channel = model.versions[0].document["incrementalTrainingDataChannels"][0]
    base_model = next(
        m
        for m in context_fleet.models
        if m.membership_id == model.membership_id
        and m.versions[0].document["name"] == channel["modelName"]
    )
    scope = CrawlScope(model_arns=(model.arn,))
    config = replace(FAST, context_roots=frozenset({"$baseModels"}))
    outcome = run_crawl(aws_env, context_fleet, EmulatorConfig(), config, scope)
    base_key = f"{base_model.arn}#{channel['versionIdentifier']}"
    assert outcome.counters["resources"]["GetTrainedModel"][base_key] == 1
    versions = _versions(outcome)
    assert {v.resource.arn for v in versions} == {model.arn}  # the base is not reported itself
    for version in versions:
        (base,) = version.context["$baseModels"]  # type: ignore[index]
        assert base.arn == base_model.arn
        assert base.version == channel["versionIdentifier"]


def test_a_related_resource_failing_every_pass_is_one_error_and_no_version_is_lost(
    aws_env: pytest.MonkeyPatch, context_fleet: Fleet
) -> None:
    referred = Counter(
        c["mlInputChannelArn"] for v in context_fleet.versions() for c in v.document["dataChannels"]
    )
    channel = referred.most_common(1)[0][0]
    outcome = _crawl(
        aws_env, context_fleet, EmulatorConfig(faults={channel: Fault(FaultKind.SERVER_ERROR)})
    )
    versions = _versions(outcome)
    assert len(versions) == context_fleet.version_count  # every version is still judged
    (error,) = [e for e in outcome.errors if e.resource_arn == channel]
    assert error.scope is ErrorScope.RELATED
    assert error.operation == "GetMLInputChannel"
    passes = 1 + FAST.retry.deferred_passes
    assert error.attempts == passes * FAST.retry.failure_attempts  # every pass's attempts
    assert f"still failing after {passes} passes" in error.message
    assert (
        outcome.counters["resources"]["GetMLInputChannel"][channel]
        == passes * FAST.retry.failure_attempts
    )
    using = [
        v
        for v in versions
        if any(c["mlInputChannelArn"] == channel for c in v.document["dataChannels"])
    ]
    assert len(using) == referred[channel]
    for version in using:
        values = version.context["$inputChannels"]  # type: ignore[index]
        unreadable = [value for value in values if isinstance(value, Unreadable)]
        assert [u.arn for u in unreadable] == [channel]
