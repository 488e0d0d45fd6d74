"""Execution: the Sandbox contract, its backends, and how one is chosen."""

from __future__ import annotations

import logging
import os
import threading
from typing import Literal

from collabgraph.errors import CollabgraphError, UnknownNameError, closest
from collabgraph.sandbox.containers import DockerUnavailableError, connect, sweep_stale_containers
from collabgraph.sandbox.docker import DockerSandbox
from collabgraph.sandbox.image import DEFAULT_IMAGE, BuildReport, build_image
from collabgraph.sandbox.local import LocalSandbox
from collabgraph.sandbox.pool import WarmPool
from collabgraph.sandbox.types import ExecLimits, ExecResult, Sandbox

__all__ = [
    "BACKENDS",
    "BACKEND_ENV",
    "DEFAULT_IMAGE",
    "Backend",
    "BuildReport",
    "DockerSandbox",
    "DockerUnavailableError",
    "ExecLimits",
    "ExecResult",
    "LocalSandbox",
    "Sandbox",
    "WarmPool",
    "available_sandbox",
    "build_image",
    "docker_unavailable_reason",
    "resolve_backend",
    "sweep_stale_containers",
]

logger = logging.getLogger(__name__)

Backend = Literal["auto", "local", "docker"]
BACKENDS: tuple[Backend, ...] = ("auto", "local", "docker")
BACKEND_ENV = "COLLABGRAPH_SANDBOX"
"""Environment setting read by backend ``auto``: ``docker``, ``local`` or ``auto``."""

_shared: dict[str, DockerSandbox] = {}
_shared_lock = threading.Lock()
_announced: set[str] = set()


def docker_unavailable_reason(image: str = DEFAULT_IMAGE) -> str | None:
    """Why the Docker backend cannot run here (no daemon answering, or no ``image``), or None when it can."""
    try:
        connect(image)
    except DockerUnavailableError as exc:
        return str(exc)
    return None


def _announce(message: str, level: int) -> None:
    if message not in _announced:
        _announced.add(message)
        logger.log(level, message)


def _shared_docker(image: str) -> DockerSandbox:
    with _shared_lock:
        sandbox = _shared.get(image)
        if sandbox is None:
            sandbox = _shared[image] = DockerSandbox(image)
        return sandbox


def resolve_backend(backend: Backend = "auto", *, image: str = DEFAULT_IMAGE) -> Literal["local", "docker"]:
    """The concrete backend ``backend`` stands for here: ``auto`` is the ``COLLABGRAPH_SANDBOX`` setting when
    set, else ``docker`` when the daemon answers and ``image`` exists, else ``local`` (the choice is logged once).
    ``docker`` raises :class:`DockerUnavailableError`, saying how to start the daemon or build the image, when
    Docker cannot run."""
    if backend not in BACKENDS:
        raise UnknownNameError("sandbox backend", str(backend), BACKENDS)
    if backend == "auto":
        setting = os.environ.get(BACKEND_ENV, "").strip().lower() or "auto"
        if setting not in BACKENDS:
            near = closest(setting, BACKENDS)
            raise CollabgraphError(
                f"{BACKEND_ENV}={os.environ[BACKEND_ENV]!r}: expected one of {', '.join(BACKENDS)}"
                + (f"; did you mean {near[0]}?" if near else "")
            )
        backend = setting
    if backend == "local":
        return "local"
    reason = docker_unavailable_reason(image)
    if backend == "docker":
        if reason is not None:
            raise DockerUnavailableError(f"sandbox backend 'docker' is not available: {reason}")
        return "docker"
    if reason is None:
        _announce(f"sandbox backend: docker (image {image})", logging.INFO)
        return "docker"
    _announce(f"sandbox backend: local, because Docker is not usable: {reason}", logging.WARNING)
    return "local"


def available_sandbox(backend: Backend = "auto", *, image: str = DEFAULT_IMAGE) -> Sandbox:
    """The sandbox for ``backend`` (see :func:`resolve_backend`): for Docker, a :class:`DockerSandbox` of
    ``image`` shared by every caller in this process (one warm pool); else :class:`LocalSandbox`, which is not a
    security boundary."""
    if resolve_backend(backend, image=image) == "docker":
        return _shared_docker(image)
    return LocalSandbox()
