"""Where collabgraph reads data and keeps caches; resolved from flags, then environment, then user dirs."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir", "data_dir", "offline_env"]


def data_dir(override: str | Path | None = None) -> Path:
    """Data directory: ``--data-dir``, else ``COLLABGRAPH_DATA``, else ``~/.cache/collabgraph/data``."""
    if override:
        return Path(override).expanduser().resolve()
    env = os.environ.get("COLLABGRAPH_DATA")
    if env:
        return Path(env).expanduser().resolve()
    return Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser() / "collabgraph" / "data"


def cache_dir(override: str | Path | None = None) -> Path:
    """Model-call cache directory: ``COLLABGRAPH_CACHE``, else ``~/.cache/collabgraph``."""
    if override:
        return Path(override).expanduser().resolve()
    env = os.environ.get("COLLABGRAPH_CACHE")
    if env:
        return Path(env).expanduser().resolve()
    return Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser() / "collabgraph"


def offline_env() -> None:
    """Settings that keep litellm from touching the network; must run before litellm is imported."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("LITELLM_LOG", "ERROR")
