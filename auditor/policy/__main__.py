"""``python -m auditor.policy``: print the pack JSON Schema (the shipped file's contents)."""

from __future__ import annotations

import sys

from auditor.policy.schema import pack_schema_text

sys.stdout.write(pack_schema_text())
