"""The shipped context pack on a generated estate: each version fails exactly the context
policies its related resources were built to break, and inherits its base's high failures."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from auditor.crawler import CrawlScope
from auditor.emulator import EmulatorConfig
from auditor.fleet import (
    CONTEXT_RISKS,
    FOREIGN_ACCOUNT,
    Fleet,
    generate_fleet,
)
from auditor.models import ModelVersion, Status
from auditor.policy import load_packs

from ..reliability.conftest import FAST, run_crawl

CONTEXT_PACK = Path(__file__).parents[2] / "policies" / "cleanrooms-ml-context.yaml"
HIGH = {"training-logs-not-shared-raw", "model-exports-capped", "input-channels-encrypted"}


@pytest.fixture(scope="module")
def context_fleet() -> Fleet:
    return generate_fleet(seed=9, memberships=2, models=16, versions_per_model=(1, 3), context=True)


def test_context_pack_verdicts_match_what_the_fleet_broke(
    aws_env: pytest.MonkeyPatch, context_fleet: Fleet
) -> None:
    policy_set = load_packs([CONTEXT_PACK])
    assert policy_set.context_roots == {
        "$association",
        "$inputChannels",
        "$baseModels",
        "$inferenceJobs",
    }
    config = replace(FAST, context_roots=policy_set.context_roots)
    outcome = run_crawl(aws_env, context_fleet, EmulatorConfig(), config, CrawlScope())
    risks = context_fleet.context.risks
    documents = {
        (v.document["trainedModelArn"], v.version_identifier): v.document
        for v in context_fleet.versions()
    }
    by_name = {
        (m.membership_id, m.versions[0].document["name"]): m.arn for m in context_fleet.models
    }

    def own_failures(document: dict) -> set[str]:
        found = set(risks.get(document["configuredModelAlgorithmAssociationArn"], ()))
        for channel in document["dataChannels"]:
            found |= set(risks.get(channel["mlInputChannelArn"], ()))
        return found & set(CONTEXT_RISKS)

    def expected(document: dict) -> set[str]:
        failures = own_failures(document)
        for channel in document.get("incrementalTrainingDataChannels", ()):
            base_arn = by_name[(document["membershipIdentifier"], channel["modelName"])]
            base = documents[(base_arn, channel["versionIdentifier"])]
            if expected(base) & (HIGH | {"base-model-compliant"}):
                failures.add("base-model-compliant")
        return failures

    versions = [item for item in outcome.items if isinstance(item, ModelVersion)]
    assert len(versions) == context_fleet.version_count
    inherited = 0
    for version in versions:
        verdict = policy_set.evaluate(version)
        failing = {
            info.id
            for index, info in enumerate(policy_set.infos)
            if verdict.status_of(index) is Status.FAIL
        }
        assert failing == expected(dict(version.document)), version.resource.key
        for failure in verdict.failures:
            if failure.policy.id == "base-model-compliant":
                inherited += 1
                assert any(
                    "inherited from arn:aws:cleanrooms-ml:" in e.message for e in failure.evidence
                )
    assert inherited, "the fleet should hold a version built on a failing base"
    assert not any(f":{FOREIGN_ACCOUNT}:" in (e.resource_arn or "") for e in outcome.errors)
