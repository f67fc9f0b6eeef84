"""A model one scanned account trained, seen by another scanned account as a partner's model:
reported once, as its owner's trained model, in one run and across merged shards, whichever
arrives first."""

from __future__ import annotations

import copy
import itertools

import pytest

from auditor.audit import ReportBuilder, ReportOptions
from auditor.merge import merge_reports
from auditor.models import ModelVersion, Resource, ResourceType
from auditor.policy import default_pack_path, load_packs
from auditor.reports.json import render_json
from auditor.reports.load import load_report

from .policy.conftest import COLLABORATION_COMPLIANT, COMPLIANT

BOTH = frozenset(ResourceType)
ARN = str(COMPLIANT["trainedModelArn"])
VERSION = str(COMPLIANT["versionIdentifier"])


def own() -> ModelVersion:
    resource = Resource(arn=ARN, version_identifier=VERSION, account="111122223333")
    return ModelVersion(resource=resource, document=copy.deepcopy(COMPLIANT))


def seen_by_partner() -> ModelVersion:
    document = {**copy.deepcopy(COLLABORATION_COMPLIANT), "trainedModelArn": ARN}
    resource = Resource(
        arn=ARN,
        version_identifier=VERSION,
        account="444455556666",
        type=ResourceType.COLLABORATION_TRAINED_MODEL,
        creator_account="111122223333",
    )
    return ModelVersion(resource=resource, document=document)


def other_partner_model() -> ModelVersion:
    document = copy.deepcopy(COLLABORATION_COMPLIANT)
    resource = Resource(
        arn=str(document["trainedModelArn"]),
        version_identifier=str(document["versionIdentifier"]),
        type=ResourceType.COLLABORATION_TRAINED_MODEL,
    )
    return ModelVersion(resource=resource, document=document)


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_one_run_keeps_the_owners_verdict_whatever_the_order(order: tuple[int, ...]) -> None:
    items = [own(), seen_by_partner(), other_partner_model()]
    builder = ReportBuilder(
        load_packs([default_pack_path()]).with_resource_types(BOTH), mode="scan"
    )
    for index in order:
        builder.add(items[index])
    builder.add(seen_by_partner())  # a second view of it changes nothing either
    report = builder.build(ReportOptions())
    kinds = sorted((v.resource.arn, v.resource.type) for v in report.verdicts)
    assert kinds == sorted(
        [
            (ARN, ResourceType.TRAINED_MODEL),
            (items[2].resource.arn, ResourceType.COLLABORATION_TRAINED_MODEL),
        ]
    )
    # and it survives its own writer and reader
    loaded = load_report(render_json(report), "report.json")
    assert sorted((v.resource.arn, v.resource.type) for v in loaded.verdicts) == kinds


@pytest.mark.parametrize("owner_first", [True, False])
def test_merged_shards_keep_the_owners_verdict(owner_first: bool) -> None:
    policy_set = load_packs([default_pack_path()]).with_resource_types(BOTH)
    owner = ReportBuilder(policy_set, mode="scan")
    owner.add(own())
    partner = ReportBuilder(policy_set, mode="scan")
    partner.add(seen_by_partner())
    partner.add(other_partner_model())
    shards = [
        ("owner.json", owner.build(ReportOptions())),
        ("partner.json", partner.build(ReportOptions())),
    ]
    if not owner_first:
        shards.reverse()
    merged = merge_reports(shards, ReportOptions())
    kinds = sorted((v.resource.arn, v.resource.type) for v in merged.verdicts)
    assert kinds == sorted(
        [
            (ARN, ResourceType.TRAINED_MODEL),
            (other_partner_model().resource.arn, ResourceType.COLLABORATION_TRAINED_MODEL),
        ]
    )
