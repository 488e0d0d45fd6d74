"""The single-model evaluator against a scripted gateway: ordering, voting, accounting, failures, concurrency.

The gateway here is a test double that answers from a script (so failures and timings are exact); the real
gateway and offline pools are exercised end to end by tests/cli/test_eval_cmd.py."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collabgraph.agents import offline_meta
from collabgraph.errors import ConfigError, ErrorItem, ModelCallError, UnknownNameError
from collabgraph.models.types import Completion, OfflineMeta, Usage
from collabgraph.runs import EvalReport, ExampleResult, evaluate_model, summarise
from collabgraph.tasks.types import AnswerFormat, Example, Message, Score
from tests.helpers import EVAL_SUMMARY_FIELDS


class ToyTask:
    """Answers end with ``#### x``; numbers are compared by value, so ``0.5`` and ``.50`` are the same answer."""

    name = "toy"
    answer_format: AnswerFormat = "gsm8k"

    def examples(self, split: str = "test", limit: int | None = None, seed: int = 0) -> list[Example]:
        raise AssertionError("the evaluator is given its examples")

    def prompt(self, example: Example) -> list[Message]:
        return [Message(role="user", content=example.question)]

    def extract(self, text: str, example: Example) -> str | None:
        _, sep, tail = text.rpartition("#### ")
        return (tail.strip() or None) if sep else None

    def same(self, a: str, b: str, example: Example) -> bool:
        return float(a) == float(b)

    async def score(self, text: str, example: Example) -> Score:
        if text == "BOOM":
            raise RuntimeError("scorer crashed")
        got = self.extract(text, example)
        return Score(correct=got is not None and self.same(got, example.answer, example), extracted=got)


Script = dict[str, list[str] | BaseException]


class ScriptedGateway:
    """Answers each example id from a script, records requests and how many were in flight at once.

    ``answer_order`` lists example ids in the order they must be answered: each waits until the one before it
    has been answered (so they must all be in flight together); the others answer after ``delay`` seconds."""

    def __init__(
        self, script: Script, *, delay: float = 0.0, answer_order: Sequence[str] = (), cached: bool = False
    ) -> None:
        self.script = script
        self.delay = delay
        self.after = dict(zip(answer_order[1:], answer_order, strict=False))
        self.answered = {example_id: asyncio.Event() for example_id in answer_order}
        self.cached = cached
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0

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
    ) -> list[Completion]:
        assert meta is not None
        self.requests.append({"model": model, "n": n, "temperature": temperature, "seed": seed, "meta": meta})
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if meta.example_id in self.answered:
                if meta.example_id in self.after:
                    await self.answered[self.after[meta.example_id]].wait()
            else:
                await asyncio.sleep(self.delay)
            answer = self.script[meta.example_id]
            if isinstance(answer, BaseException):
                raise answer
            return [
                Completion(
                    model=model,
                    text=text,
                    sample_index=i,
                    cached=self.cached,
                    usage=Usage(
                        prompt_tokens=10,
                        completion_tokens=5 * (i + 1),
                        cost_usd=0.001,
                        flops=1e9,
                        latency_s=0.5 * (i + 1),
                    ),
                )
                for i, text in enumerate(answer[:n])
            ]
        finally:
            self.in_flight -= 1
            if meta.example_id in self.answered:
                self.answered[meta.example_id].set()


def _examples(k: int, answer_format: AnswerFormat = "gsm8k") -> list[Example]:
    return [
        Example(id=f"toy/{i}", task="toy", question=f"q{i}", answer=str(i), answer_format=answer_format)
        for i in range(k)
    ]


async def test_results_follow_example_order_and_accuracy_is_mean_correctness() -> None:
    examples = _examples(6)
    # Even examples right, odd wrong; later examples answer first so completion order is reversed.
    script: Script = {e.id: [f"work #### {int(e.answer) + (int(e.answer) % 2)}"] for e in examples}
    gateway = ScriptedGateway(script, answer_order=[e.id for e in reversed(examples)])
    finished: list[str] = []
    report = await evaluate_model(
        gateway, ToyTask(), "m", examples=examples, concurrency=6, progress=lambda r: finished.append(r.example_id)
    )
    assert finished == [e.id for e in reversed(examples)]
    assert [r.example_id for r in report.results] == [e.id for e in examples]
    assert [r.correct for r in report.results] == [[True], [False]] * 3
    assert report.accuracy == 0.5
    assert report.n == 6 and report.errors == 0
    assert report.ci95[0] < 0.5 < report.ci95[1]
    assert report.maj_at_k is None and report.pass_at_k is None


