"""Fixtures of the sim/ tests."""

from __future__ import annotations

import pytest
from sim_helpers import BACKEND

from collabgraph.models.sim import SimBackend


@pytest.fixture
def backend() -> SimBackend:
    return BACKEND
