"""Scheduled runs: ``--history-dir`` keeps every run's report.json and a small index of them.

``DIR/report-<finished_at>.json`` is the run's report.json; ``DIR/index.jsonl`` holds one line
per run with its counts, so drawing the trend of past runs never re-reads their reports (which
can be large). The HTML report draws failures by severity over the runs in the index (``RunPoint``, a record
in ``auditor.models``: this module stands above the report writers and uses them, never the
other way round).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from auditor.atomic import write_atomic
from auditor.models import Report, RunPoint, Severity
from auditor.reports.json import iter_json

__all__ = ["INDEX", "MAX_POINTS", "RunPoint", "load_history", "record_run", "trend"]

log = logging.getLogger(__name__)

INDEX = "index.jsonl"
MAX_POINTS = 60  # runs drawn in the trend chart; older ones stay on disk and in the index


def _point(document: Any) -> RunPoint | None:
    try:
        counts = document["fail_by_severity"]
        return RunPoint(
            finished_at=str(document["finished_at"]),
            fail_by_severity={str(s): int(counts.get(str(s), 0)) for s in Severity},
            versions=int(document["versions"]),
            errors=int(document["errors"]),
            complete=bool(document["complete"]),
            gate_passed=bool(document["gate_passed"]),
            file=str(document.get("file", "")),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def load_history(directory: Path) -> list[RunPoint]:
    """Past runs in ``directory``'s index, oldest first; unreadable lines are skipped."""
    try:
        text = (directory / INDEX).read_text("utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("history: cannot read %s: %s", directory / INDEX, exc)
        return []
    points = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            point = _point(json.loads(line))
        except ValueError:
            point = None
        if point is None:
            log.warning("history: %s line %d is not a run; skipped", directory / INDEX, number)
            continue
        points.append(point)
    points.sort(key=lambda p: p.finished_at)
    return points


def trend(directory: Path, report: Report) -> list[RunPoint]:
    """The runs to draw: past ones from the index, then this one; at most ``MAX_POINTS``."""
    return [*load_history(directory), RunPoint.of(report)][-MAX_POINTS:]


def report_filename(report: Report) -> str:
    stamp = re.sub(r"[^0-9A-Za-z.]", "", report.scan.finished_at) or "run"
    shard = f"-shard{report.scan.shard.replace('/', 'of')}" if report.scan.shard else ""
    return f"report-{stamp}{shard}.json"


def _chunks(path: Path, size: int = 1 << 20) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(size):
            yield chunk


def record_run(directory: Path, report: Report, report_json: Path | None) -> Path:
    """Keep this run's report.json (copied from ``report_json``, or rendered) and index it."""
    name = report_filename(report)
    target = directory / name
    number = 1
    while target.exists():  # two runs finishing in the same millisecond keep both
        number += 1
        name = name.removesuffix(".json").rsplit("~", 1)[0] + f"~{number}.json"
        target = directory / name
    write_atomic(target, _chunks(report_json) if report_json is not None else iter_json(report))
    index = directory / INDEX
    with index.open("a", encoding="utf-8") as handle:
        handle.write(RunPoint.of(report, name).to_json() + "\n")
    return target
