"""Command line: the only place that turns errors into messages and exit codes."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    print("auditor: not wired yet", file=sys.stderr)
    return 2
