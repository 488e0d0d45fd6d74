"""The gateway on in-process offline providers (a fake backend registered through the documented hook):
sample numbering, batching, the per-sample cache, accounting, records, and the errors a caller can hit."""

from __future__ import annotations

import asyncio
import multiprocessing
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from collabgraph.errors import CollabgraphError, ModelCallError, UnknownNameError
from collabgraph.models import (
    CallCache,
    CallRecord,
    Gateway,
    ModelPool,
    ModelSpec,
    OfflineMeta,
    OfflineRequest,
    OfflineSample,
    register_backend,
)
from collabgraph.models.accounting import decode_flops, prefill_flops
from collabgraph.tasks.types import Message
from tests.conftest import REPO_ROOT

PROMPT = [{"role": "user", "content": "What is 6 * 7?"}]
META = OfflineMeta(task="gsm8k", example_id="gsm8k/test/17", answer="42", answer_format="gsm8k")


class FakeBackend:
    """Numbers its samples and remembers every request; can be told to fail."""

    def __init__(self) -> None:
        self.requests: list[OfflineRequest] = []
        self.fail_with: Exception | None = None

    def generate(self, spec: ModelSpec, request: OfflineRequest) -> list[OfflineSample]:
        self.requests.append(request)
        if self.fail_with is not None:
            raise self.fail_with
        return [
            OfflineSample(
                text=f"{request.meta.example_id} sample {request.first_sample + k} #### 42",
                prompt_tokens=20,
                completion_tokens=5 + request.first_sample + k,
                latency_s=0.25 * (1 + request.first_sample + k),
            )
            for k in range(request.n)
        ]


SPEC = ModelSpec(
    litellm_id="fakeoffline/m", offline=True, params_b=1.0, layers=4, hidden=64, price_in=1.0, price_out=2.0
)


@pytest.fixture
def backend() -> Iterator[FakeBackend]:
    fake = FakeBackend()
    register_backend("fakeoffline", fake)
    yield fake
    register_backend("fakeoffline", None)


@pytest.fixture
def records() -> list[CallRecord]:
    return []


@pytest.fixture
async def gateway(tmp_path: Path, backend: FakeBackend, records: list[CallRecord]) -> AsyncIterator[Gateway]:
    pool = ModelPool({"fakeoffline/m": SPEC})
    with CallCache(tmp_path / "calls.sqlite") as cache:
        gw = Gateway(pool, cache=cache, backoff_base_s=0.001, backoff_max_s=0.002, on_call=records.append)
        yield gw
        await gw.aclose()


async def test_n_samples_come_back_numbered_from_first_sample(gateway: Gateway, backend: FakeBackend) -> None:
    out = await gateway.complete("fakeoffline/m", PROMPT, n=3, first_sample=5, meta=META, temperature=0.7, seed=9)
    assert [c.sample_index for c in out] == [5, 6, 7]
    assert [c.text for c in out] == [f"gsm8k/test/17 sample {k} #### 42" for k in (5, 6, 7)]
    (request,) = backend.requests
    assert (request.n, request.first_sample, request.seed, request.temperature) == (3, 5, 9, 0.7)
    assert request.meta == META and request.model == "fakeoffline/m"
    assert request.messages == ({"role": "user", "content": "What is 6 * 7?"},)
    assert all(c.model == "fakeoffline/m" and not c.cached and c.finish_reason == "stop" for c in out)


async def test_message_objects_are_accepted(gateway: Gateway, backend: FakeBackend) -> None:
    await gateway.complete(
        "fakeoffline/m", [Message(role="system", content="s"), Message(role="user", content="u")], meta=META
    )
    assert backend.requests[0].messages == ({"role": "system", "content": "s"}, {"role": "user", "content": "u"})


async def test_more_samples_pay_only_for_the_new_ones(gateway: Gateway, backend: FakeBackend) -> None:
    first = await gateway.complete("fakeoffline/m", PROMPT, n=4, meta=META, temperature=1.0)
    again = await gateway.complete("fakeoffline/m", PROMPT, n=8, meta=META, temperature=1.0)
    assert [(r.n, r.first_sample) for r in backend.requests] == [(4, 0), (4, 4)]
    assert [c.cached for c in again] == [True] * 4 + [False] * 4
    assert [c.text for c in again[:4]] == [c.text for c in first]
    assert [c.usage for c in again[:4]] == [c.usage for c in first]  # cached samples keep their original cost


