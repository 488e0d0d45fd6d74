"""One node's run on one example: its calls with their accounting and trace, the retry of a malformed output,
and how a failure becomes the node's result instead of an exception."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from collabgraph.agents.types import NodeContext, NodeOutput, TraceEntry
from collabgraph.errors import ModelCallError
from collabgraph.models.types import Completion, OfflineMeta, Usage
from collabgraph.tasks.types import Message

__all__ = ["RETRY_TEMPERATURE", "Malformed", "NodeRun"]

T = TypeVar("T")

RETRY_TEMPERATURE = 0.7
"""The least temperature of the one retry after a malformed output: at temperature 0 the same prompt gives
the same text again, so the retry samples."""


class Malformed(Exception):
    """A model output the node cannot use (no verdict, no answer, no selection); ``str()`` says what was missing."""


class NodeRun:
    """Accumulates what one node does on one example (calls, sandbox runs) and builds its ``NodeOutput``.

    Calls are sequential, so their latencies add; the samples of one request overlap, so a request counts its
    slowest sample. ``usage`` sums every completion (cached ones report what they cost when first paid for)."""

    def __init__(self, ctx: NodeContext, kind: str) -> None:
        self.ctx = ctx
        self.kind = kind
        self.trace: list[TraceEntry] = []
        self.usage = Usage()
        self.latency_s = 0.0
        self.calls = 0

    async def call(
        self,
        *,
        model: str,
        messages: Sequence[Message],
        meta: OfflineMeta,
        n: int = 1,
        temperature: float = 0.0,
        max_tokens: int | None = None,
    ) -> list[Completion]:
        """One model call through ``ctx.call``, traced; a ``ModelCallError`` is traced and raised again."""
        prompt = [{"role": m.role, "content": m.content} for m in messages]
        self.calls += 1
        try:
            completions = await self.ctx.call(
                model, messages, meta=meta, n=n, temperature=temperature, max_tokens=max_tokens
            )
        except ModelCallError as exc:
            self.trace.append(
                TraceEntry(node_id=self.ctx.node_id, model=model, role=meta.role, prompt=prompt, error=str(exc))
            )
            raise
        usage = sum((c.usage for c in completions), Usage())
        latency = max((c.usage.latency_s for c in completions), default=0.0)
        self.usage += usage
        self.latency_s += latency
        self.trace.append(
            TraceEntry(
                node_id=self.ctx.node_id,
                model=model,
                role=meta.role,
                prompt=prompt,
                texts=[c.text for c in completions],
                usage=usage.model_copy(update={"latency_s": latency}),
                latency_s=latency,
                cached=sum(c.cached for c in completions),
            )
        )
        return completions

    def executed(self, role: str, outputs: Sequence[str], wall_s: float, error: str | None = None) -> None:
        """Record sandbox runs that took ``wall_s`` together (jobs run in parallel overlap)."""
        self.latency_s += wall_s
        self.trace.append(
            TraceEntry(
                node_id=self.ctx.node_id,
                model=None,
                role=role,
                texts=list(outputs),
                usage=Usage(latency_s=wall_s),
                latency_s=wall_s,
                error=error,
            )
        )

    async def ask(
        self,
        *,
        model: str,
        messages: Sequence[Message],
        meta: OfflineMeta,
        parse: Callable[[list[Completion]], Awaitable[T]],
        n: int = 1,
        temperature: float = 0.0,
        max_tokens: int | None = None,
    ) -> T:
        """Call, then ``parse`` the completions; when ``parse`` raises ``Malformed`` call once more (new sample
        numbers, at least ``RETRY_TEMPERATURE``) and parse again. A second ``Malformed`` propagates."""
        completions = await self.call(
            model=model, messages=messages, meta=meta, n=n, temperature=temperature, max_tokens=max_tokens
        )
        try:
            return await parse(completions)
        except Malformed:
            completions = await self.call(
                model=model,
                messages=messages,
                meta=meta,
                n=n,
                temperature=max(temperature, RETRY_TEMPERATURE),
                max_tokens=max_tokens,
            )
            return await parse(completions)

    def output(self, **fields: Any) -> NodeOutput:
        """The node's result with its accounting and trace."""
        return NodeOutput(
            node_id=self.ctx.node_id,
            kind=self.kind,
            round=self.ctx.round,
            usage=self.usage.model_copy(update={"latency_s": self.latency_s}),
            latency_s=self.latency_s,
            calls=self.calls,
            trace=list(self.trace),
            **fields,
        )

    def failure(self, message: str) -> NodeOutput:
        """The node's result when it failed: ``error`` set, with what it did before failing."""
        return self.output(error=message)

    async def guarded(self, body: Callable[[], Awaitable[NodeOutput]]) -> NodeOutput:
        """Run ``body``; a model that failed for good or an output still malformed after its retry becomes
        this node's failure (``NodeOutput.error``), not an exception."""
        try:
            return await body()
        except ModelCallError as exc:
            return self.failure(str(exc))
        except Malformed as exc:
            return self.failure(f"{self.kind}: malformed model output after a retry: {exc}")
