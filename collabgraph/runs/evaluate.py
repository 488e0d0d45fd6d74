"""Single-model evaluation: every example asked once (K samples in one request), scored, and summarised.

This is the baseline every collaboration graph is compared against, and the engine behind ``collabgraph eval``.
A failed call or a scoring error fails its example, never the run: it is recorded on the example, counted in
``EvalReport.errors``, and scored incorrect. A configuration error (an unknown model, a missing API-key variable)
is no example's fault and would fail them all alike, so it ends the run at once instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from statistics import fmean
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from collabgraph.agents.meta import offline_meta
from collabgraph.errors import CollabgraphError, ConfigError, UnknownNameError
from collabgraph.models.types import Completion, OfflineMeta, Usage
from collabgraph.runs.metrics import cluster_ci, majority_index, pass_at_k, wilson_ci
from collabgraph.tasks.types import Example, Message, Task

__all__ = ["CompletionGateway", "EvalReport", "ExampleResult", "evaluate_model", "summarise"]

MAX_ERROR_EXAMPLES = 5
"""How many error messages a report keeps verbatim (the count covers them all)."""


class CompletionGateway(Protocol):
    """The part of ``collabgraph.models.Gateway`` the evaluator uses."""

    async def complete(
        self,
        model: str,
        messages: Sequence[Message],
        *,
        n: int = 1,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        seed: int = 0,
        first_sample: int = 0,
        meta: OfflineMeta | None = None,
        api_base: str | None = None,
    ) -> list[Completion]: ...


class ExampleResult(BaseModel):
    """One example's outcome: per-sample extracted answers and verdicts, the vote, and what it cost.

    ``usage`` sums the samples' accounting except ``latency_s``, which is the request's latency: the samples
    are one request, so the slowest sample is the time the caller waited."""

    model_config = ConfigDict(frozen=True)
    example_id: str
    answers: list[str | None]
    correct: list[bool]
    majority_answer: str | None = None
    majority_correct: bool = False
    usage: Usage = Field(default_factory=Usage)
    latency_s: float = 0.0
    cached: bool = False
    error: str | None = None

    @property
    def accuracy(self) -> float:
        """Mean correctness over this example's samples."""
        return fmean(self.correct) if self.correct else 0.0