async def test_samples_vote_math_aware_and_usage_sums_with_request_latency() -> None:
    examples = _examples(2)
    script: Script = {
        "toy/0": ["#### 1", "#### 0.5", "#### .50", "#### 0"],  # majority 0.5 (two votes), wrong; one sample right
        "toy/1": ["#### 1", "#### 1.0", "#### 7", "no answer"],  # majority 1, right; two samples right
    }
    gateway = ScriptedGateway(script)
    report = await evaluate_model(gateway, ToyTask(), "m", examples=examples, samples=4, temperature=0.7, seed=3)
    first, second = report.results
    assert first.answers == ["1", "0.5", ".50", "0"] and first.majority_answer == "0.5"
    assert first.correct == [False, False, False, True] and first.majority_correct is False
    assert second.answers == ["1", "1.0", "7", None] and second.majority_answer == "1" and second.majority_correct
    assert report.accuracy == pytest.approx((1 / 4 + 2 / 4) / 2)
    assert report.maj_at_k == 0.5
    assert report.pass_at_k == 1.0  # every example has a correct sample among its 4
    # Usage is summed over the 4 samples; latency is the slowest sample, since they were one request.
    assert first.usage.prompt_tokens == 40 and first.usage.completion_tokens == 5 + 10 + 15 + 20
    assert first.latency_s == 2.0 and first.usage.latency_s == 2.0
    assert report.mean_completion_tokens == 50 and report.mean_flops == 4e9 and report.mean_latency_s == 2.0
    assert report.mean_cost_usd == pytest.approx(0.004)
    assert {(r["n"], r["temperature"], r["seed"]) for r in gateway.requests} == {(4, 0.7, 3)}


async def test_a_failed_call_or_scorer_fails_its_example_not_the_run() -> None:
    examples = _examples(4)
    script: Script = {
        "toy/0": ["#### 0"],
        "toy/1": ModelCallError("m", "connection refused", attempts=3),
        "toy/2": ["BOOM"],
        "toy/3": ["#### 3"],
    }
    report = await evaluate_model(ScriptedGateway(script), ToyTask(), "m", examples=examples)
    assert report.n == 4 and report.errors == 2
    assert report.accuracy == 0.5
    failed = {r.example_id: r for r in report.results if r.error}
    assert set(failed) == {"toy/1", "toy/2"}
    assert "connection refused" in (failed["toy/1"].error or "") and "after 3 attempt(s)" in (
        failed["toy/1"].error or ""
    )
    assert failed["toy/2"].error == "RuntimeError: scorer crashed"
    assert failed["toy/1"].correct == [False] and failed["toy/1"].answers == [None]
    assert report.error_examples == [f"toy/1: {failed['toy/1'].error}", "toy/2: RuntimeError: scorer crashed"]
    # Accounting means cover only the examples whose call succeeded.
    assert report.mean_prompt_tokens == 10


@pytest.mark.parametrize(
    "error",
    [
        UnknownNameError("model", "sim/llama-3.1-8x", ["sim/llama-3.1-8b"]),
        ConfigError("model 'gpt'", [ErrorItem("api_key_env", "environment variable OPENAI_API_KEY is not set")]),
    ],
)
async def test_a_configuration_error_ends_the_run_instead_of_failing_every_example(error: Exception) -> None:
    examples = _examples(40)
    with pytest.raises(type(error)) as raised:
        await evaluate_model(
            ScriptedGateway(dict.fromkeys((e.id for e in examples), error)), ToyTask(), "m", examples=examples
        )
    assert raised.value is error


async def test_a_gateway_returning_too_few_samples_is_an_error() -> None:
    report = await evaluate_model(
        ScriptedGateway({"toy/0": ["#### 0"]}), ToyTask(), "m", examples=_examples(1), samples=3
    )
    assert report.errors == 1
    assert report.results[0].error == "asked for 3 samples, got 1"
    assert report.results[0].correct == [False, False, False]


