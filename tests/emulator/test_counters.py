from __future__ import annotations

import json
import threading
import urllib.request
from typing import Any

from auditor.emulator import Counters, EmulatorServer
from auditor.fleet import Fleet

MakeClient = Any


def _crawl(client: MakeClient, fleet: Fleet) -> None:
    cleanrooms, ml = client("cleanrooms"), client("cleanroomsml")
    for membership in cleanrooms.list_memberships()["membershipSummaries"]:
        listed = ml.list_trained_models(membershipIdentifier=membership["id"])
        for summary in listed["trainedModels"]:
            arn = summary["trainedModelArn"]
            versions = ml.list_trained_model_versions(
                membershipIdentifier=membership["id"], trainedModelArn=arn
            )
            for version in versions["trainedModels"]:
                ml.get_trained_model(
                    membershipIdentifier=membership["id"],
                    trainedModelArn=arn,
                    versionIdentifier=version["versionIdentifier"],
                )


def test_counters_count_each_operation_and_each_version_read_once(
    client: MakeClient, emulator: EmulatorServer, fleet: Fleet
) -> None:
    _crawl(client, fleet)

    snapshot = emulator.counters.snapshot()
    assert snapshot["operations"] == {
        "ListMemberships": 1,
        "ListTrainedModels": len(fleet.memberships),
        "ListTrainedModelVersions": len(fleet.models),
        "GetTrainedModel": fleet.version_count,
    }
    assert snapshot["total"] == 1 + len(fleet.memberships) + len(fleet.models) + fleet.version_count
    assert snapshot["statuses"]["GetTrainedModel"] == {"200": fleet.version_count}
    assert snapshot["resources"]["GetTrainedModel"] == {
        f"{model.arn}#{v.version_identifier}": 1 for model in fleet.models for v in model.versions
    }
    assert snapshot["resources"]["ListTrainedModels"] == {m.id: 1 for m in fleet.memberships}
    assert snapshot["throttled"] == snapshot["refused"] == snapshot["faulted"] == {}


def test_get_latest_counts_against_the_version_served(
    client: MakeClient, emulator: EmulatorServer, fleet: Fleet
) -> None:
    model = fleet.models[0]

    client("cleanroomsml").get_trained_model(
        membershipIdentifier=model.membership_id, trainedModelArn=model.arn
    )

    key = f"{model.arn}#{model.latest.version_identifier}"
    assert emulator.counters.calls("GetTrainedModel", key) == 1
    assert emulator.counters.calls("GetTrainedModel") == 1


def test_reset_clears_every_counter(client: MakeClient, emulator: EmulatorServer) -> None:
    client("cleanrooms").list_memberships()

    emulator.counters.reset()

    assert emulator.counters.snapshot()["total"] == 0
    assert emulator.counters.snapshot()["operations"] == {}


def test_counters_endpoint_serves_the_snapshot_and_resets(
    client: MakeClient, emulator: EmulatorServer
) -> None:
    client("cleanrooms").list_memberships()
    url = emulator.endpoint_url + "/_emulator/"

    with urllib.request.urlopen(url + "counters", timeout=5) as response:
        served = json.load(response)
    reset = urllib.request.Request(url + "reset", method="POST")
    urllib.request.urlopen(reset, timeout=5).close()

    assert served["total"] == 1
    assert served["operations"] == {"ListMemberships": 1}
    assert emulator.counters.snapshot()["total"] == 0


def test_counters_are_consistent_under_concurrent_writers() -> None:
    counters = Counters()

    def write() -> None:
        for _ in range(2000):
            counters.record("GetTrainedModel", 200, resource="arn#v")

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    snapshot = counters.snapshot()
    assert snapshot["operations"] == {"GetTrainedModel": 8000}
    assert snapshot["resources"] == {"GetTrainedModel": {"arn#v": 8000}}
