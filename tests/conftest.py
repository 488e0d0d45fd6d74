"""Shared test set-up: the shared data directory, an isolated call cache, a runner for the real CLI, and an
isolated custom-kind registry.

Set at import (before any test module imports collabgraph) so that in-process code and every subprocess a test
starts see the same environment:
- ``COLLABGRAPH_DATA`` defaults to ``../shared/data`` beside the repository (as in CI), unless already set;
- ``COLLABGRAPH_CACHE`` is a fresh temporary directory per test session (per xdist worker), so no test reads
  calls cached by an earlier session or by the user, and nothing is written to the user's cache.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = (REPO_ROOT.parent / "shared" / "data").resolve()

os.environ.setdefault("COLLABGRAPH_DATA", str(SHARED_DATA))
_SESSION_CACHE = Path(tempfile.mkdtemp(prefix="collabgraph-test-cache-"))
os.environ["COLLABGRAPH_CACHE"] = str(_SESSION_CACHE)
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

RunCli = Callable[..., subprocess.CompletedProcess[str]]


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_SESSION_CACHE, ignore_errors=True)


@pytest.fixture
def call_cache_dir(tmp_path: Path) -> Path:
    """A call-cache directory of this test's own (the session cache is shared by the tests of a worker)."""
    path = tmp_path / "cache"
    path.mkdir()
    return path


@pytest.fixture
def run_cli(call_cache_dir: Path) -> RunCli:
    """Run ``python -m collabgraph ARGS`` as a user would, with this test's cache directory.

    Keyword ``env`` adds or overrides environment variables (``None`` removes one); ``timeout`` bounds the run."""

    def run(
        *args: str, env: dict[str, str | None] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        full = {**os.environ, "COLLABGRAPH_CACHE": str(call_cache_dir), "COLUMNS": "200"}
        for key, value in (env or {}).items():
            if value is None:
                full.pop(key, None)
            else:
                full[key] = value
        return subprocess.run(
            [sys.executable, "-m", "collabgraph", *args],
            capture_output=True,
            text=True,
            env=full,
            cwd=REPO_ROOT,
            timeout=timeout,
            check=False,
        )

    return run


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The data directory the tests read (``COLLABGRAPH_DATA``)."""
    return Path(os.environ["COLLABGRAPH_DATA"])


@pytest.fixture
def isolated_kind_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """The custom-kind registry restored after the test, starting with no allowed modules and no
    ``COLLABGRAPH_ALLOW_KINDS``, so that the kinds and modules a test registers or allows never leak into another
    (use with ``pytestmark = pytest.mark.usefixtures("isolated_kind_registry")``)."""
    from collabgraph.agents import registry

    monkeypatch.delenv(registry.ALLOW_ENV, raising=False)
    monkeypatch.setattr(registry, "_ALLOWED", [])
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
