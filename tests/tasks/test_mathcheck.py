"""Math answer equivalence: fast paths, math-verify, symmetry, and the bounded helper used off the main thread."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collabgraph.settings import data_dir
from collabgraph.tasks import equivalent
from collabgraph.tasks.extract import last_boxed
from collabgraph.tasks.mathcheck import _Helper, normalize_math

EQUAL = [
    ("\\frac{1}{2}", "0.5"),
    ("\\dfrac{3}{4}", "\\frac34"),
    ("-\\frac{1}{3}", "-1/3"),
    ("1,000", "1000"),
    ("10\\%", "10"),
    ("5\\text{ cm}", "5"),
    ("x = 5", "5"),
    ("76^\\circ", "76"),
    ("\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\pi/2)"),
    ("x^2+2x+1", "(x+1)^2"),
    ("2\\sqrt{2}", "\\sqrt{8}"),
    ("\\text{(C)}", "C"),
]
DIFFERENT = [
    ("3", "4"),
    ("[1,2)", "[1,2]"),
    ("\\frac{1}{2}", "2"),
    ("x^2", "x^3"),
    ("5x - 7y + 11z + 4 = 0", "0"),  # math-verify alone would compare 0 with the right-hand side
    ("", "0"),
]


@pytest.mark.parametrize(("a", "b"), EQUAL)
def test_equivalent(a: str, b: str) -> None:
    assert equivalent(a, b) and equivalent(b, a)


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_not_equivalent(a: str, b: str) -> None:
    assert not equivalent(a, b) and not equivalent(b, a)


def _math500_answers() -> list[str]:
    with (data_dir() / "math500/test.jsonl").open() as fh:
        return [json.loads(line)["answer"] for line in fh][:120]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(_math500_answers()), st.sampled_from(_math500_answers()))
def test_symmetric_on_real_answers(a: str, b: str) -> None:
    assert equivalent(a, b) == equivalent(b, a)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(_math500_answers()))
def test_reflexive_on_real_answers(a: str) -> None:
    assert equivalent(a, a)
    assert equivalent(f"${a}$", a)


def test_every_boxed_solution_matches_its_answer() -> None:
    with (data_dir() / "math500/test.jsonl").open() as fh:
        rows = [json.loads(line) for line in fh]
    assert all(equivalent(last_boxed(r["solution"]) or "", r["answer"]) for r in rows)


def test_normalize_math() -> None:
    assert normalize_math("$\\left( 1, \\dfrac{1}{2} \\right)$") == "(1,\\frac{1}{2})"
    assert normalize_math("\\text{Monday}") == "Monday"
    assert normalize_math("x + m") == "x+m"  # a variable named m is not a unit


def test_works_off_the_main_thread() -> None:
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(equivalent, "x^2-1", "(x-1)(x+1)").result()
        assert not pool.submit(equivalent, "y^2-1", "(y-1)(y+2)").result()


def test_helper_that_overruns_is_replaced() -> None:
    helper = _Helper()
    # A zero deadline expires before the helper can answer: it is killed and the answer is "not equivalent".
    assert helper.check("\\sqrt{8}", "2\\sqrt{2}", timeout_s=0.0) is False
    # The next question starts a fresh helper, which answers.
    assert helper.check("\\sqrt{8}", "2\\sqrt{2}", timeout_s=60.0) is True
