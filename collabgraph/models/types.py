"""Values that cross the gateway boundary: requests' offline metadata, completions and their accounting."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Candidate", "Completion", "OfflineMeta", "OfflineRequest", "OfflineSample", "Role", "Usage"]

Role = Literal["answer", "critique", "refine", "fuse", "select", "plan", "localize", "patch", "optimize"]
"""What a call asks of a model; the offline pools use it to decide how to behave. ``optimize`` is the optimizer
LLM of a graph search (Agent-REINFORCE) reading trials and proposing a new distribution over graphs."""


class Usage(BaseModel):
    """Accounting of one completion. ``latency_s`` is wall time for real providers and virtual time
    (time to first token + tokens / throughput) for the offline pools; ``flops`` counts prefill and
    decode with the attention term (see ``collabgraph.models.accounting``)."""

    model_config = ConfigDict(frozen=True)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    flops: float = 0.0
    latency_s: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
            flops=self.flops + other.flops,
            latency_s=self.latency_s + other.latency_s,
        )


class Candidate(BaseModel):
    """A candidate answer shown to a model in its prompt (fuse, refine, select, critique).
    ``correct`` is known to the caller (who holds the gold answer) and is read only by offline pools."""

    model_config = ConfigDict(frozen=True)
    answer: str | None
    correct: bool
    text: str = ""


class OfflineMeta(BaseModel):
    """What the offline pools (``sim/``, ``replay/``, ``serve-sim``) need to answer a request.

    It reaches them as request metadata — never by parsing the prompt — and the gateway never sends it to a
    real provider (only to pool entries marked ``offline: true``)."""

    model_config = ConfigDict(frozen=True)
    task: str
    example_id: str
    answer: str
    answer_format: str
    distractors: tuple[str, ...] = ()
    difficulty: float | None = None
    role: Role = "answer"
    candidates: tuple[Candidate, ...] = ()
    extra: dict[str, Any] = Field(default_factory=dict)


class Completion(BaseModel):
    """One sample's text and accounting. ``sample_index`` identifies the sample within its request;
    ``cached`` is true when it came from the cache and cost nothing this time (its ``usage`` still
    reports what it cost when it was first paid for, so accuracy-per-cost stays honest)."""

    model_config = ConfigDict(frozen=True)
    model: str
    text: str
    usage: Usage
    sample_index: int = 0
    cached: bool = False
    finish_reason: str | None = None


class OfflineRequest(BaseModel):
    """A request as an offline backend sees it. ``first_sample`` is the sample index of the first of the
    ``n`` samples, so sample k of a prompt is the same text whether it was asked alone or in a batch."""

    model_config = ConfigDict(frozen=True)
    model: str
    messages: tuple[dict[str, str], ...]
    meta: OfflineMeta
    n: int = Field(default=1, ge=1)
    first_sample: int = Field(default=0, ge=0)
    temperature: float = Field(default=0.0, ge=0.0)
    max_tokens: int | None = None
    seed: int = 0


class OfflineSample(BaseModel):
    """One sample an offline backend produced, with its token counts and virtual latency."""

    model_config = ConfigDict(frozen=True)
    text: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    finish_reason: str = "stop"
