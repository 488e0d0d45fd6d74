"""MATH-500: ids, difficulty from level, boxed extraction and math-aware scoring on real solutions."""

from __future__ import annotations

import json

import pytest

from collabgraph.settings import data_dir
from collabgraph.tasks import Example, Math500Task, equivalent, format_answer
from collabgraph.tasks.math500 import extract_math, math_distractors


@pytest.fixture(scope="module")
def task() -> Math500Task:
    return Math500Task()


@pytest.fixture(scope="module")
def examples(task: Math500Task) -> list[Example]:
    return task.examples("test")


def test_ids_and_gold(examples: list[Example]) -> None:
    with (data_dir() / "math500/test.jsonl").open() as fh:
        rows = [json.loads(line) for line in fh]
    by_id = {e.id: e for e in examples}
    assert len(by_id) == 500
    assert by_id["math500/test/precalculus/807.json"].answer == "\\left( 3, \\frac{\\pi}{2} \\right)"
    for row in rows:
        assert by_id[f"math500/{row['unique_id']}"].answer == row["answer"]


def test_dev_is_a_seeded_fifth_of_test(task: Math500Task, examples: list[Example]) -> None:
    dev = task.examples("dev")
    assert 80 <= len(dev) <= 120
    assert {e.id for e in dev} <= {e.id for e in examples}


def test_difficulty_follows_level(examples: list[Example]) -> None:
    for a in examples:
        for b in examples:
            if a.meta["level"] < b.meta["level"]:
                assert a.difficulty is not None and b.difficulty is not None and a.difficulty < b.difficulty
    assert len({e.difficulty for e in examples}) == 500


async def test_official_solutions_score_correct(task: Math500Task, examples: list[Example]) -> None:
    for example in examples:
        score = await task.score(example.meta["solution"], example)
        assert score.correct, (example.id, score)


async def test_format_round_trip(task: Math500Task, examples: list[Example]) -> None:
    for example in examples[:100]:
        text = "We compute \\boxed{0} first, then finish.\n" + format_answer("boxed", example.answer)
        assert task.extract(text, example) == example.answer
        assert (await task.score(text, example)).correct


async def test_distractors_are_wrong_and_deterministic(task: Math500Task, examples: list[Example]) -> None:
    assert sum(bool(e.distractors) for e in examples) >= 495
    for example in examples[:40]:
        assert math_distractors(example.answer, example.meta["solution"]) == example.distractors
        for distractor in example.distractors:
            assert not equivalent(distractor, example.answer), (example.id, distractor)


def test_distractor_kinds() -> None:
    assert math_distractors("15", "")[:4] == ("14", "16", "-15", "30")
    assert math_distractors("\\frac{3}{4}", "")[:2] == ("\\frac{4}{3}", "-\\frac{3}{4}")
    assert math_distractors("(15,-29)", "")[:2] == ("(16,-29)", "(14,-29)")
    assert "2516" not in math_distractors("2516_8", "so the answer is 2516 in base 8")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("so \\boxed{\\frac{1}{2}}.", "\\frac{1}{2}"),
        ("Final Answer: The final answer is $\\frac{3}{4}$. I hope it is correct.", "\\frac{3}{4}"),
        ("The answer is 12.", "12"),
        ("We did not finish.", None),
    ],
)
def test_extract_math(text: str, expected: str | None) -> None:
    assert extract_math(text) == expected


async def test_wrong_and_missing_answers(task: Math500Task, examples: list[Example]) -> None:
    example = next(e for e in examples if e.answer == "\\frac{14}{3}")
    assert (await task.score("\\boxed{\\dfrac{14}{3}}", example)).correct
    wrong = await task.score("\\boxed{5}", example)
    assert not wrong.correct and wrong.extracted == "5" and wrong.detail == "expected \\frac{14}{3}"
    missing = await task.score("I am not sure.", example)
    assert (missing.correct, missing.extracted, missing.detail) == (False, None, "no final answer found")
