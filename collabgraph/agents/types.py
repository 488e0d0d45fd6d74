"""The contract between the graph runtime and the node kinds: what a node gets, what it gives back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from collabgraph.models.types import Completion, OfflineMeta, Usage
from collabgraph.tasks.types import Example, Message, Task

__all__ = ["CallFn", "NodeContext", "NodeOutput", "TraceEntry", "Verdict"]

Verdict = Literal["accepted", "rejected"]


class TraceEntry(BaseModel):
    """One model call (or one execution) a node made, for the example's trace."""

    model_config = ConfigDict(frozen=True)
    node_id: str
    model: str | None
    role: str
    prompt: list[dict[str, str]] = Field(default_factory=list)
    texts: list[str] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    latency_s: float = 0.0
    cached: int = 0
    error: str | None = None


class NodeOutput(BaseModel):
    """What one run of one node produced on one example.

    ``answers`` are the answers extracted from ``texts`` by the task (one per sample; None where nothing was
    found or where the text is not an answer, as a critique's); ``answer`` is the node's single answer (the first
    sample's that has one, or the voted / fused / selected one). ``usage`` sums every call the node made, except
    ``usage.latency_s``, which equals ``latency_s``: the node's own critical path (sequential calls add; the
    samples of one request overlap, so a request counts its slowest sample; sandbox runs add their wall time).
    ``round`` counts the runs of this node on this example, from 1. ``error`` set means the node failed; the
    trace then holds what it did before failing."""

    model_config = ConfigDict(frozen=True)
    node_id: str
    kind: str
    round: int = 1
    texts: list[str] = Field(default_factory=list)
    answers: list[str | None] = Field(default_factory=list)
    answer: str | None = None
    verdict: Verdict | None = None
    feedback: str | None = None
    passed: bool | None = None
    subtasks: list[str] = Field(default_factory=list)
    data: dict[str, Any] = Field(default_factory=dict)
    usage: Usage = Field(default_factory=Usage)
    latency_s: float = 0.0
    calls: int = 0
    trace: list[TraceEntry] = Field(default_factory=list)
    error: str | None = None


@runtime_checkable
class CallFn(Protocol):
    """How a node calls a model: the runtime binds gateway, seed and sample numbering (so that the k-th call of
    a node on an example is stable across re-runs and the cache pays nothing twice). Runtime-checkable so that
    ``NodeContext`` can hold one (pydantic checks the field with ``isinstance``)."""

    async def __call__(
        self,
        model: str,
        messages: Sequence[Message],
        *,
        meta: OfflineMeta,
        n: int = 1,
        temperature: float = 0.0,
        max_tokens: int | None = None,
    ) -> list[Completion]: ...


class NodeContext(BaseModel):
    """Everything a node kind may use while it runs on one example. ``call`` goes through the gateway.

    ``model`` is the node's model, already resolved from the graph's aliases to a pool model name (custom kinds
    read it here; built-in kinds receive it as their ``model`` argument). ``subtask`` is set for a child of a
    planned spawn: the part of the work that child should do (``generate`` adds it to its prompt).
    ``sandbox`` is a ``collabgraph.sandbox.Sandbox``; None means ``available_sandbox()``."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    node_id: str
    task: Task
    example: Example
    call: CallFn
    seed: int = 0
    round: int = 1
    model: str | None = None
    subtask: str | None = None
    sandbox: Any = None