async def test_gaps_in_the_cache_are_filled_by_contiguous_runs(gateway: Gateway, backend: FakeBackend) -> None:
    await gateway.complete("fakeoffline/m", PROMPT, first_sample=0, meta=META)
    await gateway.complete("fakeoffline/m", PROMPT, first_sample=3, meta=META)
    backend.requests.clear()
    out = await gateway.complete("fakeoffline/m", PROMPT, n=6, meta=META)
    assert sorted((r.first_sample, r.n) for r in backend.requests) == [(1, 2), (4, 2)]
    assert [c.sample_index for c in out] == list(range(6))
    assert [c.cached for c in out] == [True, False, False, True, False, False]


async def test_a_second_identical_call_is_free(
    gateway: Gateway, backend: FakeBackend, records: list[CallRecord]
) -> None:
    await gateway.complete("fakeoffline/m", PROMPT, n=2, meta=META)
    out = await gateway.complete("fakeoffline/m", PROMPT, n=2, meta=META)
    assert len(backend.requests) == 1
    assert all(c.cached for c in out)
    assert records[-1].cached == 2 and records[-1].requests == 0 and records[-1].usage.prompt_tokens == 0
    assert records[-1].cached_usage.prompt_tokens == 20


async def test_different_requests_do_not_share_cache_entries(gateway: Gateway, backend: FakeBackend) -> None:
    await gateway.complete("fakeoffline/m", PROMPT, meta=META)
    await gateway.complete("fakeoffline/m", PROMPT, meta=META, seed=1)
    await gateway.complete("fakeoffline/m", PROMPT, meta=META, temperature=0.5)
    await gateway.complete("fakeoffline/m", PROMPT, meta=META, max_tokens=100)
    await gateway.complete("fakeoffline/m", PROMPT, meta=META.model_copy(update={"example_id": "gsm8k/test/18"}))
    await gateway.complete("fakeoffline/m", [{"role": "user", "content": "What is 7 * 6?"}], meta=META)
    assert len(backend.requests) == 6


async def test_without_a_cache_every_call_reaches_the_provider(backend: FakeBackend) -> None:
    gateway = Gateway(ModelPool({"fakeoffline/m": SPEC}), cache=None)
    await gateway.complete("fakeoffline/m", PROMPT, meta=META)
    out = await gateway.complete("fakeoffline/m", PROMPT, meta=META)
    assert len(backend.requests) == 2 and not out[0].cached


async def test_usage_puts_the_shared_prompt_on_the_first_sample(gateway: Gateway) -> None:
    out = await gateway.complete("fakeoffline/m", PROMPT, n=3, meta=META)
    assert [c.usage.prompt_tokens for c in out] == [20, 0, 0]
    assert [c.usage.completion_tokens for c in out] == [5, 6, 7]
    assert [c.usage.latency_s for c in out] == [0.25, 0.5, 0.75]  # the offline pool's virtual latency
    assert out[0].usage.cost_usd == pytest.approx((20 * 1.0 + 5 * 2.0) / 1e6)
    assert out[1].usage.cost_usd == pytest.approx(6 * 2.0 / 1e6)
    assert out[0].usage.flops == pytest.approx(prefill_flops(SPEC, 20) + decode_flops(SPEC, 20, 5))
    assert out[2].usage.flops == pytest.approx(decode_flops(SPEC, 20, 7))


async def test_records_and_totals_add_up(gateway: Gateway, records: list[CallRecord]) -> None:
    out = await gateway.complete("fakeoffline/m", PROMPT, n=3, meta=META)
    await gateway.complete("fakeoffline/m", PROMPT, n=4, meta=META)
    first, second = records
    assert first.samples == (0, 1, 2) and first.cached == 0 and first.requests == 1 and first.attempts == 1
    assert first.usage.prompt_tokens == 20 and first.usage.completion_tokens == 18
    assert first.usage.cost_usd == pytest.approx(sum(c.usage.cost_usd for c in out))
    assert first.usage.latency_s == 0.75  # samples of one request finish side by side: the longest
    assert first.provider == "fakeoffline" and first.error is None and first.wall_s > 0
    assert second.cached == 3 and second.usage.completion_tokens == 8
    (total,) = gateway.totals().values()
    assert (total.calls, total.samples, total.cached, total.requests, total.failures) == (2, 7, 3, 2, 0)
    assert total.usage.completion_tokens == 26 and total.cached_usage.completion_tokens == 18


async def test_offline_models_need_meta(gateway: Gateway, backend: FakeBackend) -> None:
    with pytest.raises(CollabgraphError, match=r"'fakeoffline/m' is an offline pool model: pass meta=OfflineMeta"):
        await gateway.complete("fakeoffline/m", PROMPT)
    assert backend.requests == []


