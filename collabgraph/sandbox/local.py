"""LocalSandbox: run a job as a subprocess with resource limits, for machines without Docker.

It is NOT a security boundary. The job runs as the calling user, sees the host file system and network, and
can do anything that user can. It keeps honest code honest (timeouts, memory, output caps, a clean work
directory and environment, no leftover processes); it does not contain hostile code. Use the Docker backend
for untrusted code.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from collabgraph.sandbox.types import ExecLimits, ExecResult

__all__ = ["LocalSandbox"]

logger = logging.getLogger(__name__)

_MARKER_VAR = "COLLABGRAPH_SANDBOX_JOB"
"""Set in every job's environment to a fresh id; descendants that leave the process group inherit it, which
is how they are found and killed afterwards."""

_FSIZE_BYTES = 256 * 1024 * 1024
"""Largest file a job may write (RLIMIT_FSIZE); ExecLimits has no disk field, and jobs write small files."""

_STDERR_TAIL = 4096
_DRAIN_GRACE_S = 1.0
"""How long to wait for the output pipes to close after the job's process group is gone."""

_OOM_PATTERNS = re.compile(rb"^MemoryError\b|Cannot allocate memory|std::bad_alloc|out of memory", re.MULTILINE)

_warned = False


def _warn_once() -> None:
    global _warned
    if not _warned:
        _warned = True
        logger.warning(
            "LocalSandbox is NOT a security boundary: jobs run as this user with the host's file system and "
            "network; use the Docker backend for untrusted code."
        )


class LocalSandbox:
    """Runs each job as a local subprocess in a fresh temporary work directory.

    **Not a security boundary**: the job runs as the calling user with the host's file system and network.
    It is for trusted or merely buggy code on machines without Docker.

    What each job gets:

    - a fresh temporary work directory holding ``files`` (and ``code`` as ``main.py``), removed afterwards,
      also when the awaiting task is cancelled;
    - ``code`` runs as ``<this interpreter> -E -s main.py``; a ``command`` whose first word is ``python`` or
      ``python3`` runs with this interpreter too, so the job sees the same packages. ``-E -s`` ignore
      ``PYTHON*`` variables and the user site; unlike ``-I`` they keep the work directory on ``sys.path``, so
      a job can import the files it was given, as ``python3 main.py`` does in Docker;
    - an environment of ``PATH``, ``LANG``, ``HOME`` and ``TMPDIR`` (both the work directory) and nothing
      else from the host (no API keys), stdin from ``/dev/null``;
    - its own session and process group. When the job ends or times out the whole group is killed, and so
      is any descendant that left the group but still carries the job's marker variable in its environment
      (found through ``/proc``); a descendant that both leaves the group and clears its environment escapes;
    - rlimits: ``RLIMIT_AS`` = ``memory_mb`` (address space, so it also counts memory mapped but never
      touched), ``RLIMIT_CPU`` = ``timeout_s · cpus`` rounded up plus 1 s as a backstop to the wall clock,
      ``RLIMIT_FSIZE`` = 256 MiB, ``RLIMIT_CORE`` = 0. ``RLIMIT_NPROC`` counts every process of the user,
      not of the job, so it is set to the user's current count plus ``pids``; the kernel does not apply it
      to root, so under root ``pids`` is not enforced. ``cpus`` is not enforced as a share of the machine
      (no cgroups); it only scales the CPU-time backstop;
    - a wall-clock timeout that kills the group (``timed_out``, exit code 137);
    - stdout and stderr read concurrently, each capped at ``output_bytes`` (``truncated``); output beyond the
      cap is read and discarded, so the job never blocks on a full pipe and memory stays bounded.

    ``exit_code`` follows the shell's convention: a job killed by signal N reports 128 + N. ``oom_killed`` is
    a best-effort guess: the job failed and its stderr ends in ``MemoryError`` or mentions ENOMEM
    (``Cannot allocate memory``, ``std::bad_alloc``, ``out of memory``), or it died of SIGKILL that this
    sandbox did not send (the kernel's OOM killer).
    """

    name = "local"

    def __init__(self) -> None:
        _warn_once()

    async def exec(
        self,
        command: list[str] | None = None,
        *,
        code: str | None = None,
        files: dict[str, str] | None = None,
        limits: ExecLimits | None = None,
    ) -> ExecResult:
        """Run the job; never raises for what the job does (timeouts, crashes), only for misuse
        (neither ``command`` nor ``code``, an empty command, a file path outside the work directory)."""
        argv = _argv(command, code)
        lim = limits or ExecLimits()
        workdir = Path(tempfile.mkdtemp(prefix="collabgraph-sandbox-"))
        try:
            _write_files(workdir, files or {}, code)
            return await _run(argv, workdir, lim)
        finally:
            _remove_tree(workdir)


