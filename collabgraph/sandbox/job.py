"""One job inside a running sandbox container: its files go in, its program runs, its output comes back capped.

The root file system is read-only, and Docker refuses ``put_archive`` into a tmpfs on such a container, so the
files travel as a tar archive on the job's stdin: one ``exec`` runs a small shell wrapper that unpacks stdin into
the work directory, runs the job with stdin from ``/dev/null``, then kills every process the job left behind
(so their open pipes cannot hold the output stream open), and exits with the job's status (128 + N for a job
killed by signal N, as a shell reports it). The wrapper's own messages (``Killed``) go to ``/dev/null``; the
job's stderr is passed through untouched.

Synchronous, like the docker SDK; the async layer runs it in a worker thread and kills the container on timeout.
"""

from __future__ import annotations

import contextlib
import io
import re
import socket
import struct
import tarfile
import time
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from collabgraph.sandbox.containers import WORK_DIR

__all__ = ["AttachedJob", "Capture", "FrameDecoder", "JobOutput", "argv_for", "files_tar", "oom_killed"]

_WRAPPER = (
    "exec 3>&2 2>/dev/null; "
    "tar -xf - 2>&3 || exit 125; "
    # An inner shell sets up the job's stderr and execs it: dash applies a command's redirections in the parent
    # while it waits, and would print its own notes ("Killed") into the job's stderr.
    """sh -c 'exec "$@" 2>&3 3>&-' "$1" "$@" </dev/null; """
    "status=$?; "
    "kill -9 -1; "
    "exit $status"
)
_UNPACK_FAILED = 125
_HEADER = struct.Struct(">BxxxL")
_POLL_S = 0.25
"""How often a blocked read wakes to check whether the job was aborted."""
_FILE_MODE = 0o644
_DIR_MODE = 0o755
_OOM_COUNTER = re.compile(rb"^oom_kill (\d+)$", re.MULTILINE)
_CGROUP_OOM_FILES = ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control")
"""Where a container sees its memory cgroup's OOM-kill counter: cgroup v2, then v1."""


def argv_for(command: list[str] | None, code: str | None, who: str) -> list[str]:
    """The job's argv: ``command``, or ``python3 main.py`` for ``code``; ``python`` means ``python3``."""
    if command is None:
        if code is None:
            raise ValueError(f"{who}.exec needs a command or code; got neither")
        command = ["python3", "main.py"]
    if not command:
        raise ValueError(f"{who}.exec: command is an empty list; expected an argv list such as ['python3', 'main.py']")
    head, *rest = command
    return ["python3" if head == "python" else head, *rest]


def files_tar(files: dict[str, str], code: str | None, who: str) -> bytes:
    """The job's files (and ``code`` as ``main.py``) as an uncompressed tar archive, parents included."""
    entries: dict[PurePosixPath, bytes] = {}
    for rel, content in files.items():
        path = PurePosixPath(rel)
        if not rel or path.is_absolute() or ".." in path.parts or path == PurePosixPath("."):
            raise ValueError(f"{who}.exec: files[{rel!r}]: expected a relative path inside the work directory")
        entries[path] = content.encode("utf-8")
    if code is not None:
        entries[PurePosixPath("main.py")] = code.encode("utf-8")
    dirs = sorted({parent for path in entries for parent in path.parents if parent != PurePosixPath(".")})
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for directory in dirs:
            info = tarfile.TarInfo(str(directory))
            info.type, info.mode = tarfile.DIRTYPE, _DIR_MODE
            tar.addfile(info)
        for path, data in entries.items():
            info = tarfile.TarInfo(str(path))
            info.size, info.mode = len(data), _FILE_MODE
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class Capture:
    """One output stream: keeps at most ``cap`` bytes and drops the rest (while still reading it, so the job is
    never blocked on a full pipe)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.kept = bytearray()
        self.truncated = False

    def feed(self, chunk: bytes) -> None:
        room = self.cap - len(self.kept)
        if room > 0:
            self.kept += chunk[:room]
        if len(chunk) > room:
            self.truncated = True

    def text(self) -> str:
        return self.kept.decode("utf-8", errors="replace")


class FrameDecoder:
    """Splits Docker's multiplexed attach stream (frames of an 8-byte header, stream id and length, then the
    payload) into stdout and stderr, however the bytes are cut into chunks."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame held back until the rest arrives."""
        return len(self._buffer)

    def feed(self, chunk: bytes, out: Capture, err: Capture) -> None:
        self._buffer += chunk
        while len(self._buffer) >= _HEADER.size:
            stream, length = _HEADER.unpack_from(self._buffer)
            end = _HEADER.size + length
            if len(self._buffer) < end:
                return
            payload = bytes(self._buffer[_HEADER.size : end])
            del self._buffer[:end]
            (err if stream == 2 else out).feed(payload)


