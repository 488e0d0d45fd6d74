"""Sandbox containers: how one is created with every restriction, removed, tracked, and swept when stale.

Everything here is synchronous (the docker SDK is); the async layers run it in worker threads. Every container
this process creates is recorded in a process-wide registry until it is removed, and an ``atexit`` hook removes
whatever is still recorded, so a caller that never closes its sandbox leaves nothing running.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import math
import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from collabgraph.errors import CollabgraphError
from collabgraph.sandbox.image import image_missing_message
from collabgraph.sandbox.types import ExecLimits

__all__ = [
    "ENVIRONMENT",
    "GROUP_LABEL",
    "JOB_FILE",
    "LABEL",
    "OWNER_LABEL",
    "SANDBOX_USER",
    "WORK_DIR",
    "Container",
    "ContainerSpec",
    "DockerUnavailableError",
    "connect",
    "create_container",
    "labelled_containers",
    "owner_id",
    "remove_container",
    "sweep_stale_containers",
]

logger = logging.getLogger(__name__)

LABEL = "collabgraph.sandbox"
"""Set to ``1`` on every sandbox container: what the sweeper and the tests look for."""
OWNER_LABEL = "collabgraph.sandbox.owner"
"""``host:pid:start-time`` of the process that created the container, so a sweeper can tell a stale one."""
GROUP_LABEL = "collabgraph.sandbox.group"
"""One value per ``DockerSandbox`` instance."""

WORK_DIR = "/work"
SANDBOX_USER = "65534:65534"
"""``nobody:nogroup``: no home, no privileges, and not root inside the container."""
ENVIRONMENT = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "HOME": WORK_DIR,
    "TMPDIR": "/tmp",
}
"""The whole environment of a job; nothing of the host's is passed in."""

# tmpfs options: the uid/gid make the mount point the job's own (Docker copies the image directory's owner
# and mode onto a tmpfs, so ``mode=1777`` alone is not enough). Their size counts against the memory limit.
_WORK_TMPFS = "rw,exec,nosuid,nodev,size=256m,uid=65534,gid=65534"
_TMP_TMPFS = "rw,noexec,nosuid,nodev,size=64m,uid=65534,gid=65534"
_EXTRA_PIDS = 1
"""Processes the sandbox itself runs beside the job: PID 1."""
_OOM_SCORE_ADJ = 1000
"""If the host itself runs out of memory, sandbox jobs are the first thing its OOM killer takes."""
_API_TIMEOUT_S = 60
_UNAVAILABLE_HINT = (
    "start the Docker daemon (as root: `dockerd > /var/log/dockerd.log 2>&1 &`, or `systemctl start docker`; "
    "on a fresh Debian machine `scripts/docker-setup` installs, starts and builds everything), then build the "
    "sandbox image with `collabgraph sandbox build`; or use backend 'local'"
)


class DockerUnavailableError(CollabgraphError):
    """The Docker backend cannot run: no docker SDK, no daemon answering, or no sandbox image."""


def connect(image: str | None = None) -> Any:
    """A docker client whose daemon answered a ping (and has ``image``, when given); otherwise
    :class:`DockerUnavailableError` says how to fix it."""
    try:
        import docker
        from docker.errors import ImageNotFound
    except ImportError as exc:
        raise DockerUnavailableError(
            f"the docker Python package is not installed ({exc}); {_UNAVAILABLE_HINT}"
        ) from exc
    try:
        client = docker.from_env(timeout=_API_TIMEOUT_S, max_pool_size=64)
        client.ping()
    except Exception as exc:  # the SDK raises DockerException, requests' ConnectionError or a bare OSError
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DockerUnavailableError(f"the Docker daemon is not reachable ({reason}); {_UNAVAILABLE_HINT}") from exc
    if image is not None:
        try:
            client.api.inspect_image(image)
        except ImageNotFound as exc:
            raise DockerUnavailableError(image_missing_message(image)) from exc
    return client


