"""The per-question list of plausible wrong answers, shared by every simulated model.

Recorded wrong answers come first (the task's ``distractors``, most popular first: GPT-3 / GPT-4 / Mixtral
mistakes on GSM8K, the 29 models' wrong letters on MMLU-Pro); generated near misses of the gold answer fill
the list up to ``MAX_WRONG_ANSWERS``. A wrong sample picks rank r with the shared Zipf law
(``sampling.ZIPF_EXPONENT``), so a few popular mistakes collect most wrong votes, as with real models.
"""

from __future__ import annotations

import string
from fractions import Fraction
from functools import lru_cache

from collabgraph.models.sim.draws import unit
from collabgraph.models.sim.mutate import (
    code_mutants,
    expression_near_misses,
    latex_near_misses,
    number_near_misses,
)

__all__ = ["CODE_MUTANTS", "LETTERS", "MAX_WRONG_ANSWERS", "same_answer", "wrong_answers"]

MAX_WRONG_ANSWERS = 9
"""Length of a question's wrong-answer list: nine, as the nine wrong options of an MMLU-Pro question (the data
the Zipf exponent was fitted on)."""

CODE_MUTANTS = 5
"""Wrong programs per code question: the five most "popular" mutants of the canonical solution. Rarer
mutation sites are more often ones the tests do not exercise (see ``tests/models/sim/test_mutate.py``)."""

LETTERS = string.ascii_uppercase[:10]
"""Option letters of a multiple-choice question when the metadata does not say how many there are (MMLU-Pro
has up to ten, A–J)."""


def _number(text: str) -> Fraction | None:
    cleaned = text.replace(",", "").replace("$", "").strip().rstrip(".")
    try:
        return Fraction(cleaned)
    except (ValueError, ZeroDivisionError):
        return None


def same_answer(a: str, b: str) -> bool:
    """Whether two answers are evidently the same (equal after trimming, or equal as numbers). Cheap and
    conservative: it keeps a recorded distractor that merely restates the gold answer out of the wrong list."""
    if a.strip() == b.strip():
        return True
    x, y = _number(a), _number(b)
    return x is not None and x == y


def _letters(gold: str, example_id: str, n_options: int | None) -> list[str]:
    pool = [c for c in LETTERS[: n_options or len(LETTERS)] if c != gold.strip().upper()]
    # The order of never-recorded letters is arbitrary but fixed per question (same for every model).
    return sorted(pool, key=lambda c: unit("letter-order", example_id, c))


@lru_cache(maxsize=65536)
def wrong_answers(
    answer: str,
    answer_format: str,
    example_id: str,
    distractors: tuple[str, ...] = (),
    entry_point: str | None = None,
    n_options: int | None = None,
) -> tuple[str, ...]:
    """The question's ranked plausible wrong answers (never empty for a well-formed gold answer).

    ``answer_format`` is the task's (``gsm8k``, ``boxed``, ``letter``, ``expression``, ``code``). For code
    the entries are whole programs (mutants of ``answer``, the canonical solution defining ``entry_point``).
    Raises ValueError when no wrong answer can be made (code that does not parse, an empty answer)."""
    if not answer.strip():
        raise ValueError("the gold answer is empty")
    if answer_format == "code":
        mutants = code_mutants(answer, entry_point, CODE_MUTANTS)
        if not mutants:
            raise ValueError("the canonical solution has nothing to mutate")
        return mutants
    ranked: list[str] = []

    def add(candidate: str) -> None:
        if candidate.strip() and not same_answer(candidate, answer) and candidate not in ranked:
            ranked.append(candidate)

    for d in distractors:
        add(d)
    if answer_format == "letter":
        generated = _letters(answer, example_id, n_options)
    elif answer_format == "expression":
        generated = expression_near_misses(answer)
    elif answer_format == "boxed":
        generated = latex_near_misses(answer)
    else:
        generated = number_near_misses(answer) or latex_near_misses(answer)
    for g in generated:
        add(g)
    if not ranked:
        raise ValueError(f"no plausible wrong answer can be made from the gold answer {answer!r}")
    return tuple(ranked[:MAX_WRONG_ANSWERS])