@dataclass(frozen=True)
class JobOutput:
    """What the stream delivered: whether it ran to its end, and the job's exit code when it did."""

    finished: bool
    exit_code: int | None


class AttachedJob:
    """An ``exec`` of the wrapper with stdin, stdout and stderr attached to one socket.

    Docker multiplexes stdout and stderr on the socket (see :class:`FrameDecoder`). Reads wake
    every 0.25 s, so :meth:`abort` (from another thread) or the deadline ends :meth:`pump` promptly and no worker
    thread is ever stuck on a socket."""

    def __init__(self, client: Any, container_id: str, argv: list[str]) -> None:
        self._client = client
        self._aborted = False
        self.exec_id: str = client.api.exec_create(
            container_id, ["sh", "-c", _WRAPPER, "sh", *argv], stdin=True, workdir=WORK_DIR
        )["Id"]
        # Nothing arrives before :meth:`send` closes stdin (the wrapper first waits for its files), so no output
        # can be read ahead into the HTTP response's buffer and missed by reading the raw socket.
        attached = client.api.exec_start(self.exec_id, socket=True)
        self._handle = attached  # keeps the HTTP response (and with it the connection) alive
        self._sock: socket.socket = getattr(attached, "_sock", attached)
        self._frames = FrameDecoder()

    def send(self, archive: bytes, deadline: float) -> bool:
        """Write the files and close stdin; False when the deadline passed first (the job hangs on its input)."""
        view = memoryview(archive)
        while view:
            self._sock.settimeout(max(0.01, min(_POLL_S, deadline - time.monotonic())))
            try:
                sent = self._sock.send(view)
            except TimeoutError:
                if self._aborted or time.monotonic() >= deadline:
                    return False
                continue
            view = view[sent:]
        self._sock.shutdown(socket.SHUT_WR)
        return True

    def pump(self, out: Capture, err: Capture, deadline: float) -> JobOutput:
        """Read frames into ``out`` and ``err`` until the stream ends, :meth:`abort` is called or ``deadline``
        (monotonic) passes; then, at the end of the stream, ask Docker for the exit code."""
        while True:
            chunk = self._recv(deadline)
            if chunk is None:
                return JobOutput(finished=False, exit_code=None)
            if not chunk:
                break
            self._frames.feed(chunk, out, err)
        return JobOutput(finished=True, exit_code=self._exit_code())

    def abort(self) -> None:
        """Make :meth:`pump` return at its next wake-up, and close the connection."""
        self._aborted = True
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.close()
        with contextlib.suppress(Exception):
            self._handle.close()

    def _recv(self, deadline: float) -> bytes | None:
        while not self._aborted:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._sock.settimeout(min(_POLL_S, left))
            try:
                return self._sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return None if self._aborted else b""
        return None

    def _exit_code(self) -> int | None:
        # The stream ends when the wrapper's pipes close, a moment before Docker records the exit.
        for _ in range(40):
            info = self._client.api.exec_inspect(self.exec_id)
            if not info.get("Running") and info.get("ExitCode") is not None:
                return int(info["ExitCode"])
            time.sleep(0.025)
        return None


def oom_killed(client: Any, container_id: str) -> bool:
    """Whether the kernel's OOM killer killed anything in the container: its memory cgroup's ``oom_kill`` counter
    (read from inside, cgroup v1 or v2), or Docker's own flag when PID 1 itself was killed and the container
    is gone or stopped."""
    from docker.errors import APIError

    try:
        exec_id = client.api.exec_create(container_id, ["cat", *_CGROUP_OOM_FILES])["Id"]
        output: bytes = client.api.exec_start(exec_id)
    except APIError:
        try:
            state = client.api.inspect_container(container_id).get("State", {})
        except APIError:
            return False
        return bool(state.get("OOMKilled"))
    return any(int(count) > 0 for count in _OOM_COUNTER.findall(output))
