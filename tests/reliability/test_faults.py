"""One test per fault of the issue: exactly the right results for everything readable, one
precise ``errors`` entry for the rest, never a hang or a traceback."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from auditor.crawler import CrawlScope, RateConfig, RetryPolicy
from auditor.crawler.translate import MAX_RESPONSE_BYTES
from auditor.crawler.transport import READ_CHUNK_BYTES
from auditor.emulator import EmulatorConfig, Fault, FaultKind, RateLimit
from auditor.fleet import Fleet, FleetModel, generate_fleet
from auditor.models import ErrorScope

from .conftest import ACCESS_KEY, FAST, expected_documents, row, run_crawl, version_key

GET = "GetTrainedModel"
VERSION = str(ErrorScope.VERSION)
PASSES = 1 + FAST.retry.deferred_passes  # the first pass, then each re-drive of what failed
GIVEN_UP = FAST.retry.failure_attempts * PASSES  # attempts before a failure is reported


def key(model: FleetModel, index: int = 0) -> tuple[str, str]:
    return (model.arn, model.versions[index].version_identifier)


def version_row(model: FleetModel, index: int, code: str, attempts: int) -> tuple[Any, ...]:
    return row(
        VERSION,
        GET,
        code,
        arn=model.arn,
        version=model.versions[index].version_identifier,
        membership=model.membership_id,
        attempts=attempts,
    )


def fetched(counters: dict[str, Any], model: FleetModel, index: int = 0) -> int:
    resources: dict[str, dict[str, int]] = counters["resources"]
    return resources.get(GET, {}).get(version_key(model, index), 0)


@pytest.mark.parametrize("kind", [FaultKind.RESET, FaultKind.TRUNCATED])
def test_a_body_cut_mid_way_is_retried_then_reported(
    aws_env: pytest.MonkeyPatch, fleet: Fleet, kind: FaultKind
) -> None:
    broken, flaky = fleet.models[0], fleet.models[1]
    faults = {version_key(broken): Fault(kind), version_key(flaky): Fault(kind, times=1)}

    out = run_crawl(aws_env, fleet, EmulatorConfig(faults=faults))

    assert out.read == expected_documents(fleet, skip={key(broken)})
    assert out.error_rows() == [version_row(broken, 0, "ConnectionClosedError", GIVEN_UP)]
    [error] = out.errors
    assert error.message.startswith("Connection was closed before we received a valid response")
    assert error.message.endswith(f"(still failing after {PASSES} passes)")
    assert fetched(out.counters, broken) == GIVEN_UP  # the budget in every pass, then given up
    assert fetched(out.counters, flaky) == 2  # cut once, read on the retry


def test_a_non_json_200_is_a_malformed_response_not_an_empty_model(
    aws_env: pytest.MonkeyPatch, fleet: Fleet
) -> None:
    html_doc, html_list = fleet.models[0], fleet.models[1]
    faults = {version_key(html_doc): Fault(FaultKind.NOT_JSON)}
    out = run_crawl(aws_env, fleet, EmulatorConfig(faults=faults))
    assert out.read == expected_documents(fleet, skip={key(html_doc)})
    assert out.error_rows() == [version_row(html_doc, 0, "MalformedResponse", attempts=1)]
    # judged by the body, not the Content-Type header
    assert out.errors[0].message == "body is not valid JSON (Expecting value: line 1 column 1)"

    # a version listing answered with HTML (scoped to one model: keyed by operation)
    listing = EmulatorConfig(faults={"ListTrainedModelVersions": Fault(FaultKind.NOT_JSON)})
    out = run_crawl(aws_env, fleet, listing, scope=CrawlScope(model_arns=(html_list.arn,)))
    assert out.read == {}
    assert out.error_rows() == [
        row(
            str(ErrorScope.TRAINED_MODEL),
            "ListTrainedModelVersions",
            "MalformedResponse",
            arn=html_list.arn,
            membership=html_list.membership_id,
        )
    ]
    assert out.errors[0].message == "body is not valid JSON (Expecting value: line 1 column 1)"


def test_wrong_types_are_reported_with_the_field_and_judged_as_sent(
    aws_env: pytest.MonkeyPatch, fleet: Fleet
) -> None:
    tags, instance, stamp = fleet.models[0], fleet.models[1], fleet.models[2]
    iso = fleet.models[3]
    wrong = {
        key(tags): {"tags": [["team", "ml"]]},
        key(instance): {"resourceConfig": {"instanceType": 42}},
        key(stamp): {"createTime": "yesterday"},
    }
    faults = {
        version_key(tags): Fault(FaultKind.WRONG_TYPES, fields={"tags": [["team", "ml"]]}),
        version_key(instance): Fault(
            FaultKind.WRONG_TYPES, fields={"resourceConfig.instanceType": 42}
        ),
        version_key(stamp): Fault(FaultKind.WRONG_TYPES, fields={"createTime": "yesterday"}),
        # an ISO 8601 string where epoch seconds are usual is still a timestamp: read
        version_key(iso): Fault(
            FaultKind.WRONG_TYPES, fields={"createTime": "2024-02-01T10:00:00Z"}
        ),
    }

    out = run_crawl(aws_env, fleet, EmulatorConfig(faults=faults))

    expected = expected_documents(fleet)
    expected[key(iso)] = {**expected[key(iso)], "createTime": "2024-02-01T10:00:00Z"}
    for mistyped, fields in wrong.items():  # read as sent, never coerced
        document = dict(expected[mistyped])
        for name, value in fields.items():
            document[name] = {**document[name], **value} if name == "resourceConfig" else value
        expected[mistyped] = document
    assert out.read == expected
    assert out.error_rows() == sorted(
        version_row(m, 0, "MalformedResponse", attempts=1) for m in (tags, instance, stamp)
    )
    messages = {e.resource_arn: e.message for e in out.errors}
    assert messages == {
        tags.arn: "tags: expected map, got list",
        instance.arn: "resourceConfig.instanceType: expected string, got integer 42",
        stamp.arn: 'createTime: expected timestamp, got string "yesterday"',
    }


def test_a_10_mb_body_is_refused_and_a_large_sane_one_read(
    aws_env: pytest.MonkeyPatch, fleet: Fleet
) -> None:
    huge, large = fleet.models[0], fleet.models[1]
    faults = {
        version_key(huge): Fault(FaultKind.HUGE, huge_bytes=10 * 1024 * 1024),
        version_key(large): Fault(FaultKind.HUGE, huge_bytes=512 * 1024),
    }

    out = run_crawl(aws_env, fleet, EmulatorConfig(faults=faults))

    read = out.read
    assert len(read.pop(key(large))["description"]) > 500_000
    assert read == expected_documents(fleet, skip={key(huge), key(large)})
    assert out.error_rows() == [version_row(huge, 0, "ResponseTooLarge", attempts=1)]
    size = out.errors[0].message.split()[2]
    assert int(size) > 10 * 1024 * 1024
    assert out.errors[0].message == (
        f"body of {size} bytes exceeds the {MAX_RESPONSE_BYTES}-byte limit"
    )


def test_a_chunked_body_over_the_cap_is_cut_off_while_it_is_read(
    aws_env: pytest.MonkeyPatch, fleet: Fleet
) -> None:
    huge, listing = fleet.models[0], fleet.models[1]
    body_bytes = 64 * 1024 * 1024  # no Content-Length: only the bytes read can tell
    faults = {
        version_key(huge): Fault(FaultKind.HUGE_CHUNKED, huge_bytes=body_bytes),
        listing.arn: Fault(FaultKind.HUGE_CHUNKED, huge_bytes=body_bytes),
    }

    out = run_crawl(aws_env, fleet, EmulatorConfig(faults=faults))

    # the version listing keyed by the model's ARN fails for that model alone
    assert out.read == expected_documents(
        fleet, skip={key(huge)} | {key(listing, i) for i in range(len(listing.versions))}
    )
    assert out.error_rows() == sorted(
        [
            version_row(huge, 0, "ResponseTooLarge", attempts=1),
            row(
                str(ErrorScope.TRAINED_MODEL),
                "ListTrainedModelVersions",
                "ResponseTooLarge",
                arn=listing.arn,
                membership=listing.membership_id,
            ),
        ]
    )
    prefix = f"body exceeds the {MAX_RESPONSE_BYTES}-byte limit (no Content-Length; cut off after "
    for error in out.errors:
        assert error.message.startswith(prefix)
        received = int(error.message.removeprefix(prefix).split()[0])
        # memory stayed bounded: reading stopped at the first chunk past the cap
        assert MAX_RESPONSE_BYTES < received <= MAX_RESPONSE_BYTES + READ_CHUNK_BYTES
    # the server could send only that plus what the sockets' buffers took (~11 MB measured on
    # loopback), never the whole body: the client hung up instead of draining it
    sent = out.counters["streamed_bytes"]
    assert set(sent) == {GET, "ListTrainedModelVersions"}
    assert all(MAX_RESPONSE_BYTES < n < body_bytes // 2 for n in sent.values()), sent


def test_responses_slower_than_the_read_timeout(aws_env: pytest.MonkeyPatch, fleet: Fleet) -> None:
    stuck, slow_once = fleet.models[0], fleet.models[1]
    faults = {
        version_key(stuck): Fault(FaultKind.SLOW, delay_s=3.0),
        version_key(slow_once): Fault(FaultKind.SLOW, delay_s=3.0, times=1),
    }
    retry = replace(FAST.retry, failure_attempts=2, deferred_passes=1)
    config = replace(FAST, read_timeout=0.3, retry=retry)

    out = run_crawl(aws_env, fleet, EmulatorConfig(faults=faults), config)

    # the SDK's read timeout cut each wait (a 3 s answer would have been read, not timed out)
    assert out.read == expected_documents(fleet, skip={key(stuck)})
    assert out.error_rows() == [version_row(stuck, 0, "ReadTimeoutError", attempts=4)]
    assert out.errors[0].message.startswith("Read timeout on endpoint URL")
    assert fetched(out.counters, stuck) == 4  # two attempts in each of two passes
    assert fetched(out.counters, slow_once) == 2


def test_a_5xx_storm_longer_than_the_backoff_budget(
    aws_env: pytest.MonkeyPatch, fleet: Fleet
) -> None:
    stormed, gusted = fleet.models[0], fleet.models[1]
    faults = {
        version_key(stormed): Fault(FaultKind.SERVER_ERROR, duration_s=60.0),
        version_key(gusted): Fault(FaultKind.SERVER_ERROR, times=2),  # within the budget of 3
        "ListTrainedModels": Fault(FaultKind.SERVER_ERROR, times=1),
    }

    out = run_crawl(aws_env, fleet, EmulatorConfig(faults=faults))

    assert out.read == expected_documents(fleet, skip={key(stormed)})
    assert out.error_rows() == [version_row(stormed, 0, "ServiceUnavailableException", GIVEN_UP)]
    assert out.errors[0].message == f"Service unavailable (still failing after {PASSES} passes)"
    assert fetched(out.counters, stormed) == GIVEN_UP
    assert fetched(out.counters, gusted) == 3
    assert out.counters["statuses"][GET]["503"] == GIVEN_UP + 2
    assert out.stats.deferred == PASSES - 1  # the stormed version, re-driven in every pass


def test_credentials_expiring_mid_scan_stop_the_calls_and_account_for_everything(
    aws_env: pytest.MonkeyPatch, fleet: Fleet
) -> None:
    allowed = 10
    out = run_crawl(aws_env, fleet, EmulatorConfig(expire_credentials={ACCESS_KEY: allowed}))

    expected = expected_documents(fleet)
    read = out.read
    assert read
    assert all(read[k] == expected[k] for k in read)
    statuses = out.counters["statuses"]
    assert sum(s.get("200", 0) for s in statuses.values()) == allowed
    refused = sum(s.get("403", 0) for s in statuses.values())
    assert 1 <= refused <= FAST.concurrency  # only the calls already in flight; then no more
    assert out.counters["total"] == allowed + refused
    assert {e.code for e in out.errors} == {"ExpiredTokenException"}
    assert sum(1 for e in out.errors if e.attempts == 1) == refused
    for error in out.errors:
        if error.attempts == 0:
            assert error.message == (
                "not attempted: the credentials failed earlier in this scan "
                "(The security token included in the request is expired)"
            )
    # every version is read or covered by an error at its own level or above
    failed_versions = {(e.resource_arn, e.version_identifier) for e in out.errors}
    failed_models = {e.resource_arn for e in out.errors if e.scope is ErrorScope.TRAINED_MODEL}
    failed_memberships = {e.membership_id for e in out.errors if e.scope is ErrorScope.MEMBERSHIP}
    for model in fleet.models:
        for version in model.versions:
            k = (model.arn, version.version_identifier)
            assert (
                k in read
                or k in failed_versions
                or model.arn in failed_models
                or model.membership_id in failed_memberships
            ), k


def test_a_rejected_next_token_keeps_the_first_pages_and_reports_the_listing(
    aws_env: pytest.MonkeyPatch, fleet: Fleet
) -> None:
    def documents_of(models: list[FleetModel]) -> dict[tuple[str, str | None], Any]:
        wanted = {m.arn for m in models}
        return {k: v for k, v in expected_documents(fleet).items() if k[0] in wanted}

    reject = Fault(FaultKind.REJECT_TOKEN)
    first, second = fleet.memberships[0].id, fleet.memberships[1].id

    # ListMemberships: page 1 (one membership) is served, the token for page 2 refused
    out = run_crawl(aws_env, fleet, EmulatorConfig(page_cap=1, faults={"ListMemberships": reject}))
    assert out.read == documents_of([m for m in fleet.models if m.membership_id == first])
    assert out.error_rows() == [
        row(str(ErrorScope.REGION), "ListMemberships", "ValidationException")
    ]

    # ListTrainedModels: the first page of two models is read, the rest of the membership not
    in_second = [m for m in fleet.models if m.membership_id == second]
    assert len(in_second) > 2
    out = run_crawl(
        aws_env,
        fleet,
        EmulatorConfig(page_cap=2, faults={"ListTrainedModels": reject}),
        scope=CrawlScope(memberships=(second,)),
    )
    assert out.read == documents_of(in_second[:2])
    assert out.error_rows() == [
        row(
            str(ErrorScope.MEMBERSHIP),
            "ListTrainedModels",
            "ValidationException",
            membership=second,
        )
    ]

    # ListTrainedModelVersions: two versions read, the model's listing reported
    model = next(m for m in fleet.models if len(m.versions) > 2)
    out = run_crawl(
        aws_env,
        fleet,
        EmulatorConfig(page_cap=2, faults={"ListTrainedModelVersions": reject}),
        scope=CrawlScope(model_arns=(model.arn,)),
    )
    assert out.read == {
        k: v for k, v in documents_of([model]).items() if k in {key(model, 0), key(model, 1)}
    }
    assert out.error_rows() == [
        row(
            str(ErrorScope.TRAINED_MODEL),
            "ListTrainedModelVersions",
            "ValidationException",
            arn=model.arn,
            membership=model.membership_id,
        )
    ]
    assert out.errors[0].message == "Invalid pagination token"


@pytest.mark.parametrize(
    "operation", ["ListMemberships", "ListTrainedModels", "ListTrainedModelVersions"]
)
def test_a_next_token_refused_once_restarts_the_listing_and_loses_nothing(
    aws_env: pytest.MonkeyPatch, fleet: Fleet, operation: str
) -> None:
    # Pagination tokens expire: the first follow-up page of this listing is refused once.
    # The listing starts again from its first page; nothing is lost or read twice.
    faults = {operation: Fault(FaultKind.REJECT_TOKEN, times=1)}

    out = run_crawl(aws_env, fleet, EmulatorConfig(page_cap=1, faults=faults))

    assert out.read == expected_documents(fleet)
    assert out.errors == []
    assert out.stats.restarts == 1
    assert out.counters["statuses"][operation].get("400") == 1
    gets: dict[str, int] = out.counters["resources"][GET]
    assert len(gets) == sum(len(m.versions) for m in fleet.models)
    assert set(gets.values()) == {1}  # each version read exactly once
    assert out.stats.memberships == len(fleet.memberships)
    assert out.stats.models == len(fleet.models)


def test_the_deadline_cuts_a_call_in_flight(aws_env: pytest.MonkeyPatch, fleet: Fleet) -> None:
    config = replace(FAST, deadline=0.5, read_timeout=30.0)
    faults = {"ListMemberships": Fault(FaultKind.SLOW, delay_s=10.0)}

    out = run_crawl(aws_env, fleet, EmulatorConfig(faults=faults), config)

    # "during the call": the deadline cut the call in flight, not its 10 s answer
    assert out.read == {}
    assert out.error_rows() == [
        row(str(ErrorScope.REGION), "ListMemberships", "ScanDeadlineExceeded")
    ]
    assert out.errors[0].message == "scan deadline passed during the call"


def test_the_deadline_under_throttling_reports_what_it_did_not_reach(
    aws_env: pytest.MonkeyPatch, fleet: Fleet
) -> None:
    config = replace(
        FAST,
        deadline=1.0,
        rate=RateConfig(initial_rate=50.0, max_rate=100.0),
        retry=RetryPolicy(),  # the real throttling patience: far more than the deadline
    )
    emulator = EmulatorConfig(rate_limit=RateLimit(rate=4, burst=1))

    out = run_crawl(aws_env, fleet, emulator, config)

    expected = expected_documents(fleet)
    assert all(out.read[k] == expected[k] for k in out.read)
    assert len(out.read) < len(expected)
    assert out.errors
    assert {e.code for e in out.errors} == {"ScanDeadlineExceeded"}


def test_a_repeating_next_token_is_a_pagination_loop_for_that_membership_alone(
    aws_env: pytest.MonkeyPatch,
) -> None:
    fleet = generate_fleet(seed=4, memberships=2, models=14, versions_per_model=(1, 1))
    looping, whole = fleet.memberships[0].id, fleet.memberships[1].id
    assert len(fleet.models_of(looping)) > 4
    assert len(fleet.models_of(whole)) > 4
    # the follow-up pages of one membership's ListTrainedModels answer with the token they
    # were asked with (version listings here have one page: no token to repeat)
    faults = {looping: Fault(FaultKind.REPEAT_TOKEN)}

    out = run_crawl(aws_env, fleet, EmulatorConfig(page_cap=2, faults=faults))

    assert out.error_rows() == [
        row(str(ErrorScope.MEMBERSHIP), "ListTrainedModels", "PaginationLoop", membership=looping)
    ]
    [error] = out.errors
    assert error.message.startswith("ListTrainedModels returned nextToken '")
    assert error.message.endswith("' twice (after 2 pages); the rest of this listing was not read")
    # the two pages the looping listing served are read, the rest of the scan is whole
    listed = {m.arn for m in fleet.models_of(looping)[:4]} | {m.arn for m in fleet.models_of(whole)}
    assert out.read == {k: v for k, v in expected_documents(fleet).items() if k[0] in listed}
    listings = out.counters["resources"]["ListTrainedModels"]
    assert listings[looping] == 2  # stopped at the first repeat


FAULT_FLEET_SEED = 31


@pytest.fixture(scope="module")
def fault_fleet() -> Fleet:
    return generate_fleet(
        seed=FAULT_FLEET_SEED, memberships=3, models=30, versions_per_model=(2, 4)
    )


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("error_rate", [0.15, 0.30])
def test_injected_5xx_under_throttling_lose_nothing_and_read_each_version_once(
    aws_env: pytest.MonkeyPatch, fault_fleet: Fleet, error_rate: float, seed: int
) -> None:
    # what lost a third of an estate before: pages of 3, throttling, 5xx at random
    emulator = EmulatorConfig(
        rate_limit=RateLimit(rate=150, burst=2), error_rate=error_rate, seed=seed, page_cap=3
    )
    config = replace(
        FAST,
        concurrency=8,
        retry=replace(FAST.retry, failure_attempts=RetryPolicy().failure_attempts),
    )

    out = run_crawl(aws_env, fault_fleet, emulator, config)

    assert out.errors == []
    assert out.read == expected_documents(fault_fleet)  # 0 versions lost
    served: dict[str, int] = out.counters["resources"][GET]
    versions = {version_key(m, i) for m in fault_fleet.models for i in range(len(m.versions))}
    assert served == dict.fromkeys(versions, 1)  # each read exactly once, by the server's count
    statuses = out.counters["statuses"]
    assert sum(s.get("500", 0) for s in statuses.values()) > 0  # 5xx were injected
    assert sum(out.counters["throttled"].values()) == out.stats.throttles > 0
