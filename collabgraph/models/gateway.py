"""The model gateway: every model call in collabgraph goes through ``Gateway.complete``.

One call asks for samples ``first_sample .. first_sample+n-1`` of one prompt. The gateway

1. resolves the model name in its pool (an unknown name raises an error listing the closest ones);
2. looks every sample up in the on-disk cache (one entry per sample index) and asks the provider only for the
   missing ones: one request with ``n=k`` where the provider takes ``n`` (pool ``supports_n``, and every offline
   pool), else ``k`` parallel single-sample requests;
3. sends each request through ``litellm.acompletion`` under the endpoint's concurrency limit, with a per-attempt
   timeout and one retry loop (backoff with jitter for transport errors, timeouts, 429 and 5xx);
4. accounts for every sample: tokens, USD, FLOPs, latency; and reports a ``CallRecord`` to ``on_call``.

How a request's totals are split over its samples: the prompt is read once per request, so its tokens, its
price and its prefill FLOPs go to the request's first sample; each sample carries its own completion tokens
(exact for offline pools, else the request's total split in proportion to the samples' lengths) with their
price and decode FLOPs. Summing a call's completions therefore gives exactly what its requests cost.
``latency_s`` is per sample the time until it was ready: the request's wall time for a real provider (the
successful attempt, without queueing or backoff), the virtual time an offline pool reports. Elapsed time for
several samples is their maximum, not their sum.

Offline metadata (``meta``) reaches only offline pools: in-process ``sim/``/``replay/`` as litellm metadata,
HTTP servers marked ``offline: true`` in the pool (``serve-sim``) as ``extra_body``; never a real provider.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from collabgraph.errors import CollabgraphError, ConfigError, ErrorItem, ModelCallError
from collabgraph.models import providers
from collabgraph.models.accounting import cost_usd, decode_flops, prefill_flops, split_tokens
from collabgraph.models.cache import CachedSample, CallCache, request_digest, sample_key
from collabgraph.models.limits import ConcurrencyLimits
from collabgraph.models.pool import ModelPool, ModelSpec, default_pool
from collabgraph.models.retry import DEFAULT_MAX_RETRIES, RetryPolicy, with_retries
from collabgraph.models.types import Completion, OfflineMeta, Usage
from collabgraph.settings import cache_dir, offline_env

__all__ = ["CallRecord", "ChatMessage", "Gateway", "ModelTotals", "default_cache_path"]

_ZERO = Usage()


class CallRecord(BaseModel):
    """What one ``Gateway.complete`` call did, for run logs. ``usage`` is what was paid now; ``cached_usage`` what
    the samples served from the cache cost when they were first paid for. ``attempts`` counts provider attempts
    (retries included) over ``requests`` provider requests; ``error`` is set when the call failed for good."""

    model_config = ConfigDict(frozen=True)
    model: str
    provider: str
    samples: tuple[int, ...]
    cached: int = 0
    requests: int = 0
    attempts: int = 0
    usage: Usage = _ZERO
    cached_usage: Usage = _ZERO
    error: str | None = None
    wall_s: float = 0.0


class ModelTotals(BaseModel):
    """One model's running totals over a gateway's life (see ``Gateway.totals``). ``usage.latency_s`` adds up
    each call's latency (a call's latency being its slowest sample's)."""

    model_config = ConfigDict(frozen=True)
    calls: int = 0
    samples: int = 0
    cached: int = 0
    requests: int = 0
    attempts: int = 0
    failures: int = 0
    usage: Usage = _ZERO
    cached_usage: Usage = _ZERO


def default_cache_path() -> Path:
    """Where the default cache lives: ``<cache_dir()>/calls.sqlite``."""
    return cache_dir() / "calls.sqlite"


@functools.cache
def _litellm() -> ModuleType:
    offline_env()
    import litellm

    # litellm prints a "Give Feedback" banner to stdout on every exception it maps, which would corrupt
    # machine-readable output; the gateway reports failures itself.
    litellm.suppress_debug_info = True
    return litellm


