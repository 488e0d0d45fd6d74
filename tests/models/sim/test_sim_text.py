"""Text in each task's format, token estimates, and lengths grounded in the recorded outputs."""

from __future__ import annotations

import csv
import json
import math
import random
import statistics
from pathlib import Path

import pytest

from collabgraph.models.sim.text import (
    CHARS_PER_TOKEN,
    FAMILY_VERBOSITY,
    FORMAT_LENGTH_CHARS,
    LENGTH_SIGMA,
    MESSAGE_OVERHEAD_TOKENS,
    TASK_LENGTH_CHARS,
    WRONG_LENGTH_FACTOR,
    count_tokens,
    final_line,
    prompt_tokens,
    reasoning,
    target_length,
    write_answer,
)
from collabgraph.settings import data_dir


def test_final_lines_state_the_answer_in_each_format() -> None:
    assert final_line("gsm8k", "18").endswith("\n#### 18")
    assert final_line("boxed", "\\frac{1}{2}") == "Therefore, the final answer is $\\boxed{\\frac{1}{2}}$."
    assert final_line("letter", "c") == "The answer is (C)."
    assert final_line("expression", "(3+5)*3") == "Answer: (3+5)*3"
    assert final_line("code", "def f():\n    return 1\n") == "```python\ndef f():\n    return 1\n```"
    with pytest.raises(ValueError, match="unknown answer format 'poem'"):
        final_line("poem", "x")


def test_reasoning_reaches_the_length_with_at_least_two_steps() -> None:
    r = random.Random(0)
    text = reasoning("gsm8k", 2000, r)
    assert len(text) >= 2000
    assert len(reasoning("letter", 1, r).splitlines()) == 2
    assert "answer" not in reasoning("letter", 3000, r).lower()  # no premature answer statement


def test_write_answer_ends_with_the_final_line() -> None:
    text = write_answer("boxed", "7", 300, random.Random(1), preface="Reading the candidates.")
    assert text.startswith("Reading the candidates.\n")
    assert text.endswith("$\\boxed{7}$.")


def test_lengths_scale_with_family_and_wrongness() -> None:
    def median(family: str, wrong: bool) -> float:
        r = random.Random(3)
        return statistics.median(target_length("gsm8k", "gsm8k", family, wrong, r) for _ in range(2001))

    assert median("llama", False) == pytest.approx(TASK_LENGTH_CHARS["gsm8k"], rel=0.05)
    assert median("qwen", False) == pytest.approx(TASK_LENGTH_CHARS["gsm8k"] * FAMILY_VERBOSITY["qwen"], rel=0.05)
    assert median("llama", True) == pytest.approx(TASK_LENGTH_CHARS["gsm8k"] * WRONG_LENGTH_FACTOR, rel=0.05)
    assert median("unknown-family", False) == pytest.approx(TASK_LENGTH_CHARS["gsm8k"], rel=0.05)


def test_length_spread_and_format_fallback() -> None:
    r = random.Random(5)
    logs = [math.log(target_length("gsm8k", "gsm8k", "llama", False, r)) for _ in range(4000)]
    assert statistics.pstdev(logs) == pytest.approx(LENGTH_SIGMA, rel=0.05)
    # A task without its own median uses its answer format's.
    lengths = [target_length("mbpp", "code", "llama", False, r) for _ in range(2001)]
    assert statistics.median(lengths) == pytest.approx(FORMAT_LENGTH_CHARS["code"], rel=0.1)


def test_token_estimates() -> None:
    assert CHARS_PER_TOKEN == 4
    assert count_tokens("") == 0
    assert count_tokens("abcde") == 2
    messages = [{"role": "system", "content": "x" * 40}, {"role": "user", "content": "y" * 9}]
    assert prompt_tokens(messages) == 10 + 3 + 2 * MESSAGE_OVERHEAD_TOKENS


def test_lengths_match_the_recorded_outputs() -> None:
    """TASK_LENGTH_CHARS and WRONG_LENGTH_FACTOR against the real responses in the shared data."""
    root = Path(data_dir())
    csv.field_size_limit(10**9)
    with (root / "routellm" / "gsm8k_responses.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    medians = [
        statistics.median(len(r[f"{m}_response"]) for r in rows)
        for m in ("mistralai/Mixtral-8x7B-Instruct-v0.1", "gpt-4-1106-preview")
    ]
    assert min(medians) <= TASK_LENGTH_CHARS["gsm8k"] <= max(medians)

    with (root / "mmlu_pro" / "questions.jsonl").open() as fh:
        gold = {str(json.loads(line)["question_id"]): json.loads(line)["answer"] for line in fh}
    with (root / "mmlu_pro" / "model_predictions.csv").open() as fh:
        preds = list(csv.DictReader(fh))
    for model in ("Meta-Llama-3_1-8B-Instruct", "Meta-Llama-3_1-70B-Instruct"):
        right = [int(r[f"{model}:chars"]) for r in preds if r[f"{model}:pred"] == gold[r["question_id"]]]
        wrong = [int(r[f"{model}:chars"]) for r in preds if r[f"{model}:pred"] != gold[r["question_id"]]]
        assert statistics.median(wrong) / statistics.median(right) == pytest.approx(WRONG_LENGTH_FACTOR, abs=0.05)
        assert statistics.median(right) == pytest.approx(TASK_LENGTH_CHARS["mmlu_pro"], rel=0.1)
