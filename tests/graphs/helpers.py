"""Paths and the model pool shared by the graph tests."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from collabgraph.models.pool import ModelPool, load_pool

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
POOL_FILE = HERE / "pool.yaml"
POOL_MODELS = ["sim/llama-3.1-8b", "sim/llama-3.1-70b", "sim/qwen2.5-7b", "sim/mistral-7b", "sim/gemma-2-9b"]


@cache
def fixture_pool() -> ModelPool:
    """The built-in pool plus the five sim models the fixtures name (``pool.yaml``)."""
    return load_pool(POOL_FILE)
