"""The exact arithmetic verifier and the solver shared by countdown and Game of 24."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from collabgraph.tasks.expression import check_expression, clean_expression, near_misses, solve

_numbers = st.lists(st.integers(1, 13), min_size=2, max_size=4)


@settings(max_examples=150, deadline=None)
@given(_numbers, st.integers(1, 40))
def test_every_solver_solution_is_accepted(numbers: list[int], target: int) -> None:
    solution = solve(numbers, target)
    assume(solution is not None)
    assert solution is not None
    check = check_expression(solution, numbers, target)
    assert check.valid, check.reason
    assert check.value == target


@settings(max_examples=100, deadline=None)
@given(_numbers, st.integers(1, 40), st.data())
def test_using_a_number_twice_is_rejected(numbers: list[int], target: int, data: st.DataObject) -> None:
    solution = solve(numbers, target)
    assume(solution is not None)
    assert solution is not None
    extra = data.draw(st.sampled_from(numbers))
    for doubled in (f"({solution}) + {extra} - {extra}", f"({solution}) * {extra} / {extra}"):
        check = check_expression(doubled, numbers, target)
        assert not check.valid
        assert check.value == target  # right value, wrong numbers
        assert f"uses {extra}, {extra} beyond the given numbers" in check.reason


@settings(max_examples=100, deadline=None)
@given(_numbers, st.integers(1, 40), st.integers(14, 99))
def test_foreign_numbers_are_rejected(numbers: list[int], target: int, foreign: int) -> None:
    solution = solve(numbers, target)
    assume(solution is not None)
    assert solution is not None
    check = check_expression(f"({solution}) * {foreign} / {foreign}", numbers, target)
    assert not check.valid and f"uses {foreign}, {foreign} beyond" in check.reason


@settings(max_examples=100, deadline=None)
@given(_numbers)
def test_solver_finds_a_solution_whenever_one_exists(numbers: list[int]) -> None:
    # The sum and the product are always reachable targets.
    for target in (sum(numbers), math.prod(numbers)):
        solution = solve(numbers, target)
        assert solution is not None and check_expression(solution, numbers, target).valid


def test_known_puzzles() -> None:
    assert check_expression(solve([3, 3, 8, 8], 24) or "", [3, 3, 8, 8], 24).valid
    assert solve([1, 1, 1, 1], 24) is None
    assert check_expression("8/(3-8/3)", [8, 3, 8, 3], 24).valid  # needs exact fractions: 8 / (1/3)


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("(3+5)*3", "uses 5 beyond the given numbers; does not use 8, 8 (each of [3, 3, 8, 8] exactly once)"),
        ("3*8", "does not use 3, 8"),
        ("-3+27", "unary signs are not allowed"),
        ("2**3", "only + - * / are allowed (no ** or //)"),
        ("8//3", "only + - * / are allowed (no ** or //)"),
        ("1.5*16", "1.5 is not a whole number"),
        ("8/(3-3)*8", "division by zero"),
        ("__import__('os').system('true')", "only numbers, + - * / and parentheses are allowed, not Call"),
        ("(3+3", "not an arithmetic expression"),
        ("", "empty expression"),
        ("3 + " * 100 + "3", "longer than 200 characters"),
        ("3 * 8 + 3 - 8 + 0", "uses 0 beyond the given numbers"),
        ("(8 + 8) * 3 / 3 - 1", "uses 1 beyond"),
        ("8 * 3 + 8 / 3", "evaluates to 80/3, not 24"),
    ],
)
def test_rejections_say_why(expression: str, reason: str) -> None:
    check = check_expression(expression, [3, 3, 8, 8], 24)
    assert not check.valid
    assert reason in check.reason


@pytest.mark.parametrize(
    ("written", "clean"),
    [
        ("$(3 + 5) \\times 3 = 24$", "(3 + 5) * 3"),
        ("8 ÷ (3 − 8 ÷ 3)", "8 / (3 - 8 / 3)"),
        ("\\left[ 2 \\cdot 3 \\right] x 4.", "( 2 * 3 ) * 4"),
        ("`4 * 6`", "4 * 6"),
    ],
)
def test_clean_expression(written: str, clean: str) -> None:
    assert clean_expression(written) == clean


def test_written_forms_are_checked_after_cleaning() -> None:
    assert check_expression("$8 \\div (3 - 8 \\div 3) = 24$", [3, 3, 8, 8], 24).valid
    assert check_expression("(10 − 4) × 4", [4, 4, 10], 24).valid


@settings(max_examples=60, deadline=None)
@given(_numbers.filter(lambda ns: len(ns) >= 3), st.integers(1, 40))
def test_near_misses_use_the_same_numbers_and_miss(numbers: list[int], target: int) -> None:
    solution = solve(numbers, target)
    assume(solution is not None)
    assert solution is not None
    misses = near_misses(solution, target)
    assert len(set(misses)) == len(misses)
    distances = []
    for miss in misses:
        check = check_expression(miss, numbers, target)
        assert not check.valid and check.value is not None and check.value != target
        assert "beyond" not in check.reason and "does not use" not in check.reason
        distances.append(abs(check.value - Fraction(target)))
    assert distances == sorted(distances)
