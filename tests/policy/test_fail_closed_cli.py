"""``auditor evaluate`` over the fail-closed fixtures: seven policies written with not, any,
quantifiers and missing: pass, five documents (missing fields, null fields, mistyped fields, a
compliant and a non-compliant model). No document that cannot be shown compliant passes.

Before the engine failed closed, 17 of the 21 cells of the first three columns passed, 15 of
them falsely (all but instance-count-capped on the missing and null documents, which its
missing: pass declares compliant).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from auditor.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
PACK = FIXTURES / "fail-closed-pack.yaml"
DOCUMENTS = FIXTURES / "fail-closed-documents.json"

DOCUMENT_NAMES = ["missing-fields", "null-fields", "mistyped-fields", "compliant", "noncompliant"]
# The one pass outside the compliant column: instance-count-capped says missing: pass (the API
# defaults a missing count to 1), and in those documents instanceCount is missing or null,
# under a resourceConfig that is an object or null. Behind a list (mistyped) it is unknown.
EXPECTED = {
    "no-aws-managed-key": "fail fail fail pass fail",
    "customer-key-or-not-exempt": "fail fail fail pass fail",
    "instance-count-capped": "pass pass fail pass fail",
    "runtime-capped": "fail fail fail pass fail",
    "no-gpu-instance": "fail fail fail pass fail",
    "no-secret-in-tags": "fail fail fail pass fail",
    "channels-fully-replicated": "fail fail fail pass fail",
}


@pytest.fixture
def evaluated(tmp_path: Path) -> tuple[int, dict[str, object], list[dict[str, str]]]:
    # --allow-incomplete: the gate alone decides the exit code, even where the input check
    # reports the mistyped document as malformed (exit 3 otherwise)
    code = main(
        [
            "evaluate",
            "--input",
            str(DOCUMENTS),
            "--policies",
            str(PACK),
            "--output-dir",
            str(tmp_path),
            "--format",
            "json,csv",
            "--allow-incomplete",
        ]
    )
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    with (tmp_path / "report.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return code, report, rows


def test_no_false_passes_and_the_gate_fails(
    evaluated: tuple[int, dict[str, object], list[dict[str, str]]],
) -> None:
    code, report, _ = evaluated
    results = report["results"]
    assert isinstance(results, list)

    table: dict[str, dict[str, str]] = {}
    for result in results:
        table.setdefault(result["policy_id"], {})[result["resource"]["name"]] = result["status"]

    assert code == 1
    assert {
        policy_id: " ".join(row[name] for name in DOCUMENT_NAMES)
        for policy_id, row in table.items()
    } == EXPECTED


def test_evidence_tells_unreadable_from_violated(
    evaluated: tuple[int, dict[str, object], list[dict[str, str]]],
) -> None:
    _, report, rows = evaluated
    results = report["results"]
    assert isinstance(results, list)

    kinds: dict[str, set[str]] = {}
    for result in results:
        for item in result["evidence"]:
            kinds.setdefault(result["resource"]["name"], set()).add(item["kind"])

    assert kinds["missing-fields"] == {"missing"}
    assert kinds["null-fields"] == {"missing"}
    # (and its tags.exempt is missing, which customer-key-or-not-exempt reads)
    assert kinds["mistyped-fields"] == {"wrong-type", "missing"}
    assert kinds["noncompliant"] == {"violated"}
    assert "compliant" not in kinds
    by_cell = {(row["policy_id"], row["name"]): row for row in rows}
    mistyped = by_cell[("instance-count-capped", "mistyped-fields")]
    assert mistyped["evidence_kind"] == "wrong-type"
    assert mistyped["evidence"].startswith("[wrong-type] resourceConfig is [")
    assert (
        "an array, not an object, so resourceConfig.instanceCount cannot be read"
        in (mistyped["evidence"])
    )
    assert by_cell[("no-aws-managed-key", "missing-fields")]["evidence"] == (
        "[missing] kmsKeyArn is missing; expected not matching *:alias/aws/*"
    )
    assert by_cell[("no-aws-managed-key", "compliant")]["evidence_kind"] == ""
