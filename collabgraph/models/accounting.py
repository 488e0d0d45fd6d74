"""What a model call costs: FLOPs (with the attention term), US dollars, and how a request's totals are split
over its samples.

FLOPs, for a decoder-only transformer with ``P`` parameters touched per token (active parameters for
mixture-of-experts), ``L`` layers and hidden size ``D``:

* Every token costs ``2·P`` for the weight matmuls (one multiply and one add per parameter).
* The token at position ``i`` (1-based, counting itself) attends to ``i`` positions in each layer: ``Q·Kᵀ`` costs
  ``2·D·i`` and the weighted sum of values another ``2·D·i``, so ``4·L·D·i`` in all.
* Prefill of ``N`` prompt tokens: ``Σ_{i=1..N} (2·P + 4·L·D·i) = 2·P·N + 2·L·D·N·(N+1)``.
* Decode of ``M`` tokens after ``N`` context tokens: token ``j`` sits at position ``N+j``, so
  ``Σ_{j=1..M} (2·P + 4·L·D·(N+j)) = 2·P·M + 2·L·D·(2·M·N + M·(M+1))``.

Prefill followed by decode equals the prefill of all ``N+M`` tokens, which is what makes the two terms
consistent. With ``n`` samples in one request a provider that shares the prompt (vLLM's prefix cache, OpenAI's
``n``) pays the prefill once; otherwise each sample pays it.
"""

from __future__ import annotations

from collections.abc import Sequence

from collabgraph.models.pool import ModelSpec

__all__ = ["cost_usd", "decode_flops", "flops", "prefill_flops", "priced_by_pool_only", "split_tokens"]

# Providers that never bill: the offline pools and self-hosted servers.
_FREE_PROVIDERS = frozenset({"sim", "replay", "hosted_vllm", "ollama", "ollama_chat"})
# litellm ids whose price litellm does not know: a failed lookup costs milliseconds, so it is tried once.
_UNPRICED: set[str] = set()


def _arch(spec: ModelSpec) -> tuple[float, float]:
    """(2·P, 2·L·D) for ``spec``; zero where the pool does not say (FLOPs are then unknown and reported as 0)."""
    return 2.0 * spec.flops_params_b * 1e9, 2.0 * spec.layers * spec.hidden


def prefill_flops(spec: ModelSpec, prompt_tokens: int) -> float:
    """FLOPs to read ``prompt_tokens`` tokens: ``2·P·N + 2·L·D·N·(N+1)``."""
    two_p, two_ld = _arch(spec)
    n = prompt_tokens
    return two_p * n + two_ld * n * (n + 1)


def decode_flops(spec: ModelSpec, context_tokens: int, completion_tokens: int) -> float:
    """FLOPs to generate ``completion_tokens`` tokens after ``context_tokens``:
    ``2·P·M + 2·L·D·(2·M·N + M·(M+1))``."""
    two_p, two_ld = _arch(spec)
    n, m = context_tokens, completion_tokens
    return two_p * m + two_ld * (2 * m * n + m * (m + 1))


def flops(
    spec: ModelSpec, prompt_tokens: int, completion_tokens: int, n: int = 1, shared_prefill: bool = True
) -> float:
    """FLOPs of one request: ``n`` samples of ``completion_tokens`` tokens each after a prompt of
    ``prompt_tokens`` tokens; the prefill is counted once when ``shared_prefill``, else once per sample."""
    prefill = prefill_flops(spec, prompt_tokens)
    return prefill * (1 if shared_prefill else n) + n * decode_flops(spec, prompt_tokens, completion_tokens)


def priced_by_pool_only(spec: ModelSpec) -> bool:
    """Whether only the pool can price ``spec``: offline pools and self-hosted servers, which never bill and
    which litellm's price list does not know (their price is the pool's, else 0)."""
    return spec.offline or spec.provider in _FREE_PROVIDERS


def cost_usd(spec: ModelSpec, prompt_tokens: int, completion_tokens: int) -> float:
    """US dollars for the tokens: the pool's ``price_in`` / ``price_out`` (per million tokens) when it gives one,
    else litellm's price list for real models it knows, else 0 (local servers and offline pools are free)."""
    if spec.price_in or spec.price_out:
        return (prompt_tokens * spec.price_in + completion_tokens * spec.price_out) / 1e6
    model = spec.litellm_id
    if priced_by_pool_only(spec) or model in _UNPRICED:
        return 0.0
    from collabgraph.settings import offline_env

    offline_env()
    import litellm

    try:
        prompt_cost, completion_cost = litellm.cost_per_token(
            model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        )
    except Exception:  # litellm raises plain Exception subclasses for models missing from its price map
        _UNPRICED.add(model)
        return 0.0
    return float(prompt_cost) + float(completion_cost)


def split_tokens(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` split over ``len(weights)`` parts in proportion to ``weights`` (largest remainder, ties to the
    earlier part), so the parts sum to ``total`` exactly; equal parts when every weight is zero."""
    if not weights:
        return []
    mass = float(sum(weights))
    shares = [total * w / mass for w in weights] if mass > 0 else [total / len(weights)] * len(weights)
    parts = [int(s) for s in shares]
    order = sorted(range(len(shares)), key=lambda i: (parts[i] - shares[i], i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts
