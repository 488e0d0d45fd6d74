"""Per-provider concurrency limits: at most ``max_concurrency`` requests in flight to one provider endpoint."""

from __future__ import annotations

import asyncio

from collabgraph.models.pool import ModelSpec

__all__ = ["IN_PROCESS_LIMIT", "ConcurrencyLimits"]

IN_PROCESS_LIMIT = 1024
"""In-process offline providers answer on the event loop itself; this only bounds memory, not a server."""


class ConcurrencyLimits:
    """One semaphore per (provider, api_base). Its size is the ``max_concurrency`` of the first pool entry that
    reaches that endpoint, so models served by one vLLM server or one API account share one budget."""

    def __init__(self) -> None:
        self._slots: dict[tuple[str, str | None], tuple[asyncio.AbstractEventLoop, asyncio.Semaphore, int]] = {}

    def slot(self, spec: ModelSpec, *, in_process: bool = False) -> asyncio.Semaphore:
        """The semaphore guarding requests for ``spec``'s endpoint (created on first use, per event loop)."""
        key = (spec.provider, spec.api_base)
        loop = asyncio.get_running_loop()
        held = self._slots.get(key)
        if held is not None and held[0] is loop:
            return held[1]
        # A semaphore belongs to one event loop; a gateway reused under a new loop gets fresh ones.
        size = held[2] if held is not None else (IN_PROCESS_LIMIT if in_process else spec.max_concurrency)
        sem = asyncio.Semaphore(size)
        self._slots[key] = (loop, sem, size)
        return sem
