"""SimBackend behaviour: determinism, temperature, correlated errors, voting, context reactions, errors."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sim_helpers import examples, request_for, simple_request, spec, task

from collabgraph.models.offline import load_backend
from collabgraph.models.pool import ModelPool, ModelSpec, default_pool
from collabgraph.models.sim import ORACLE_ID, SUPPORTED_ROLES, VERDICT_CORRECT, VERDICT_INCORRECT, SimBackend, SimError
from collabgraph.models.sim.answers import wrong_answers
from collabgraph.models.sim.backend import PREFILL_SPEEDUP
from collabgraph.models.types import Candidate, OfflineRequest
from collabgraph.tasks import Example


def wrong_of(e: Example) -> str:
    """A recorded wrong answer of the example, else the first generated one."""
    return e.distractors[0] if e.distractors else wrong_answers(e.answer, e.answer_format, e.id)[0]


def answers_of(backend: SimBackend, model: str, request: OfflineRequest) -> list[str | None]:
    return [
        backend.decide(spec(model), request, k).answer
        for k in range(request.first_sample, request.first_sample + request.n)
    ]


def test_the_backend_loads_through_the_offline_registry() -> None:
    assert isinstance(load_backend("sim", default_pool()), SimBackend)


def test_samples_are_deterministic_across_instances(backend: SimBackend) -> None:
    request = simple_request(n=5, temperature=0.9, seed=3)
    first = backend.generate(spec("sim/llama-3.2-3b"), request)
    again = SimBackend(pool=default_pool()).generate(spec("sim/llama-3.2-3b"), request)
    assert first == again


def test_a_sample_does_not_depend_on_batching(backend: SimBackend) -> None:
    batch = backend.generate(spec("sim/qwen2.5-1.5b"), simple_request(n=6, temperature=1.0))
    singles = [
        backend.generate(spec("sim/qwen2.5-1.5b"), simple_request(n=1, first_sample=k, temperature=1.0))[0]
        for k in range(6)
    ]
    assert batch == singles


def test_temperature_zero_gives_identical_samples_for_any_seed(backend: SimBackend) -> None:
    for example in examples("gsm8k")[:20]:
        texts = {
            s.text
            for seed in (0, 1)
            for s in backend.generate(
                spec("sim/llama-3.2-1b"), request_for("sim/llama-3.2-1b", example, n=4, seed=seed)
            )
        }
        assert len(texts) == 1


def test_seeds_change_samples_at_temperature(backend: SimBackend) -> None:
    texts = [
        backend.generate(spec("sim/llama-3.2-1b"), simple_request(n=1, temperature=0.8, seed=seed))[0].text
        for seed in range(5)
    ]
    assert len(set(texts)) == 5


def test_diversity_grows_with_temperature(backend: SimBackend) -> None:
    model = "sim/llama-3.2-3b"
    subset = examples("gsm8k")[:150]

    def distinct(temperature: float) -> float:
        counts = [
            len(set(answers_of(backend, model, request_for(model, e, n=8, temperature=temperature)))) for e in subset
        ]
        return sum(counts) / len(counts)

    levels = [distinct(t) for t in (0.0, 0.3, 0.7, 1.2)]
    assert levels[0] == 1.0
    assert levels == sorted(levels) and levels[-1] > levels[1] + 0.3, levels


def _votes(backend: SimBackend, model: str, subset: tuple[Example, ...], k: int, temperature: float):  # type: ignore[no-untyped-def]
    single = majority = any_right = 0.0
    for e in subset:
        request = request_for(model, e, n=k, temperature=temperature)
        decisions = [backend.decide(spec(model), request, i) for i in range(k)]
        single += sum(bool(d.correct) for d in decisions) / k
        top = Counter(d.answer for d in decisions).most_common(1)[0][0]
        majority += top == e.answer
        any_right += any(d.correct for d in decisions)
    n = len(subset)
    return single / n, majority / n, any_right / n


def test_majority_vote_helps_a_mid_model_moderately_and_pass_at_k_grows(backend: SimBackend) -> None:
    subset = examples("gsm8k")[:400]
    acc, maj8, pass8 = _votes(backend, "sim/llama-3.2-3b", subset, 8, 0.7)
    assert acc + 0.02 < maj8 < acc + 0.15, (acc, maj8)
    assert pass8 > maj8
    _, _, pass2 = _votes(backend, "sim/llama-3.2-3b", subset, 2, 0.7)
    assert acc < pass2 < pass8


def test_errors_correlate_across_models_and_cluster_on_popular_mistakes(backend: SimBackend) -> None:
    subset = examples("gsm8k")
    a_model, b_model = "sim/llama-3.2-3b", "sim/qwen2.5-1.5b"
    a = [backend.decide(spec(a_model), request_for(a_model, e), 0) for e in subset]
    b = [backend.decide(spec(b_model), request_for(b_model, e), 0) for e in subset]
    n = len(subset)
    a_wrong = sum(not d.correct for d in a) / n
    b_wrong = sum(not d.correct for d in b) / n
    both = [(x, y) for x, y in zip(a, b, strict=True) if not x.correct and not y.correct]
    # Independent draws would give P(both wrong) = P(a wrong) · P(b wrong); shared difficulty makes it larger.
    assert len(both) / n > 1.5 * a_wrong * b_wrong
    # When both are wrong they often give the same wrong answer (a uniform pick among 9 would agree ~11 %).
    same = sum(x.answer == y.answer for x, y in both) / len(both)
    assert same > 0.25


def _fuse_accuracy(backend: SimBackend, model: str, right: int, subset: tuple[Example, ...]) -> float:
    total = 0
    for e in subset:
        wrong = wrong_of(e)
        candidates = tuple(Candidate(answer=e.answer, correct=True) for _ in range(right)) + tuple(
            Candidate(answer=wrong, correct=False) for _ in range(4 - right)
        )
        decision = backend.decide(spec(model), request_for(model, e, role="fuse", candidates=candidates), 0)
        total += bool(decision.correct)
    return total / len(subset)


def test_fusing_more_right_candidates_is_more_accurate(backend: SimBackend) -> None:
    subset = examples("math500")[:300]
    model = "sim/llama-3.1-8b"
    curve = [_fuse_accuracy(backend, model, right, subset) for right in range(5)]
    assert curve == sorted(curve) and curve[-1] > curve[0] + 0.3, curve
    # With every candidate wrong a fuser does worse than alone; with all right, better.
    alone = sum(bool(backend.decide(spec(model), request_for(model, e), 0).correct) for e in subset) / len(subset)
    assert curve[0] < alone < curve[4]


def test_refine_and_select_react_to_candidates(backend: SimBackend) -> None:
    model = "sim/qwen2.5-1.5b"
    subset = examples("gsm8k")[:200]
    for role in ("refine", "select"):
        rates = []
        for right in (False, True):
            hits = 0
            for e in subset:
                candidate = Candidate(answer=e.answer if right else wrong_of(e), correct=right)
                other = Candidate(answer=wrong_of(e), correct=False)
                request = request_for(model, e, role=role, candidates=(candidate, other))
                hits += bool(backend.decide(spec(model), request, 0).correct)
            rates.append(hits / len(subset))
        assert rates[1] > rates[0] + 0.2, (role, rates)
    assert rates[0] == 0.0  # a selector cannot be right when no candidate is


def test_select_names_the_candidate_it_picked(backend: SimBackend) -> None:
    e = examples("gsm8k")[0]
    candidates = (Candidate(answer=wrong_of(e), correct=False), Candidate(answer=e.answer, correct=True))
    decision = backend.decide(
        spec("sim/llama-3.1-70b"), request_for("sim/llama-3.1-70b", e, role="select", candidates=candidates), 0
    )
    picked = int(next(line for line in decision.text.splitlines() if line.startswith("SELECTED: "))[10:])
    assert candidates[picked - 1].answer == decision.answer
    assert decision.text.rstrip().endswith(f"#### {decision.answer}")


def _critic_rates(backend: SimBackend, model: str, subset: tuple[Example, ...]) -> tuple[float, float]:
    hits = alarms = 0
    for e in subset:
        for right in (False, True):
            candidate = Candidate(answer=e.answer if right else wrong_of(e), correct=right)
            text = backend.generate(spec(model), request_for(model, e, role="critique", candidates=(candidate,)))[
                0
            ].text
            verdict = text.splitlines()[-1]
            assert verdict in (VERDICT_CORRECT, VERDICT_INCORRECT)
            flagged = verdict == VERDICT_INCORRECT
            hits += flagged and not right
            alarms += flagged and right
    return hits / len(subset), alarms / len(subset)


def test_critic_hit_rate_grows_and_false_alarms_fall_with_ability(backend: SimBackend) -> None:
    subset = examples("gsm8k")[:300]
    weak = _critic_rates(backend, "sim/llama-3.2-1b", subset)
    mid = _critic_rates(backend, "sim/llama-3.1-8b", subset)
    strong = _critic_rates(backend, "sim/llama-3.1-70b", subset)
    assert weak[0] < mid[0] < strong[0]
    assert weak[1] > mid[1] > strong[1]
    assert _critic_rates(backend, ORACLE_ID, subset[:50]) == (1.0, 0.0)


@pytest.mark.parametrize("task_name", ["gsm8k", "math500", "mmlu_pro", "countdown", "game24", "humaneval"])
def test_the_oracle_is_always_right_in_every_role(backend: SimBackend, task_name: str) -> None:
    code = task_name == "humaneval"  # each humaneval check runs real tests: fewer of them
    subset = examples(task_name)[: 3 if code else 40]
    scorer = task(task_name)
    texts = []
    for e in subset:
        wrong = Candidate(answer=wrong_of(e), correct=False)
        for role, candidates in (("answer", ()), ("fuse", (wrong, wrong)), ("refine", (wrong,)), ("select", (wrong,))):
            request = request_for(ORACLE_ID, e, role=role, candidates=candidates, temperature=1.0, n=1 if code else 2)
            texts += [(s.text, e) for s in backend.generate(spec(ORACLE_ID), request)]

    async def score_all() -> list[bool]:
        return [(await scorer.score(text, e)).correct for text, e in texts]

    assert all(asyncio.run(score_all()))


def test_plan_is_a_numbered_list(backend: SimBackend) -> None:
    text = backend.generate(spec("sim/qwen2.5-7b"), simple_request(role="plan", extra={"subtasks": 4}))[0].text
    assert [line.split(".")[0] for line in text.splitlines()] == ["1", "2", "3", "4"]


def test_max_tokens_truncates_and_says_so(backend: SimBackend) -> None:
    sample = backend.generate(spec("sim/llama-3.1-8b"), simple_request(max_tokens=10))[0]
    assert sample.finish_reason == "length"
    assert sample.completion_tokens == 10 and len(sample.text) == 40
    assert backend.generate(spec("sim/llama-3.1-8b"), simple_request())[0].finish_reason == "stop"


def test_tokens_and_virtual_latency(backend: SimBackend) -> None:
    model = spec("sim/llama-3.1-70b")
    sample = backend.generate(model, simple_request("sim/llama-3.1-70b"))[0]
    content = simple_request().messages[0]["content"]
    assert sample.prompt_tokens == -(-len(content) // 4) + 4  # characters / 4, plus the template's 4 per message
    assert sample.completion_tokens == -(-len(sample.text) // 4)
    expected = (
        model.ttft_s
        + sample.prompt_tokens / (PREFILL_SPEEDUP * model.throughput_tok_s)
        + sample.completion_tokens / model.throughput_tok_s
    )
    assert sample.latency_s == pytest.approx(expected)
    # A bigger model is slower on the same question.
    small = backend.generate(spec("sim/llama-3.2-1b"), simple_request("sim/llama-3.2-1b"))[0]
    assert small.latency_s < sample.latency_s


def test_realistic_lengths_by_task(backend: SimBackend) -> None:
    def mean_tokens(task_name: str) -> float:
        subset = examples(task_name)[:60]
        samples = [backend.generate(spec("sim/llama-3.1-8b"), request_for("sim/llama-3.1-8b", e))[0] for e in subset]
        return sum(s.completion_tokens for s in samples) / len(samples)

    gsm8k, math500 = mean_tokens("gsm8k"), mean_tokens("math500")
    assert 60 < gsm8k < 200 and 200 < math500 < 600


def test_an_unknown_task_falls_back_to_the_mean_score(caplog: pytest.LogCaptureFixture) -> None:
    backend = SimBackend(pool=default_pool())
    model = spec("sim/llama-3.1-8b")
    with caplog.at_level("WARNING", logger="collabgraph.models.sim.backend"):
        ability = backend.ability(model, "mbpp")
        backend.ability(model, "mbpp")
    assert [r.getMessage() for r in caplog.records] == [
        f"sim/llama-3.1-8b has no published score for task 'mbpp': {ability.source}"
    ]
    mean = sum(s.accuracy for s in model.scores.values()) / len(model.scores)
    assert ability.accuracy == pytest.approx(mean)
    assert ability.source.startswith("fallback: no score for 'mbpp'")
    assert backend.ability(model, "gsm8k").source == model.scores["gsm8k"].source


def test_errors_name_the_problem_and_the_valid_choices(backend: SimBackend) -> None:
    model = spec("sim/llama-3.1-8b")
    with pytest.raises(SimError, match=r"role 'localize' needs meta.extra\['location'\], the gold 'path::function'"):
        backend.generate(model, simple_request(role="localize"))
    assert {"critique", "localize", "patch"} <= set(SUPPORTED_ROLES)
    with pytest.raises(SimError, match=r"role 'fuse' needs meta.candidates"):
        backend.generate(model, simple_request(role="fuse"))
    with pytest.raises(SimError, match=r"answer_format 'poem' is unknown; expected one of gsm8k, boxed"):
        backend.generate(model, simple_request(answer_format="poem"))
    with pytest.raises(SimError, match=r"example 'gsm8k/test/7': meta.answer \(the gold answer\) is empty"):
        backend.generate(model, simple_request(answer=" "))
    with pytest.raises(SimError, match=r"subtasks'\] must be an integer from 1 to 5, got 9"):
        backend.generate(model, simple_request(role="plan", extra={"subtasks": 9}))
    with pytest.raises(SimError, match=r"is not a sim model \(expected 'sim/<name>'\)"):
        backend.generate(ModelSpec(name="gpt", litellm_id="openai/gpt-4o"), simple_request())
    bare = ModelPool({"sim/bare": ModelSpec(litellm_id="sim/bare")}).get("sim/bare")
    with pytest.raises(SimError, match=r"sim/bare: a sim model needs published scores"):
        backend.generate(bare, simple_request("sim/bare"))
    with pytest.raises(SimError, match=r"HumanEval/0.*does not parse as Python"):
        broken = simple_request(example_id="HumanEval/0", answer="def f(:", answer_format="code", task="humaneval")
        for k in range(50):  # the model is sometimes wrong, and then it must mutate the (broken) solution
            backend.decide(model, broken.model_copy(update={"temperature": 1.0, "n": 1, "first_sample": k}), k)
