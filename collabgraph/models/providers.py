"""The offline pools as litellm custom providers, so ``sim/…`` and ``replay/…`` travel litellm's own code path.

The gateway passes what an offline backend needs as request metadata::

    metadata={"collabgraph": {"meta": <OfflineMeta as JSON>, "first_sample": k, "model": <pool name>,
                              "route": <token of the gateway's OfflineRoutes>}}

(an HTTP offline server such as ``serve-sim`` gets ``{"meta": …, "first_sample": k}`` as ``extra_body``).
The answer carries, beside litellm's usage block, the extension ``serve-sim`` also returns:
``response.collabgraph = {"samples": [{"prompt_tokens", "completion_tokens", "latency_s"}, …]}``, one entry per
choice, with each sample's own token count and virtual latency, which a usage block cannot express per sample.

litellm is imported only when a provider is registered (by the gateway, on first use).
"""

from __future__ import annotations

import functools
import uuid
import weakref
from pathlib import Path
from typing import Any

from collabgraph.errors import CollabgraphError
from collabgraph.models.accounting import priced_by_pool_only
from collabgraph.models.offline import OFFLINE_PROVIDERS, OfflineBackend, load_backend
from collabgraph.models.pool import ModelPool, ModelSpec
from collabgraph.models.types import OfflineMeta, OfflineRequest, OfflineSample

__all__ = [
    "OfflineBackendError",
    "OfflineRoutes",
    "describe_to_litellm",
    "ensure_registered",
    "is_in_process",
    "register_backend",
]

_OVERRIDES: dict[str, OfflineBackend] = {}
_ROUTES: weakref.WeakValueDictionary[str, OfflineRoutes] = weakref.WeakValueDictionary()


class OfflineBackendError(CollabgraphError):
    """An offline backend failed on a request; never retried, since it would fail the same way again."""


def register_backend(provider: str, backend: OfflineBackend | None) -> None:
    """Serve ``provider/…`` models with ``backend`` in this process (``None`` removes it again).

    This is how tests and plugins add an offline provider beside ``sim`` and ``replay``; a registered backend
    also takes precedence over the built-in one of the same name."""
    if backend is None:
        _OVERRIDES.pop(provider, None)
        return
    _OVERRIDES[provider] = backend


def is_in_process(spec: ModelSpec) -> bool:
    """Whether ``spec`` is answered by an offline backend inside this process (not over HTTP)."""
    return spec.api_base is None and (spec.provider in _OVERRIDES or spec.provider in OFFLINE_PROVIDERS)


class OfflineRoutes:
    """One gateway's offline backends: built on first use from its pool and data directory, and found by the
    litellm handler through the ``route`` token in the request metadata (held weakly: they go with the gateway)."""

    def __init__(self, pool: ModelPool, data_dir: Path | None) -> None:
        self.pool = pool
        self.data_dir = data_dir
        self.token = uuid.uuid4().hex
        self._backends: dict[str, OfflineBackend] = {}
        _ROUTES[self.token] = self

    def backend(self, provider: str) -> OfflineBackend:
        """The backend answering ``provider``; a registered override wins over the built-in one."""
        override = _OVERRIDES.get(provider)
        if override is not None:
            return override
        found = self._backends.get(provider)
        if found is None:
            found = self._backends[provider] = load_backend(provider, self.pool, self.data_dir)
        return found


def describe_to_litellm(spec: ModelSpec) -> None:
    """Give litellm's price map an entry for a model only the pool can price (offline pools, self-hosted
    servers), with the pool's prices. litellm prices every response it returns; for a model missing from its
    map it searches its whole catalogue on each call, a quarter of an offline call's time. Models litellm
    prices itself are left alone."""
    import litellm

    if not priced_by_pool_only(spec) or spec.litellm_id in litellm.model_cost:
        return
    entry = {
        "input_cost_per_token": spec.price_in / 1e6,
        "output_cost_per_token": spec.price_out / 1e6,
        "max_input_tokens": spec.context_window,
        "litellm_provider": spec.provider,
        "mode": "chat",
    }
    litellm.register_model({spec.litellm_id: entry}, custom_llm_provider=spec.provider)


