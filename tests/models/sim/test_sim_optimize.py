"""The simulator's ``optimize`` role: a heuristic stand-in for Agent-REINFORCE's optimizer LLM that follows the best
trials, with noise and malformed replies that fall with the model's skill."""

from __future__ import annotations

import json
import random
import re
from typing import Any

import pytest
from sim_helpers import spec

from collabgraph.models.sim import SimBackend, SimError
from collabgraph.models.sim.optimize import (
    ELITE_WEIGHT,
    MALFORMED_AT_ZERO_SKILL,
    malformed_probability,
    propose,
)
from collabgraph.models.sim.text import count_tokens, prompt_tokens
from collabgraph.models.types import OfflineMeta, OfflineRequest

SMALL, STRONG = "sim/llama-3.2-1b", "sim/llama-3.1-70b"
MODELS = [SMALL, "sim/llama-3.1-8b", STRONG]


def current() -> dict[str, Any]:
    """A 3-slot distribution: uniform everywhere."""
    third = round(1 / 3, 4)
    return {
        "edges": {"0->1": 0.5, "0->2": 0.5, "1->2": 0.5},
        "roles": {str(j): {"assistant": 0.5, "fuser": 0.5} for j in (1, 2)},
        "models": {str(j): dict.fromkeys(MODELS, third) for j in range(3)},
        "samples": {str(j): {"1": 0.5, "3": 0.5} for j in range(3)},
    }


def trial(number: int, reward: float, output_model: str, edge: int = 1) -> dict[str, Any]:
    return {
        "number": number,
        "reward": reward,
        "status": "ok" if reward > 0 else "over_budget",
        "choices": {
            "edges": {"0->2": edge, "1->2": 1},
            "roles": {"2": "fuser"},
            "models": {"0": SMALL, "1": SMALL, "2": output_model},
            "samples": {"0": "3", "1": "1"},
        },
    }


TRIALS = [trial(0, 0.4, SMALL, edge=0), trial(1, 0.9, STRONG), trial(2, 0.0, "sim/llama-3.1-8b")]


def request(
    model: str, *, example_id: str = "optimizer-step-1", prompt: str = "the table", **extra: Any
) -> OfflineRequest:
    meta = OfflineMeta(
        task="gsm8k",
        example_id=example_id,
        answer="",
        answer_format=extra.pop("answer_format", "json"),
        role="optimize",
        extra={"attempt": 0, "current": current(), "trials": TRIALS, **extra},
    )
    return OfflineRequest(model=model, messages=({"role": "user", "content": prompt},), meta=meta)


def reply_json(text: str) -> dict[str, Any]:
    block = re.search(r"```json\n(.*?)\n```", text, re.DOTALL)
    assert block is not None, text
    data: dict[str, Any] = json.loads(block.group(1))
    return data


def is_malformed(text: str) -> bool:
    try:
        data = reply_json(text)
    except (AssertionError, json.JSONDecodeError):
        return True
    names = {m for dist in data["models"].values() for m in dist}
    probs = [p for dist in data["models"].values() for p in dist.values()] + list(data["edges"].values())
    return not names <= set(MODELS) or any(not 0 <= p <= 1 for p in probs)


def test_the_oracle_moves_exactly_toward_the_best_trial(backend: SimBackend) -> None:
    out = backend.generate(spec("sim/oracle"), request("sim/oracle"))
    data = reply_json(out[0].text)
    assert set(data) == {"edges", "roles", "models", "samples", "rationale"}
    # Two trials scored above 0: the elite is the better one (trial 1, output model 70B, edge 0->2 on).
    third = round(1 / 3, 4)
    assert data["models"]["2"][STRONG] == pytest.approx((1 - ELITE_WEIGHT) * third + ELITE_WEIGHT, abs=1e-3)
    assert data["models"]["2"][SMALL] == pytest.approx((1 - ELITE_WEIGHT) * third, abs=1e-3)
    assert data["edges"]["0->2"] == pytest.approx((1 - ELITE_WEIGHT) * 0.5 + ELITE_WEIGHT, abs=1e-3)
    # Edge 0->1 shaped no trial's graph: it keeps its probability.
    assert data["edges"]["0->1"] == pytest.approx(0.5)
    for group in ("roles", "models", "samples"):
        for dist in data[group].values():
            assert sum(dist.values()) == pytest.approx(1.0, abs=0.01)
    assert "1 (0.90)" in data["rationale"]


