"""Countdown: generated puzzles are solvable, deterministic, split-disjoint, and scored by exact replay."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collabgraph.errors import ConfigError
from collabgraph.tasks import CountdownConfig, CountdownTask, check_expression, format_answer, solve
from collabgraph.tasks.countdown import generate


@settings(max_examples=40, deadline=None)
@given(
    st.integers(3, 6),
    st.integers(1, 100).flatmap(lambda lo: st.tuples(st.just(lo), st.integers(lo + 50, lo + 900))),
    st.integers(20, 100),
    st.integers(0, 2**31),
    st.integers(0, 10**6),
)
def test_every_instance_is_solvable_and_in_range(
    n: int, targets: tuple[int, int], max_number: int, seed: int, index: int
) -> None:
    lo, hi = targets
    config = CountdownConfig(n_numbers=n, min_target=lo, max_target=hi, max_number=max_number, seed=seed)
    example = generate(config, index)
    numbers, target = example.meta["numbers"], example.meta["target"]
    assert len(numbers) == n and all(1 <= x <= max_number for x in numbers)
    assert lo <= target <= hi
    assert check_expression(example.answer, numbers, target).valid
    assert generate(config, index) == example  # same arguments, same puzzle


def test_ids_and_splits() -> None:
    task = CountdownTask(test_size=50, dev_size=20, train_size=30)
    test, dev, train = (task.examples(s) for s in ("test", "dev", "train"))
    assert (len(test), len(dev), len(train)) == (50, 20, 30)
    ids = [e.id for e in test + dev + train]
    assert len(set(ids)) == 100
    assert {e.id for e in test} == {f"countdown/0/{i}" for i in range(50)}
    assert {e.id for e in dev} == {f"countdown/0/{i}" for i in range(50, 70)}


def test_knobs_change_ids_and_difficulty() -> None:
    hard = CountdownTask(n_numbers=6, min_target=100, max_target=999, seed=7, test_size=5)
    example = hard.examples("test")[0]
    assert example.id.startswith("countdown/7-n6-t100-999-m100/")
    assert len(example.meta["numbers"]) == 6 and 100 <= example.meta["target"] <= 999
    default = CountdownTask(test_size=5).examples("test")
    assert all(e.id.startswith("countdown/0/") and len(e.meta["numbers"]) == 4 for e in default)


async def test_score_replays_the_arithmetic() -> None:
    task = CountdownTask(test_size=20)
    for example in task.examples("test"):
        right = await task.score("Let me think.\n" + format_answer("expression", example.answer), example)
        assert right.correct and right.extracted is not None
        for distractor in example.distractors:
            wrong = await task.score(format_answer("expression", distractor), example)
            assert not wrong.correct and "evaluates to" in wrong.detail
    example = task.examples("test")[0]
    missing = await task.score("I give up.", example)
    assert (missing.correct, missing.extracted, missing.detail) == (False, None, "no expression found")


def test_same_counts_any_two_solutions_as_one_answer() -> None:
    task = CountdownTask(test_size=50)
    example = next(e for e in task.examples("test") if solve(e.meta["numbers"], e.meta["target"]) != e.answer)
    other = solve(example.meta["numbers"], example.meta["target"])
    assert other is not None and other != example.answer
    assert task.same(example.answer, other, example)  # two different solutions are the same answer
    assert not task.same(example.answer, example.distractors[0], example)
    assert task.same(example.distractors[0], example.distractors[0].replace(" ", ""), example)
    assert not task.same(example.distractors[0], example.distractors[1], example)


def test_unlucky_target_range_is_reported() -> None:
    # 5 * 5 * 5 = 125 is reachable, but random draws of three numbers up to 5 essentially never land on it.
    task = CountdownTask(n_numbers=3, max_number=5, min_target=125, max_target=125, test_size=1)
    with pytest.raises(ConfigError, match=r"min_target: 2000 draws .* never landed in 125..125 \(hint: widen"):
        task.examples("test")


def test_prompt_states_numbers_target_and_format() -> None:
    task = CountdownTask(test_size=1)
    example = task.examples("test")[0]
    text = task.prompt(example)[0].content
    assert str(example.meta["target"]) in text and "each number must be used exactly once" in text
    assert "Answer: <expression>" in text
    assert ", ".join(map(str, example.meta["numbers"])) in text


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n_numbers": 2}, "n_numbers: must be between 3 and 6, got 2"),
        ({"min_target": 0}, "min_target: need 1 <= min_target <= max_target, got 0..100"),
        ({"max_number": 1}, "max_number: must be at least 2, got 1"),
        (
            {"n_numbers": 3, "max_number": 5, "min_target": 126, "max_target": 200},
            "min_target: 3 numbers up to 5 reach at most 125, below min_target 126",
        ),
        ({"test_size": -5}, "test_size: must be >= 0, got -5"),
        ({"seed": "abc"}, "seed: must be a whole number, got 'abc'"),
        ({"n_numbers": True}, "n_numbers: must be a whole number, got True"),
    ],
)
def test_bad_knobs_are_reported(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        CountdownTask(**options)
    assert message in str(info.value)
    assert str(info.value).startswith("task 'countdown': 1 error(s)")
