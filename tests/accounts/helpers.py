"""What a scan of the test organization must find, computed offline from the fleet."""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

from auditor.audit import ReportBuilder, ReportOptions
from auditor.fleet import Fleet
from auditor.models import ModelVersion, Report, Resource
from auditor.policy import default_pack_path, load_packs
from auditor.reports.load import load_report

Verdicts = dict[tuple[str, str | None], tuple[bytes, tuple[str, ...], str | None, str | None]]


def verdicts_of(report: Report) -> Verdicts:
    return {
        verdict.resource.key: (
            verdict.statuses,
            tuple(result.policy_id for result in verdict.failures),
            verdict.resource.account,
            verdict.resource.region,
        )
        for verdict in report.verdicts
    }


def expected_verdicts(fleet: Fleet, accounts: Collection[str]) -> Verdicts:
    """Every version of ``accounts``' memberships, evaluated offline by the shipped pack."""
    memberships = {m.id: m for m in fleet.memberships}
    builder = ReportBuilder(load_packs([default_pack_path()], {}), mode="evaluate")
    for model in fleet.models:
        membership = memberships[model.membership_id]
        if membership.account not in accounts:
            continue
        for version in model.versions:
            resource = Resource(
                arn=model.arn,
                version_identifier=version.version_identifier,
                account=membership.account,
                region=membership.region,
            )
            builder.add(ModelVersion(resource=resource, document=version.document))
    return verdicts_of(builder.build(ReportOptions()))


def errors_of(report: Report) -> list[tuple[str | None, str | None, str, str]]:
    return sorted((e.account, e.region, e.operation, e.code) for e in report.errors)


def read_report(directory: Path) -> Report:
    path = directory / "report.json"
    return load_report(path.read_bytes(), str(path))


def read_document(directory: Path) -> Any:
    return json.loads((directory / "report.json").read_text())
