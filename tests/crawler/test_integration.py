"""The crawler through the real aioboto3 client, over loopback HTTP, against the emulator.

The SDK is configured only the way a user would: credentials, region and endpoints from the
environment. Each case checks what was read against the fleet and, from the emulator's own
counters, that every version was fetched exactly once and nothing but the four read
operations was ever called.
"""

from __future__ import annotations

from dataclasses import replace

import anyio
import pytest

from auditor.crawler import CrawlConfig, CrawlScope, CrawlStats, collect, open_aws_api
from auditor.crawler.api import READ_OPERATIONS
from auditor.emulator import EmulatorConfig, EmulatorServer, Fault, FaultKind, RateLimit
from auditor.fleet import Fleet, generate_fleet
from auditor.models import ErrorScope, ModelVersion, ScanError

from .conftest import all_keys, errors_of, latest_keys, read_keys

Items = list[ModelVersion | ScanError]


def scan(
    env: pytest.MonkeyPatch,
    fleet: Fleet,
    emulator: EmulatorConfig,
    scope: CrawlScope,
    config: CrawlConfig,
) -> tuple[Items, dict[str, object], CrawlStats]:
    with EmulatorServer(fleet, emulator) as server:
        env.setenv("AWS_ENDPOINT_URL_CLEANROOMS", server.endpoint_url)
        env.setenv("AWS_ENDPOINT_URL_CLEANROOMSML", server.endpoint_url)
        stats = CrawlStats()

        async def run() -> Items:
            async with open_aws_api(max_pool_connections=config.concurrency) as api:
                return await collect(api, scope, config=config, stats=stats)

        items = anyio.run(run)
        return items, server.counters.snapshot(), stats


def assert_read_once(counters: dict[str, object], keys: set[tuple[str, str | None]]) -> None:
    operations = counters["operations"]
    assert isinstance(operations, dict)
    assert set(operations) <= {str(op) for op in READ_OPERATIONS}, operations
    resources = counters["resources"]
    assert isinstance(resources, dict)
    fetched = resources.get("GetTrainedModel", {})
    assert {f"{arn}#{version}": 1 for arn, version in keys} == {
        key: n for key, n in fetched.items() if n
    }


def test_odd_page_sizes_lose_nothing(
    aws_env: pytest.MonkeyPatch, fleet: Fleet, fast: CrawlConfig
) -> None:
    items, counters, _ = scan(aws_env, fleet, EmulatorConfig(page_cap=2), CrawlScope(), fast)
    assert errors_of(items) == []
    assert sorted(read_keys(items)) == sorted(all_keys(fleet))
    assert_read_once(counters, all_keys(fleet))
    documents = {v.version_identifier: v.document for v in fleet.versions()}
    for item in items:
        assert isinstance(item, ModelVersion)
        assert item.document == documents[item.resource.version_identifier]


def test_a_throttling_storm_is_ridden_out(
    aws_env: pytest.MonkeyPatch, fleet: Fleet, fast: CrawlConfig
) -> None:
    emulator = EmulatorConfig(rate_limit=RateLimit(rate=40, burst=2), latency_ms=5)
    items, counters, stats = scan(aws_env, fleet, emulator, CrawlScope(), fast)
    assert errors_of(items) == []
    assert sorted(read_keys(items)) == sorted(all_keys(fleet))
    assert_read_once(counters, all_keys(fleet))
    throttled = counters["throttled"]
    assert isinstance(throttled, dict)
    assert sum(throttled.values()) == stats.throttles > 0


def test_server_errors_are_retried_not_reported(
    aws_env: pytest.MonkeyPatch, fleet: Fleet, fast: CrawlConfig
) -> None:
    config = replace(fast, retry=replace(fast.retry, failure_attempts=8))
    items, counters, stats = scan(
        aws_env, fleet, EmulatorConfig(error_rate=0.2, seed=5), CrawlScope(), config
    )
    assert errors_of(items) == []
    assert sorted(read_keys(items)) == sorted(all_keys(fleet))
    assert_read_once(counters, all_keys(fleet))
    assert stats.retries > 0


def test_vanished_models_and_a_denied_membership_are_exact_errors(
    aws_env: pytest.MonkeyPatch, fleet: Fleet, fast: CrawlConfig
) -> None:
    denied = fleet.memberships[2].id
    gone = next(m for m in fleet.models if m.membership_id != denied and len(m.versions) > 1)
    emulator = EmulatorConfig(
        deny_memberships=frozenset({denied}), vanish_models=frozenset({gone.arn}), page_cap=3
    )
    items, counters, _ = scan(aws_env, fleet, emulator, CrawlScope(), fast)
    expected = {k for k in all_keys(fleet) if denied not in k[0] and k[0] != gone.arn}
    assert sorted(read_keys(items)) == sorted(expected)
    errors = sorted(
        (e.scope, e.operation, e.code, e.membership_id, e.resource_arn, e.version_identifier)
        for e in errors_of(items)
    )
    assert errors == sorted(
        [(ErrorScope.MEMBERSHIP, "ListTrainedModels", "AccessDeniedException", denied, None, None)]
        + [
            (
                ErrorScope.VERSION,
                "GetTrainedModel",
                "ResourceNotFoundException",
                gone.membership_id,
                gone.arn,
                v.version_identifier,
            )
            for v in gone.versions
        ]
    )
    attempted = {(gone.arn, v.version_identifier) for v in gone.versions}
    assert_read_once(counters, expected | attempted)


