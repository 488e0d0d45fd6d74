"""The gateway against a real HTTP server on 127.0.0.1 that fails on a script: retries, timeouts, Retry-After,
concurrency limits, n>1 batching, and what may and may not leave the machine (offline metadata, API keys)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from collabgraph.errors import ConfigError, ModelCallError
from collabgraph.models import CallCache, CallRecord, Gateway, ModelPool, ModelSpec, OfflineMeta
from tests.models.scripted_server import ScriptedServer, scripted_server

PROMPT = [{"role": "user", "content": "What is 6 * 7?"}]
META = OfflineMeta(task="gsm8k", example_id="gsm8k/test/17", answer="42", answer_format="gsm8k")
FAST: dict[str, Any] = {"backoff_base_s": 0.001, "backoff_max_s": 0.005}


@pytest.fixture
async def server() -> AsyncIterator[ScriptedServer]:
    async with scripted_server() as srv:
        yield srv


def entry(server: ScriptedServer, name: str, **fields: Any) -> ModelSpec:
    return ModelSpec(litellm_id=f"hosted_vllm/{name}", api_base=server.url, **fields)


def make_gateway(server: ScriptedServer, tmp_path: Path | None = None, **options: Any) -> Gateway:
    pool = ModelPool(
        {
            "vllm": entry(server, "vllm", supports_n=True),
            "single": entry(server, "single"),
            "narrow": entry(server, "narrow", max_concurrency=3),
            "serve-sim": entry(server, "serve-sim", offline=True, supports_n=True, params={"extra_body": {"top_k": 5}}),
            "keyed": ModelSpec(litellm_id="openai/keyed", api_base=server.url, api_key_env="COLLABGRAPH_TEST_KEY"),
            "always-500": entry(server, "always-500"),
        }
    )
    cache = CallCache(tmp_path / "calls.sqlite") if tmp_path is not None else None
    return Gateway(pool, cache=cache, **{**FAST, **options})


@pytest.mark.parametrize("script", [["429"], ["500"], ["503", "502"], ["429", "500", "504"]])
async def test_transient_errors_are_retried_until_success(server: ScriptedServer, script: list[str]) -> None:
    records: list[CallRecord] = []
    server.plan("single", *script)
    gateway = make_gateway(server, on_call=records.append)
    (out,) = await gateway.complete("single", PROMPT)
    assert out.text.startswith("single answer 0")
    assert len(server.requests_for("single")) == len(script) + 1
    assert records[-1].attempts == len(script) + 1 and records[-1].requests == 1 and records[-1].error is None


async def test_a_hanging_server_is_abandoned_and_retried(server: ScriptedServer) -> None:
    server.plan("single", "hang")
    gateway = make_gateway(server, timeout_s=0.3)
    (out,) = await gateway.complete("single", PROMPT)
    assert out.text.startswith("single answer 0")
    assert len(server.requests_for("single")) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
async def test_other_client_errors_fail_at_once(server: ScriptedServer, status: int) -> None:
    server.plan("single", str(status))
    gateway = make_gateway(server)
    with pytest.raises(ModelCallError, match=rf"'single' failed after 1 attempt\(s\) \(HTTP {status}\)") as info:
        await gateway.complete("single", PROMPT)
    assert info.value.status == status and info.value.attempts == 1
    assert len(server.requests_for("single")) == 1


async def test_a_model_that_always_fails_gives_up_after_max_retries(server: ScriptedServer) -> None:
    records: list[CallRecord] = []
    gateway = make_gateway(server, max_retries=3, on_call=records.append)
    with pytest.raises(ModelCallError, match=r"'always-500' failed after 4 attempt\(s\) \(HTTP 500\)") as info:
        await gateway.complete("always-500", PROMPT)
    assert info.value.attempts == 4 and len(server.requests_for("always-500")) == 4
    (record,) = records
    assert record.attempts == 4 and record.error is not None and "HTTP 500" in record.error
    assert gateway.totals()["always-500"].failures == 1


async def test_an_unreachable_server_is_retried_then_reported(tmp_path: Path) -> None:
    pool = ModelPool({"gone": ModelSpec(litellm_id="hosted_vllm/gone", api_base="http://127.0.0.1:9/v1")})
    gateway = Gateway(pool, cache=None, max_retries=2, **FAST)
    with pytest.raises(ModelCallError, match=r"'gone' failed after 3 attempt\(s\)"):
        await gateway.complete("gone", PROMPT)


async def test_retry_after_is_honoured(server: ScriptedServer) -> None:
    server.plan("single", "429:retry-after=1")
    gateway = make_gateway(server)
    await gateway.complete("single", PROMPT)
    first, second = server.requests_for("single")
    assert second.at - first.at >= 0.95  # the jittered backoff alone would wait at most 1 ms


async def test_concurrency_never_exceeds_the_pool_limit(server: ScriptedServer) -> None:
    server.plan("narrow", *["slow:0.05"] * 12)
    gateway = make_gateway(server)
    # 4 calls of 3 unbatched samples each: 12 requests that all want to run at once.
    outs = await asyncio.gather(*(gateway.complete("narrow", PROMPT, n=3, seed=s) for s in range(4)))
    assert [len(out) for out in outs] == [3, 3, 3, 3]
    assert len(server.requests_for("narrow")) == 12
    assert server.max_in_flight == 3


async def test_n_goes_in_one_request_where_the_provider_supports_it(server: ScriptedServer, tmp_path: Path) -> None:
    gateway = make_gateway(server, tmp_path)
    out = await gateway.complete("vllm", PROMPT, n=4, temperature=0.8, seed=3)
    (seen,) = server.requests_for("vllm")
    assert seen.body["n"] == 4 and seen.body["seed"] == 3 and seen.body["temperature"] == 0.8
    assert [c.sample_index for c in out] == [0, 1, 2, 3]
    assert [c.usage.prompt_tokens for c in out] == [10, 0, 0, 0]  # prompt counted once, on the first sample
    assert sum(c.usage.completion_tokens for c in out) == sum(len(c.text.split()) for c in out)
    assert all(c.usage.latency_s > 0 for c in out)  # wall time for a real provider

    more = await gateway.complete("vllm", PROMPT, n=8, temperature=0.8, seed=3)
    assert [c.cached for c in more] == [True] * 4 + [False] * 4
    _, again = server.requests_for("vllm")
    assert again.body["n"] == 4
    assert again.body["seed"] != 3  # a fresh draw, not a copy of samples 0..3


async def test_without_n_support_samples_are_parallel_requests_with_distinct_seeds(server: ScriptedServer) -> None:
    gateway = make_gateway(server)
    out = await gateway.complete("single", PROMPT, n=3, seed=5)
    seen = server.requests_for("single")
    assert len(seen) == 3 and all("n" not in s.body for s in seen)
    assert len({s.body["seed"] for s in seen}) == 3 and 5 in {s.body["seed"] for s in seen}
    assert [c.sample_index for c in out] == [0, 1, 2]
    assert [c.usage.prompt_tokens for c in out] == [10, 10, 10]  # each request read the prompt


async def test_a_failed_sample_does_not_lose_the_others(server: ScriptedServer, tmp_path: Path) -> None:
    server.plan("single", "ok", "400", "ok")
    gateway = make_gateway(server, tmp_path)
    with pytest.raises(ModelCallError, match=r"HTTP 400"):
        await gateway.complete("single", PROMPT, n=3)
    out = await gateway.complete("single", PROMPT, n=3)
    assert len(server.requests_for("single")) == 4  # only the failed sample was asked for again
    assert sum(c.cached for c in out) == 2


async def test_offline_metadata_reaches_only_offline_servers(server: ScriptedServer) -> None:
    gateway = make_gateway(server)
    await gateway.complete("vllm", PROMPT, meta=META)
    await gateway.complete("hosted_vllm/adhoc", PROMPT, meta=META, api_base=server.url)
    await gateway.complete("serve-sim", PROMPT, n=2, first_sample=3, meta=META)
    for name in ("vllm", "adhoc"):
        (seen,) = server.requests_for(name)
        assert "collabgraph" not in seen.body and "metadata" not in seen.body
        assert "gsm8k/test/17" not in str(seen.body)
    (seen,) = server.requests_for("serve-sim")
    assert seen.body["collabgraph"] == {"meta": META.model_dump(mode="json"), "first_sample": 3}
    assert seen.body["top_k"] == 5  # the pool's own extra_body travels beside it


async def test_api_keys_are_sent_but_never_stored(
    server: ScriptedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-test-0123456789abcdef-never-store-me"
    monkeypatch.setenv("COLLABGRAPH_TEST_KEY", secret)
    gateway = make_gateway(server, tmp_path)
    await gateway.complete("keyed", PROMPT, n=2)
    assert all(s.headers.get("Authorization") == f"Bearer {secret}" for s in server.requests_for("keyed"))
    assert gateway.cache is not None and len(gateway.cache) == 2
    while_open = cache_files(tmp_path)
    gateway.cache.close()
    after_close = cache_files(tmp_path)
    assert "calls.sqlite-wal" in while_open and "calls.sqlite" in after_close
    for data in [*while_open.values(), *after_close.values()]:
        assert secret.encode() not in data


def cache_files(folder: Path) -> dict[str, bytes]:
    """Every file of the SQLite cache (database, write-ahead log, shared memory) with its bytes."""
    return {p.name: p.read_bytes() for p in folder.glob("calls.sqlite*")}


async def test_a_key_echoed_in_an_error_is_masked(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-test-echoed-by-a-careless-server"
    monkeypatch.setenv("COLLABGRAPH_TEST_KEY", secret)
    server.plan("keyed", "401:echo-auth")
    records: list[CallRecord] = []
    gateway = make_gateway(server, on_call=records.append)
    with pytest.raises(ModelCallError, match=r"HTTP 401") as info:
        await gateway.complete("keyed", PROMPT)
    assert "for Bearer <redacted>" in str(info.value)
    assert secret not in str(info.value) and info.value.__cause__ is None
    assert records[-1].error is not None and secret not in records[-1].error


async def test_a_missing_api_key_says_what_to_set(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLLABGRAPH_TEST_KEY", raising=False)
    gateway = make_gateway(server)
    with pytest.raises(ConfigError, match=r"api_key_env: environment variable COLLABGRAPH_TEST_KEY is not set"):
        await gateway.complete("keyed", PROMPT)
    assert server.seen == []
