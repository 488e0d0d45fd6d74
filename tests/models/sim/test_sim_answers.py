"""The per-question list of plausible wrong answers."""

from __future__ import annotations

import pytest

from collabgraph.models.sim.answers import CODE_MUTANTS, LETTERS, MAX_WRONG_ANSWERS, same_answer, wrong_answers


def test_recorded_distractors_come_first_then_near_misses() -> None:
    wrong = wrong_answers("18", "gsm8k", "gsm8k/test/0", ("26", "9"))
    assert wrong[:2] == ("26", "9")
    assert "19" in wrong and "17" in wrong
    assert len(wrong) == MAX_WRONG_ANSWERS == 9


def test_distractors_that_restate_the_gold_answer_are_dropped() -> None:
    wrong = wrong_answers("18", "gsm8k", "gsm8k/test/0", ("18.0", " 18", "$18", "20"))
    assert wrong[0] == "20"
    assert not any(same_answer(w, "18") for w in wrong)


def test_same_answer() -> None:
    assert same_answer("1,000", "1000")
    assert same_answer(" B", "B")
    assert not same_answer("B", "C")
    assert not same_answer("1/2", "0.4")


def test_letters_exclude_the_gold_and_respect_the_option_count() -> None:
    wrong = wrong_answers("C", "letter", "mmlu_pro/1")
    assert "C" not in wrong and set(wrong) <= set(LETTERS)
    assert len(wrong) == 9
    four = wrong_answers("C", "letter", "mmlu_pro/1", (), None, 4)
    assert sorted(four) == ["A", "B", "D"]
    # The order of unrecorded letters is fixed per question, the same for every model.
    assert wrong == wrong_answers("C", "letter", "mmlu_pro/1")


def test_boxed_and_expression_answers() -> None:
    assert wrong_answers("\\frac{1}{2}", "boxed", "math500/x")[0] == "\\frac{1}{3}"
    assert wrong_answers("-2", "boxed", "math500/y")[0] == "-1"
    assert wrong_answers("(3 + 5) * 3", "expression", "game24/1", ("3 + 5 + 3",))[0] == "3 + 5 + 3"


def test_code_answers_are_mutants() -> None:
    code = "def f(x):\n    if x > 0:\n        return x + 1\n    return 0\n"
    wrong = wrong_answers(code, "code", "HumanEval/0", (), "f")
    assert 1 <= len(wrong) <= CODE_MUTANTS
    assert all("def f(x):" in w and w != code for w in wrong)


def test_bad_gold_answers_are_errors() -> None:
    with pytest.raises(ValueError, match="gold answer is empty"):
        wrong_answers("  ", "gsm8k", "g/1")
    with pytest.raises(ValueError, match="does not parse"):
        wrong_answers("def f(:", "code", "HumanEval/1")
    with pytest.raises(ValueError, match="nothing to mutate"):
        wrong_answers("import os\n", "code", "HumanEval/2", (), "f")
