"""Live counters of a crawl, cheap enough to bump on every call and poll for a progress bar."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from auditor.crawler.context import RelatedStats


@dataclass(slots=True)
class CrawlStats:
    """Plain counters a progress display reads (a few times a second) while the crawl writes.

    ``versions_discovered`` is the running total to read; ``versions_done`` counts versions
    read or given up on. ``rates`` is each operation's current send rate (requests/s) and
    ``limits`` the limit its controller last measured.
    """

    memberships: int = 0
    models: int = 0
    versions_discovered: int = 0
    versions_done: int = 0
    errors: int = 0
    throttles: int = 0
    retries: int = 0
    restarts: int = 0  # listings started again after a refused nextToken
    deferred: int = 0  # pages and reads given up in one pass and re-driven in the next
    passes: int = 1  # passes of the pipeline run so far (1 + deferred passes)
    calls: Counter[str] = field(default_factory=Counter)
    rates: dict[str, float] = field(default_factory=dict)
    limits: dict[str, float] = field(default_factory=dict)
    #: what the related-resource reads found, when the policies read any context
    related: RelatedStats | None = None

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())