def ensure_registered(provider: str) -> None:
    """Put ``provider`` into ``litellm.custom_provider_map`` once (idempotent)."""
    import litellm

    if any(item["provider"] == provider for item in litellm.custom_provider_map):
        return
    litellm.custom_provider_map.append({"provider": provider, "custom_handler": _handler_class()(provider)})


def _generate(
    provider: str, info: dict[str, Any], optional_params: dict[str, Any], messages: list[Any]
) -> tuple[ModelSpec, list[OfflineSample]]:
    """Answer one request for ``provider`` from its metadata (``info``) and litellm's sampling parameters."""
    routes = _ROUTES.get(str(info.get("route")))
    if routes is None:
        raise OfflineBackendError(f"{provider}: request metadata names no live gateway (route {info.get('route')!r})")
    spec = routes.pool.get(str(info["model"]))
    try:
        request = OfflineRequest(
            model=spec.name,
            messages=tuple({"role": str(m["role"]), "content": str(m["content"])} for m in messages),
            meta=OfflineMeta.model_validate(info["meta"]),
            n=int(optional_params.get("n") or 1),
            first_sample=int(info.get("first_sample", 0)),
            temperature=float(optional_params.get("temperature") or 0.0),
            max_tokens=optional_params.get("max_tokens"),
            seed=int(optional_params.get("seed") or 0),
        )
        samples = routes.backend(provider).generate(spec, request)
    except CollabgraphError:
        raise
    except Exception as exc:
        raise OfflineBackendError(f"{spec.name}: offline backend failed: {type(exc).__name__}: {exc}") from exc
    if len(samples) != request.n:
        raise OfflineBackendError(f"{spec.name}: backend returned {len(samples)} samples for n={request.n}")
    return spec, samples


@functools.cache
def _handler_class() -> type[Any]:
    """The litellm ``CustomLLM`` subclass, defined on first use so importing this module stays cheap."""
    from collabgraph.settings import offline_env

    offline_env()
    import litellm
    from litellm.llms.custom_llm import CustomLLM

    class OfflineLLM(CustomLLM):
        """Answers ``<provider>/<model>`` requests with the offline backend of the calling gateway."""

        def __init__(self, provider: str) -> None:
            super().__init__()
            self.provider = provider

        async def acompletion(self, *args: Any, **kwargs: Any) -> Any:
            return self.completion(*args, **kwargs)

        def completion(self, *args: Any, **kwargs: Any) -> Any:
            litellm_params = kwargs.get("litellm_params") or {}
            info = (litellm_params.get("metadata") or {}).get("collabgraph")
            if not isinstance(info, dict):
                raise OfflineBackendError(
                    f"{self.provider}/{kwargs.get('model')}: offline models need request metadata "
                    "(call them through collabgraph.models.Gateway with meta=OfflineMeta(...))"
                )
            spec, samples = _generate(self.provider, info, kwargs.get("optional_params") or {}, kwargs["messages"])
            response = kwargs["model_response"]
            response.model = spec.litellm_id
            response.choices = [
                litellm.Choices(
                    index=i,
                    message=litellm.Message(content=s.text, role="assistant"),
                    finish_reason=s.finish_reason,
                )
                for i, s in enumerate(samples)
            ]
            prompt = samples[0].prompt_tokens
            completion = sum(s.completion_tokens for s in samples)
            # The prompt is read once for all n samples, as a server sharing the prefill would bill it.
            response.usage = litellm.Usage(
                prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
            )
            response.collabgraph = {
                "samples": [
                    {
                        "prompt_tokens": s.prompt_tokens,
                        "completion_tokens": s.completion_tokens,
                        "latency_s": s.latency_s,
                    }
                    for s in samples
                ]
            }
            return response

    return OfflineLLM
