from __future__ import annotations

import functools
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from auditor.emulator import EmulatorConfig, EmulatorServer
from auditor.fleet import Fleet

StartEmulator = Any


def _ml(server: EmulatorServer, credentials: dict[str, str], config: Config) -> Any:
    return boto3.client(
        "cleanroomsml", endpoint_url=server.endpoint_url, config=config, **credentials
    )


def _codes(calls: int, call: Any) -> list[str]:
    codes = []
    for _ in range(calls):
        try:
            call()
            codes.append("OK")
        except ClientError as exc:
            codes.append(exc.response["Error"]["Code"])
    return codes


def test_error_rate_answers_a_share_with_500s_reproducibly(
    start_emulator: StartEmulator, fleet: Fleet, credentials: dict[str, str], no_retries: Config
) -> None:
    runs = []
    for _ in range(2):
        server = start_emulator(EmulatorConfig(error_rate=0.5, seed=4))
        ml = _ml(server, credentials, no_retries)
        call = functools.partial(
            ml.list_trained_models, membershipIdentifier=fleet.memberships[0].id
        )
        runs.append(_codes(40, call))

    assert runs[0] == runs[1]
    assert set(runs[0]) == {"OK", "InternalServerException"}


def test_denied_membership_refuses_its_models_only(
    start_emulator: StartEmulator, fleet: Fleet, credentials: dict[str, str], no_retries: Config
) -> None:
    denied, allowed = fleet.memberships[0], fleet.memberships[1]
    server = start_emulator(EmulatorConfig(deny_memberships=frozenset({denied.id})))
    ml = _ml(server, credentials, no_retries)
    model = fleet.models_of(denied.id)[0]

    with pytest.raises(ml.exceptions.AccessDeniedException):
        ml.list_trained_models(membershipIdentifier=denied.id)
    with pytest.raises(ml.exceptions.AccessDeniedException):
        ml.get_trained_model(membershipIdentifier=denied.id, trainedModelArn=model.arn)
    assert ml.list_trained_models(membershipIdentifier=allowed.id)["trainedModels"]
    assert server.counters.snapshot()["statuses"]["ListTrainedModels"] == {"403": 1, "200": 1}


def test_vanished_model_is_listed_but_not_found_when_read(
    start_emulator: StartEmulator, fleet: Fleet, credentials: dict[str, str], no_retries: Config
) -> None:
    model = fleet.models[0]
    server = start_emulator(EmulatorConfig(vanish_models=frozenset({model.arn})))
    ml = _ml(server, credentials, no_retries)

    listed = ml.list_trained_models(membershipIdentifier=model.membership_id)["trainedModels"]
    versions = ml.list_trained_model_versions(
        membershipIdentifier=model.membership_id, trainedModelArn=model.arn
    )["trainedModels"]

    assert model.arn in {s["trainedModelArn"] for s in listed}
    assert len(versions) == len(model.versions)
    with pytest.raises(ml.exceptions.ResourceNotFoundException):
        ml.get_trained_model(
            membershipIdentifier=model.membership_id,
            trainedModelArn=model.arn,
            versionIdentifier=versions[0]["versionIdentifier"],
        )
    assert server.counters.snapshot()["statuses"]["GetTrainedModel"] == {"404": 1}


def test_a_single_version_can_vanish(
    start_emulator: StartEmulator, fleet: Fleet, credentials: dict[str, str], no_retries: Config
) -> None:
    model = next(m for m in fleet.models if len(m.versions) > 1)
    gone, kept = model.versions[0], model.versions[1]
    server = start_emulator(
        EmulatorConfig(vanish_models=frozenset({f"{model.arn}#{gone.version_identifier}"}))
    )
    ml = _ml(server, credentials, no_retries)

    def get(version_id: str) -> Any:
        return ml.get_trained_model(
            membershipIdentifier=model.membership_id,
            trainedModelArn=model.arn,
            versionIdentifier=version_id,
        )

    with pytest.raises(ml.exceptions.ResourceNotFoundException):
        get(gone.version_identifier)
    assert get(kept.version_identifier)["versionIdentifier"] == kept.version_identifier


def test_latency_delays_responses(
    start_emulator: StartEmulator, fleet: Fleet, credentials: dict[str, str], no_retries: Config
) -> None:
    server = start_emulator(EmulatorConfig(latency_ms=400, jitter_ms=50))
    impatient = Config(retries={"total_max_attempts": 1}, read_timeout=0.2)
    ml = _ml(server, credentials, impatient)

    with pytest.raises(Exception, match="Read timeout"):
        ml.list_trained_models(membershipIdentifier=fleet.memberships[0].id)


@pytest.mark.parametrize(
    "config",
    [
        {"error_rate": 1.5},
        {"latency_ms": -1},
        {"page_cap": 0},
    ],
)
def test_config_rejects_nonsense(config: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be"):
        EmulatorConfig(**config)
