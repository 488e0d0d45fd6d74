"""Fixtures of the graph tests."""

from __future__ import annotations

import pytest

from collabgraph.models.pool import ModelPool
from tests.graphs.helpers import fixture_pool


@pytest.fixture(scope="session")
def pool() -> ModelPool:
    """The built-in pool plus the five sim models the fixtures name."""
    return fixture_pool()