def _process_start(pid: int) -> str:
    """The start time of process ``pid`` in clock ticks since boot ('' where /proc is missing): with the pid it
    names one process even after the pid is reused."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def owner_id(pid: int | None = None) -> str:
    """``host:pid:start-time`` of this process (or of ``pid``), the value of :data:`OWNER_LABEL`."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_process_start(pid)}"


def _owner_alive(owner: str) -> bool | None:
    """Whether the process named by an owner label still runs; None when it ran on another host."""
    host, _, rest = owner.partition(":")
    pid_text, _, start = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return None
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return not start or _process_start(pid) == start


@dataclass(frozen=True)
class ContainerSpec:
    """What a container is created with: the image, its resource limits, its lifetime and its group label."""

    image: str
    memory_mb: int
    cpus: float
    pids: int
    lifetime_s: float
    group: str

    @classmethod
    def for_limits(cls, image: str, limits: ExecLimits, *, group: str, lifetime_s: float) -> ContainerSpec:
        """The spec that enforces ``limits``' memory, CPU and process limits."""
        return cls(image, limits.memory_mb, limits.cpus, limits.pids, lifetime_s, group)

    def fits(self, limits: ExecLimits) -> bool:
        """Whether a container of this spec enforces exactly ``limits``' container-level limits (the timeout and
        the output cap are per job, so they never need a different container)."""
        return (self.memory_mb, self.cpus, self.pids) == (limits.memory_mb, limits.cpus, limits.pids)


@dataclass(frozen=True)
class Container:
    """A started sandbox container; ``expires_at`` (monotonic) is when its PID 1 gives up waiting for a job."""

    id: str
    spec: ContainerSpec
    expires_at: float

    def remaining_s(self) -> float:
        return self.expires_at - time.monotonic()


class _Registry:
    """Ids of the containers this process created and has not removed yet (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: set[str] = set()

    def add(self, cid: str) -> None:
        with self._lock:
            self._ids.add(cid)

    def discard(self, cid: str) -> bool:
        with self._lock:
            present = cid in self._ids
            self._ids.discard(cid)
            return present

    def snapshot(self) -> list[str]:
        with self._lock:
            return sorted(self._ids)


_registry = _Registry()


def _host_config(client: Any, spec: ContainerSpec) -> Any:
    from docker.types import Ulimit

    memory = f"{spec.memory_mb}m"
    return client.api.create_host_config(
        network_mode="none",
        read_only=True,
        tmpfs={WORK_DIR: _WORK_TMPFS, "/tmp": _TMP_TMPFS},
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        mem_limit=memory,
        memswap_limit=memory,  # equal to the memory limit: no swap
        nano_cpus=round(spec.cpus * 1e9),
        pids_limit=spec.pids + _EXTRA_PIDS,
        ulimits=[Ulimit(name="nofile", soft=1024, hard=1024), Ulimit(name="core", soft=0, hard=0)],
        oom_score_adj=_OOM_SCORE_ADJ,
    )


JOB_FILE = "/tmp/.collabgraph-job"
"""Where the job's argv (shell-quoted) arrives, inside the files archive; PID 1 reads and deletes it."""

_RUNNER = (
    # dash handles SIGINT itself and would exit 130 after the job; a no-op trap keeps PID 1 out of it (a trap, not
    # an ignore, so the job still starts with SIGINT at its default).
    "trap : INT; "
    "exec 3>&2 2>/dev/null; "
    "timeout -s KILL {lifetime} tar -xf - -C / 2>&3 || exit 125; "
    f"job=$(cat {JOB_FILE}) && rm -f {JOB_FILE} || exit 125; "
    # A subshell applies the job's redirections in the child, so the shell's own notes ("Killed") go to
    # /dev/null while the job's stderr is passed through untouched.
    '(eval "exec $job" </dev/null 2>&3 3>&-); '
    "exit $?"
)
"""PID 1 of every sandbox container (dash): wait for the job's archive on stdin, unpack it from ``/`` (the files
under /work, the argv in JOB_FILE), run the job as its only child with stdin from /dev/null, and exit with its
status (128 + N for a job killed by signal N). A container that gets no archive within its lifetime exits."""


