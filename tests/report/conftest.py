"""Fixtures of the report tests."""

from __future__ import annotations

import pytest
from report_fixtures import make_run_folder


@pytest.fixture
def run_folder(tmp_path):
    """A finished image run folder written by hand (see report_fixtures.make_run_folder)."""
    return make_run_folder(tmp_path)
