"""The writers' place in the layers: data flows one way (models -> reports -> history/CLI), a
writer does not read reports back, and no report module imports a layer above it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import auditor.reports

REPORTS = Path(auditor.reports.__file__).parent
HIGHER = ("auditor.history", "auditor.cli", "auditor.scan", "auditor.audit", "auditor.baseline")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_report_module_imports_a_higher_layer() -> None:
    for path in REPORTS.glob("*.py"):
        imported = _imports(path)
        assert not {name for name in imported for higher in HIGHER if name.startswith(higher)}, path


def test_history_stands_above_the_writers() -> None:
    history = Path(auditor.reports.__file__).parents[1] / "history.py"
    assert "auditor.reports.json" in _imports(history)


def test_the_json_writer_does_not_load_the_reader() -> None:
    code = (
        "import sys, auditor.reports.json as writer; "
        "writer.render_json; "
        "print('auditor.reports.load' in sys.modules, 'jsonschema' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "False"]


def test_the_readers_old_names_still_resolve_from_the_writer_module() -> None:
    from auditor.reports import json as writer
    from auditor.reports import load

    assert writer.load_report is load.load_report
    assert writer.validate_report_document is load.validate_report_document