async def test_an_offline_refusal_fails_at_once_with_its_message(
    gateway: Gateway, backend: FakeBackend, records: list[CallRecord]
) -> None:
    backend.fail_with = CollabgraphError("replay/x has no record for question 'gsm8k/test/17'")
    with pytest.raises(ModelCallError, match=r"after 1 attempt\(s\): replay/x has no record for question") as info:
        await gateway.complete("fakeoffline/m", PROMPT, meta=META)
    assert info.value.attempts == 1 and len(backend.requests) == 1
    assert records[-1].error is not None and "no record" in records[-1].error
    assert gateway.totals()["fakeoffline/m"].failures == 1


async def test_a_crashing_backend_is_reported_not_retried(gateway: Gateway, backend: FakeBackend) -> None:
    backend.fail_with = KeyError("difficulty")
    with pytest.raises(ModelCallError, match=r"offline backend failed: KeyError: 'difficulty'"):
        await gateway.complete("fakeoffline/m", PROMPT, meta=META)
    assert len(backend.requests) == 1


async def test_unknown_model_names_the_closest(gateway: Gateway) -> None:
    with pytest.raises(UnknownNameError, match=r"unknown model 'fakeoffline/n'; did you mean: fakeoffline/m\?"):
        await gateway.complete("fakeoffline/n", PROMPT, meta=META)


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"n": 0}, r"n must be >= 1, got 0"), ({"first_sample": -1}, r"first_sample must be >= 0")]
)
async def test_bad_sample_ranges_are_refused(gateway: Gateway, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        await gateway.complete("fakeoffline/m", PROMPT, meta=META, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"timeout_s": 0}, r"timeout_s must be > 0"), ({"max_retries": -1}, r"max_retries must be >= 0")],
)
def test_bad_gateway_settings_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Gateway(ModelPool({}), cache=None, **kwargs)  # type: ignore[arg-type]


async def test_default_cache_lives_in_the_cache_dir(
    backend: FakeBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLLABGRAPH_CACHE", str(tmp_path / "cg"))
    async with Gateway(ModelPool({"fakeoffline/m": SPEC})) as gateway:
        await gateway.complete("fakeoffline/m", PROMPT, meta=META)
    with CallCache(tmp_path / "cg" / "calls.sqlite") as cache:
        assert len(cache) == 1


def _ask_in_another_process(path: str) -> None:
    register_backend("fakeoffline", FakeBackend())

    async def ask() -> None:
        with CallCache(path) as cache:
            await Gateway(ModelPool({"fakeoffline/m": SPEC}), cache=cache).complete(
                "fakeoffline/m", PROMPT, n=4, meta=META, temperature=1.0
            )

    asyncio.run(ask())


def _ask_the_cache_only(path: str, answers: Any) -> None:
    async def ask() -> list[bool]:
        with CallCache(path) as cache:
            out = await Gateway(ModelPool({"fakeoffline/m": SPEC}), cache=cache).complete(
                "fakeoffline/m", PROMPT, n=4, meta=META, temperature=1.0
            )
        return [c.cached for c in out]

    answers.put((asyncio.run(ask()), "litellm" in sys.modules))


async def test_processes_share_the_cache(tmp_path: Path, backend: FakeBackend) -> None:
    path = str(tmp_path / "shared.sqlite")
    ctx = multiprocessing.get_context("spawn")
    child = ctx.Process(target=_ask_in_another_process, args=(path,))
    child.start()
    await asyncio.to_thread(child.join, 120)
    assert child.exitcode == 0
    # A third process finds every sample cached, and never needs litellm for it.
    answers = ctx.Queue()
    reader = ctx.Process(target=_ask_the_cache_only, args=(path, answers))
    reader.start()
    assert await asyncio.to_thread(answers.get, True, 120) == ([True] * 4, False)
    await asyncio.to_thread(reader.join, 60)
    with CallCache(path) as cache:
        out = await Gateway(ModelPool({"fakeoffline/m": SPEC}), cache=cache).complete(
            "fakeoffline/m", PROMPT, n=6, meta=META, temperature=1.0
        )
    assert [c.cached for c in out] == [True] * 4 + [False] * 2
    assert [(r.first_sample, r.n) for r in backend.requests] == [(4, 2)]


def test_importing_the_package_does_not_import_litellm() -> None:
    code = "import sys, collabgraph.models; print('litellm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True)
    assert out.stdout.strip() == "False"
