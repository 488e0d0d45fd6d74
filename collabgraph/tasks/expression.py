"""Arithmetic puzzles (countdown, Game of 24): an exact verifier and a solver.

Rules checked by ``check_expression``: only the four operations ``+ - * /`` and parentheses; only the given
numbers, each used exactly once (all of them, as in Game of 24 and the TinyZero/Stream-of-Search Countdown);
no unary minus, no decimals, no concatenating digits; division by zero is invalid. The arithmetic is replayed
exactly with ``fractions.Fraction`` over a parse by ``ast`` (never ``eval``), so ``8/(3-8/3)`` is exactly 24.
"""

from __future__ import annotations

import ast
import functools
import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

__all__ = ["ExpressionCheck", "check_expression", "clean_expression", "near_misses", "solve"]

_OPS: dict[type[ast.operator], str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_MAX_LENGTH = 200  # a puzzle answer is short; refusing long input bounds parsing work


@dataclass(frozen=True)
class ExpressionCheck:
    """The verdict on one expression: whether it solves the puzzle, its exact value, and why not if it fails."""

    valid: bool
    value: Fraction | None
    reason: str = ""


def clean_expression(text: str) -> str:
    """Plain ASCII arithmetic from how models write it: ``×``/``\\times``/``\\cdot`` → ``*``, ``÷``/``\\div`` → ``/``,
    brackets → parentheses, ``\\left``/``\\right`` and ``$`` dropped, and anything after an ``=`` cut off."""
    s = text.strip().strip("`$").strip()
    for old, new in (
        ("\\left", ""),
        ("\\right", ""),
        ("\\times", "*"),
        ("\\cdot", "*"),
        ("\\div", "/"),
        ("×", "*"),
        ("·", "*"),
        ("÷", "/"),
        ("−", "-"),
        ("–", "-"),
        ("[", "("),
        ("]", ")"),
        ("{", "("),
        ("}", ")"),
        ("$", ""),
    ):
        s = s.replace(old, new)
    s = s.split("=")[0]
    s = re.sub(r"(?<=[\d)])\s*[xX]\s*(?=[\d(])", " * ", s)  # "3 x 8" multiplies
    return re.sub(r"\s+", " ", s).strip().rstrip(".").strip()


def _evaluate(node: ast.AST, leaves: list[int]) -> Fraction:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, leaves)
    if isinstance(node, ast.Constant) and type(node.value) is int:
        leaves.append(node.value)
        return Fraction(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        left = _evaluate(node.left, leaves)
        right = _evaluate(node.right, leaves)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if right == 0:
            raise ZeroDivisionError
        return left / right
    if isinstance(node, ast.UnaryOp):
        raise ValueError("unary signs are not allowed; use only the given numbers and + - * /")
    if isinstance(node, ast.Constant):
        raise ValueError(f"{node.value!r} is not a whole number")
    raise ValueError(f"only numbers, + - * / and parentheses are allowed, not {type(node).__name__}")


def check_expression(expression: str, numbers: Sequence[int], target: int) -> ExpressionCheck:
    """Whether ``expression`` uses each of ``numbers`` exactly once with ``+ - * /`` and equals ``target`` exactly."""
    text = clean_expression(expression)
    if not text:
        return ExpressionCheck(False, None, "empty expression")
    if len(text) > _MAX_LENGTH:
        return ExpressionCheck(False, None, f"expression longer than {_MAX_LENGTH} characters")
    if re.search(r"\*\*|//", text):
        return ExpressionCheck(False, None, "only + - * / are allowed (no ** or //)")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return ExpressionCheck(False, None, f"not an arithmetic expression: {text!r}")
    leaves: list[int] = []
    try:
        value = _evaluate(tree, leaves)
    except ZeroDivisionError:
        return ExpressionCheck(False, None, "division by zero")
    except ValueError as exc:
        return ExpressionCheck(False, None, str(exc))
    used, given = Counter(leaves), Counter(numbers)
    if used != given:
        extra = sorted((used - given).elements())
        missing = sorted((given - used).elements())
        parts = []
        if extra:
            parts.append(f"uses {', '.join(map(str, extra))} beyond the given numbers")
        if missing:
            parts.append(f"does not use {', '.join(map(str, missing))}")
        return ExpressionCheck(False, value, "; ".join(parts) + f" (each of {sorted(numbers)} exactly once)")
    if value != target:
        return ExpressionCheck(False, value, f"evaluates to {_show(value)}, not {target}")
    return ExpressionCheck(True, value)


def _show(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


# A partial solution: (value, text, precedence of its top operator: 3 atom, 2 for * and /, 1 for + and -).
_Term = tuple[Fraction, str, int]


def _wrap(term: _Term, below: int) -> str:
    return f"({term[1]})" if term[2] < below else term[1]


def _combine(a: _Term, b: _Term) -> list[_Term]:
    """Every result of one operation on ``a`` and ``b``, printed with the parentheses it needs and no more."""
    out: list[_Term] = [
        (a[0] + b[0], f"{a[1]} + {b[1]}", 1),
        (a[0] * b[0], f"{_wrap(a, 2)} * {_wrap(b, 2)}", 2),
        (a[0] - b[0], f"{a[1]} - {_wrap(b, 2)}", 1),
        (b[0] - a[0], f"{b[1]} - {_wrap(a, 2)}", 1),
    ]
    if b[0] != 0:
        out.append((a[0] / b[0], f"{_wrap(a, 2)} / {_wrap(b, 3)}", 2))
    if a[0] != 0:
        out.append((b[0] / a[0], f"{_wrap(b, 2)} / {_wrap(a, 3)}", 2))
    return out


# The search works on (numerator, denominator) pairs in lowest terms: hashing and comparing them is several
# times faster than Fraction's, and the memo below hashes every intermediate multiset.
_Q = tuple[int, int]


def _q(num: int, den: int) -> _Q:
    if den < 0:
        num, den = -num, -den
    g = math.gcd(num, den)
    return (num // g, den // g)


def _results(a: _Q, b: _Q) -> list[_Q]:
    (an, ad), (bn, bd) = a, b
    out = [_q(an * bd + bn * ad, ad * bd), _q(an * bn, ad * bd), _q(an * bd - bn * ad, ad * bd)]
    out.append((-out[2][0], out[2][1]))
    if bn:
        out.append(_q(an * bd, ad * bn))
    if an:
        out.append(_q(bn * ad, bd * an))
    return out


@functools.lru_cache(maxsize=1 << 18)
def _reachable(values: tuple[_Q, ...], target: _Q) -> bool:
    """Whether ``values`` (sorted) combine to ``target``; memoised on the multiset, which makes the search fast."""
    if len(values) == 1:
        return values[0] == target
    if len(values) == 2:
        return target in _results(values[0], values[1])
    for i, j in itertools.combinations(range(len(values)), 2):
        rest = [values[k] for k in range(len(values)) if k not in (i, j)]
        if any(_reachable(tuple(sorted([*rest, r])), target) for r in _results(values[i], values[j])):
            return True
    return False


def _key(values: Iterable[Fraction]) -> tuple[_Q, ...]:
    return tuple(sorted((v.numerator, v.denominator) for v in values))


def solve(numbers: Sequence[int], target: int) -> str | None:
    """An expression using each of ``numbers`` exactly once that equals ``target``; None when there is none.

    Exhaustive over every order of pairwise combination, memoised on the multiset of intermediate values;
    the expression is rebuilt by following the first combination that keeps the target reachable."""
    goal = (target, 1)
    terms: list[_Term] = [(Fraction(n), str(n), 3) for n in numbers]
    if not _reachable(_key(t[0] for t in terms), goal):
        return None
    while len(terms) > 1:
        terms = _next_step(terms, goal)
    return terms[0][1]


def _next_step(terms: list[_Term], goal: _Q) -> list[_Term]:
    for i, j in itertools.combinations(range(len(terms)), 2):
        rest = [terms[k] for k in range(len(terms)) if k not in (i, j)]
        for combined in _combine(terms[i], terms[j]):
            if _reachable(_key([*(t[0] for t in rest), combined[0]]), goal):
                return [*rest, combined]
    raise AssertionError("a reachable target stays reachable through some combination")


def near_misses(solution: str, target: int, limit: int = 3) -> tuple[str, ...]:
    """Expressions one operator away from ``solution`` (so using the same numbers) that miss ``target``, nearest
    value first: the mistakes a solver makes when it slips on one step."""
    tree = ast.parse(clean_expression(solution), mode="eval")
    scored: dict[str, Fraction] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.BinOp):
            continue
        original = node.op
        for op_type in _OPS:
            if isinstance(original, op_type):
                continue
            node.op = op_type()
            try:
                value = _evaluate(tree, [])
            except ZeroDivisionError:
                continue
            finally:
                node.op = original
            if value != target:
                node.op = op_type()
                scored.setdefault(ast.unparse(tree), abs(value - target))
                node.op = original
    return tuple(sorted(scored, key=lambda text: (scored[text], text))[:limit])
