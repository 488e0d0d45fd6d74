"""Helpers shared by the test packages that drive the real CLI and real servers: a free local port, a
``collabgraph serve-sim`` subprocess, the JSON a ``--format json`` command printed, the fields every
evaluation summary carries, and a check that an API key was written nowhere."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from collabgraph.sandbox import Sandbox
from collabgraph.tasks.swe.sources import SOURCES, archive_path
from collabgraph.tasks.swe_mini import SweMiniTask
from tests.conftest import REPO_ROOT

EVAL_SUMMARY_FIELDS = frozenset(
    {
        "model",
        "task",
        "n",
        "accuracy",
        "ci95",
        "mean_prompt_tokens",
        "mean_completion_tokens",
        "mean_cost_usd",
        "mean_latency_s",
        "mean_flops",
        "samples",
        "split",
        "seed",
        "errors",
        "cached_calls",
    }
)
"""What ``EvalReport.summary()`` (and so ``collabgraph eval --format json``) always holds (issue 2 asks for at
least model, task, n, accuracy, ci95 and the mean cost figures)."""

SERVE_SIM_START_S = 60
"""How long a serve-sim subprocess may take to answer (a loaded machine imports slowly)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listened on a moment ago (a URL on it is refused until used)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli_json(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The one JSON object a successful ``--format json`` command printed as the whole of its stdout."""
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert isinstance(report, dict)
    return report


def assert_secret_free(secret: str, *places: Path | str) -> None:
    """Fail when ``secret`` (a test API key) appears in any of ``places``: a text (a command's output), a file, or
    every file under a directory."""
    for place in places:
        if isinstance(place, str):
            assert secret not in place
            continue
        for path in [place] if place.is_file() else place.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), f"API key written to {path}"


@contextmanager
def start_serve_sim(tmp_path: Path, *options: str) -> Iterator[str]:
    """``collabgraph serve-sim OPTIONS`` in a subprocess on a free port, with a call cache of its own under
    ``tmp_path`` and its output in ``tmp_path/serve-sim.log``. Yields the base URL (``http://127.0.0.1:P/v1``)
    once ``/models`` answers; the server is stopped on exit."""
    port = free_port()
    log_path = tmp_path / "serve-sim.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "collabgraph", "serve-sim", "--port", str(port), *options],
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "COLLABGRAPH_CACHE": str(tmp_path / "server-cache")},
        )
        base = f"http://127.0.0.1:{port}/v1"
        try:
            deadline = time.monotonic() + SERVE_SIM_START_S
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/models", timeout=2) as resp:
                        if resp.status == 200:
                            break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"serve-sim did not start: {log_path.read_text()}") from None
                    time.sleep(0.2)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def swe_sources_root() -> Path:
    """Where scripts/fetch-swe-sources put the swe_mini sdists: COLLABGRAPH_SWE_SOURCES, else the user cache it
    defaults to (a test session's own COLLABGRAPH_CACHE is a fresh temporary directory, so not cache_dir())."""
    env = os.environ.get("COLLABGRAPH_SWE_SOURCES")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser() / "collabgraph" / "swe_sources"


def built_swe_mini(sandbox: Sandbox | None = None) -> SweMiniTask:
    """The swe_mini task over the fetched sdists, its instances built (or loaded from their cache); a clear
    failure naming scripts/fetch-swe-sources when the sdists are missing."""
    root = swe_sources_root()
    missing = [name for name in SOURCES if not archive_path(name, root).exists()]
    if missing:
        pytest.fail(f"swe_mini sdists {missing} are not in {root}: run scripts/fetch-swe-sources first")
    built = SweMiniTask(sources=root, sandbox=sandbox)
    asyncio.run(built.build())
    return built