def _argv(command: list[str] | None, code: str | None) -> list[str]:
    if command is None:
        if code is None:
            raise ValueError("LocalSandbox.exec needs a command or code; got neither")
        command = ["python3", "main.py"]
    if not command:
        raise ValueError(
            "LocalSandbox.exec: command is an empty list; expected an argv list such as ['python3', 'main.py']"
        )
    head, *rest = command
    if head in ("python", "python3"):
        return [sys.executable, "-E", "-s", *rest]
    return [head, *rest]


def _write_files(workdir: Path, files: dict[str, str], code: str | None) -> None:
    for rel, content in files.items():
        path = PurePosixPath(rel)
        if not rel or path.is_absolute() or ".." in path.parts:
            raise ValueError(f"LocalSandbox.exec: files[{rel!r}]: expected a relative path inside the work directory")
        target = workdir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    if code is not None:
        (workdir / "main.py").write_text(code, encoding="utf-8")


def _environment(workdir: Path, marker: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "LANG": "C.UTF-8",
        "HOME": str(workdir),
        "TMPDIR": str(workdir),
        _MARKER_VAR: marker,
    }


def _user_task_count() -> int:
    """Tasks (processes and threads) this user runs now: what RLIMIT_NPROC compares against."""
    uid = os.getuid()
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if entry.stat().st_uid == uid:
                total += len(os.listdir(f"/proc/{entry.name}/task"))
    return total


def _limiter(lim: ExecLimits) -> Callable[[], None]:
    """The preexec function: computed values only, so the forked child runs no allocation-heavy Python."""
    mem = lim.memory_mb * 1024 * 1024
    cpu = math.ceil(lim.timeout_s * lim.cpus) + 1
    nproc = _user_task_count() + lim.pids if os.getuid() != 0 else None
    settings: list[tuple[int, int, int]] = [
        (resource.RLIMIT_AS, mem, mem),
        (resource.RLIMIT_CPU, cpu, cpu + 1),
        (resource.RLIMIT_FSIZE, _FSIZE_BYTES, _FSIZE_BYTES),
        (resource.RLIMIT_CORE, 0, 0),
    ]
    if nproc is not None:
        settings.append((resource.RLIMIT_NPROC, nproc, nproc))

    def preexec() -> None:
        for which, soft, hard in settings:
            _, old_hard = resource.getrlimit(which)
            cap = hard if old_hard == resource.RLIM_INFINITY else min(hard, old_hard)
            resource.setrlimit(which, (min(soft, cap), cap))

    return preexec


