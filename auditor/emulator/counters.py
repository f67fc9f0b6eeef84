"""What the emulator was asked: per operation, status code, resource, caller; thread-safe."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from typing import Any


class Counters:
    """Request tallies written by the server's loop and read from any thread.

    Operations are AWS operation names (``GetTrainedModel``); a refused request to an
    operation the emulator does not serve is tallied under its AWS name when botocore's
    model knows the route, else ``Unknown``. Resource keys: ``ListTrainedModels`` ->
    membership id, ``ListTrainedModelVersions``/``ListTagsForResource`` -> ARN,
    ``GetTrainedModel`` -> ``"<model ARN>#<version id>"`` (the version actually served,
    so reading "latest" counts against that version). Resource keys are recorded only for
    requests that got past the throttle and the injected-5xx knob.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset_unlocked()

    def _reset_unlocked(self) -> None:
        self._operations: Counter[str] = Counter()
        self._statuses: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._resources: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._throttled: Counter[str] = Counter()
        self._refused: Counter[str] = Counter()
        self._callers: Counter[str] = Counter()
        self._faulted: Counter[str] = Counter()
        self._accounts: Counter[str] = Counter()
        self._account_throttled: Counter[str] = Counter()
        self._streamed: Counter[str] = Counter()

    def record(
        self,
        operation: str,
        status: int,
        *,
        resource: str | None = None,
        caller: str | None = None,
        throttled: bool = False,
        refused: bool = False,
        faulted: bool = False,
        account: str | None = None,
    ) -> None:
        with self._lock:
            self._operations[operation] += 1
            self._statuses[operation][str(status)] += 1
            if resource is not None:
                self._resources[operation][resource] += 1
            if caller is not None:
                self._callers[caller] += 1
            if throttled:
                self._throttled[operation] += 1
            if refused:
                self._refused[operation] += 1
            if faulted:
                self._faulted[operation] += 1
            if account is not None:
                self._accounts[account] += 1
                if throttled:
                    self._account_throttled[account] += 1

    def record_streamed(self, operation: str, sent: int) -> None:
        """``sent`` bytes of a streamed (chunked) body were written before it ended or the
        client went away."""
        with self._lock:
            self._streamed[operation] += sent

    def reset(self) -> None:
        with self._lock:
            self._reset_unlocked()

    def calls(self, operation: str, resource: str | None = None) -> int:
        """Requests to ``operation`` (on ``resource`` when given), whatever their outcome."""
        with self._lock:
            if resource is None:
                return self._operations[operation]
            return self._resources[operation][resource]

    def snapshot(self) -> dict[str, Any]:
        """Plain, JSON-ready dicts: ``total``, ``operations``, ``statuses``, ``resources``,
        ``throttled``, ``refused``, ``faulted``, ``callers`` (``"<access key>/<region>/<service>"``),
        ``accounts`` and ``account_throttled`` (by account id, when the caller's is known),
        ``streamed_bytes`` (bytes of chunked fault bodies written, by operation)."""
        with self._lock:
            return {
                "total": sum(self._operations.values()),
                "operations": dict(self._operations),
                "statuses": {op: dict(c) for op, c in self._statuses.items()},
                "resources": {op: dict(c) for op, c in self._resources.items()},
                "throttled": dict(self._throttled),
                "refused": dict(self._refused),
                "callers": dict(self._callers),
                "faulted": dict(self._faulted),
                "accounts": dict(self._accounts),
                "account_throttled": dict(self._account_throttled),
                "streamed_bytes": dict(self._streamed),
            }
