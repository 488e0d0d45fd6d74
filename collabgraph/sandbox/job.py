"""One job in a started sandbox container: its files and argv go in, its output comes back capped.

The root file system is read-only, and Docker refuses ``put_archive`` into a tmpfs on such a container, so the
job travels as a tar archive on the container's stdin: its files under ``work/``, its argv (shell-quoted) in
:data:`~collabgraph.sandbox.containers.JOB_FILE`. PID 1 unpacks it, runs the job and exits with the job's
status; the container's attach stream carries stdout and stderr back. No ``docker exec`` is involved, so a
warm container runs a job without starting another runtime process.

Synchronous, like the docker SDK; the async layer runs it in a worker thread and kills the container on timeout.
"""

from __future__ import annotations

import contextlib
import io
import shlex
import socket
import struct
import tarfile
import time
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from collabgraph.errors import CollabgraphError
from collabgraph.sandbox.containers import JOB_FILE, WORK_DIR

__all__ = ["AttachedJob", "Capture", "FrameDecoder", "JobOutput", "argv_for", "job_archive", "oom_killed"]

_HEADER = struct.Struct(">BxxxL")
_POLL_S = 0.25
"""How often a blocked read wakes to check whether the job was aborted."""
_FILE_MODE = 0o644
_DIR_MODE = 0o755
_WAIT_S = 10
"""How long to wait for Docker to record the exit once the output stream has ended."""


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


def job_archive(argv: list[str], files: dict[str, str], code: str | None, who: str) -> bytes:
    """The job as an uncompressed tar archive to unpack from ``/``: the files (and ``code`` as ``main.py``) under
    ``work/`` with their parent directories, and the argv in the job file."""
    work = PurePosixPath(WORK_DIR.lstrip("/"))
    entries: dict[PurePosixPath, bytes] = {}
    for rel, content in files.items():
        path = PurePosixPath(rel)
        if not rel or path.is_absolute() or ".." in path.parts or path == PurePosixPath("."):
            raise ValueError(f"{who}.exec: files[{rel!r}]: expected a relative path inside the work directory")
        entries[work / path] = content.encode("utf-8")
    if code is not None:
        entries[work / "main.py"] = code.encode("utf-8")
    dirs = sorted({parent for path in entries for parent in path.parents if len(parent.parts) > 1})
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for directory in dirs:
            info = tarfile.TarInfo(str(directory))
            info.type, info.mode = tarfile.DIRTYPE, _DIR_MODE
            tar.addfile(info)
        for path, data in entries.items():
            _add(tar, str(path), data, _FILE_MODE)
        _add(tar, JOB_FILE.lstrip("/"), " ".join(map(shlex.quote, argv)).encode("utf-8"), 0o600)
    return buffer.getvalue()


def _add(tar: tarfile.TarFile, name: str, data: bytes, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    tar.addfile(info, io.BytesIO(data))


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
    """A container's stdin, stdout and stderr, attached on one socket.

    Docker multiplexes stdout and stderr on the socket (see :class:`FrameDecoder`). Reads wake every 0.25 s, so
    :meth:`abort` (from another thread) or the deadline ends :meth:`pump` promptly and no worker thread is ever
    stuck on a socket."""

    def __init__(self, client: Any, container_id: str) -> None:
        self._client = client
        self._container_id = container_id
        self._aborted = False
        # Nothing arrives before :meth:`send` closes stdin (PID 1 first waits for the archive), so no output can
        # be read ahead into the HTTP response's buffer and missed by reading the raw socket.
        from docker.errors import APIError

        params = {"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
        try:
            attached = client.api.attach_socket(container_id, params=params)
        except APIError as exc:
            raise CollabgraphError(f"Docker could not attach to a sandbox container: {exc.explanation or exc}") from exc
        self._handle = attached  # keeps the HTTP response (and with it the connection) alive
        self._sock: socket.socket = getattr(attached, "_sock", attached)
        self._frames = FrameDecoder()

    def send(self, archive: bytes, deadline: float) -> bool:
        """Write the archive and close stdin; False when the deadline passed first (nothing reads it). A container
        that stopped reading (it died) is not an error here: :meth:`pump` then reports how it ended."""
        view = memoryview(archive)
        try:
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
        except (BrokenPipeError, ConnectionResetError):
            pass
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
        # The stream ends when PID 1 exits; Docker records the exit a moment later.
        try:
            return int(self._client.api.wait(self._container_id, timeout=_WAIT_S)["StatusCode"])
        except Exception:  # the container vanished or the wait timed out: no exit code to report
            return None


def oom_killed(client: Any, container_id: str) -> bool:
    """Whether the kernel's OOM killer killed a process of the (stopped) container, as Docker recorded it."""
    from docker.errors import APIError

    try:
        state = client.api.inspect_container(container_id).get("State", {})
    except APIError:
        return False
    return bool(state.get("OOMKilled"))
