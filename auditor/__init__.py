"""auditor: compliance audits for AWS Clean Rooms ML trained models."""

from __future__ import annotations

# The one place the version is written: pyproject.toml reads it (``tool.setuptools.dynamic``).
# A literal, not importlib.metadata: that import alone costs every run about 25 ms.
__version__ = "0.1.0"