class _Capture:
    """One output stream: keeps at most ``cap`` bytes, drops the rest, and keeps the last few KiB for diagnosis."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.kept = bytearray()
        self.tail = b""
        self.truncated = False

    def feed(self, chunk: bytes) -> None:
        room = self.cap - len(self.kept)
        if room > 0:
            self.kept += chunk[:room]
        if len(chunk) > room:
            self.truncated = True
        self.tail = (self.tail + chunk)[-_STDERR_TAIL:]

    def text(self) -> str:
        return self.kept.decode("utf-8", errors="replace")


class _JobProtocol(asyncio.SubprocessProtocol):
    """Collects output as it arrives (so a chatty job never blocks) and reports the main process's exit as
    soon as it happens, even while a background process still holds the pipes open."""

    def __init__(self, cap: int) -> None:
        loop = asyncio.get_running_loop()
        self.out = _Capture(cap)
        self.err = _Capture(cap)
        self.exited: asyncio.Future[None] = loop.create_future()
        self.pipes_closed: asyncio.Future[None] = loop.create_future()
        self._open = {1, 2}

    def pipe_data_received(self, fd: int, data: bytes | str) -> None:
        chunk = data.encode() if isinstance(data, str) else data
        (self.out if fd == 1 else self.err).feed(chunk)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        self._open.discard(fd)
        if not self._open and not self.pipes_closed.done():
            self.pipes_closed.set_result(None)

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)


async def _run(argv: list[str], workdir: Path, lim: ExecLimits) -> ExecResult:
    marker = uuid.uuid4().hex
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    try:
        transport, proto = await loop.subprocess_exec(
            lambda: _JobProtocol(lim.output_bytes),
            *argv,
            cwd=workdir,
            env=_environment(workdir, marker),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=_limiter(lim),
        )
    except OSError as exc:
        # A missing or non-executable program is what the job did, not misuse: report it like a shell would.
        code = 126 if isinstance(exc, PermissionError) else 127
        return ExecResult(exit_code=code, stdout="", stderr=f"{argv[0]}: {exc.strerror or exc}\n")
    except asyncio.CancelledError:
        _kill_job(None, marker)
        raise
    pid = transport.get_pid()
    timed_out = False
    killed = False
    try:
        try:
            await asyncio.wait_for(asyncio.shield(proto.exited), timeout=lim.timeout_s)
        except TimeoutError:
            timed_out = True
        duration = time.perf_counter() - started
        # Also after a clean exit: background processes the job started must not outlive it.
        _kill_job(pid, marker)
        killed = True
        await proto.exited
        # The pipes close once every holder is dead; one that escaped the kill must not hang us.
        await asyncio.wait([proto.pipes_closed], timeout=_DRAIN_GRACE_S)
    finally:
        if not killed:
            # Cancelled: kill, and give asyncio's child watcher a moment to reap the process before the
            # transport is closed, so that no zombie stays behind.
            _kill_job(pid, marker)
            await asyncio.wait([proto.exited], timeout=_DRAIN_GRACE_S)
        transport.close()
    rc = transport.get_returncode()
    assert rc is not None
    exit_code = 128 - rc if rc < 0 else rc
    tail = proto.err.tail
    oom = not timed_out and rc != 0 and (rc == -signal.SIGKILL or bool(_OOM_PATTERNS.search(tail)))
    return ExecResult(
        exit_code=exit_code,
        stdout=proto.out.text(),
        stderr=proto.err.text(),
        timed_out=timed_out,
        oom_killed=oom,
        duration_s=duration,
        truncated=proto.out.truncated or proto.err.truncated,
    )


def _kill_job(pgid: int | None, marker: str) -> None:
    """SIGKILL the job's process group, then any process still carrying the job's marker."""
    if pgid is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
    needle = f"{_MARKER_VAR}={marker}".encode()
    me = os.getpid()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as fh:
                env = fh.read()
        except OSError:
            continue
        if needle in env.split(b"\0"):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(entry.name), signal.SIGKILL)


def _remove_tree(path: Path) -> None:
    """Remove the work directory even where the job took away write or search permission."""

    def fix(func: Callable[..., object], target: str, _exc: object) -> None:
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(target), stat.S_IRWXU)
            os.chmod(target, stat.S_IRWXU)
        with contextlib.suppress(OSError):
            if os.path.isdir(target) and not os.path.islink(target):
                shutil.rmtree(target, ignore_errors=True)
            else:
                os.unlink(target)

    shutil.rmtree(path, onerror=fix)
