"""Game of 24 on the real 1,362 puzzles of Tree of Thoughts."""

from __future__ import annotations

import csv

import pytest

from collabgraph.settings import data_dir
from collabgraph.tasks import Game24Task, check_expression, format_answer


@pytest.fixture(scope="module")
def task() -> Game24Task:
    return Game24Task()


def _rows() -> list[dict[str, str]]:
    with (data_dir() / "game24/24.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_puzzle_has_a_verified_gold_solution(task: Game24Task) -> None:
    examples = [*task.examples("train"), *task.examples("dev"), *task.examples("test")]
    assert len(examples) == len(_rows()) == 1362
    for example in examples:
        assert example.meta["target"] == 24 and len(example.meta["numbers"]) == 4
        assert check_expression(example.answer, example.meta["numbers"], 24).valid, example.id
        for miss in example.distractors:
            check = check_expression(miss, example.meta["numbers"], 24)
            assert not check.valid and check.value is not None, (example.id, miss)


def test_splits_follow_tree_of_thoughts(task: Game24Task) -> None:
    test_ranks = sorted(e.meta["rank"] for e in task.examples("test"))
    dev_ranks = sorted(e.meta["rank"] for e in task.examples("dev"))
    assert test_ranks == list(range(901, 1001))
    assert dev_ranks == list(range(801, 901))
    assert {e.id for e in task.examples("test")} == {f"game24/{r}" for r in range(901, 1001)}


def test_difficulty_follows_human_solve_rate(task: Game24Task) -> None:
    rate = {f"game24/{row['Rank']}": float(row["Solved rate"].rstrip("%")) for row in _rows()}
    examples = [*task.examples("train"), *task.examples("dev"), *task.examples("test")]
    for a in examples[:200]:
        for b in examples[:200]:
            if rate[a.id] > rate[b.id]:
                assert a.difficulty is not None and b.difficulty is not None and a.difficulty < b.difficulty
    difficulties = sorted(e.difficulty or 0.0 for e in examples)
    assert difficulties[0] == 0.0 and difficulties[-1] == 1.0 and len(set(difficulties)) == 1362


async def test_scoring_real_phrasings(task: Game24Task) -> None:
    example = next(e for e in task.examples("test") if e.id == "game24/901")
    numbers = example.meta["numbers"]
    right = await task.score("Steps...\n" + format_answer("expression", example.answer), example)
    assert right.correct
    bare = await task.score(f"Trying things.\n{example.answer} = 24", example)
    assert bare.correct
    reused = await task.score(f"Answer: {numbers[0]} * {numbers[0]}", example)
    assert not reused.correct and "does not use" in reused.detail
    missing = await task.score("No idea.", example)
    assert not missing.correct and missing.extracted is None


def test_prompt_lists_the_numbers(task: Game24Task) -> None:
    example = task.examples("test", limit=1)[0]
    text = task.prompt(example)[0].content
    assert " ".join(map(str, example.meta["numbers"])) in text and "obtain 24" in text and "Answer:" in text
