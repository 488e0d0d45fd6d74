"""Warm pool: containers started ahead of time, each handed to exactly one job and then removed.

Starting a container costs hundreds of milliseconds (more on a loaded machine); an ``exec`` into a running one
costs tens. The pool keeps ``size`` containers started and idle; taking one starts its replacement in the
background at once, so a stream of jobs rarely waits for a start. A container is never given a second job:
whatever a job leaves behind (files, processes, a broken interpreter) leaves with its container.

The pool is not bound to an event loop: its state lives behind a lock and containers are started in worker
threads, so the same pool serves one ``asyncio.run`` after another (as a CLI or a test suite makes them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from collabgraph.errors import CollabgraphError
from collabgraph.sandbox.containers import Container, ContainerSpec, create_container, remove_container

__all__ = ["WarmPool"]

logger = logging.getLogger(__name__)


class WarmPool:
    """``size`` started, idle containers of one :class:`ContainerSpec`.

    ``discard`` removes a container in the background (the owner tracks those removals); ``executor`` runs the
    blocking container starts."""

    def __init__(
        self,
        client: Any,
        spec: ContainerSpec,
        size: int,
        executor: Executor,
        discard: Callable[[str], object],
    ) -> None:
        if size < 1:
            raise ValueError(f"WarmPool: size must be 1 or more, got {size}")
        self.spec = spec
        self.size = size
        self._client = client
        self._executor = executor
        self._discard = discard
        self._lock = threading.Lock()
        self._ready: deque[Container | BaseException] = deque()
        self._starting: set[Future[None]] = set()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._closed = False
        for _ in range(size):
            self._start_one()

    @property
    def idle(self) -> int:
        """Containers started and waiting for a job."""
        with self._lock:
            return sum(isinstance(item, Container) for item in self._ready)

    @property
    def closed(self) -> bool:
        with self._lock:
            return self._closed

    async def acquire(self, need_s: float) -> Container:
        """A started container with at least ``need_s`` seconds of lifetime left, all the job's own; waits for one
        to start when none is idle. Raises :class:`CollabgraphError` when starting containers fails."""
        if need_s >= self.spec.lifetime_s:
            raise ValueError(
                f"WarmPool.acquire: need_s={need_s:g} s is not below the containers' lifetime of "
                f"{self.spec.lifetime_s:g} s; start a container of its own for such a job"
            )
        while True:
            item, waiter = self._take_or_wait()
            if waiter is not None:
                try:
                    await waiter
                finally:
                    self._forget(waiter)
                continue
            self._start_one()  # the replacement, for whatever was taken (an error too: try again)
            if isinstance(item, BaseException):
                if isinstance(item, CollabgraphError):
                    raise item
                raise CollabgraphError(f"could not start a sandbox container: {item}") from item
            assert item is not None
            if item.remaining_s() > need_s:
                return item
            self._discard(item.id)

    def _take_or_wait(self) -> tuple[Container | BaseException | None, asyncio.Future[None] | None]:
        with self._lock:
            if self._closed:
                raise CollabgraphError("the sandbox's warm pool is closed")
            if self._ready:
                return self._ready.popleft(), None
            loop = asyncio.get_running_loop()
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append((loop, waiter))
            return None, waiter

    def _forget(self, waiter: asyncio.Future[None]) -> None:
        with self._lock:
            self._waiters = [(loop, w) for loop, w in self._waiters if w is not waiter]

    def _start_one(self) -> None:
        with self._lock:
            if self._closed:
                return
            future = self._executor.submit(self._fill)
            self._starting.add(future)
        future.add_done_callback(self._started)

    def _fill(self) -> None:
        """In a worker thread: start a container and put it (or the error) in the ready queue."""
        item: Container | BaseException
        try:
            item = create_container(self._client, self.spec)
        except Exception as exc:
            item = exc
        with self._lock:
            if not self._closed:
                self._ready.append(item)
                self._wake()
                return
        if isinstance(item, Container):
            remove_container(self._client, item.id)

    def _started(self, future: Future[None]) -> None:
        with self._lock:
            self._starting.discard(future)
        if not future.cancelled() and future.exception() is not None:
            logger.error("warm pool: filling failed: %s", future.exception())

    def _wake(self) -> None:
        """Wake every waiter (each checks the queue again under the lock); called with the lock held."""
        for loop, waiter in self._waiters:
            with contextlib.suppress(RuntimeError):  # the waiter's loop is closed: nothing waits there any more
                loop.call_soon_threadsafe(_resolve, waiter)

    async def wait_filled(self) -> None:
        """Wait until no container is being started (the pool is full, unless starting failed)."""
        while True:
            with self._lock:
                starting = list(self._starting)
            if not starting:
                return
            await asyncio.gather(*(asyncio.wrap_future(f) for f in starting), return_exceptions=True)

    def close(self) -> list[str]:
        """Stop refilling; returns the idle containers' ids for the owner to remove. Containers still starting
        are removed by their worker thread as soon as they exist."""
        with self._lock:
            self._closed = True
            ready, self._ready = list(self._ready), deque()
            for loop, waiter in self._waiters:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(_resolve, waiter)
        return [item.id for item in ready if isinstance(item, Container)]


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