def create_container(client: Any, spec: ContainerSpec) -> Container:
    """Create and start a container whose PID 1 (:data:`_RUNNER`) waits for one job on stdin.

    The job runs as a child of PID 1, so it has ordinary signal semantics (a job can kill itself), while PID 1
    cannot be killed from inside: the kernel delivers no signal to a PID namespace's init from inside the
    namespace unless init installed a handler, and the shell installs none. When the job exits PID 1 exits, the
    container stops and the kernel kills every process left in it: nothing a job starts can outlive it.
    """
    from docker.errors import APIError, ImageNotFound

    lifetime = max(1, math.ceil(spec.lifetime_s))
    try:
        created = client.api.create_container(
            spec.image,
            command=["sh", "-c", _RUNNER.format(lifetime=lifetime)],
            user=SANDBOX_USER,
            working_dir=WORK_DIR,
            environment=ENVIRONMENT,
            stdin_open=True,
            labels={LABEL: "1", OWNER_LABEL: owner_id(), GROUP_LABEL: spec.group},
            host_config=_host_config(client, spec),
        )
    except ImageNotFound as exc:
        raise DockerUnavailableError(image_missing_message(spec.image)) from exc
    except APIError as exc:
        raise CollabgraphError(f"Docker could not create a sandbox container: {exc.explanation or exc}") from exc
    cid: str = created["Id"]
    _registry.add(cid)
    try:
        client.api.start(cid)
    except BaseException as exc:
        remove_container(client, cid)
        if isinstance(exc, APIError):
            raise CollabgraphError(f"Docker could not start a sandbox container: {exc.explanation or exc}") from exc
        raise
    return Container(cid, spec, time.monotonic() + lifetime)


def remove_container(client: Any, cid: str) -> None:
    """Kill and remove a container; one that is already gone or being removed is fine."""
    from docker.errors import APIError, NotFound

    try:
        client.api.remove_container(cid, force=True)
    except NotFound:
        pass
    except APIError as exc:
        if exc.status_code != 409:  # 409: another removal of it is already in progress
            raise
    finally:
        _registry.discard(cid)


def labelled_containers(client: Any, *, group: str | None = None, owner: str | None = None) -> list[str]:
    """Ids of the sandbox containers (in any state), optionally only one group's or one owner's."""
    filters = [f"{LABEL}=1"]
    if group is not None:
        filters.append(f"{GROUP_LABEL}={group}")
    if owner is not None:
        filters.append(f"{OWNER_LABEL}={owner}")
    return [c["Id"] for c in client.api.containers(all=True, filters={"label": filters})]


def sweep_stale_containers(client: Any) -> list[str]:
    """Remove sandbox containers left behind by processes that died without cleaning up: those created on this
    host by a process that no longer runs, and stopped ones created on another host. Returns the ids removed.

    A live process's containers are its own to remove (it does, also at exit); running ones from other hosts,
    whose owner cannot be checked, exit by themselves once their lifetime passes without a job."""
    stale = []
    for entry in client.api.containers(all=True, filters={"label": f"{LABEL}=1"}):
        alive = _owner_alive((entry.get("Labels") or {}).get(OWNER_LABEL, ""))
        if alive is False or (alive is None and entry.get("State") in ("exited", "dead")):
            stale.append(entry["Id"])
    for cid in stale:
        with contextlib.suppress(Exception):
            remove_container(client, cid)
    if stale:
        logger.info("removed %d stale sandbox container(s)", len(stale))
    return stale


def _remove_registered_at_exit() -> None:
    # One after another: at interpreter exit no new worker threads may start.
    ids = _registry.snapshot()
    if not ids:
        return
    try:
        client = connect()
    except DockerUnavailableError:
        return
    for cid in ids:
        with contextlib.suppress(Exception):
            remove_container(client, cid)


atexit.register(_remove_registered_at_exit)