class EvalReport(BaseModel):
    """A model's accuracy on a task with its 95 % CI and mean cost per example.

    ``accuracy`` is the mean per-sample correctness (pass@1 averaged over samples). ``ci95`` is Wilson's
    interval with one sample per example and the example-clustered interval (``cluster_ci``) with K > 1.
    The ``mean_*`` figures are means per example (summed over its samples) over the examples whose call
    succeeded; failed examples count as incorrect in the accuracy and are listed in ``errors``.
    ``cached_calls`` counts examples answered entirely from the call cache."""

    model_config = ConfigDict(frozen=True)
    model: str
    task: str
    split: str
    n: int
    samples: int
    temperature: float
    seed: int
    accuracy: float
    ci95: tuple[float, float]
    maj_at_k: float | None = None
    pass_at_k: float | None = None
    mean_prompt_tokens: float = 0.0
    mean_completion_tokens: float = 0.0
    mean_cost_usd: float = 0.0
    mean_latency_s: float = 0.0
    mean_flops: float = 0.0
    errors: int = 0
    error_examples: list[str] = Field(default_factory=list)
    cached_calls: int = 0
    results: list[ExampleResult] = Field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The report without per-example results, as plain JSON-ready values (``k`` present when K > 1)."""
        out = self.model_dump(mode="json", exclude={"results"})
        if self.samples > 1:
            out["k"] = self.samples
        else:
            del out["maj_at_k"], out["pass_at_k"]
        return out


def _failed(example: Example, samples: int, message: str) -> ExampleResult:
    return ExampleResult(example_id=example.id, answers=[None] * samples, correct=[False] * samples, error=message)


async def _evaluate_one(
    gateway: CompletionGateway,
    task: Task,
    model: str,
    example: Example,
    *,
    samples: int,
    temperature: float,
    seed: int,
    max_tokens: int | None,
    api_base: str | None,
) -> ExampleResult:
    try:
        completions = await gateway.complete(
            model,
            task.prompt(example),
            n=samples,
            temperature=temperature,
            max_tokens=max_tokens,
            seed=seed,
            first_sample=0,
            meta=offline_meta(task, example),
            api_base=api_base,
        )
        if len(completions) != samples:
            return _failed(example, samples, f"asked for {samples} samples, got {len(completions)}")
        scores = [await task.score(c.text, example) for c in completions]
    except (asyncio.CancelledError, ConfigError, UnknownNameError):
        raise
    except Exception as exc:  # one example's failure (call or scoring) must never end the run
        # collabgraph's own errors explain themselves; anything else is named by its type.
        message = str(exc) if isinstance(exc, CollabgraphError) else f"{type(exc).__name__}: {exc}"
        return _failed(example, samples, " ".join(message.split()))
    answers = [s.extracted for s in scores]
    correct = [s.correct for s in scores]
    winner = majority_index(answers, lambda a, b: task.same(a, b, example))
    usage = sum((c.usage for c in completions), Usage())
    latency = max(c.usage.latency_s for c in completions)
    return ExampleResult(
        example_id=example.id,
        answers=answers,
        correct=correct,
        majority_answer=None if winner is None else answers[winner],
        majority_correct=winner is not None and correct[winner],
        usage=usage.model_copy(update={"latency_s": latency}),
        latency_s=latency,
        cached=all(c.cached for c in completions),
    )


async def evaluate_model(
    gateway: CompletionGateway,
    task: Task,
    model: str,
    *,
    examples: Sequence[Example],
    samples: int = 1,
    temperature: float = 0.0,
    seed: int = 0,
    concurrency: int = 32,
    max_tokens: int | None = None,
    api_base: str | None = None,
    split: str = "test",
    progress: Callable[[ExampleResult], None] | None = None,
) -> EvalReport:
    """Ask ``model`` every example (``samples`` samples in one request each, at most ``concurrency`` requests
    in flight), score the answers with ``task``, and summarise. ``progress`` is called once per finished
    example, in completion order; the report's results are in example order. Raises ConfigError or
    UnknownNameError (from the gateway) when the model cannot be called at all; every other failure is recorded
    on its example."""
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency}")
    results: list[ExampleResult | None] = [None] * len(examples)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(examples)):
        queue.put_nowait(i)

    async def worker() -> None:
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            result = await _evaluate_one(
                gateway,
                task,
                model,
                examples[i],
                samples=samples,
                temperature=temperature,
                seed=seed,
                max_tokens=max_tokens,
                api_base=api_base,
            )
            results[i] = result
            if progress is not None:
                progress(result)

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(concurrency, len(examples))):
                group.create_task(worker())
    except* (ConfigError, UnknownNameError) as group_error:
        raise group_error.exceptions[0] from None
    done = [r for r in results if r is not None]
    return summarise(
        done, model=model, task=task.name, split=split, samples=samples, temperature=temperature, seed=seed
    )


def summarise(
    results: Sequence[ExampleResult],
    *,
    model: str,
    task: str,
    split: str,
    samples: int,
    temperature: float,
    seed: int,
) -> EvalReport:
    """Aggregate per-example results into a report (accuracy, CI, maj@k / pass@k, mean accounting)."""
    n = len(results)
    per_example = [r.accuracy for r in results]
    accuracy = fmean(per_example) if n else 0.0
    ci = wilson_ci(sum(r.correct[0] for r in results), n) if samples == 1 else cluster_ci(per_example, samples=samples)
    ok = [r for r in results if r.error is None]
    failed = [r for r in results if r.error is not None]

    def mean(values: list[float]) -> float:
        return fmean(values) if values else 0.0

    return EvalReport(
        model=model,
        task=task,
        split=split,
        n=n,
        samples=samples,
        temperature=temperature,
        seed=seed,
        accuracy=accuracy,
        ci95=ci,
        maj_at_k=mean([float(r.majority_correct) for r in results]) if samples > 1 else None,
        pass_at_k=mean([pass_at_k(samples, sum(r.correct), samples) for r in results]) if samples > 1 else None,
        mean_prompt_tokens=mean([r.usage.prompt_tokens for r in ok]),
        mean_completion_tokens=mean([r.usage.completion_tokens for r in ok]),
        mean_cost_usd=mean([r.usage.cost_usd for r in ok]),
        mean_latency_s=mean([r.latency_s for r in ok]),
        mean_flops=mean([r.usage.flops for r in ok]),
        errors=len(failed),
        error_examples=[f"{r.example_id}: {r.error}" for r in failed[:MAX_ERROR_EXAMPLES]],
        cached_calls=sum(r.cached for r in ok),
        results=list(results),
    )
