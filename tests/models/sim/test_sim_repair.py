"""The simulator's software-repair roles on the real swe_mini instances: localize ranks locations, patch writes
diffs (the gold one when right, an applicable wrong one otherwise)."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from sim_helpers import CALIBRATED, spec

from collabgraph.agents import offline_meta
from collabgraph.models.sim import SimBackend, SimError
from collabgraph.models.sim.backend import CODING_TASK
from collabgraph.models.sim.repair import wrong_patches
from collabgraph.models.types import OfflineRequest
from collabgraph.tasks.swe_mini import SweMiniTask, extract_diff
from collabgraph.tasks.types import Example
from tests.helpers import built_swe_mini


@cache
def swe() -> SweMiniTask:
    return built_swe_mini()


def request(
    model: str, example: Example, role: str, *, extra: dict[str, Any] | None = None, **fields: Any
) -> OfflineRequest:
    meta = offline_meta(swe(), example, role=role, extra=extra)  # type: ignore[arg-type]
    messages = tuple({"role": m.role, "content": m.content} for m in swe().prompt(example))
    return OfflineRequest(model=model, messages=messages, meta=meta, **fields)


def gold_location(example: Example) -> str:
    return f"{example.meta['mutation']['path']}::{example.meta['mutation']['function']}"


def test_the_oracle_ranks_the_gold_location_first_and_writes_the_gold_patch(backend: SimBackend) -> None:
    for example in swe().examples():
        loc = backend.generate(spec("sim/oracle"), request("sim/oracle", example, "localize", extra={"top_k": 3}))
        lines = [line for line in loc[0].text.splitlines()[1:] if line]
        assert lines[0] == gold_location(example)
        assert 1 <= len(lines) <= 3
        out = backend.generate(spec("sim/oracle"), request("sim/oracle", example, "patch"))
        assert extract_diff(out[0].text) == example.answer


def test_localization_and_patching_follow_the_model_ability(backend: SimBackend) -> None:
    examples = swe().examples()

    def rate(model: str, role: str) -> float:
        return sum(bool(backend.decide(spec(model), request(model, e, role), 0).correct) for e in examples) / len(
            examples
        )

    assert rate("sim/llama-3.2-1b", "patch") < rate("sim/llama-3.1-70b", "patch")
    assert rate("sim/llama-3.2-1b", "localize") < rate("sim/llama-3.1-70b", "localize")


def test_a_wrong_localization_ranks_another_location_first(backend: SimBackend) -> None:
    seen = 0
    for model in CALIBRATED:
        for example in swe().examples():
            decision = backend.decide(spec(model), request(model, example, "localize"), 0)
            if decision.correct is False:
                seen += 1
                assert decision.answer != gold_location(example)
                assert decision.text.splitlines()[1] == decision.answer
    assert seen > 0


def test_the_right_localization_raises_the_chance_of_a_right_patch(backend: SimBackend) -> None:
    counts = {"right": 0, "none": 0, "wrong": 0}
    for model in CALIBRATED:
        for example in swe().examples():
            gold = gold_location(example)
            for key, localized in (("right", gold), ("none", None), ("wrong", "setup.py::setup")):
                extra = {} if localized is None else {"localized": localized}
                counts[key] += bool(
                    backend.decide(spec(model), request(model, example, "patch", extra=extra), 0).correct
                )
    assert counts["wrong"] < counts["none"] < counts["right"]


def test_a_retry_after_feedback_can_fix_what_the_first_attempt_missed(backend: SimBackend) -> None:
    first = retried = 0
    for model in CALIBRATED:
        for example in swe().examples():
            attempts = [
                bool(backend.decide(spec(model), request(model, example, "patch", extra={"attempt": a}), 0).correct)
                for a in range(3)
            ]
            first += attempts[0]
            retried += any(attempts)
    assert retried > first


def test_patches_are_deterministic_per_seed_model_example_and_sample(backend: SimBackend) -> None:
    example = swe().examples()[0]
    req = request("sim/llama-3.2-1b", example, "patch", n=4, temperature=0.8, seed=3)
    again = backend.generate(spec("sim/llama-3.2-1b"), req)
    assert [s.text for s in backend.generate(spec("sim/llama-3.2-1b"), req)] == [s.text for s in again]


def test_wrong_patches_are_other_edits_of_the_gold_hunk() -> None:
    for example in swe().examples():
        variants = wrong_patches(example.answer)
        assert variants
        for variant in variants:
            assert not swe().same(variant, example.answer, example)
            assert variant.splitlines()[:4] == example.answer.splitlines()[:4]  # same file and hunk


async def test_a_wrong_patch_applies_and_fails_the_tests() -> None:
    example = swe().examples()[0]
    score = await swe().score(f"```diff\n{wrong_patches(example.answer)[0]}```", example)
    assert not score.correct
    assert "does not apply" not in score.detail
    assert "tests fail" in score.detail


def test_repair_roles_without_a_calibrated_swe_score_use_the_coding_ability(backend: SimBackend) -> None:
    model = spec("sim/llama-3.1-8b")
    assert "swe_mini" not in model.scores
    example = swe().examples()[0]
    decision = backend.decide(model, request("sim/llama-3.1-8b", example, "patch"), 0)
    assert decision.correct is not None
    assert CODING_TASK in model.scores


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"location": None}, "needs meta.extra['location']"),
        ({"location": "inflection/__init__.py"}, "the gold 'path::function'"),
        ({"files": "setup.py"}, "meta.extra['files'] must be a list"),
        ({"top_k": 0}, "meta.extra['top_k'] must be an integer of 1 or more"),
    ],
)
def test_bad_repair_metadata_is_named(backend: SimBackend, extra: dict[str, Any], message: str) -> None:
    example = swe().examples()[0]
    with pytest.raises(SimError, match=message.replace("[", r"\[").replace("]", r"\]")):
        backend.generate(spec("sim/llama-3.1-8b"), request("sim/llama-3.1-8b", example, "localize", extra=extra))
