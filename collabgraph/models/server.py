"""``serve-sim``: the offline pools (``sim/``, ``replay/``) over the OpenAI HTTP API, in the shape vLLM serves.

Endpoints: ``GET /v1/models``, ``GET /v1/models/{model}``, ``POST /v1/chat/completions`` (JSON, or a
server-sent-event stream with ``"stream": true``) and ``GET /health``. A completion request needs what the
offline pools answer from, as a request-body extension — this is what the gateway sends through litellm's
``extra_body``::

    {"model": "replay/Meta-Llama-3_1-70B-Instruct", "messages": [...], "n": 3,
     "collabgraph": {"meta": {<OfflineMeta as JSON>}, "first_sample": 0}}

Responses carry the usual ``choices`` and ``usage`` (the prompt counted once per request, as vLLM shares its
prefill across the ``n`` samples) and an extension ``"collabgraph": {"samples": [{"prompt_tokens",
"completion_tokens", "latency_s"}]}`` with each sample's own accounting and virtual latency. Errors have the
OpenAI shape ``{"error": {"message", "type", "param", "code"}}``.

Options make it a test bed for clients: ``latency_scale`` really sleeps that multiple of each call's virtual
latency, ``fixed_latency`` sleeps a constant, and ``fail_rate`` answers that fraction of calls — picked by a
generator seeded with ``seed``, in arrival order — with a 429 (with ``Retry-After``), a 500, or a hang of
``hang_s`` seconds that ends in a 503, about a third each.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from collabgraph.errors import CollabgraphError, UnknownNameError, format_loc
from collabgraph.models.offline import OFFLINE_PROVIDERS, OfflineBackend, load_backend
from collabgraph.models.pool import ModelPool, ModelSpec
from collabgraph.models.replay.errors import ReplayMissError
from collabgraph.models.types import OfflineMeta, OfflineRequest, OfflineSample

__all__ = [
    "Fault",
    "FaultInjector",
    "make_app",
    "serve_in_background",
    "served_models",
    "served_pool_entry",
]

Fault = Literal["rate_limit", "server_error", "hang"]
_FAULTS: tuple[Fault, ...] = ("rate_limit", "server_error", "hang")
_MAX_N = 256
_SHUTDOWN_TIMEOUT_S = 1.0
_sleep = asyncio.sleep  # every real wait goes through here, so tests can observe what was slept


class FaultInjector:
    """Decides, call by call, whether to inject a fault: a fraction ``rate`` of calls, each fault kind about
    a third of them, from ``random.Random(seed)`` — so a given sequence of calls meets the same faults."""

    def __init__(self, rate: float, seed: int) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fail_rate must be in [0, 1], got {rate}")
        self.rate = rate
        self._rng = random.Random(seed)

    def draw(self) -> Fault | None:
        """The fault for the next call, or None to answer it normally."""
        if self.rate == 0.0 or self._rng.random() >= self.rate:
            return None
        return _FAULTS[self._rng.randrange(len(_FAULTS))]


class _Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(str(part.get("text", "")) for part in self.content if part.get("type") == "text")
        return self.content or ""


class _Extension(BaseModel):
    model_config = ConfigDict(extra="forbid")
    meta: OfflineMeta
    first_sample: int = Field(default=0, ge=0)


class _StreamOptions(BaseModel):
    include_usage: bool = False


class _ChatRequest(BaseModel):
    # Other OpenAI parameters (top_p, stop, logprobs, …) are accepted and ignored, as the pools cannot honour them.
    model_config = ConfigDict(extra="ignore")
    model: str
    messages: list[_Message] = Field(min_length=1)
    n: int = Field(default=1, ge=1, le=_MAX_N)
    temperature: float = Field(default=1.0, ge=0.0, le=2.0)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    seed: int | None = None
    stream: bool = False
    stream_options: _StreamOptions | None = None
    collabgraph: _Extension | None = None


@dataclass
class _Server:
    pool: ModelPool
    models: dict[str, ModelSpec]
    latency_scale: float
    fixed_latency: float
    hang_s: float
    retry_after_s: float
    faults: FaultInjector
    data_dir: Path | None
    backends: dict[str, OfflineBackend] = field(default_factory=dict)

    def backend(self, provider: str) -> OfflineBackend:
        if provider not in self.backends:
            self.backends[provider] = load_backend(provider, self.pool, self.data_dir)
        return self.backends[provider]


_SERVER = web.AppKey("collabgraph_serve_sim", _Server)


def served_models(pool: ModelPool) -> list[ModelSpec]:
    """The pool entries ``serve-sim`` serves: those of an offline provider (``sim``, ``replay``)."""
    return [spec for spec in pool if spec.provider in OFFLINE_PROVIDERS]


def served_pool_entry(spec: ModelSpec, base_url: str) -> dict[str, Any]:
    """A pool entry that reaches ``spec`` through a ``serve-sim`` at ``base_url`` as an OpenAI-compatible
    server (``hosted_vllm/…``), keeping its size, prices and speed so accounting stays the same."""
    kept = spec.model_dump(
        exclude={"name", "litellm_id", "api_base", "offline", "supports_n", "scores", "notes"}, exclude_defaults=True
    )
    return {"litellm_id": f"hosted_vllm/{spec.name}", "api_base": base_url, "offline": True, "supports_n": True, **kept}


def make_app(
    pool: ModelPool,
    *,
    latency_scale: float = 0.0,
    fixed_latency: float = 0.0,
    fail_rate: float = 0.0,
    hang_s: float = 30.0,
    seed: int = 0,
    data_dir: Path | None = None,
    retry_after_s: float = 1.0,
) -> web.Application:
    """The ``serve-sim`` application for the offline models of ``pool`` (see the module docstring)."""
    for name, value in (
        ("latency_scale", latency_scale),
        ("fixed_latency", fixed_latency),
        ("hang_s", hang_s),
        ("retry_after_s", retry_after_s),
    ):
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    app = web.Application()
    app[_SERVER] = _Server(
        pool=pool,
        models={spec.name: spec for spec in served_models(pool)},
        latency_scale=latency_scale,
        fixed_latency=fixed_latency,
        hang_s=hang_s,
        retry_after_s=retry_after_s,
        faults=FaultInjector(fail_rate, seed),
        data_dir=data_dir,
    )
    app.router.add_get("/health", _health)
    app.router.add_get("/v1/models", _list_models)
    app.router.add_get("/v1/models/{model:.+}", _get_model)
    app.router.add_post("/v1/chat/completions", _chat_completions)
    return app


@asynccontextmanager
async def serve_in_background(app: web.Application, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Serve ``app`` on ``host:port`` (0: a free port) while the block runs; yields the base URL a client on
    this machine uses (``http://127.0.0.1:PORT/v1``). In-flight requests are cancelled when the block ends."""
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=_SHUTDOWN_TIMEOUT_S, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0][1]
        # A server on every interface is reached locally through the loopback address.
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else f"[{host}]" if ":" in host else host
        yield f"http://{shown}:{bound}/v1"
    finally:
        await runner.cleanup()


