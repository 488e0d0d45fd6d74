"""DockerSandbox: each job in its own locked-down, throw-away container, served from a warm pool.

The docker SDK is synchronous; every call runs in this sandbox's worker threads, and everything that waits
(timeouts, cancellation) happens on the event loop. The SDK is imported on first use only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from collabgraph.sandbox.containers import (
    Container,
    ContainerSpec,
    connect,
    create_container,
    labelled_containers,
    remove_container,
    sweep_stale_containers,
)
from collabgraph.sandbox.image import DEFAULT_IMAGE
from collabgraph.sandbox.job import AttachedJob, Capture, JobOutput, argv_for, job_archive, oom_killed
from collabgraph.sandbox.pool import WarmPool
from collabgraph.sandbox.types import ExecLimits, ExecResult

__all__ = ["DockerSandbox"]

logger = logging.getLogger(__name__)

_KILLED = 128 + 9
"""Exit code reported for a job killed at its timeout (SIGKILL, as a shell reports it)."""
_LIFETIME_MARGIN_S = 30.0
"""An idle container is handed a job only while this much of its lifetime is left (its job must arrive by then)."""
_PUMP_BACKSTOP_S = 5.0
"""A worker thread reading a job's output gives up this long after the job's timeout even if no kill arrived."""
_DRAIN_AFTER_KILL_S = 2.0
"""How long to wait for the output stream to close after the container was killed."""

_swept = False
_sweep_lock = threading.Lock()


class DockerSandbox:
    """Runs each job in a fresh Docker container that is removed afterwards.

    Every container is created with: no network (``network_mode=none``: loopback only), a read-only root file
    system, a tmpfs work directory ``/work`` (256 MiB, the job's own) and a tmpfs ``/tmp`` (64 MiB), user
    ``65534:65534`` (nobody), all capabilities dropped, ``no-new-privileges``, ``memory_mb`` of memory and no
    swap, ``cpus`` CPUs, ``pids`` processes (plus the sandbox's own PID 1), at most 1024 open files, no core
    dumps, and an environment of ``PATH``, ``LANG``, ``HOME=/work`` and ``TMPDIR=/tmp`` only (nothing from the
    host). The job's files arrive on the container's stdin as a tar archive and are unpacked into ``/work``.

    What each job gets, as with :class:`~collabgraph.sandbox.LocalSandbox`: ``code`` runs as
    ``python3 main.py``; ``command`` is an argv list (``python`` means ``python3``); stdin is ``/dev/null``;
    stdout and stderr are each capped at ``output_bytes`` (``truncated``; the rest is read and dropped, so memory
    stays bounded and the job never blocks on a full pipe); a wall-clock timeout kills the container
    (``timed_out``, exit code 137); a job killed by signal N reports 128 + N; ``oom_killed`` is the kernel's
    verdict as Docker records it (an OOM kill in the container's memory cgroup). The job is the only child of
    the container's PID 1, which exits when the job does: every process the job left behind dies with it.

    A warm pool of ``pool_size`` started containers hides the start-up for jobs whose memory, CPU and process
    limits equal ``pool_limits`` (other jobs start their own container). A container serves exactly one job
    and is then removed in the background (:meth:`settle` waits for that); when the awaiting task is cancelled
    the container is removed before the cancellation propagates. At most ``concurrency`` jobs run at once.
    :meth:`aclose` removes every container, and so does an ``atexit`` hook for a sandbox never closed; stale
    containers of dead processes are swept when a process first uses Docker. A container that gets no job
    within ``lifetime_s`` exits by itself.

    The sandbox can be used from one event loop after another (not from two at once).
    """

    name = "docker"

    def __init__(
        self,
        image: str = DEFAULT_IMAGE,
        *,
        pool_size: int = 4,
        pool_limits: ExecLimits | None = None,
        concurrency: int | None = None,
        lifetime_s: float = 3600.0,
    ) -> None:
        if pool_size < 0:
            raise ValueError(f"DockerSandbox: pool_size must be 0 (no pool) or more, got {pool_size}")
        if concurrency is not None and concurrency < 1:
            raise ValueError(f"DockerSandbox: concurrency must be 1 or more, got {concurrency}")
        if lifetime_s < 2 * _LIFETIME_MARGIN_S:
            raise ValueError(f"DockerSandbox: lifetime_s must be at least {2 * _LIFETIME_MARGIN_S:g}, got {lifetime_s}")
        self.image = image
        self.pool_size = pool_size
        self.pool_limits = pool_limits or ExecLimits()
        self.concurrency = concurrency or max(2, os.cpu_count() or 1)
        self.lifetime_s = lifetime_s
        self.group = uuid.uuid4().hex[:16]
        """The value of the ``collabgraph.sandbox.group`` label on every container of this sandbox."""
        self._executor = ThreadPoolExecutor(
            max_workers=2 * self.concurrency + pool_size + 4, thread_name_prefix="collabgraph-docker"
        )
        self._lock = threading.Lock()
        self._client: Any = None
        self._pool: WarmPool | None = None
        self._background: set[Future[Any]] = set()
        """Removals, and starts of containers whose job was cancelled meanwhile: what :meth:`settle` waits for."""
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    # ------------------------------------------------------------------------------------------ public API

    async def exec(
        self,
        command: list[str] | None = None,
        *,
        code: str | None = None,
        files: dict[str, str] | None = None,
        limits: ExecLimits | None = None,
    ) -> ExecResult:
        """Run the job; never raises for what the job does (timeouts, crashes), only for misuse (neither
        ``command`` nor ``code``, an empty command, a file path outside the work directory) and for Docker
        itself failing (:class:`CollabgraphError`)."""
        archive = job_archive(argv_for(command, code, "DockerSandbox"), files or {}, code, "DockerSandbox")
        lim = limits or self.pool_limits
        await self.start(wait=False)
        async with self._semaphore():
            container = await self._acquire(lim)
            try:
                result = await self._run(container, archive, lim)
            except BaseException:
                await _settled(self._discard(container.id))
                raise
            self._discard(container.id)
            return result

    async def start(self, *, wait: bool = True) -> None:
        """Connect to Docker, check the image, and start the warm pool (else done by the first job); with
        ``wait``, return once the pool is full. Raises :class:`DockerUnavailableError` with what to do."""
        if self._client is None:
            client = await self._thread(connect, self.image)
            with self._lock:
                if self._client is None:
                    self._client = client
            self._executor.submit(_sweep_once, self._client)
        with self._lock:
            if self.pool_size and (self._pool is None or self._pool.closed):
                spec = ContainerSpec.for_limits(
                    self.image, self.pool_limits, group=self.group, lifetime_s=self.lifetime_s
                )
                self._pool = WarmPool(self._client, spec, self.pool_size, self._executor, self._discard)
            pool = self._pool
        if wait and pool is not None:
            await pool.wait_filled()

    async def settle(self) -> None:
        """Wait for the background work to finish: containers of finished jobs removed, the pool refilled."""
        while True:
            with self._lock:
                pending = list(self._background)
                pool = self._pool
            if pool is not None:
                await pool.wait_filled()
            if not pending:
                return
            await asyncio.gather(*(asyncio.wrap_future(f) for f in pending), return_exceptions=True)

    async def aclose(self) -> None:
        """Remove every container of this sandbox (idle, starting or finished) and wait until they are gone.
        The sandbox can be used again afterwards; it starts a new pool."""
        with self._lock:
            pool, self._pool = self._pool, None
            client = self._client
        if pool is not None:
            for cid in pool.close():
                self._discard(cid)
            await pool.wait_filled()
        await self.settle()
        if client is not None:
            # Anything that slipped through (a job of another, abandoned event loop): found by its label.
            leftovers = await self._thread(labelled_containers, client, group=self.group)
            await asyncio.gather(*(self._thread(remove_container, client, cid) for cid in leftovers))

    async def __aenter__(self) -> DockerSandbox:
        await self.start(wait=False)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------------------------------ internals

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(self.concurrency))
        return self._slots[1]

    async def _thread(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.wrap_future(self._executor.submit(fn, *args, **kwargs))

    def _discard(self, cid: str) -> Future[None]:
        """Remove a container in the background; :meth:`settle` waits for it."""
        future = self._executor.submit(remove_container, self._client, cid)
        self._track(future)
        return future

    def _track(self, future: Future[Any]) -> None:
        with self._lock:
            self._background.add(future)
        future.add_done_callback(self._untrack)

    def _untrack(self, future: Future[Any]) -> None:
        with self._lock:
            self._background.discard(future)
        if not future.cancelled() and future.exception() is not None:
            logger.warning("sandbox container clean-up failed: %s", future.exception())

    async def _acquire(self, lim: ExecLimits) -> Container:
        pool = self._pool
        if pool is not None and pool.spec.fits(lim):
            return await pool.acquire(_LIFETIME_MARGIN_S)
        spec = ContainerSpec.for_limits(self.image, lim, group=self.group, lifetime_s=self.lifetime_s)
        future = self._executor.submit(create_container, self._client, spec)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            # Cancelled while the container was starting: remove it as soon as it exists.
            self._track(future)
            future.add_done_callback(self._discard_created)
            raise

    def _discard_created(self, future: Future[Container]) -> None:
        if not future.cancelled() and future.exception() is None:
            self._discard(future.result().id)

    async def _run(self, container: Container, archive: bytes, lim: ExecLimits) -> ExecResult:
        client = self._client
        job: AttachedJob = await self._thread(AttachedJob, client, container.id)
        out, err = Capture(lim.output_bytes), Capture(lim.output_bytes)
        started = time.perf_counter()
        backstop = time.monotonic() + lim.timeout_s + _PUMP_BACKSTOP_S
        pumping = asyncio.wrap_future(self._executor.submit(_send_and_pump, job, archive, out, err, backstop))
        try:
            done, _ = await asyncio.wait({pumping}, timeout=lim.timeout_s)
            duration = time.perf_counter() - started
            output = pumping.result() if done else None
            if output is None or not output.finished:
                # Timed out: killing the container ends every process in it and closes the stream.
                await self._thread(remove_container, client, container.id)
                await asyncio.wait({pumping}, timeout=_DRAIN_AFTER_KILL_S)
                job.abort()
                await asyncio.wait({pumping})
                return _result(_KILLED, out, err, duration, timed_out=True)
            code = output.exit_code if output.exit_code is not None else _KILLED
            oom = code != 0 and bool(await self._thread(oom_killed, client, container.id))
            return _result(code, out, err, duration, oom_killed=oom)
        except BaseException:
            job.abort()
            raise
        finally:
            job.close()


def _send_and_pump(job: AttachedJob, archive: bytes, out: Capture, err: Capture, deadline: float) -> JobOutput:
    if not job.send(archive, deadline):
        return JobOutput(finished=False, exit_code=None)
    return job.pump(out, err, deadline)


def _result(
    exit_code: int, out: Capture, err: Capture, duration: float, *, timed_out: bool = False, oom_killed: bool = False
) -> ExecResult:
    return ExecResult(
        exit_code=exit_code,
        stdout=out.text(),
        stderr=err.text(),
        timed_out=timed_out,
        oom_killed=oom_killed,
        duration_s=duration,
        truncated=out.truncated or err.truncated,
    )


async def _settled(future: Future[None]) -> None:
    """Wait for a background removal, shielded from a second cancellation (the removal goes on regardless)."""
    with contextlib.suppress(Exception):
        await asyncio.shield(asyncio.wrap_future(future))


def _sweep_once(client: Any) -> None:
    global _swept
    with _sweep_lock:
        if _swept:
            return
        _swept = True
    try:
        sweep_stale_containers(client)
    except Exception as exc:  # a failed sweep must not fail the job that triggered it
        logger.warning("sweeping stale sandbox containers failed: %s", exc)
