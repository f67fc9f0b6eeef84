from __future__ import annotations

from ..reliability.conftest import aws_env, fleet

__all__ = ["aws_env", "fleet"]