async def test_a_model_that_always_fails_gives_a_finished_report() -> None:
    examples = _examples(5)
    script: Script = {e.id: ModelCallError("m", "HTTP 500", status=500, attempts=2) for e in examples}
    report = await evaluate_model(ScriptedGateway(script), ToyTask(), "m", examples=examples, samples=2)
    assert report.errors == 5 and report.accuracy == 0.0 and report.maj_at_k == 0.0 and report.pass_at_k == 0.0
    assert len(report.error_examples) == 5
    assert report.mean_prompt_tokens == 0.0 and report.cached_calls == 0


async def test_concurrency_is_bounded_and_progress_reports_every_example() -> None:
    examples = _examples(20)
    gateway = ScriptedGateway({e.id: [f"#### {e.answer}"] for e in examples}, delay=0.01)
    seen: list[ExampleResult] = []
    report = await evaluate_model(gateway, ToyTask(), "m", examples=examples, concurrency=3, progress=seen.append)
    assert gateway.max_in_flight == 3
    assert sorted(r.example_id for r in seen) == sorted(e.id for e in examples)
    assert report.accuracy == 1.0


async def test_cached_calls_count_examples_answered_from_the_cache() -> None:
    examples = _examples(3)
    gateway = ScriptedGateway({e.id: [f"#### {e.answer}"] for e in examples}, cached=True)
    report = await evaluate_model(gateway, ToyTask(), "m", examples=examples)
    assert report.cached_calls == 3


async def test_the_gateway_receives_the_offline_meta_of_each_example() -> None:
    examples = _examples(2)
    gateway = ScriptedGateway({e.id: [f"#### {e.answer}"] for e in examples})
    await evaluate_model(gateway, ToyTask(), "m", examples=examples)
    received = sorted(gateway.requests, key=lambda r: str(r["meta"].example_id))
    assert [r["meta"] for r in received] == [offline_meta(ToyTask(), e) for e in examples]


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"samples": 0}, "samples must be >= 1"), ({"concurrency": 0}, "concurrency")]
)
async def test_bad_arguments_are_rejected(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        await evaluate_model(ScriptedGateway({}), ToyTask(), "m", examples=_examples(1), **kwargs)


async def test_no_examples_gives_an_empty_report() -> None:
    report = await evaluate_model(ScriptedGateway({}), ToyTask(), "m", examples=[])
    assert report.n == 0 and report.accuracy == 0.0 and report.ci95 == (0.0, 1.0)


def _summary_of(correct: list[list[bool]]) -> EvalReport:
    k = len(correct[0])
    results = [
        ExampleResult(
            example_id=f"toy/{i}",
            answers=["1" if c else "0" for c in row],
            correct=row,
            majority_correct=sum(row) * 2 > k,
        )
        for i, row in enumerate(correct)
    ]
    return summarise(results, model="m", task="toy", split="test", samples=k, temperature=0.7, seed=0)


@settings(max_examples=50, deadline=None)
@given(
    st.integers(min_value=2, max_value=6).flatmap(
        lambda k: st.lists(st.lists(st.booleans(), min_size=k, max_size=k), min_size=1, max_size=40)
    )
)
def test_summary_invariants(correct: list[list[bool]]) -> None:
    report = _summary_of(correct)
    assert report.ci95[0] <= report.accuracy <= report.ci95[1]
    assert report.pass_at_k is not None and report.maj_at_k is not None
    assert report.pass_at_k >= report.accuracy - 1e-12  # pass@K >= pass@1
    assert 0.0 <= report.maj_at_k <= report.pass_at_k  # a correct vote needs a correct sample


def test_summary_json_has_k_only_with_several_samples() -> None:
    many = _summary_of([[True, False], [True, True]]).summary()
    assert many["k"] == 2 and many["maj_at_k"] == 0.5 and many["pass_at_k"] == 1.0
    assert "results" not in many and many["ci95"] == list(many["ci95"])
    one = _summary_of([[True], [False]]).summary()
    assert "k" not in one and "maj_at_k" not in one and "pass_at_k" not in one
    assert set(one) >= EVAL_SUMMARY_FIELDS
