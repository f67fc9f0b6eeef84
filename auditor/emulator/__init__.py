"""An emulator of the Clean Rooms / Clean Rooms ML read APIs over real HTTP, for tests,
the demo and benchmarks.

Point any AWS SDK at it with ``endpoint_url`` or ``AWS_ENDPOINT_URL_CLEANROOMS`` /
``AWS_ENDPOINT_URL_CLEANROOMSML``. It serves ListMemberships, ListTrainedModels,
ListTrainedModelVersions, GetTrainedModel and ListTagsForResource, refuses (and counts)
every other operation, and misbehaves on request (``EmulatorConfig``).
"""

from __future__ import annotations

from auditor.emulator.app import READ_OPERATIONS, Emulator
from auditor.emulator.command import build_parser, main
from auditor.emulator.config import EmulatorConfig, Fault, FaultKind, RateLimit
from auditor.emulator.counters import Counters
from auditor.emulator.server import EmulatorServer

__all__ = [
    "READ_OPERATIONS",
    "Counters",
    "Emulator",
    "EmulatorConfig",
    "EmulatorServer",
    "Fault",
    "FaultKind",
    "RateLimit",
    "build_parser",
    "main",
]