@dataclass
class _Route:
    """How to reach one resolved model; built once per (name, api_base)."""

    spec: ModelSpec
    in_process: bool
    offline_http: bool
    batched: bool
    base_kwargs: dict[str, Any]
    prepared: bool = False

    @property
    def offline(self) -> bool:
        return self.in_process or self.offline_http


@dataclass
class _Tally:
    calls: int = 0
    samples: int = 0
    cached: int = 0
    requests: int = 0
    attempts: int = 0
    failures: int = 0
    usage: Usage = _ZERO
    cached_usage: Usage = _ZERO


@dataclass
class _Outcome:
    completions: list[Completion] = field(default_factory=list)
    requests: int = 0
    attempts: int = 0


def _request_seed(seed: int, first_sample: int) -> int:
    """The seed a real provider gets for a request starting at ``first_sample``: ``seed`` itself for the first
    request, else a hash of both, so that later requests (and parallel single-sample ones) are fresh draws
    instead of copies of sample 0 from a seeded server such as vLLM."""
    if first_sample == 0:
        return seed
    digest = hashlib.sha256(f"{seed}:{first_sample}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


class ChatMessage(Protocol):
    """Anything with a role and a content, such as ``collabgraph.tasks.types.Message``."""

    @property
    def role(self) -> str: ...

    @property
    def content(self) -> str: ...


def _as_dict(message: ChatMessage | Mapping[str, str]) -> dict[str, str]:
    if isinstance(message, Mapping):
        return {"role": str(message["role"]), "content": str(message["content"])}
    return {"role": message.role, "content": message.content}


class Gateway:
    """Async access to every model in a pool, with cache, limits, retries and accounting.

    ``cache`` defaults to the on-disk cache at ``default_cache_path()``; pass ``None`` to disable caching
    (``--no-cache``). ``timeout_s`` bounds each attempt; ``max_retries`` counts retries after the first
    attempt, waiting ``backoff_base_s·2^k`` at most (full jitter, capped at ``backoff_max_s``) or what a
    server's Retry-After asks (capped at ``retry_after_max_s``). ``on_call`` receives a ``CallRecord`` after
    every call, failed ones included. ``data_dir`` is where the offline pools read their data."""

    def __init__(
        self,
        pool: ModelPool | None = None,
        *,
        cache: CallCache | Literal["default"] | None = "default",
        timeout_s: float = 120.0,
        max_retries: int = DEFAULT_MAX_RETRIES,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 20.0,
        retry_after_max_s: float = 60.0,
        on_call: Callable[[CallRecord], None] | None = None,
        data_dir: Path | None = None,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        self.pool = pool if pool is not None else default_pool()
        self._owns_cache = cache == "default"
        self.cache: CallCache | None = CallCache(default_cache_path()) if cache == "default" else cache
        self.timeout_s = timeout_s
        self.policy = RetryPolicy(max_retries, backoff_base_s, backoff_max_s, retry_after_max_s)
        self.on_call = on_call
        self.data_dir = data_dir
        self.limits = ConcurrencyLimits()
        # Jitter only spreads retries in time and never touches results; seeding it alike in every process
        # would make parallel runs retry in lockstep, which is what jitter is there to prevent.
        self._rng = random.Random()
        self._routes: dict[tuple[str, str | None], _Route] = {}
        self._offline_routes: providers.OfflineRoutes | None = None
        self._tallies: dict[str, _Tally] = {}

    # -- public API -------------------------------------------------------------------------------------------

    async def complete(
        self,
        model: str,
        messages: Sequence[ChatMessage | Mapping[str, str]],
        *,
        n: int = 1,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        seed: int = 0,
        first_sample: int = 0,
        meta: OfflineMeta | None = None,
        api_base: str | None = None,
    ) -> list[Completion]:
        """Samples ``first_sample .. first_sample+n-1`` of ``messages`` (``Message`` objects or role/content
        dicts) from ``model``, in that order. Raises ModelCallError when a request fails for good (samples that
        did complete are cached all the same), UnknownNameError for a model the pool does not know."""
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        if first_sample < 0:
            raise ValueError(f"first_sample must be >= 0, got {first_sample}")
        started = time.perf_counter()
        route = self._route(model, api_base)
        spec = route.spec
        if route.offline and meta is None:
            raise CollabgraphError(
                f"model {spec.name!r} is an offline pool model: pass meta=OfflineMeta(task=..., example_id=..., "
                "answer=..., answer_format=...) so it knows the question it is answering"
            )
        msgs = [_as_dict(m) for m in messages]
        meta_json = meta.model_dump(mode="json") if meta is not None else None
        indices = range(first_sample, first_sample + n)

        done: dict[int, Completion] = {}
        keys: dict[int, str] = {}
        if self.cache is not None:
            digest = request_digest(
                litellm_id=spec.litellm_id,
                api_base=spec.api_base,
                messages=msgs,
                temperature=temperature,
                max_tokens=max_tokens,
                seed=seed,
                params=spec.params,
                meta=meta_json,
            )
            keys = {k: sample_key(digest, k) for k in indices}
            hits = self.cache.get_many(list(keys.values()))
            for k, key in keys.items():
                if key in hits:
                    done[k] = self._cached(spec, k, hits[key])
        cached = list(done.values())
        missing = [k for k in indices if k not in done]

        outcome = _Outcome()
        error: BaseException | None = None
        if missing:
            runs = self._plan(route, missing)
            try:
                await self._fetch(route, msgs, runs, temperature, max_tokens, seed, meta_json, outcome)
            except ModelCallError as exc:
                error = exc
            fresh = outcome.completions
            for c in fresh:
                done[c.sample_index] = c
            if self.cache is not None and fresh:
                self.cache.put_many(
                    (keys[c.sample_index], CachedSample(c.text, c.usage, c.finish_reason)) for c in fresh
                )
        self._account(spec, indices, cached, outcome, error, time.perf_counter() - started)
        if error is not None:
            raise error
        return [done[k] for k in indices]

    def totals(self) -> dict[str, ModelTotals]:
        """Per model name: calls, samples (served from cache or paid), requests, attempts, failures, and the
        usage paid through this gateway (``cached_usage``: what cached samples originally cost)."""
        return {
            name: ModelTotals(
                calls=t.calls,
                samples=t.samples,
                cached=t.cached,
                requests=t.requests,
                attempts=t.attempts,
                failures=t.failures,
                usage=t.usage,
                cached_usage=t.cached_usage,
            )
            for name, t in sorted(self._tallies.items())
        }

    async def aclose(self) -> None:
        """Release the gateway's resources (the cache connection it opened itself)."""
        if self._owns_cache and self.cache is not None:
            self.cache.close()
            self.cache = None

    async def __aenter__(self) -> Gateway:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- internals --------------------------------------------------------------------------------------------

    def _route(self, model: str, api_base: str | None) -> _Route:
        key = (model, api_base)
        route = self._routes.get(key)
        if route is not None:
            return route
        spec = self.pool.resolve(model, api_base)
        in_process = providers.is_in_process(spec)
        offline_http = spec.offline and not in_process
        base: dict[str, Any] = {
            # Unsupported optional parameters (a seed for Anthropic, say) are dropped rather than refused.
            "drop_params": True,
            **spec.params,
            "model": spec.litellm_id,
            "timeout": self.timeout_s,
            # The gateway owns retries: litellm and the OpenAI client must not retry underneath it.
            "num_retries": 0,
        }
        if spec.api_base is not None:
            base["api_base"] = spec.api_base
        route = _Route(spec, in_process, offline_http, spec.supports_n or spec.offline or in_process, base)
        self._routes[key] = route
        return route

    def _plan(self, route: _Route, missing: list[int]) -> list[tuple[int, int]]:
        """(first sample, count) per provider request. Offline pools number their samples, so a request covers a
        contiguous run; a real provider with ``n`` takes all missing samples in one request."""
        if not route.batched:
            return [(k, 1) for k in missing]
        if not route.offline:
            return [(missing[0], len(missing))]
        runs: list[tuple[int, int]] = []
        for k in missing:
            if runs and runs[-1][0] + runs[-1][1] == k:
                runs[-1] = (runs[-1][0], runs[-1][1] + 1)
            else:
                runs.append((k, 1))
        return runs

    async def _fetch(
        self,
        route: _Route,
        msgs: list[dict[str, str]],
        runs: list[tuple[int, int]],
        temperature: float,
        max_tokens: int | None,
        seed: int,
        meta_json: dict[str, Any] | None,
        outcome: _Outcome,
    ) -> None:
        """Run the planned requests concurrently, collecting what completes into ``outcome``; raises the first
        ModelCallError after every request has finished (so completed samples are kept)."""
        if len(runs) == 1:
            first, count = runs[0]
            await self._request(route, msgs, first, count, temperature, max_tokens, seed, meta_json, outcome)
            return
        results = await asyncio.gather(
            *(
                self._request(route, msgs, first, count, temperature, max_tokens, seed, meta_json, outcome)
                for first, count in runs
            ),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _request(
        self,
        route: _Route,
        msgs: list[dict[str, str]],
        first: int,
        count: int,
        temperature: float,
        max_tokens: int | None,
        seed: int,
        meta_json: dict[str, Any] | None,
        outcome: _Outcome,
    ) -> None:
        spec = route.spec
        kwargs = dict(route.base_kwargs)
        kwargs["messages"] = msgs
        kwargs["temperature"] = temperature
        if count > 1:
            kwargs["n"] = count
        if max_tokens is not None:
            kwargs["max_tokens"] = max_tokens
        if route.offline:
            kwargs["seed"] = seed
            offline = {"meta": meta_json, "first_sample": first}
            if route.in_process:
                kwargs["metadata"] = {"collabgraph": {**offline, "model": spec.name, "route": self._routes_token()}}
            else:
                kwargs["extra_body"] = {**kwargs.get("extra_body", {}), "collabgraph": offline}
        else:
            kwargs["seed"] = _request_seed(seed, first)
        if spec.api_key_env is not None:
            kwargs["api_key"] = self._api_key(spec)

        acompletion = _litellm().acompletion
        if not route.prepared:
            # On the first request only, so a run served wholly from the cache never imports litellm.
            if route.in_process:
                providers.ensure_registered(spec.provider)
            providers.describe_to_litellm(spec)
            route.prepared = True
        slot = self.limits.slot(spec, in_process=route.in_process)
        timeout_s = self.timeout_s

        async def attempt() -> tuple[Any, float]:
            async with slot:
                t0 = time.perf_counter()
                async with asyncio.timeout(timeout_s):
                    response = await acompletion(**kwargs)
                return response, time.perf_counter() - t0

        outcome.requests += 1
        try:
            (response, wall), attempts = await with_retries(
                spec.name, attempt, self.policy, self._rng, secrets=[kwargs.get("api_key") or ""]
            )
        except ModelCallError as exc:
            outcome.attempts += exc.attempts
            raise
        outcome.attempts += attempts
        outcome.completions.extend(self._completions(route, response, wall, first, count))

    def _completions(self, route: _Route, response: Any, wall: float, first: int, count: int) -> list[Completion]:
        spec = route.spec
        choices = list(response.choices)
        if len(choices) != count:
            raise ModelCallError(
                spec.name,
                f"asked for {count} samples in one request and got {len(choices)}; "
                "if the provider ignores n, set 'supports_n: false' in the pool entry",
            )
        texts = [str(getattr(c.message, "content", None) or "") for c in choices]
        usage = getattr(response, "usage", None)
        prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion = int(getattr(usage, "completion_tokens", 0) or 0)
        infos = _offline_accounting(response, count) if route.offline else []
        if infos:
            per_sample = [int(i["completion_tokens"]) for i in infos]
        else:
            per_sample = split_tokens(completion, [len(t) for t in texts])
        prefill = prefill_flops(spec, prompt)
        out = []
        for i, (choice, text, tokens) in enumerate(zip(choices, texts, per_sample, strict=True)):
            prompt_i = prompt if i == 0 else 0
            latency = infos[i]["latency_s"] if infos else wall
            out.append(
                Completion(
                    model=spec.name,
                    text=text,
                    usage=Usage(
                        prompt_tokens=prompt_i,
                        completion_tokens=tokens,
                        cost_usd=cost_usd(spec, prompt_i, tokens),
                        flops=(prefill if i == 0 else 0.0) + decode_flops(spec, prompt, tokens),
                        latency_s=float(latency),
                    ),
                    sample_index=first + i,
                    finish_reason=getattr(choice, "finish_reason", None),
                )
            )
        return out

    @staticmethod
    def _cached(spec: ModelSpec, k: int, hit: CachedSample) -> Completion:
        return Completion(
            model=spec.name,
            text=hit.text,
            usage=hit.usage,
            sample_index=k,
            cached=True,
            finish_reason=hit.finish_reason,
        )

    def _routes_token(self) -> str:
        if self._offline_routes is None:
            self._offline_routes = providers.OfflineRoutes(self.pool, self.data_dir)
        return self._offline_routes.token

    @staticmethod
    def _api_key(spec: ModelSpec) -> str:
        var = spec.api_key_env or ""
        key = os.environ.get(var)
        if not key:
            raise ConfigError(
                f"model {spec.name!r}",
                [ErrorItem("api_key_env", f"environment variable {var} is not set", hint=f"export {var}=<your key>")],
            )
        return key

    def _account(
        self,
        spec: ModelSpec,
        indices: range,
        cached: list[Completion],
        outcome: _Outcome,
        error: BaseException | None,
        wall_s: float,
    ) -> None:
        paid = _total(c.usage for c in outcome.completions)
        from_cache = _total(c.usage for c in cached)
        tally = self._tallies.get(spec.name)
        if tally is None:
            tally = self._tallies[spec.name] = _Tally()
        tally.calls += 1
        tally.samples += len(cached) + len(outcome.completions)
        tally.cached += len(cached)
        tally.requests += outcome.requests
        tally.attempts += outcome.attempts
        tally.failures += error is not None
        if outcome.completions:
            tally.usage = tally.usage + paid
        if cached:
            tally.cached_usage = tally.cached_usage + from_cache
        if self.on_call is not None:
            self.on_call(
                CallRecord(
                    model=spec.name,
                    provider=spec.provider,
                    samples=tuple(indices),
                    cached=len(cached),
                    requests=outcome.requests,
                    attempts=outcome.attempts,
                    usage=paid,
                    cached_usage=from_cache,
                    error=str(error) if error is not None else None,
                    wall_s=wall_s,
                )
            )


def _offline_accounting(response: Any, count: int) -> list[dict[str, Any]]:
    """Per-sample ``completion_tokens`` and ``latency_s`` from an offline pool's ``collabgraph`` extension
    (see ``collabgraph.models.providers``); empty when the answer lacks it, and wall time is used instead."""
    extension = getattr(response, "collabgraph", None)
    samples = extension.get("samples") if isinstance(extension, dict) else None
    if not isinstance(samples, list) or len(samples) != count:
        return []
    if not all(isinstance(s, dict) and "completion_tokens" in s and "latency_s" in s for s in samples):
        return []
    return samples


def _total(usages: Any) -> Usage:
    """Sum of tokens, dollars and FLOPs; latency is the longest (the samples' requests ran side by side)."""
    prompt = completion = 0
    cost = flops = latency = 0.0
    for u in usages:
        prompt += u.prompt_tokens
        completion += u.completion_tokens
        cost += u.cost_usd
        flops += u.flops
        latency = max(latency, u.latency_s)
    return Usage(prompt_tokens=prompt, completion_tokens=completion, cost_usd=cost, flops=flops, latency_s=latency)
