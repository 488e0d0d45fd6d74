"""MMLU-Pro: all 12,032 questions, letter extraction, and exact reproduction of recorded model accuracies."""

from __future__ import annotations

import pytest

from collabgraph.settings import data_dir
from collabgraph.tasks import Example, MMLUProTask, format_answer
from collabgraph.tasks.mmlu_pro import LETTERS, recorded_predictions


@pytest.fixture(scope="module")
def task() -> MMLUProTask:
    return MMLUProTask()


@pytest.fixture(scope="module")
def examples(task: MMLUProTask) -> list[Example]:
    return task.examples("test")


def test_splits(task: MMLUProTask, examples: list[Example]) -> None:
    assert len(examples) == 12032 and len({e.id for e in examples}) == 12032
    dev = task.examples("dev")
    assert 1100 <= len(dev) <= 1300 and {e.id for e in dev} <= {e.id for e in examples}


@pytest.mark.parametrize("model", ["Meta-Llama-3_1-70B-Instruct", "gemini-1.5-pro-002", "Llama-2-7b-hf", "Yi-6B"])
async def test_scoring_recorded_answers_reproduces_recorded_accuracy(
    task: MMLUProTask, examples: list[Example], model: str
) -> None:
    models, preds = recorded_predictions(str(data_dir()))
    column = models.index(model)
    scored = recorded = 0
    for example in examples:
        pred = preds[example.id.removeprefix("mmlu_pro/")][column]
        # As the replay pool writes it: the MMLU-Pro phrase, or a sentence naming no option when unparsed.
        text = "Let's think step by step. " + (format_answer("letter", pred) if pred else "No option fits.")
        scored += (await task.score(text, example)).correct
        recorded += pred == example.answer
    assert scored == recorded
    if model == "Meta-Llama-3_1-70B-Instruct":
        assert (scored, round(scored / len(examples), 3)) == (7556, 0.628)


def test_distractors_are_popular_wrong_letters_first(task: MMLUProTask, examples: list[Example]) -> None:
    models, preds = recorded_predictions(str(data_dir()))
    for example in examples[:500]:
        valid = LETTERS[: len(example.meta["options"])]
        assert sorted(example.distractors) == sorted(x for x in valid if x != example.answer)
        votes = [preds[example.id.removeprefix("mmlu_pro/")].count(letter) for letter in example.distractors]
        chosen = [v for v in votes if v > 0]
        assert chosen == sorted(chosen, reverse=True) and votes[: len(chosen)] == chosen
    assert len(models) == 29


def test_difficulty_is_the_percentile_of_models_wrong(examples: list[Example]) -> None:
    _, preds = recorded_predictions(str(data_dir()))
    wrong = {e.id: sum(p != e.answer for p in preds[e.id.removeprefix("mmlu_pro/")]) for e in examples}
    ordered = sorted(examples, key=lambda e: e.difficulty or 0.0)
    assert [wrong[e.id] for e in ordered] == sorted(wrong[e.id] for e in ordered)
    assert ordered[0].difficulty == 0.0 and ordered[-1].difficulty == 1.0


def test_prompt_lists_options_and_asks_for_the_phrase(task: MMLUProTask, examples: list[Example]) -> None:
    example = next(e for e in examples if len(e.meta["options"]) == 4)
    text = task.prompt(example)[0].content
    assert 'finish your answer with "The answer is (X)"' in text
    assert f"(D) {example.meta['options'][3]}" in text and "(E)" not in text.split("Options:")[1]
    assert example.question in text


def test_extract_respects_the_option_count(task: MMLUProTask, examples: list[Example]) -> None:
    four = next(e for e in examples if len(e.meta["options"]) == 4)
    assert task.extract("The answer is (D).", four) == "D"
    assert task.extract("The answer is (E).", four) is None
    assert task.same("(b)", "B", four) and not task.same("B", "C", four)
