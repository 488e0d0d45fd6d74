"""Offline backends (``sim/``, ``replay/``): the protocol they implement and where each one lives.

A backend is plain Python with no litellm in it; the gateway registers it as a litellm custom provider and
``serve-sim`` serves it over HTTP, so both paths answer with the very same text."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Protocol

from collabgraph.models.pool import ModelPool, ModelSpec
from collabgraph.models.types import OfflineRequest, OfflineSample

__all__ = ["OFFLINE_PROVIDERS", "OfflineBackend", "load_backend"]

OFFLINE_PROVIDERS: dict[str, str] = {
    "sim": "collabgraph.models.sim.backend:SimBackend",
    "replay": "collabgraph.models.replay.backend:ReplayBackend",
}
"""Provider prefix → ``module:Class``; the class is built as ``Class(pool=…, data_dir=…)``."""


class OfflineBackend(Protocol):
    """Answers requests for the models of one offline provider, deterministically."""

    def generate(self, spec: ModelSpec, request: OfflineRequest) -> list[OfflineSample]:
        """``request.n`` samples, numbered from ``request.first_sample``; sample k depends only on
        (request.seed, model, request.meta.example_id, k) and the request's content, never on batching."""
        ...


def load_backend(provider: str, pool: ModelPool, data_dir: Path | None = None) -> OfflineBackend:
    """Build the backend for ``provider`` (``sim`` or ``replay``); imports it on first use."""
    from collabgraph.errors import UnknownNameError

    if provider not in OFFLINE_PROVIDERS:
        raise UnknownNameError("offline provider", provider, OFFLINE_PROVIDERS)
    module, _, attr = OFFLINE_PROVIDERS[provider].partition(":")
    cls = getattr(importlib.import_module(module), attr)
    backend: OfflineBackend = cls(pool=pool, data_dir=data_dir)
    return backend