def _error(
    status: int, message: str, err_type: str, code: str, *, headers: dict[str, str] | None = None
) -> web.Response:
    body = {"error": {"message": message, "type": err_type, "param": None, "code": code}}
    return web.json_response(body, status=status, headers=headers)


def _model_card(spec: ModelSpec) -> dict[str, Any]:
    return {
        "id": spec.name,
        "object": "model",
        "created": 0,
        "owned_by": f"collabgraph-{spec.provider}",
        "root": spec.litellm_id,
        "max_model_len": spec.context_window,
    }


async def _health(request: web.Request) -> web.Response:
    return web.Response(text="")


async def _list_models(request: web.Request) -> web.Response:
    server = request.app[_SERVER]
    return web.json_response({"object": "list", "data": [_model_card(s) for s in server.models.values()]})


def _unknown_model(server: _Server, name: str) -> web.Response:
    message = str(UnknownNameError("model", name, server.models))
    return _error(404, f"{message} (GET /v1/models lists them)", "invalid_request_error", "model_not_found")


async def _get_model(request: web.Request) -> web.Response:
    server = request.app[_SERVER]
    spec = server.models.get(request.match_info["model"])
    if spec is None:
        return _unknown_model(server, request.match_info["model"])
    return web.json_response(_model_card(spec))


def _invalid(message: str, code: str = "invalid_request") -> web.Response:
    return _error(400, message, "invalid_request_error", code)


def _validation_message(exc: ValidationError) -> str:
    return "; ".join(f"{format_loc([str(p) for p in e['loc']])}: {e['msg']}" for e in exc.errors())


