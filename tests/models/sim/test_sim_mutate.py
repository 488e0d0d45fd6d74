"""Wrong answers made from the right one: code mutants that real tests reject, and near misses."""

from __future__ import annotations

import ast
import asyncio
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sim_helpers import examples

from collabgraph.models.sim.answers import CODE_MUTANTS
from collabgraph.models.sim.mutate import (
    code_mutants,
    expression_near_misses,
    latex_near_misses,
    number_near_misses,
    safe_arithmetic,
)
from collabgraph.models.sim.text import final_line
from collabgraph.sandbox import LocalSandbox
from collabgraph.tasks import get_task

SOLUTION = '''\
def count_up(n):
    """Numbers below n that are even."""
    # keep the evens
    out = []
    for i in range(n):
        if i % 2 == 0 and i > 0:
            out.append(i)
        else:
            pass
    return out
'''


def test_mutants_parse_differ_and_keep_the_layout() -> None:
    mutants = code_mutants(SOLUTION, "count_up", 9)
    assert len(mutants) == len(set(mutants)) >= 5
    gold = ast.dump(ast.parse(SOLUTION))
    for mutant in mutants:
        assert ast.dump(ast.parse(mutant)) != gold
        assert "# keep the evens" in mutant  # rewritten in place, comments survive
        assert '"""Numbers below n that are even."""' in mutant


def test_mutants_are_deterministic_and_ordered_by_popularity() -> None:
    assert code_mutants(SOLUTION, "count_up", 9) == code_mutants(SOLUTION, "count_up", 9)
    first = code_mutants(SOLUTION, "count_up", 1)[0]
    # The most popular bug is a slipped comparison (== for != …), in the first compare of the function.
    assert "i % 2 != 0" in first


def test_code_inside_while_loops_is_left_alone() -> None:
    code = "def f(n):\n    while n > 1:\n        n = n // 2\n    return n\n"
    for mutant in code_mutants(code, "f", 9):
        assert "while n > 1:\n        n = n // 2" in mutant


def test_a_solution_with_nothing_to_mutate_but_its_return() -> None:
    code = "def f(s):\n    return s.strip()\n"
    mutants = code_mutants(code, "f", 9)
    assert mutants and all(ast.dump(ast.parse(m)) != ast.dump(ast.parse(code)) for m in mutants)


def test_code_that_does_not_parse_is_an_error() -> None:
    with pytest.raises(ValueError, match="does not parse as Python"):
        code_mutants("def f(:\n", None, 3)


def test_mutants_of_humaneval_fail_its_real_tests() -> None:
    """Every twelfth HumanEval problem: its CODE_MUTANTS wrong programs, run against the official tests in the
    local sandbox through the humaneval task's own scoring. The most popular mutant must always fail; rare
    equivalent mutants (the tests do not look there) are tolerated up to 3 %."""
    task = get_task("humaneval", sandbox=LocalSandbox())
    problems = sorted(examples("humaneval"), key=lambda e: int(e.id.split("/")[1]))[::12]

    async def verdicts() -> list[tuple[str, int, bool]]:
        jobs = [
            (e, rank, m)
            for e in problems
            for rank, m in enumerate(code_mutants(e.answer, e.meta["entry_point"], CODE_MUTANTS))
        ]
        gate = asyncio.Semaphore(4)

        async def one(e, rank, mutant):  # type: ignore[no-untyped-def]
            async with gate:
                return e.id, rank, (await task.score(final_line("code", mutant), e)).correct

        gold = await asyncio.gather(*(task.score(final_line("code", e.answer), e) for e in problems[:3]))
        assert all(s.correct for s in gold)  # the harness itself accepts the canonical solutions
        return list(await asyncio.gather(*(one(*job) for job in jobs)))

    results = asyncio.run(verdicts())
    survivors = [(pid, rank) for pid, rank, passed in results if passed]
    assert len(results) >= 60
    assert not [s for s in survivors if s[1] == 0], survivors
    assert len(survivors) / len(results) <= 0.03, survivors


@given(st.integers(min_value=-(10**6), max_value=10**6))
def test_number_near_misses_are_wrong_numbers(n: int) -> None:
    misses = number_near_misses(str(n))
    assert misses and len(misses) == len(set(misses))
    assert all(Fraction(m) != n for m in misses)
    assert misses[0] == str(n + 1)


def test_number_near_misses_of_decimals_and_non_numbers() -> None:
    assert "3.5" in number_near_misses("2.5")
    assert number_near_misses("1,234")[0] == "1235"
    assert number_near_misses("x+1") == []


def test_latex_near_misses_change_an_integer() -> None:
    misses = latex_near_misses("\\frac{\\pi}{2}")
    assert misses[0] == "\\frac{\\pi}{3}"
    assert all(m != "\\frac{\\pi}{2}" for m in misses)
    assert latex_near_misses("\\text{Evelyn}")[0] == "-\\text{Evelyn}"


def test_expression_near_misses_miss_the_value() -> None:
    gold = "(3 + 5) * 3"
    misses = expression_near_misses(gold)
    assert misses and all(safe_arithmetic(m) != 24 for m in misses)
    assert all(m.replace(" ", "").count("3") == 2 for m in misses)  # the same numbers, used once each
    assert expression_near_misses("-4 + 28")[0] != "-4 + 28"


def test_safe_arithmetic() -> None:
    assert safe_arithmetic("(3 + 5) * 3") == 24
    assert safe_arithmetic("8 / (3 - 8 / 3)") == 24
    assert safe_arithmetic("1 / 0") is None
    assert safe_arithmetic("__import__('os')") is None
    assert safe_arithmetic("2 ** 3") is None
    assert safe_arithmetic("3 × 8") == 24
