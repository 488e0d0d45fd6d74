"""Execution: the Sandbox contract, its backends, and how one is chosen."""

from __future__ import annotations

from typing import Literal

from collabgraph.errors import CollabgraphError, UnknownNameError
from collabgraph.sandbox.local import LocalSandbox
from collabgraph.sandbox.types import ExecLimits, ExecResult, Sandbox

__all__ = ["BACKENDS", "Backend", "ExecLimits", "ExecResult", "LocalSandbox", "Sandbox", "available_sandbox"]

Backend = Literal["auto", "local", "docker"]
BACKENDS: tuple[Backend, ...] = ("auto", "local", "docker")


def available_sandbox(backend: Backend = "auto") -> Sandbox:
    """The sandbox for ``backend``: ``local`` is :class:`LocalSandbox` (not a security boundary); ``auto`` is
    the best backend this machine offers, which is ``local`` until the Docker backend exists; ``docker``
    raises :class:`CollabgraphError` for now."""
    if backend == "docker":
        raise CollabgraphError(
            "sandbox backend 'docker' is not available: the Docker backend is not part of this version; "
            "use backend 'local' (or 'auto')"
        )
    if backend in ("auto", "local"):
        return LocalSandbox()
    raise UnknownNameError("sandbox backend", str(backend), BACKENDS)