def test_without_a_scored_trial_the_proposal_keeps_the_distribution() -> None:
    extra = {"current": current(), "trials": [trial(0, 0.0, SMALL)]}
    proposed = propose(extra, 1.0, random.Random(0))
    for slot, dist in current()["models"].items():
        assert proposed["models"][slot] == pytest.approx(dist, abs=1e-3)
    assert "No trial has scored above 0 yet" in proposed["rationale"]


def test_replies_are_deterministic_never_read_the_prompt_and_a_re_ask_is_a_fresh_draw(backend: SimBackend) -> None:
    model = spec(STRONG)
    first = backend.generate(model, request(STRONG))[0]
    assert backend.generate(model, request(STRONG))[0].text == first.text
    longer = backend.generate(model, request(STRONG, prompt="the table " * 50))[0]
    assert longer.text == first.text and longer.prompt_tokens > first.prompt_tokens
    retried = {backend.generate(model, request(STRONG, attempt=k))[0].text for k in range(1, 4)}
    assert first.text not in retried and len(retried) == 3


def test_malformed_replies_fall_with_skill_and_come_in_every_kind(backend: SimBackend) -> None:
    rates = {}
    for name in (SMALL, STRONG):
        texts = [
            backend.generate(spec(name), request(name, example_id=f"optimizer-step-{i}"))[0].text for i in range(300)
        ]
        rates[name] = sum(map(is_malformed, texts)) / len(texts)
        if name == SMALL:
            bad = [t for t in texts if is_malformed(t)]
            assert any("-instruct" in t for t in bad)  # an unknown model name
            assert any(not t.rstrip().endswith("```") for t in bad)  # JSON cut off
            assert any(re.search(r": 1\.\d+", t) for t in bad)  # a probability above 1
    skill = backend.optimizer_skill
    assert rates[SMALL] == pytest.approx(malformed_probability(skill(spec(SMALL))), abs=0.08)
    assert rates[STRONG] == pytest.approx(malformed_probability(skill(spec(STRONG))), abs=0.05)
    assert rates[SMALL] > 3 * rates[STRONG]
    assert malformed_probability(1.0) == 0.0 and malformed_probability(0.0) == MALFORMED_AT_ZERO_SKILL


def test_noise_shrinks_with_skill(backend: SimBackend) -> None:
    exact = reply_json(backend.generate(spec("sim/oracle"), request("sim/oracle"))[0].text)

    def deviation(name: str) -> float:
        total, n = 0.0, 0
        for i in range(60):
            text = backend.generate(spec(name), request(name, example_id=f"optimizer-step-{i}"))[0].text
            if is_malformed(text):
                continue
            data = reply_json(text)
            total += sum(abs(data["models"]["2"][m] - exact["models"]["2"][m]) for m in MODELS)
            n += 1
        return total / n

    assert deviation(SMALL) > 1.3 * deviation(STRONG) > 0


def test_accounting_counts_the_prompt_and_the_reply(backend: SimBackend) -> None:
    model = spec(STRONG)
    req = request(STRONG, prompt="x" * 4000)
    out = backend.generate(model, req)[0]
    assert out.prompt_tokens == prompt_tokens(req.messages)
    assert out.completion_tokens == count_tokens(out.text)
    assert 100 < out.completion_tokens < 1500
    expected = model.ttft_s + out.prompt_tokens / (20.0 * model.throughput_tok_s)
    assert out.latency_s == pytest.approx(expected + out.completion_tokens / model.throughput_tok_s)


def test_bad_optimize_requests_name_the_problem(backend: SimBackend) -> None:
    model = spec(STRONG)
    with pytest.raises(SimError, match=r"role 'optimize' writes JSON; meta.answer_format must be 'json', got 'gsm8k'"):
        backend.generate(model, request(STRONG, answer_format="gsm8k"))
    with pytest.raises(SimError, match=r"meta.extra\['current'\] must be the current distribution"):
        backend.generate(model, request(STRONG, current=None))
    with pytest.raises(SimError, match=r"meta.extra\['trials'\] must be a list of \{number, reward, status, choices\}"):
        backend.generate(model, request(STRONG, trials=[{"reward": "high"}]))
    with pytest.raises(SimError, match=r"meta.extra\['attempt'\] must be an integer of 0 or more, got -1"):
        backend.generate(model, request(STRONG, attempt=-1))
    broken = current()
    broken["models"]["0"] = {}
    with pytest.raises(SimError, match=r"meta.extra\['current'\]\['models'\] must map each slot to a non-empty"):
        backend.generate(model, request(STRONG, current=broken))
