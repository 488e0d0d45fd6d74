"""FLOPs with the attention term, dollar costs, and the exact split of a request's tokens over its samples."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collabgraph.models.accounting import cost_usd, decode_flops, flops, prefill_flops, split_tokens
from collabgraph.models.pool import ModelSpec

# P = 1e9 parameters, L = 2 layers, D = 4 hidden: small enough to check by hand.
TINY = ModelSpec(litellm_id="sim/tiny", params_b=1.0, layers=2, hidden=4)
LLAMA_8B = ModelSpec(litellm_id="sim/llama-3.1-8b", params_b=8.03, layers=32, hidden=4096)


def test_prefill_matches_the_hand_computed_value() -> None:
    # 2·P·N + 2·L·D·N·(N+1) with N = 3: 6e9 + 2·2·4·3·4
    assert prefill_flops(TINY, 3) == 6_000_000_000 + 192


def test_decode_matches_the_hand_computed_value() -> None:
    # 2·P·M + 2·L·D·(2·M·N + M·(M+1)) with N = 3, M = 2: 4e9 + 16·(12 + 6)
    assert decode_flops(TINY, 3, 2) == 4_000_000_000 + 288


def test_a_real_model_size() -> None:
    # Llama 3.1 8B reading 1,000 tokens: 2·8.03e9·1000 + 2·32·4096·1000·1001
    assert prefill_flops(LLAMA_8B, 1000) == pytest.approx(1.606e13 + 262_406_144_000)


def test_n_samples_share_the_prefill_only_when_the_provider_does() -> None:
    shared = flops(TINY, 3, 2, n=4)
    separate = flops(TINY, 3, 2, n=4, shared_prefill=False)
    assert shared == prefill_flops(TINY, 3) + 4 * decode_flops(TINY, 3, 2)
    assert separate == 4 * (prefill_flops(TINY, 3) + decode_flops(TINY, 3, 2))
    assert flops(TINY, 3, 2) == 10_000_000_480


def test_mixture_of_experts_counts_active_parameters() -> None:
    moe = ModelSpec(litellm_id="sim/moe", params_b=46.7, active_params_b=12.9)
    assert prefill_flops(moe, 10) == pytest.approx(2 * 12.9e9 * 10)


def test_unknown_architecture_counts_nothing() -> None:
    assert flops(ModelSpec(litellm_id="openai/gpt-4o"), 1000, 500) == 0.0


@given(n=st.integers(0, 5000), m=st.integers(0, 5000))
def test_prefill_then_decode_equals_prefilling_everything(n: int, m: int) -> None:
    assert prefill_flops(LLAMA_8B, n) + decode_flops(LLAMA_8B, n, m) == pytest.approx(prefill_flops(LLAMA_8B, n + m))


@given(n=st.integers(0, 10_000), m=st.integers(0, 10_000), extra=st.integers(1, 1000), k=st.integers(1, 16))
def test_flops_grow_with_every_token_and_sample(n: int, m: int, extra: int, k: int) -> None:
    base = flops(LLAMA_8B, n, m, n=k)
    assert flops(LLAMA_8B, n + extra, m, n=k) > base
    assert flops(LLAMA_8B, n, m + extra, n=k) > base
    assert flops(LLAMA_8B, n, m, n=k + 1) > base or m == 0
    assert flops(LLAMA_8B, n, m, n=k, shared_prefill=False) >= base


def test_cost_from_pool_prices_per_million_tokens() -> None:
    spec = ModelSpec(litellm_id="openai/gpt-4o", price_in=2.5, price_out=10.0)
    assert cost_usd(spec, 1000, 200) == pytest.approx((1000 * 2.5 + 200 * 10.0) / 1e6)


def test_cost_from_litellm_for_a_real_model_it_knows() -> None:
    # gpt-4o-mini in litellm 1.110.2's local price map: $0.15 / $0.60 per million tokens.
    assert cost_usd(ModelSpec(litellm_id="openai/gpt-4o-mini"), 1000, 100) == pytest.approx(0.00015 + 0.00006)


@pytest.mark.parametrize("litellm_id", ["openai/not-a-real-model", "hosted_vllm/llama", "sim/llama-3.1-8b"])
def test_cost_is_zero_where_nobody_knows_a_price(litellm_id: str) -> None:
    assert cost_usd(ModelSpec(litellm_id=litellm_id), 1000, 100) == 0.0


def test_split_is_proportional_and_exact() -> None:
    assert split_tokens(10, [1, 1, 2]) == [3, 2, 5]
    assert split_tokens(7, [0, 0]) == [4, 3]
    assert split_tokens(0, [3, 1]) == [0, 0]
    assert split_tokens(5, []) == []


@given(total=st.integers(0, 100_000), weights=st.lists(st.integers(0, 5000), min_size=1, max_size=32))
def test_split_always_sums_to_the_total(total: int, weights: list[int]) -> None:
    parts = split_tokens(total, weights)
    assert sum(parts) == total and len(parts) == len(weights)
    mass = sum(weights)
    for part, w in zip(parts, weights, strict=True):
        share = total * w / mass if mass else total / len(weights)
        assert abs(part - share) < 1
