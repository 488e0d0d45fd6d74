"""The model-call cache: one SQLite row per sample, shared safely by every process on the machine.

A row's key is ``<request digest>:<sample index>``. The digest is the sha256 of the canonical JSON of everything
that shapes the answer (litellm id, api_base, messages, temperature, max_tokens, seed, extra parameters and
offline metadata) and never of ``n``, so sample k of a prompt is one entry however it was batched: asking for
samples 0..7 after 0..3 were cached pays only for 4..7. API keys are never part of a request as the gateway
describes it, so they reach neither keys nor values.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

from collabgraph.models.types import Usage

__all__ = ["CACHE_FORMAT", "CachedSample", "CallCache", "request_digest", "sample_key"]

CACHE_FORMAT = 1
"""Bumped whenever what a key covers or how a value is stored changes, so old entries are never misread."""

# Parameters that can carry credentials or only steer transport; they never shape the answer.
_UNKEYED_PARAMS = frozenset({"api_key", "api_version", "azure_ad_token", "headers", "extra_headers", "timeout"})


class CachedSample(NamedTuple):
    """One stored sample: its text, what it cost when it was paid for, and why it stopped."""

    text: str
    usage: Usage
    finish_reason: str | None


def request_digest(
    *,
    litellm_id: str,
    api_base: str | None,
    messages: Sequence[Mapping[str, str]],
    temperature: float,
    max_tokens: int | None,
    seed: int,
    params: Mapping[str, Any],
    meta: Mapping[str, Any] | None,
) -> str:
    """sha256 (hex) of the canonical JSON of a request, without its sample count or sample indices."""
    payload = {
        "format": CACHE_FORMAT,
        "litellm_id": litellm_id,
        "api_base": api_base,
        "messages": list(messages),
        "temperature": float(temperature),
        "max_tokens": max_tokens,
        "seed": seed,
        "params": {k: v for k, v in params.items() if k not in _UNKEYED_PARAMS},
        "meta": meta,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def sample_key(digest: str, sample_index: int) -> str:
    """The cache key of one sample of the request whose digest is ``digest``."""
    return f"{digest}:{sample_index}"


class CallCache:
    """Completed samples on disk (SQLite in WAL mode), shared by threads and processes.

    Writers wait for each other (busy timeout) instead of failing; when two processes pay for the same sample at
    once the first stored answer wins, so every reader sees one answer per key. Operations are sub-millisecond
    local reads and writes, so the gateway calls them directly from the event loop: a thread hop would cost
    more than the query."""

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 60.0) -> None:
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
        self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        self._conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL is durable across process crashes in WAL mode; only a power cut can drop the last writes.
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS samples (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID"
        )

    def get_many(self, keys: Sequence[str]) -> dict[str, CachedSample]:
        """The stored samples among ``keys`` (missing keys are absent from the result)."""
        if not keys:
            return {}
        marks = ",".join("?" * len(keys))
        with self._lock:
            rows = self._conn.execute(f"SELECT key, value FROM samples WHERE key IN ({marks})", tuple(keys)).fetchall()
        return {key: _decode(value) for key, value in rows}

    def put_many(self, items: Iterable[tuple[str, CachedSample]]) -> None:
        """Store samples in one transaction; a key already stored (by this or another process) keeps its value."""
        rows = [(key, _encode(sample)) for key, sample in items]
        if not rows:
            return
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany("INSERT OR IGNORE INTO samples (key, value) VALUES (?, ?)", rows)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def get(self, key: str) -> CachedSample | None:
        """One stored sample, or None."""
        return self.get_many([key]).get(key)

    def __len__(self) -> int:
        with self._lock:
            (count,) = self._conn.execute("SELECT COUNT(*) FROM samples").fetchone()
        return int(count)

    def clear(self) -> None:
        """Forget every stored sample."""
        with self._lock:
            self._conn.execute("DELETE FROM samples")

    def close(self) -> None:
        """Close the database connection (idempotent)."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> CallCache:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _encode(sample: CachedSample) -> str:
    return json.dumps(
        {"text": sample.text, "usage": sample.usage.model_dump(), "finish_reason": sample.finish_reason},
        separators=(",", ":"),
        ensure_ascii=False,
    )


def _decode(value: str) -> CachedSample:
    data = json.loads(value)
    return CachedSample(text=data["text"], usage=Usage(**data["usage"]), finish_reason=data["finish_reason"])
