"""Test helpers: a ``CallFn`` over the real gateway, a scripted one for the edge cases a calibrated model never
produces (malformed outputs, failures), hand-made node outputs, and the type of the ``make_ctx`` fixture."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from collabgraph.agents import CallFn, NodeContext, NodeOutput
from collabgraph.errors import ModelCallError
from collabgraph.models import Gateway
from collabgraph.models.types import Completion, OfflineMeta, Usage
from collabgraph.tasks.types import Example, Message, Task


class MakeCtx(Protocol):
    """The ``make_ctx`` fixture: the context of node ``node_id`` on ``example``, calling models through ``call``
    (default: the real gateway with ``seed``)."""

    def __call__(
        self, node_id: str, task: Task, example: Example, *, seed: int = 0, call: CallFn | None = None
    ) -> NodeContext: ...


@dataclass
class SeenCall:
    model: str
    messages: list[Message]
    meta: OfflineMeta
    n: int
    temperature: float
    max_tokens: int | None


Reply = str | Exception | Callable[[SeenCall], str]


@dataclass
class ScriptedCall:
    """A ``CallFn`` that answers from a script, one entry per call (the last one repeats): a text (given to
    every sample), a function of the call, or an exception to raise. It records every call it gets."""

    script: Sequence[Reply]
    seen: list[SeenCall] = field(default_factory=list)
    latency_s: float = 0.5

    async def __call__(
        self,
        model: str,
        messages: Sequence[Message],
        *,
        meta: OfflineMeta,
        n: int = 1,
        temperature: float = 0.0,
        max_tokens: int | None = None,
    ) -> list[Completion]:
        call = SeenCall(model, list(messages), meta, n, temperature, max_tokens)
        self.seen.append(call)
        reply = self.script[min(len(self.seen), len(self.script)) - 1]
        if isinstance(reply, Exception):
            raise reply
        text = reply(call) if callable(reply) else reply
        usage = Usage(prompt_tokens=10, completion_tokens=5, cost_usd=0.001, flops=1.0, latency_s=self.latency_s)
        return [Completion(model=model, text=text, usage=usage, sample_index=k) for k in range(n)]


def model_failure(model: str = "sim/scripted") -> ModelCallError:
    return ModelCallError(model, "HTTP 500 from the provider", status=500, attempts=7)


def output(
    node_id: str,
    answers: Sequence[str | None],
    *,
    texts: Sequence[str] | None = None,
    error: str | None = None,
    kind: str = "generate",
) -> NodeOutput:
    """A hand-made node output whose texts state ``answers`` in the GSM8K format."""
    shown = (
        list(texts) if texts is not None else [f"Working.\n#### {a}" if a is not None else "No idea." for a in answers]
    )
    first = next((a for a in answers if a is not None), None)
    return NodeOutput(node_id=node_id, kind=kind, texts=shown, answers=list(answers), answer=first, error=error)


class GatewayCall:
    """A ``CallFn`` over the gateway with ``seed``, numbering samples across its calls (the first call of n
    samples gets samples 0..n-1, the next continues), so a retry draws new samples and a re-run the same ones."""

    def __init__(self, gateway: Gateway, *, seed: int = 0) -> None:
        self.gateway = gateway
        self.seed = seed
        self.next_sample = 0

    async def __call__(
        self,
        model: str,
        messages: Sequence[Message],
        *,
        meta: OfflineMeta,
        n: int = 1,
        temperature: float = 0.0,
        max_tokens: int | None = None,
    ) -> list[Completion]:
        first = self.next_sample
        self.next_sample += n
        return await self.gateway.complete(
            model,
            messages,
            n=n,
            temperature=temperature,
            max_tokens=max_tokens,
            seed=self.seed,
            first_sample=first,
            meta=meta,
        )
