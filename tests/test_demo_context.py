"""`auditor demo` reads the seeded fleet's context and says what it found."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from auditor.cli import main
from auditor.fleet import generate_fleet


def test_demo_prints_what_the_context_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo"
    argv = ["demo", "--models", "30", "--rate", "400", "--quiet", "--output-dir", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    line = next(text for text in printed.splitlines() if text.startswith("context: "))
    found = re.fullmatch(
        r"context: (\d+) associations, (\d+) input channels \((\d+) unencrypted\), "
        r"(\d+) incremental chains, (\d+) inference jobs on (\d+) failing versions",
        line,
    )
    assert found, line
    fleet = generate_fleet(
        seed=7, memberships=4, models=30, versions_per_model=(1, 3), context=True
    )
    documents = list(fleet.versions())
    referred = {d.document["configuredModelAlgorithmAssociationArn"] for d in documents}
    channels = {c["mlInputChannelArn"] for d in documents for c in d.document["dataChannels"]}
    unencrypted = {
        c["mlInputChannelArn"] for c in fleet.context.input_channels if "kmsKeyArn" not in c
    } & channels
    chains = sum(1 for d in documents if d.document.get("incrementalTrainingDataChannels"))
    assert int(found[1]) == len(referred)
    assert int(found[2]) == len(channels)
    assert int(found[3]) == len(unencrypted)
    assert int(found[4]) == chains
    report = json.loads((out / "report.json").read_text())
    blast = [
        item for item in report.get("lineage", []) if item["failing"] and item["inference_jobs"]
    ]
    assert int(found[6]) == len(blast)
    assert int(found[5]) == len({job["arn"] for item in blast for job in item["inference_jobs"]})
    assert int(found[5]) > 0
