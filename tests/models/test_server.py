"""serve-sim over a real socket on 127.0.0.1: the OpenAI API shape, the offline pools behind it, injected faults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import openai
import pytest

from collabgraph.errors import ModelCallError
from collabgraph.models import server as server_module
from collabgraph.models.offline import OfflineBackend, load_backend
from collabgraph.models.pool import ModelPool, ModelSpec, default_pool
from collabgraph.models.server import FaultInjector, make_app, serve_in_background, served_models, served_pool_entry
from collabgraph.models.types import OfflineMeta, OfflineRequest, OfflineSample

LLAMA = "replay/Meta-Llama-3_1-70B-Instruct"
FAKE_SIM = "sim/fake-model"


class FakeSim:
    """Stands in for the sim backend: says which sample it is, and remembers the requests it saw."""

    def __init__(self) -> None:
        self.requests: list[OfflineRequest] = []

    def generate(self, spec: ModelSpec, request: OfflineRequest) -> list[OfflineSample]:
        self.requests.append(request)
        return [
            OfflineSample(
                text=f"{request.meta.example_id} sample {request.first_sample + k}",
                prompt_tokens=7,
                completion_tokens=3 + k,
                latency_s=0.5 + k,
            )
            for k in range(request.n)
        ]


@pytest.fixture
def fake_sim(monkeypatch: pytest.MonkeyPatch) -> FakeSim:
    fake = FakeSim()

    def loader(provider: str, pool: ModelPool, data_dir: Any = None) -> OfflineBackend:
        return fake if provider == "sim" else load_backend(provider, pool, data_dir)

    monkeypatch.setattr(server_module, "load_backend", loader)
    return fake


@pytest.fixture
def pool() -> ModelPool:
    extra = ModelPool({FAKE_SIM: ModelSpec(litellm_id=FAKE_SIM, offline=True, supports_n=True, ttft_s=0.1)})
    return default_pool().merged(extra)


@pytest.fixture
async def base_url(pool: ModelPool, fake_sim: FakeSim) -> AsyncIterator[str]:
    async with serve_in_background(make_app(pool)) as url:
        yield url


def meta(example_id: str = "mmlu_pro/70", task: str = "mmlu_pro") -> dict[str, Any]:
    return {"task": task, "example_id": example_id, "answer": "I", "answer_format": "letter"}


def body(model: str = LLAMA, **kw: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": "Which option? " * 10}],
        "temperature": 0.0,
        "collabgraph": {"meta": meta()},
    }
    payload.update(kw)
    return payload


async def post(url: str, payload: Any, client_timeout: float = 30) -> tuple[int, dict[str, Any], dict[str, str]]:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=client_timeout)) as session,
        session.post(f"{url}/chat/completions", json=payload) as resp,
    ):
        return resp.status, await resp.json(), dict(resp.headers)


async def get(url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        return resp.status, await resp.json()


def assert_openai_error(payload: dict[str, Any], code: str) -> str:
    assert set(payload) == {"error"}
    error = payload["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    return str(error["message"])


async def test_models_lists_the_sim_and_replay_models_of_the_pool(base_url: str, pool: ModelPool) -> None:
    status, payload = await get(f"{base_url}/models")
    assert status == 200 and payload["object"] == "list"
    ids = [m["id"] for m in payload["data"]]
    assert ids == [s.name for s in served_models(pool)]
    assert LLAMA in ids and FAKE_SIM in ids and "replay/gpt3-175b-verification" in ids
    card = next(m for m in payload["data"] if m["id"] == LLAMA)
    assert card["object"] == "model" and card["owned_by"] == "collabgraph-replay"


async def test_one_model_is_found_by_its_name_with_slashes(base_url: str) -> None:
    status, card = await get(f"{base_url}/models/{LLAMA}")
    assert status == 200 and card["id"] == LLAMA
    status, payload = await get(f"{base_url}/models/replay/Meta-Llama-3.1-70B")
    assert status == 404
    assert "did you mean" in assert_openai_error(payload, "model_not_found")


async def test_health_answers_and_a_server_on_every_interface_is_reached_through_loopback(pool: ModelPool) -> None:
    async with serve_in_background(make_app(pool), host="0.0.0.0") as url:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        async with aiohttp.ClientSession() as session, session.get(url.removesuffix("/v1") + "/health") as resp:
            assert resp.status == 200


async def test_a_replay_completion_returns_the_recorded_letter(base_url: str) -> None:
    status, payload, _ = await post(base_url, body())
    assert status == 200
    assert payload["object"] == "chat.completion" and payload["id"].startswith("chatcmpl-")
    assert payload["model"] == LLAMA and isinstance(payload["created"], int)
    (choice,) = payload["choices"]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"].endswith("The answer is (I).")
    usage = payload["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens"] == 35


async def test_n_samples_come_back_as_n_choices_with_the_prompt_counted_once(base_url: str) -> None:
    status, payload, _ = await post(base_url, body(n=3))
    assert status == 200
    assert [c["index"] for c in payload["choices"]] == [0, 1, 2]
    one = payload["collabgraph"]["samples"][0]
    assert payload["usage"]["completion_tokens"] == 3 * one["completion_tokens"]
    assert payload["usage"]["prompt_tokens"] == one["prompt_tokens"]


async def test_sim_models_get_the_request_metadata_and_sample_numbers(base_url: str, fake_sim: FakeSim) -> None:
    payload = body(FAKE_SIM, n=2, seed=11, max_tokens=50)
    payload["collabgraph"] = {"meta": meta("gsm8k/test/3", "gsm8k"), "first_sample": 4}
    status, result, _ = await post(base_url, payload)
    assert status == 200
    assert [c["message"]["content"] for c in result["choices"]] == ["gsm8k/test/3 sample 4", "gsm8k/test/3 sample 5"]
    (seen,) = fake_sim.requests
    assert (seen.n, seen.first_sample, seen.seed, seen.max_tokens, seen.temperature) == (2, 4, 11, 50, 0.0)
    assert seen.meta.task == "gsm8k" and seen.messages[0]["role"] == "user"
    assert result["collabgraph"]["samples"][1] == {"prompt_tokens": 7, "completion_tokens": 4, "latency_s": 1.5}


async def test_the_real_sim_backend_answers_over_http() -> None:
    # The built-in pool with the real SimBackend: sample k is the same text asked alone or within a batch.
    sim_meta = {"task": "gsm8k", "example_id": "gsm8k/test/0", "answer": "18", "answer_format": "gsm8k"}
    async with serve_in_background(make_app(default_pool())) as url:
        _, listed = await get(f"{url}/models")
        assert {"sim/llama-3.1-8b", "sim/oracle", LLAMA} <= {m["id"] for m in listed["data"]}
        batch = body("sim/llama-3.1-8b", n=3, temperature=0.8, seed=1, collabgraph={"meta": sim_meta})
        status, three, _ = await post(url, batch)
        alone = body("sim/llama-3.1-8b", temperature=0.8, seed=1, collabgraph={"meta": sim_meta, "first_sample": 1})
        _, one, _ = await post(url, alone)
        oracle = body("sim/oracle", collabgraph={"meta": sim_meta})
        _, right, _ = await post(url, oracle)
    assert status == 200 and len(three["choices"]) == 3
    assert one["choices"][0]["message"]["content"] == three["choices"][1]["message"]["content"]
    assert right["choices"][0]["message"]["content"].rstrip().endswith("#### 18")


async def test_missing_metadata_is_a_400_that_says_what_to_send(base_url: str) -> None:
    payload = body()
    del payload["collabgraph"]
    status, result, _ = await post(base_url, payload)
    assert status == 400
    message = assert_openai_error(result, "missing_offline_meta")
    assert "'collabgraph'" in message and "example_id" in message and "extra_body" in message


async def test_invalid_metadata_names_the_field(base_url: str) -> None:
    payload = body()
    del payload["collabgraph"]["meta"]["example_id"]
    status, result, _ = await post(base_url, payload)
    assert status == 400
    assert "collabgraph.meta.example_id: Field required" in assert_openai_error(result, "invalid_request")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"messages": []}, "messages: List should have at least 1 item"),
        ({"n": 0}, "n: Input should be greater than or equal to 1"),
        ({"temperature": -1}, "temperature: Input should be greater than or equal to 0"),
        ({"max_tokens": "lots"}, "max_tokens: Input should be a valid integer"),
    ],
)
async def test_bad_parameters_are_400s_naming_the_parameter(
    base_url: str, change: dict[str, Any], expected: str
) -> None:
    status, result, _ = await post(base_url, body(**change))
    assert status == 400
    assert expected in assert_openai_error(result, "invalid_request")


async def test_missing_model_and_bad_json_are_400s(base_url: str) -> None:
    payload = body()
    del payload["model"]
    status, result, _ = await post(base_url, payload)
    assert status == 400 and "model: Field required" in assert_openai_error(result, "invalid_request")
    async with aiohttp.ClientSession() as session, session.post(f"{base_url}/chat/completions", data=b"{nope") as resp:
        assert resp.status == 400
        assert "not valid JSON" in assert_openai_error(await resp.json(), "invalid_json")


async def test_an_unknown_model_is_a_404_with_the_closest_names(base_url: str) -> None:
    status, result, _ = await post(base_url, body("replay/Meta-Llama-3_1-70B-instruct"))
    assert status == 404
    message = assert_openai_error(result, "model_not_found")
    assert "unknown model 'replay/Meta-Llama-3_1-70B-instruct'" in message and LLAMA in message


async def test_a_question_without_a_record_is_a_404_naming_model_and_question(base_url: str) -> None:
    payload = body(collabgraph={"meta": meta("gsm8k/test/0", "gsm8k")})
    status, result, _ = await post(base_url, payload)
    assert status == 404
    message = assert_openai_error(result, "no_recorded_answer")
    assert LLAMA in message and "gsm8k/test/0" in message


async def test_max_tokens_truncates_with_finish_reason_length(base_url: str) -> None:
    status, result, _ = await post(base_url, body(max_tokens=4))
    assert status == 200
    (choice,) = result["choices"]
    assert choice["finish_reason"] == "length" and len(choice["message"]["content"]) == 16


async def test_latency_is_slept_as_scale_times_virtual_latency_plus_fixed(
    pool: ModelPool, fake_sim: FakeSim, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    real_sleep = asyncio.sleep

    async def record(delay: float) -> None:
        slept.append(delay)
        await real_sleep(0)

    monkeypatch.setattr(server_module, "_sleep", record)
    async with serve_in_background(make_app(pool, latency_scale=0.5, fixed_latency=0.25)) as url:
        status, _, _ = await post(url, body(FAKE_SIM, n=3))
    assert status == 200
    # FakeSim's samples take 0.5, 1.5 and 2.5 virtual seconds; the request lasts as long as its slowest sample.
    assert slept == [pytest.approx(0.5 * 2.5 + 0.25)]


async def test_fail_rate_1_gives_only_429_500_and_hangs(pool: ModelPool, fake_sim: FakeSim) -> None:
    statuses = []
    async with serve_in_background(make_app(pool, fail_rate=1.0, hang_s=0.01, seed=3)) as url:
        for _ in range(24):
            status, result, headers = await post(url, body())
            statuses.append(status)
            code = {429: "rate_limit_exceeded", 500: "injected_fault", 503: "injected_hang"}[status]
            assert "injected by serve-sim" in assert_openai_error(result, code)
            if status == 429:
                assert headers["Retry-After"] == "1" and headers["retry-after-ms"] == "1000"
    assert set(statuses) == {429, 500, 503}


async def test_a_hang_outlasts_a_client_timeout(pool: ModelPool, fake_sim: FakeSim) -> None:
    seed = 5
    plan = FaultInjector(1.0, seed)
    first_hang = next(i for i in range(100) if plan.draw() == "hang")
    async with serve_in_background(make_app(pool, fail_rate=1.0, hang_s=60, seed=seed)) as url:
        for _ in range(first_hang):
            status, _, _ = await post(url, body())
            assert status in (429, 500)
        with pytest.raises(asyncio.TimeoutError):
            await post(url, body(), client_timeout=0.2)


async def test_the_fault_sequence_is_fixed_by_the_seed(pool: ModelPool, fake_sim: FakeSim) -> None:
    async def statuses(seed: int) -> list[int]:
        out = []
        async with serve_in_background(make_app(pool, fail_rate=0.5, hang_s=0, seed=seed)) as url:
            for _ in range(20):
                out.append((await post(url, body()))[0])
        return out

    first = await statuses(7)
    assert first == await statuses(7)
    assert first != await statuses(8)
    assert 200 in first and set(first) - {200}


def test_fault_injector_hits_its_rate_with_a_third_of_each_kind() -> None:
    plan = FaultInjector(0.3, seed=0)
    draws = [plan.draw() for _ in range(6000)]
    faults = [d for d in draws if d is not None]
    assert 0.28 < len(faults) / len(draws) < 0.32
    for kind in ("rate_limit", "server_error", "hang"):
        assert 0.29 < faults.count(kind) / len(faults) < 0.37
    assert all(d is None for d in (FaultInjector(0.0, seed=0).draw() for _ in range(100)))


def test_bad_options_are_refused_with_the_option_name(pool: ModelPool) -> None:
    with pytest.raises(ValueError, match=r"fail_rate must be in \[0, 1\], got 1.5"):
        make_app(pool, fail_rate=1.5)
    with pytest.raises(ValueError, match=r"latency_scale must be >= 0, got -1"):
        make_app(pool, latency_scale=-1)


def test_a_served_pool_entry_keeps_the_models_costs(pool: ModelPool) -> None:
    spec = pool.get(LLAMA)
    entry = served_pool_entry(spec, "http://127.0.0.1:9/v1")
    parsed = ModelSpec.model_validate(entry)
    assert parsed.litellm_id == f"hosted_vllm/{LLAMA}" and parsed.api_base == "http://127.0.0.1:9/v1"
    assert parsed.offline and parsed.supports_n
    assert (parsed.params_b, parsed.layers, parsed.hidden) == (spec.params_b, spec.layers, spec.hidden)
    assert (parsed.price_in, parsed.throughput_tok_s) == (spec.price_in, spec.throughput_tok_s)


async def test_the_openai_client_works_against_it(base_url: str) -> None:
    client = openai.AsyncOpenAI(base_url=base_url, api_key="unused", max_retries=0)
    try:
        listed = [m.id async for m in client.models.list()]
        assert LLAMA in listed and FAKE_SIM in listed
        done = await client.chat.completions.create(
            model=LLAMA,
            messages=[{"role": "user", "content": "Which option?"}],
            n=2,
            temperature=0.0,
            extra_body={"collabgraph": {"meta": meta()}},
        )
        assert [c.message.content for c in done.choices] == [done.choices[0].message.content] * 2
        assert done.choices[0].message.content is not None
        assert done.choices[0].message.content.endswith("The answer is (I).")
        assert done.usage is not None and done.usage.completion_tokens > 0

        stream = await client.chat.completions.create(
            model=LLAMA,
            messages=[{"role": "user", "content": "Which option?"}],
            stream=True,
            stream_options={"include_usage": True},
            extra_body={"collabgraph": {"meta": meta()}},
        )
        parts, usage = [], None
        async for chunk in stream:
            parts += [c.delta.content or "" for c in chunk.choices]
            usage = chunk.usage or usage
        assert "".join(parts) == done.choices[0].message.content
        assert usage is not None and usage.completion_tokens == done.usage.completion_tokens // 2

        with pytest.raises(openai.BadRequestError, match="missing 'collabgraph'"):
            await client.chat.completions.create(model=LLAMA, messages=[{"role": "user", "content": "hi"}])
        with pytest.raises(openai.NotFoundError, match="did you mean"):
            await client.chat.completions.create(
                model="replay/llama-70b", messages=[{"role": "user", "content": "hi"}], extra_body={}
            )
    finally:
        await client.close()


async def test_the_openai_client_sees_injected_rate_limits(pool: ModelPool, fake_sim: FakeSim) -> None:
    plan = FaultInjector(1.0, seed=1)
    kinds = [plan.draw() for _ in range(3)]
    async with serve_in_background(make_app(pool, fail_rate=1.0, hang_s=0, seed=1)) as url:
        client = openai.AsyncOpenAI(base_url=url, api_key="unused", max_retries=0)
        try:
            for kind in kinds:
                expected = {"rate_limit": openai.RateLimitError, "server_error": openai.InternalServerError}
                with pytest.raises(expected.get(kind or "", openai.InternalServerError)):
                    await client.chat.completions.create(
                        model=LLAMA,
                        messages=[{"role": "user", "content": "hi"}],
                        extra_body={"collabgraph": {"meta": meta()}},
                    )
        finally:
            await client.close()


async def test_the_gateway_completes_every_call_through_injected_faults(pool: ModelPool) -> None:
    from collabgraph.models.gateway import Gateway

    served_meta = OfflineMeta(task="mmlu_pro", example_id="mmlu_pro/70", answer="I", answer_format="letter")
    messages = [{"role": "user", "content": "Which option?"}]
    app = make_app(pool, fail_rate=0.3, hang_s=0.05, seed=2, retry_after_s=0.01)
    async with serve_in_background(app) as url:
        entry = ModelSpec.model_validate(served_pool_entry(pool.get(LLAMA), url))
        gateway_pool = pool.merged(ModelPool({"http/llama": entry}))
        async with Gateway(gateway_pool, cache=None, timeout_s=30, backoff_base_s=0.01, backoff_max_s=0.02) as gateway:
            results = await asyncio.gather(
                *(gateway.complete("http/llama", messages, n=2, meta=served_meta) for _ in range(30))
            )
            totals = gateway.totals()["http/llama"]
            with pytest.raises(ModelCallError) as info:
                await gateway.complete(
                    "http/llama", messages, meta=served_meta.model_copy(update={"example_id": "x/1"})
                )
    assert all(c.text.endswith("The answer is (I).") for r in results for c in r)
    assert (totals.failures, totals.requests) == (0, 30)
    assert totals.attempts > totals.requests  # faults were met, and retried
    # Per-sample virtual latency reaches the gateway through the response's "collabgraph" extension.
    first = results[0][0]
    assert first.usage.latency_s == pytest.approx(entry.ttft_s + first.usage.completion_tokens / entry.throughput_tok_s)
    # A question with no recording is final: one attempt, a 404 naming the model and the question.
    assert (info.value.status, info.value.attempts) == (404, 1)
    assert "'x/1'" in str(info.value)
