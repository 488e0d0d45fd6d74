"""GSM8K: gold answers, splits, and scoring that agrees with the recorded correctness of real model outputs."""

from __future__ import annotations

import csv
import json
from collections import Counter

import pytest

from collabgraph.settings import data_dir
from collabgraph.tasks import Example, GSM8KTask, format_answer
from collabgraph.tasks.gsm8k import DEV_SIZE, GPT3_SOLVERS, ROUTELLM_SOLVERS, gold_answer


@pytest.fixture(scope="module")
def task() -> GSM8KTask:
    return GSM8KTask()


@pytest.fixture(scope="module")
def by_id(task: GSM8KTask) -> dict[str, Example]:
    return {e.id: e for e in task.examples("test")}


async def _agreement(task: GSM8KTask, by_id: dict[str, Example], records: list[tuple[int, str, bool]]) -> float:
    agree = 0
    for line, text, recorded in records:
        example = by_id[f"gsm8k/test/{line}"]
        score = await task.score(text, example)
        agree += score.correct == recorded
    return agree / len(records)


def test_splits(task: GSM8KTask) -> None:
    test, dev, train = (task.examples(s) for s in ("test", "dev", "train"))
    assert len(test) == 1319 and len(dev) == DEV_SIZE and len(train) == 7473 - DEV_SIZE
    assert not {e.id for e in dev} & {e.id for e in train}
    assert all(e.id.startswith("gsm8k/train/") for e in dev + train)
    assert {e.id for e in test} == {f"gsm8k/test/{i}" for i in range(1319)}


def test_gold_answers_match_the_official_file(task: GSM8KTask, by_id: dict[str, Example]) -> None:
    with (data_dir() / "gsm8k/test.jsonl").open() as fh:
        rows = [json.loads(line) for line in fh]
    first = by_id["gsm8k/test/0"]
    assert first.answer == "18" and first.question == rows[0]["question"]
    for line, row in enumerate(rows):
        assert by_id[f"gsm8k/test/{line}"].answer == row["answer"].split("####")[-1].strip().replace(",", "")


def test_gold_answer_strips_commas_and_rejects_a_solution_without_one() -> None:
    assert gold_answer("so 1,000 + 234 = 1,234\n#### 1,234") == "1234"
    with pytest.raises(ValueError, match="no number after '####'"):
        gold_answer("#### none")


async def test_agrees_with_gpt3_recorded_correctness(task: GSM8KTask, by_id: dict[str, Example]) -> None:
    with (data_dir() / "gsm8k/example_model_solutions.jsonl").open() as fh:
        rows = [json.loads(line) for line in fh]
    records = [(line, row[s]["solution"], row[s]["is_correct"]) for line, row in enumerate(rows) for s in GPT3_SOLVERS]
    assert len(records) == 4 * 1319
    # Measured: 5,276 of 5,276 recorded GPT-3 verdicts (100.0 %); the bar is 98 %.
    assert await _agreement(task, by_id, records) >= 0.999


@pytest.mark.parametrize(("model", "measured"), [(ROUTELLM_SOLVERS[0], 0.967), (ROUTELLM_SOLVERS[1], 0.991)])
async def test_agrees_with_routellm_recorded_correctness(
    task: GSM8KTask, by_id: dict[str, Example], model: str, measured: float
) -> None:
    csv.field_size_limit(1 << 24)
    with (data_dir() / "routellm/gsm8k_responses.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    records = [(line, row[f"{model}_response"], row[model] == "True") for line, row in enumerate(rows)]
    agreement = await _agreement(task, by_id, records)
    # Measured: GPT-4 1,276 / 1,319 (96.7 %), Mixtral 1,308 / 1,319 (99.2 %); the bar is 95 %. Nearly every
    # disagreement is RouteLLM's grader marking "$20.00" wrong against a gold 20; the values are equal.
    assert agreement >= measured >= 0.95


async def test_cents_are_the_same_number(task: GSM8KTask, by_id: dict[str, Example]) -> None:
    example = by_id["gsm8k/test/44"]
    assert example.answer == "20"
    assert (await task.score("... = $20.00.\n\n#### $20.00", example)).correct


def test_distractors_are_recorded_wrong_answers_most_frequent_first(by_id: dict[str, Example]) -> None:
    example = by_id["gsm8k/test/0"]
    # GPT-3 answered 26, 224, (175B fine-tuned) and 18; GPT-4 and Mixtral answered 18 (right).
    distractors = example.distractors
    assert distractors[:2] == ("26", "224")
    assert "18" not in distractors and "9" in distractors  # 9 is an intermediate step of the gold solution
    for e in by_id.values():
        assert e.answer not in e.distractors
        assert len(set(e.distractors)) == len(e.distractors)


def test_difficulty_is_a_percentile_of_recorded_failures(by_id: dict[str, Example]) -> None:
    values = sorted(e.difficulty for e in by_id.values() if e.difficulty is not None)
    assert values[0] == 0.0 and values[-1] == 1.0 and len(set(values)) == 1319
    deciles = Counter(min(int(v * 10), 9) for v in values)
    assert all(125 <= n <= 140 for n in deciles.values())  # uniform by construction


def test_train_examples_have_no_recorded_difficulty(task: GSM8KTask) -> None:
    example = task.examples("dev", limit=1)[0]
    assert example.difficulty is None and example.distractors  # step numbers still give distractors


async def test_format_round_trip(task: GSM8KTask, by_id: dict[str, Example]) -> None:
    for example in list(by_id.values())[:200]:
        text = "Reasoning 1 + 2 = 3.\n" + format_answer("gsm8k", example.answer)
        assert (await task.score(text, example)).correct


def test_prompt_asks_for_hashes(task: GSM8KTask, by_id: dict[str, Example]) -> None:
    messages = task.prompt(by_id["gsm8k/test/0"])
    assert len(messages) == 1 and "#### <number>" in messages[0].content and "Janet" in messages[0].content


def test_same_compares_values(task: GSM8KTask, by_id: dict[str, Example]) -> None:
    example = by_id["gsm8k/test/0"]
    assert task.same("18", "18.00", example)
    assert task.same("$1,234", "1234", example)
    assert not task.same("18", "19", example)
    assert not task.same("eighteen", "18", example)
