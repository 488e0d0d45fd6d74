"""The call cache on real SQLite: keys (stable, one per sample, blind to credentials), storage, and two
processes writing the same file at once."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from collabgraph.models.cache import CachedSample, CallCache, request_digest, sample_key
from collabgraph.models.types import Usage

BASE: dict[str, Any] = {
    "litellm_id": "hosted_vllm/llama",
    "api_base": "http://127.0.0.1:8000/v1",
    "messages": [{"role": "user", "content": "What is 6 * 7?"}],
    "temperature": 0.7,
    "max_tokens": 256,
    "seed": 0,
    "params": {"top_p": 0.9},
    "meta": {"task": "gsm8k", "example_id": "gsm8k/test/17"},
}
USAGE = Usage(prompt_tokens=12, completion_tokens=30, cost_usd=0.001, flops=1e9, latency_s=0.4)


def sample(text: str = "#### 42") -> CachedSample:
    return CachedSample(text=text, usage=USAGE, finish_reason="stop")


def test_a_digest_depends_on_every_field_that_shapes_the_answer() -> None:
    digest = request_digest(**BASE)
    changes: dict[str, Any] = {
        "litellm_id": "hosted_vllm/qwen",
        "api_base": "http://127.0.0.1:8001/v1",
        "messages": [{"role": "user", "content": "What is 7 * 6?"}],
        "temperature": 0.0,
        "max_tokens": None,
        "seed": 1,
        "params": {"top_p": 1.0},
        "meta": {"task": "gsm8k", "example_id": "gsm8k/test/18"},
    }
    for field, value in changes.items():
        assert request_digest(**{**BASE, field: value}) != digest, field


def test_a_digest_ignores_credentials_and_key_order() -> None:
    digest = request_digest(**BASE)
    with_key = {**BASE, "params": {"top_p": 0.9, "api_key": "sk-secret", "extra_headers": {"X": "y"}}}
    assert request_digest(**with_key) == digest
    reordered = {**BASE, "meta": {"example_id": "gsm8k/test/17", "task": "gsm8k"}}
    assert request_digest(**reordered) == digest
    assert request_digest(**{**BASE, "temperature": 1}) == request_digest(**{**BASE, "temperature": 1.0})


@given(seed=st.integers(0, 2**31), content=st.text(max_size=200), k=st.integers(0, 10_000))
def test_sample_keys_are_stable_and_distinct_per_index(seed: int, content: str, k: int) -> None:
    fields = {**BASE, "seed": seed, "messages": [{"role": "user", "content": content}]}
    digest = request_digest(**fields)
    assert request_digest(**fields) == digest
    assert len(digest) == 64
    assert sample_key(digest, k) == sample_key(digest, k)
    assert sample_key(digest, k) != sample_key(digest, k + 1)


def test_samples_round_trip(tmp_path: Path) -> None:
    with CallCache(tmp_path / "c.sqlite") as cache:
        cache.put_many([("a:0", sample("first")), ("a:1", CachedSample("", Usage(), None))])
        assert cache.get("a:0") == sample("first")
        assert cache.get("a:1") == CachedSample("", Usage(), None)
        assert cache.get("a:2") is None
        assert set(cache.get_many(["a:0", "a:1", "a:2"])) == {"a:0", "a:1"}
        assert cache.get_many([]) == {}
        assert len(cache) == 2


def test_the_first_stored_answer_wins(tmp_path: Path) -> None:
    with CallCache(tmp_path / "c.sqlite") as cache:
        cache.put_many([("k:0", sample("first"))])
        cache.put_many([("k:0", sample("second"))])
        assert cache.get("k:0") == sample("first")


def test_it_persists_and_uses_write_ahead_logging(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "c.sqlite"
    with CallCache(path) as cache:
        cache.put_many([("k:0", sample())])
    with CallCache(path) as again:
        assert again.get("k:0") == sample()
        again.clear()
        assert len(again) == 0
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _writer(path: str, worker: int, count: int, start: Any) -> None:
    with CallCache(path) as cache:
        start.wait(30)  # both processes begin writing together
        for i in range(count):
            # Every worker also writes the shared keys, racing the others for them.
            cache.put_many([(f"w{worker}:{i}", sample(f"{worker}-{i}")), (f"shared:{i}", sample(f"{worker}"))])


def test_two_processes_can_write_the_same_cache_at_once(tmp_path: Path) -> None:
    path = str(tmp_path / "c.sqlite")
    CallCache(path).close()
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(2)
    procs = [ctx.Process(target=_writer, args=(path, w, 150, start)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    with CallCache(path) as cache:
        assert len(cache) == 3 * 150
        assert cache.get("w0:149") == sample("0-149") and cache.get("w1:0") == sample("1-0")
        assert {cache.get(f"shared:{i}").text for i in range(150)} <= {"0", "1"}  # type: ignore[union-attr]