def test_latest_only_reads_each_models_latest_version(
    aws_env: pytest.MonkeyPatch, fleet: Fleet, fast: CrawlConfig
) -> None:
    items, counters, _ = scan(
        aws_env, fleet, EmulatorConfig(page_cap=4), CrawlScope(latest_only=True), fast
    )
    assert sorted(read_keys(items)) == sorted(latest_keys(fleet))
    assert_read_once(counters, latest_keys(fleet))
    operations = counters["operations"]
    assert isinstance(operations, dict)
    assert "ListTrainedModelVersions" not in operations


def test_membership_and_model_scopes(
    aws_env: pytest.MonkeyPatch, fleet: Fleet, fast: CrawlConfig
) -> None:
    member = fleet.memberships[0].id
    items, counters, _ = scan(
        aws_env, fleet, EmulatorConfig(page_cap=2), CrawlScope(memberships=(member,)), fast
    )
    expected = {k for k in all_keys(fleet) if f"membership/{member}/" in k[0]}
    assert sorted(read_keys(items)) == sorted(expected)
    assert_read_once(counters, expected)
    operations = counters["operations"]
    assert isinstance(operations, dict)
    assert "ListMemberships" not in operations

    models = [m for m in fleet.models if len(m.versions) > 1][:2]
    scope = CrawlScope(model_arns=tuple(m.arn for m in models))
    items, counters, _ = scan(aws_env, fleet, EmulatorConfig(page_cap=1), scope, fast)
    expected = {(m.arn, v.version_identifier) for m in models for v in m.versions}
    assert sorted(read_keys(items)) == sorted(expected)
    assert_read_once(counters, expected)
    operations = counters["operations"]
    assert isinstance(operations, dict)
    assert set(operations) == {"ListTrainedModelVersions", "GetTrainedModel"}


def test_broken_responses_are_retried_or_reported_never_crash(
    aws_env: pytest.MonkeyPatch, fleet: Fleet, fast: CrawlConfig
) -> None:
    reset_model, junk_model = fleet.models[0], fleet.models[1]
    reset_key = f"{reset_model.arn}#{reset_model.versions[0].version_identifier}"
    junk_key = f"{junk_model.arn}#{junk_model.versions[0].version_identifier}"
    emulator = EmulatorConfig(
        faults={
            reset_key: Fault(FaultKind.TRUNCATED, times=1),
            junk_key: Fault(FaultKind.WRONG_TYPES),
        }
    )
    items, _, _ = scan(aws_env, fleet, emulator, CrawlScope(), fast)
    [error] = errors_of(items)
    assert (error.scope, error.code, error.resource_arn) == (
        ErrorScope.VERSION,
        "MalformedResponse",
        junk_model.arn,
    )
    # the mistyped version is still read (and judged), as well as reported
    assert sorted(read_keys(items)) == sorted(all_keys(fleet))
    assert error.version_identifier == junk_model.versions[0].version_identifier


def test_many_versions_per_model_across_accounts(
    aws_env: pytest.MonkeyPatch, fast: CrawlConfig
) -> None:
    fleet = generate_fleet(
        seed=9,
        memberships=2,
        models=5,
        versions_per_model=(6, 9),
        accounts=("111111111111", "222222222222"),
    )
    items, counters, _ = scan(aws_env, fleet, EmulatorConfig(page_cap=4), CrawlScope(), fast)
    assert sorted(read_keys(items)) == sorted(all_keys(fleet))
    assert_read_once(counters, all_keys(fleet))
    accounts = {i.resource.account for i in items if isinstance(i, ModelVersion)}
    assert accounts == {"111111111111", "222222222222"}


@pytest.mark.parametrize("kind", [FaultKind.NOT_JSON, FaultKind.CUT_JSON])
def test_a_body_that_does_not_parse_is_malformed_whatever_its_headers(
    aws_env: pytest.MonkeyPatch, fleet: Fleet, fast: CrawlConfig, kind: FaultKind
) -> None:
    broken_version, broken_listing = fleet.models[0], fleet.models[1]
    version_id = broken_version.versions[0].version_identifier
    emulator = EmulatorConfig(
        faults={f"{broken_version.arn}#{version_id}": Fault(kind), broken_listing.arn: Fault(kind)}
    )
    items, _, _ = scan(aws_env, fleet, emulator, CrawlScope(), fast)
    errors = {(e.operation, e.resource_arn): e for e in errors_of(items)}
    assert set(errors) == {
        ("GetTrainedModel", broken_version.arn),
        ("ListTrainedModelVersions", broken_listing.arn),
    }
    for error in errors.values():
        assert error.code == "MalformedResponse"
        assert error.message.startswith("body is not valid JSON (")
    assert errors["GetTrainedModel", broken_version.arn].version_identifier == version_id
    unread = {(broken_version.arn, version_id)} | {
        (broken_listing.arn, v.version_identifier) for v in broken_listing.versions
    }
    assert sorted(read_keys(items)) == sorted(all_keys(fleet) - unread)
