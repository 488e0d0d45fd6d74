"""The offline pools as litellm custom providers, called through ``litellm.acompletion`` itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import litellm
import pytest

from collabgraph.models import ModelPool, ModelSpec, OfflineMeta, OfflineRequest, OfflineSample, register_backend
from collabgraph.models.providers import OfflineRoutes, describe_to_litellm, ensure_registered, is_in_process

META = OfflineMeta(task="mmlu_pro", example_id="mmlu_pro/70", answer="B", answer_format="letter")
SPEC = ModelSpec(litellm_id="fakeprov/m", offline=True)


class Numbered:
    def __init__(self) -> None:
        self.requests: list[OfflineRequest] = []

    def generate(self, spec: ModelSpec, request: OfflineRequest) -> list[OfflineSample]:
        self.requests.append(request)
        return [
            OfflineSample(
                text=f"sample {request.first_sample + k}", prompt_tokens=9, completion_tokens=2 + k, latency_s=1.0 + k
            )
            for k in range(request.n)
        ]


@pytest.fixture
def backend() -> Iterator[Numbered]:
    fake = Numbered()
    register_backend("fakeprov", fake)
    ensure_registered("fakeprov")
    yield fake
    register_backend("fakeprov", None)


@pytest.fixture
def routes() -> OfflineRoutes:
    return OfflineRoutes(ModelPool({"fakeprov/m": SPEC}), None)


def metadata(routes: OfflineRoutes, first_sample: int = 0) -> dict[str, Any]:
    info = {
        "meta": META.model_dump(mode="json"),
        "first_sample": first_sample,
        "model": "fakeprov/m",
        "route": routes.token,
    }
    return {"collabgraph": info}


async def test_litellm_returns_n_choices_with_usage_and_per_sample_accounting(
    backend: Numbered, routes: OfflineRoutes
) -> None:
    response = await litellm.acompletion(
        model="fakeprov/m",
        messages=[{"role": "user", "content": "Which option?"}],
        n=3,
        temperature=0.5,
        seed=4,
        max_tokens=64,
        metadata=metadata(routes, first_sample=2),
        num_retries=0,
    )
    assert [c.message.content for c in response.choices] == ["sample 2", "sample 3", "sample 4"]
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (9, 2 + 3 + 4)
    assert response.collabgraph["samples"][1] == {"prompt_tokens": 9, "completion_tokens": 3, "latency_s": 2.0}
    (request,) = backend.requests
    assert (request.n, request.first_sample, request.seed, request.temperature, request.max_tokens) == (
        3,
        2,
        4,
        0.5,
        64,
    )
    assert request.meta == META


async def test_a_request_without_metadata_is_refused_with_how_to_call(backend: Numbered) -> None:
    with pytest.raises(Exception, match=r"fakeprov/m: offline models need request metadata") as info:
        await litellm.acompletion(model="fakeprov/m", messages=[{"role": "user", "content": "x"}], num_retries=0)
    assert "Gateway" in str(info.value) and backend.requests == []


async def test_a_request_from_a_gone_gateway_is_refused(backend: Numbered) -> None:
    stale = {
        "collabgraph": {
            "meta": META.model_dump(mode="json"),
            "first_sample": 0,
            "model": "fakeprov/m",
            "route": "0" * 32,
        }
    }
    with pytest.raises(Exception, match=r"names no live gateway"):
        await litellm.acompletion(
            model="fakeprov/m", messages=[{"role": "user", "content": "x"}], metadata=stale, num_retries=0
        )


def test_registration_is_idempotent(backend: Numbered) -> None:
    ensure_registered("fakeprov")
    ensure_registered("fakeprov")
    assert [item["provider"] for item in litellm.custom_provider_map].count("fakeprov") == 1


def test_routes_prefer_a_registered_backend(backend: Numbered, routes: OfflineRoutes) -> None:
    assert routes.backend("fakeprov") is backend


def test_what_counts_as_in_process(backend: Numbered) -> None:
    assert is_in_process(SPEC)
    assert is_in_process(ModelSpec(litellm_id="sim/llama-3.1-8b"))
    assert is_in_process(ModelSpec(litellm_id="replay/gpt-4"))
    assert not is_in_process(
        ModelSpec(litellm_id="hosted_vllm/sim/llama", api_base="http://127.0.0.1:1/v1", offline=True)
    )
    assert not is_in_process(ModelSpec(litellm_id="openai/gpt-4o"))
    register_backend("fakeprov", None)
    assert not is_in_process(SPEC)


def test_litellm_learns_the_price_of_models_only_the_pool_prices() -> None:
    describe_to_litellm(ModelSpec(litellm_id="fakeprov/priced", offline=True, price_in=0.5, price_out=1.5))
    entry = litellm.model_cost["fakeprov/priced"]
    assert (entry["input_cost_per_token"], entry["output_cost_per_token"]) == (0.5e-6, 1.5e-6)
    describe_to_litellm(ModelSpec(litellm_id="hosted_vllm/my-local-model", api_base="http://127.0.0.1:1/v1"))
    assert litellm.model_cost["hosted_vllm/my-local-model"]["input_cost_per_token"] == 0.0
    describe_to_litellm(ModelSpec(litellm_id="openai/gpt-4o-mini", price_in=99.0))  # litellm prices it itself
    assert "openai/gpt-4o-mini" not in litellm.model_cost
    assert litellm.model_cost["gpt-4o-mini"]["input_cost_per_token"] == pytest.approx(0.15e-6)
