"""Where collabgraph reads data and keeps caches (resolved from flags, then environment, then user dirs), and the
model gateway's timeout and retry settings from the environment.

Imported by every ``collabgraph`` command at start-up, so it imports nothing heavy (no pydantic)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypedDict, TypeVar

from collabgraph.errors import ConfigError, ErrorItem

__all__ = ["GatewaySettings", "cache_dir", "data_dir", "gateway_settings", "offline_env"]

_Number = TypeVar("_Number", int, float)


def data_dir(override: str | Path | None = None) -> Path:
    """Data directory: ``--data-dir``, else ``COLLABGRAPH_DATA``, else ``~/.cache/collabgraph/data``."""
    return _user_dir(override, "COLLABGRAPH_DATA", "collabgraph", "data")


def cache_dir(override: str | Path | None = None) -> Path:
    """Model-call cache directory: ``COLLABGRAPH_CACHE``, else ``~/.cache/collabgraph``."""
    return _user_dir(override, "COLLABGRAPH_CACHE", "collabgraph")


def _user_dir(override: str | Path | None, var: str, *default: str) -> Path:
    """``override``, else ``$var`` (either resolved to an absolute path), else ``default`` under the user's cache
    directory (``$XDG_CACHE_HOME``, default ``~/.cache``)."""
    chosen = override or os.environ.get(var)
    if chosen:
        return Path(chosen).expanduser().resolve()
    return Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser().joinpath(*default)


def offline_env() -> None:
    """Settings that keep litellm from touching the network; must run before litellm is imported."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("LITELLM_LOG", "ERROR")


class GatewaySettings(TypedDict, total=False):
    """Keywords of ``collabgraph.models.Gateway`` a user sets from the environment (see ``gateway_settings``). A key
    is present only when its variable is set, so ``Gateway(pool, **settings)`` keeps the gateway's own default
    for the others."""

    timeout_s: float
    max_retries: int
    backoff_base_s: float
    backoff_max_s: float


def gateway_settings(environ: Mapping[str, str] | None = None) -> GatewaySettings:
    """The gateway's per-attempt timeout and retry loop as set in ``environ`` (default ``os.environ``):
    ``COLLABGRAPH_TIMEOUT_S`` (seconds, > 0), ``COLLABGRAPH_MAX_RETRIES`` (an integer >= 0),
    ``COLLABGRAPH_BACKOFF_BASE_S`` and ``COLLABGRAPH_BACKOFF_MAX_S`` (seconds, >= 0). A user tightens them against
    a dead endpoint or loosens them against a slow one; unset or empty ones are absent. Raises ConfigError
    (source ``environment``) naming every variable whose value is not valid, with what was expected."""
    env = os.environ if environ is None else environ
    errors: list[ErrorItem] = []

    def number(var: str, parse: Callable[[str], _Number], *, positive: bool) -> _Number | None:
        raw = env.get(var, "").strip()
        if not raw:
            return None
        try:
            value = parse(raw)
        except ValueError:
            errors.append(ErrorItem(var, f"expected {'an integer' if parse is int else 'a number'}, got {raw!r}"))
            return None
        if math.isnan(value) or value < 0 or (positive and value == 0):
            errors.append(ErrorItem(var, f"expected a value {'> 0' if positive else '>= 0'}, got {raw!r}"))
            return None
        return value

    out = GatewaySettings()
    if (timeout := number("COLLABGRAPH_TIMEOUT_S", float, positive=True)) is not None:
        out["timeout_s"] = timeout
    if (retries := number("COLLABGRAPH_MAX_RETRIES", int, positive=False)) is not None:
        out["max_retries"] = retries
    if (base := number("COLLABGRAPH_BACKOFF_BASE_S", float, positive=False)) is not None:
        out["backoff_base_s"] = base
    if (cap := number("COLLABGRAPH_BACKOFF_MAX_S", float, positive=False)) is not None:
        out["backoff_max_s"] = cap
    if errors:
        raise ConfigError("environment", errors)
    return out
