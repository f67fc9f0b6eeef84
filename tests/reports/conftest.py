"""Fixtures for the writer tests; the records themselves live in ``canned``."""

from __future__ import annotations

import pytest

from auditor.models import Report
from tests.reports.canned import make_baselined_report, make_hostile_report, make_report


@pytest.fixture
def report() -> Report:
    return make_report()


@pytest.fixture
def baselined_report() -> Report:
    return make_baselined_report()


@pytest.fixture
def hostile_report() -> Report:
    return make_hostile_report()