async def _chat_completions(request: web.Request) -> web.StreamResponse:
    server = request.app[_SERVER]
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return _invalid(f"request body is not valid JSON: {exc}", "invalid_json")
    if not isinstance(body, dict):
        return _invalid("request body must be a JSON object")
    if isinstance(body.get("model"), str) and body["model"] not in server.models:
        return _unknown_model(server, body["model"])
    try:
        chat = _ChatRequest.model_validate(body)
    except ValidationError as exc:
        return _invalid(f"invalid request: {_validation_message(exc)}")
    if chat.collabgraph is None:
        return _invalid(
            "missing 'collabgraph' in the request body: the offline pools answer from request metadata, "
            'not from the prompt; send {"collabgraph": {"meta": {"task": ..., "example_id": ..., "answer": ..., '
            '"answer_format": ...}, "first_sample": 0}} (litellm: extra_body=...; openai client: extra_body=...)',
            "missing_offline_meta",
        )
    spec = server.models[chat.model]

    fault = server.faults.draw()
    if fault == "rate_limit":
        retry = server.retry_after_s
        headers = {"Retry-After": str(math.ceil(retry)), "retry-after-ms": str(round(retry * 1000))}
        return _error(
            429,
            "rate limit (injected by serve-sim --fail-rate)",
            "rate_limit_error",
            "rate_limit_exceeded",
            headers=headers,
        )
    if fault == "server_error":
        return _error(
            500, "internal server error (injected by serve-sim --fail-rate)", "server_error", "injected_fault"
        )
    if fault == "hang":
        await _sleep(server.hang_s)
        return _error(
            503,
            f"no answer after hanging {server.hang_s:g} s (injected by serve-sim --fail-rate)",
            "server_error",
            "injected_hang",
        )

    offline = OfflineRequest(
        model=chat.model,
        messages=tuple({"role": m.role, "content": m.text()} for m in chat.messages),
        meta=chat.collabgraph.meta,
        n=chat.n,
        first_sample=chat.collabgraph.first_sample,
        temperature=chat.temperature,
        max_tokens=chat.max_completion_tokens or chat.max_tokens,
        seed=chat.seed or 0,
    )
    try:
        samples = server.backend(spec.provider).generate(spec, offline)
    except UnknownNameError as exc:
        return _error(404, str(exc), "invalid_request_error", "model_not_found")
    except ReplayMissError as exc:
        # No recording exists, so a retry cannot help: a 4xx, which clients do not retry.
        return _error(404, str(exc), "invalid_request_error", "no_recorded_answer")
    except CollabgraphError as exc:
        return _error(400, str(exc), "invalid_request_error", "offline_backend_error")
    except ImportError as exc:
        return _error(
            501, f"the {spec.provider!r} backend is not available: {exc}", "server_error", "backend_unavailable"
        )

    delay = server.latency_scale * max(s.latency_s for s in samples) + server.fixed_latency
    if delay > 0:
        await _sleep(delay)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if chat.stream:
        include_usage = chat.stream_options is not None and chat.stream_options.include_usage
        return await _stream(request, completion_id, created, chat.model, samples, include_usage)
    return web.json_response(
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": chat.model,
            "choices": [
                {
                    "index": i,
                    "message": {"role": "assistant", "content": s.text},
                    "logprobs": None,
                    "finish_reason": s.finish_reason,
                }
                for i, s in enumerate(samples)
            ],
            "usage": _usage(samples),
            "collabgraph": {"samples": [_sample_accounting(s) for s in samples]},
        }
    )


def _usage(samples: list[OfflineSample]) -> dict[str, int]:
    prompt = samples[0].prompt_tokens if samples else 0
    completion = sum(s.completion_tokens for s in samples)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _sample_accounting(sample: OfflineSample) -> dict[str, Any]:
    return {
        "prompt_tokens": sample.prompt_tokens,
        "completion_tokens": sample.completion_tokens,
        "latency_s": sample.latency_s,
    }


async def _stream(
    request: web.Request,
    completion_id: str,
    created: int,
    model: str,
    samples: list[OfflineSample],
    include_usage: bool,
) -> web.StreamResponse:
    """Each sample as one content chunk and one finish chunk, then the usage chunk if asked, then ``[DONE]``."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)

    def chunk(choices: list[dict[str, Any]], **extra: Any) -> bytes:
        payload = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": choices,
            **extra,
        }
        return f"data: {json.dumps(payload)}\n\n".encode()

    for i, s in enumerate(samples):
        delta = {"role": "assistant", "content": s.text}
        await response.write(chunk([{"index": i, "delta": delta, "logprobs": None, "finish_reason": None}]))
        await response.write(chunk([{"index": i, "delta": {}, "logprobs": None, "finish_reason": s.finish_reason}]))
    if include_usage:
        await response.write(chunk([], usage=_usage(samples)))
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response
