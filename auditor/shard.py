"""Splitting a scan's account-region work across machines: ``--shard I/N``.

Each account-region unit belongs to exactly one shard, chosen by a hash of its name alone
(not by its position in a list), so every machine agrees on the split without talking to the
others, even when their listings of an organization differ by an account created mid-run.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from auditor.errors import UsageError

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not 1 <= self.index <= self.count:
            raise UsageError(f"shard must be I/N with 1 <= I <= N, got {self.index}/{self.count}")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def owns(self, account: str | None, region: str) -> bool:
        """Whether the unit ``account``/``region`` is this shard's work."""
        return shard_of(account, region, self.count) == self.index


def parse_shard(text: str) -> Shard:
    """``"2/5"`` -> ``Shard(2, 5)``; raises ``UsageError`` otherwise. A CI matrix or an indexed
    Job often counts from 0: write ``$((JOB_COMPLETION_INDEX + 1))/N``."""
    match = _SHARD.match(text)
    if match is None:
        raise UsageError(f"--shard: expected I/N (e.g. 2/5), got {text!r}")
    return Shard(int(match.group(1)), int(match.group(2)))


def shard_of(account: str | None, region: str, count: int) -> int:
    """The 1-based shard of the unit ``account``/``region`` among ``count``."""
    digest = hashlib.sha256(f"{account or ''}/{region}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def model_share(model_arn: str, count: int) -> int:
    """The 0-based share of ``count`` that a trained model belongs to when worker processes
    split one account-region (``--workers``): a hash of its ARN, the same in every process."""
    digest = hashlib.sha256(model_arn.encode()).digest()
    return int.from_bytes(digest[:8], "big") % count
