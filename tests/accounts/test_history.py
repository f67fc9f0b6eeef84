"""--history-dir: each run kept by timestamp, the HTML draws failures by severity over runs."""

from __future__ import annotations

import json
from pathlib import Path

from auditor.cli import main
from auditor.fleet import generate_fleet
from auditor.history import INDEX, load_history

FLEET = generate_fleet(seed=5, memberships=2, models=10, noncompliant_share=0.5)


def _evaluate(tmp_path: Path, history: Path, documents: list[object], run: int) -> int:
    path = tmp_path / f"input{run}.json"
    path.write_text(json.dumps(documents))
    out = tmp_path / f"out{run}"
    return main(
        ["evaluate", "--input", str(path), "--output-dir", str(out), "--history-dir", str(history)]
    )


def test_runs_are_kept_and_drawn_as_a_trend(tmp_path: Path) -> None:
    history = tmp_path / "history"
    documents = [version.document for version in FLEET.versions()]
    for run, share in enumerate((len(documents), len(documents) // 2, 1)):
        _evaluate(tmp_path, history, documents[:share], run)

    points = load_history(history)
    assert len(points) == 3
    assert [p.versions for p in points] == [len(documents), len(documents) // 2, 1]
    assert sorted(p.file for p in points) == sorted(f.name for f in history.glob("report-*.json"))
    kept = json.loads((history / points[0].file).read_text())
    assert kept["summary"]["versions"] == len(documents)

    html = (tmp_path / "out2" / "report.html").read_text()
    assert 'id="trend"' in html
    assert "Trend over 3 run(s)" in html
    assert html.count('<polyline points="') == 5  # one line per severity
    assert "http://" not in html.split('id="trend"')[1].split("</section>")[0].replace(
        "http://www.w3.org", ""
    )


def test_a_damaged_index_line_is_skipped(tmp_path: Path) -> None:
    history = tmp_path / "history"
    _evaluate(tmp_path, history, [v.document for v in FLEET.versions()], 0)
    with (history / INDEX).open("a") as handle:
        handle.write("not json\n{}\n")
    assert len(load_history(history)) == 1
    _evaluate(tmp_path, history, [v.document for v in FLEET.versions()], 1)
    assert len(load_history(history)) == 2
