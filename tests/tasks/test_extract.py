"""Answer extraction on the phrasings real models use, and round-trips through ``format_answer``."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collabgraph.tasks.extract import (
    canonical_number,
    extract_answer_line,
    extract_expression,
    extract_gsm8k,
    extract_letter,
    format_answer,
    last_boxed,
    last_number,
    number_value,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("She makes 9 * 2 = $<<9*2=18>>18 every day.\n#### 18", "18"),
        ("A robe takes 2+1=<<2+1=3>>3 bolts\nA: 3", "3"),  # GPT-3 recordings
        ("The answer is 42.", "42"),
        ("So the final answer is $1,234.50.", "1234.5"),
        ("Profit = $40,000 - $30,000 = $10,000 per day.", "10000"),  # GPT-4 prose: last number
        ("#### $20.00", "20"),
        ("#### -54\n\n", "-54"),
        ("The answer is 5 apples, 3 more than Tom.", "5"),
        ("We get \\boxed{72} in the end, from 8 * 9.", "72"),
        ("The answer is: 3/4 of a cup", "0.75"),
        ("The answer is 1/3.", "1/3"),
        ("In 2023 she had 3, 4 and 5 cats", "5"),
        ("no digits here", None),
    ],
)
def test_extract_gsm8k(text: str, expected: str | None) -> None:
    assert extract_gsm8k(text) == expected


def test_hashes_win_over_a_later_number() -> None:
    assert extract_gsm8k("#### 7 packs and 2 extra glue sticks") == "7"


def test_calculator_annotations_are_ignored() -> None:
    assert last_number("total: <<3*4=12>>") is None
    assert last_number("so 3 * 4 = <<3*4=12>>12") == "12"


@pytest.mark.parametrize(
    ("raw", "value"),
    [("1,234", Fraction(1234)), ("$5.00", Fraction(5)), ("-0.25", Fraction(-1, 4)), ("25%", Fraction(25)), ("x", None)],
)
def test_number_value(raw: str, value: Fraction | None) -> None:
    assert number_value(raw) == value


@pytest.mark.parametrize(
    ("value", "text"),
    [(Fraction(18), "18"), (Fraction(-5, 2), "-2.5"), (Fraction(1, 3), "1/3"), (Fraction(1, 8), "0.125")],
)
def test_canonical_number(value: Fraction, text: str) -> None:
    assert canonical_number(value) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("so $\\boxed{\\frac{1}{2}}$.", "\\frac{1}{2}"),
        ("first \\boxed{1}, then \\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}", "\\left( 3, \\frac{\\pi}{2} \\right)"),
        ("\\boxed{\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}}", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}"),
        ("\\fbox{5}", "5"),
        ("\\boxed 7", "7"),
        ("unbalanced \\boxed{3", None),
        ("nothing boxed", None),
    ],
)
def test_last_boxed(text: str, expected: str | None) -> None:
    assert last_boxed(text) == expected


@pytest.mark.parametrize(
    ("text", "n", "expected"),
    [
        ("Let's think step by step. ... The answer is (C).", 10, "C"),
        ("the answer is B", 10, "B"),
        ("Answer: D", 10, "D"),
        ("Answer: **(J)**", 10, "J"),
        ("The answer is $\\boxed{G}$", 10, "G"),
        ("The answer is a bit subtle, but (B) fits.", 10, "B"),  # lower-case "a" is a word, not option A
        ("The answer is (K).", 10, None),  # out of range for ten options
        ("The answer is (E).", 4, None),
        ("Between them I pick (E)", 10, "E"),
        ("A. no\nB. yes", 10, "B"),
        ("No single option can be settled on with confidence here.", 10, None),
    ],
)
def test_extract_letter(text: str, n: int, expected: str | None) -> None:
    assert extract_letter(text, n) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Answer: (3 + 5) * 3", "(3 + 5) * 3"),
        ("answer: `8 / (3 - 8 / 3)`.", "8 / (3 - 8 / 3)"),
        ("Answer: $\\boxed{4 \\times 6}$", "4 \\times 6"),
        ("no answer line", None),
    ],
)
def test_extract_answer_line(text: str, expected: str | None) -> None:
    assert extract_answer_line(text) == expected


def test_extract_expression_falls_back_to_a_bare_arithmetic_line() -> None:
    assert extract_expression("Try 4 * 6.\n(10 - 4) * 4 = 24\nDone!") == "(10 - 4) * 4 = 24"
    assert extract_expression("I could not find one.") is None


_numbers = st.fractions(max_denominator=1).filter(lambda v: abs(v) < 10**9) | st.decimals(
    min_value=-(10**6), max_value=10**6, places=2, allow_nan=False, allow_infinity=False
).map(Fraction)


@given(_numbers, st.sampled_from(["", "Step 1: 3 + 4 = 7.\n", "She pays $12.50 for 3 items.\n"]))
def test_gsm8k_round_trip(value: Fraction, reasoning: str) -> None:
    assert extract_gsm8k(reasoning + format_answer("gsm8k", canonical_number(value))) == canonical_number(value)


@given(st.sampled_from(["42", "\\frac{3}{4}", "x^2 + 1", "\\left( 3, \\frac{\\pi}{2} \\right)", "\\{1, 2\\}"]))
def test_boxed_round_trip(answer: str) -> None:
    assert last_boxed("Reasoning with \\boxed{0} on the way.\n" + format_answer("boxed", answer)) == answer


@given(st.integers(min_value=1, max_value=10).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_letter_round_trip(n_and_index: tuple[int, int]) -> None:
    n, index = n_and_index
    letter = "ABCDEFGHIJ"[index]
    assert extract_letter("Option (A) looks tempting.\n" + format_answer("letter", letter), n) == letter


@given(st.sampled_from(["(3 + 5) * 3", "8 / (3 - 8 / 3)", "1 * 1 * 4 * 6"]))
def test_expression_round_trip(expression: str) -> None:
    assert extract_expression("Let me try 2 + 2 first.\n" + format_answer("expression", expression)) == expression


def test_code_format_is_a_python_block() -> None:
    assert format_answer("code", "def f():\n    return 1") == "```python\ndef f():\n    return 1\n```"
