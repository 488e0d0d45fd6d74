"""Plausible wrong answers made from the right one: mutated code, near-miss numbers, expressions and LaTeX.

Code mutants are made by AST mutation of the canonical solution — the bugs language models typically make:
a flipped or off-by-one comparison, an off-by-one constant (range bounds, indices), a swapped arithmetic or
boolean operator, a negated condition, a dropped ``else`` branch, ``min``/``max`` swapped. Only the mutated
expression is rewritten in place (comments and layout survive), and every mutant parses. Code inside ``while``
loops is never mutated, so a mutant cannot loop forever. Mutants that happen to be equivalent to the original
are rare; ``tests/models/sim/test_mutate.py`` runs mutants against the real HumanEval tests in the sandbox.
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

__all__ = [
    "code_mutants",
    "expression_near_misses",
    "latex_near_misses",
    "number_near_misses",
    "safe_arithmetic",
]

_COMPARE_FLIP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
"""Boundary slips (< for <=) before outright reversals: the commonest comparison bug."""

_BINOP_SWAP: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Add,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mod,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
}

_CALL_SWAP = {"max": "min", "min": "max", "any": "all", "all": "any", "int": "float", "float": "int"}

_METHOD_SWAP = {
    "lower": "upper",
    "upper": "lower",
    "swapcase": "lower",
    "startswith": "endswith",
    "endswith": "startswith",
    "isupper": "islower",
    "islower": "isupper",
    "isdigit": "isalpha",
    "isalpha": "isdigit",
    "split": "rsplit",
    "strip": "lstrip",
    "index": "count",
    "find": "rfind",
}

# Kinds in the order they are tried: the first mutants of a solution are its most "popular" bugs. A dropped
# ``return`` (the function returns None) comes last, for solutions with nothing else to mutate.
_KIND_ORDER = (
    "compare",
    "constant",
    "binop",
    "negate-if",
    "boolop",
    "drop-else",
    "call",
    "method",
    "sorted",
    "string",
    "drop-not",
    "drop-return",
)


@dataclass(frozen=True)
class _Site:
    kind: str
    path: tuple[int, ...]  # position of the node in a deterministic traversal (see _nodes)


def _nodes(tree: ast.AST) -> Iterator[tuple[tuple[int, ...], ast.AST, bool]]:
    """Every node with its path (child indices from the root) and whether it sits inside a ``while`` loop."""

    def walk(node: ast.AST, path: tuple[int, ...], in_while: bool) -> Iterator[tuple[tuple[int, ...], ast.AST, bool]]:
        yield path, node, in_while
        inside = in_while or isinstance(node, ast.While)
        for i, child in enumerate(ast.iter_child_nodes(node)):
            yield from walk(child, (*path, i), inside)

    yield from walk(tree, (), False)


def _node_at(tree: ast.AST, path: tuple[int, ...]) -> ast.AST:
    node = tree
    for i in path:
        node = list(ast.iter_child_nodes(node))[i]
    return node


def _is_docstring(parents: dict[int, ast.AST], node: ast.AST) -> bool:
    parent = parents.get(id(node))
    return isinstance(parent, ast.Expr) and isinstance(node, ast.Constant) and isinstance(node.value, str)


def _sites(tree: ast.AST, entry_point: str | None) -> list[_Site]:
    """Mutable places, inside the entry-point function when there is one, ordered by kind then position."""
    root_path: tuple[int, ...] = ()
    if entry_point is not None:
        for path, node, _ in _nodes(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == entry_point:
                root_path = path
                break
    parents = {id(child): parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    found: dict[str, list[_Site]] = {k: [] for k in _KIND_ORDER}
    for path, node, in_while in _nodes(tree):
        if in_while or path[: len(root_path)] != root_path:
            continue
        if isinstance(node, ast.Compare) and type(node.ops[0]) in _COMPARE_FLIP:
            found["compare"].append(_Site("compare", path))
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            found["constant"].append(_Site("constant", path))
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINOP_SWAP:
            found["binop"].append(_Site("binop", path))
        elif isinstance(node, ast.If):
            found["negate-if"].append(_Site("negate-if", path))
            if node.orelse:
                found["drop-else"].append(_Site("drop-else", path))
        elif isinstance(node, ast.BoolOp):
            found["boolop"].append(_Site("boolop", path))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _CALL_SWAP:
            found["call"].append(_Site("call", path))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "sorted":
            if not any(k.arg == "reverse" for k in node.keywords):
                found["sorted"].append(_Site("sorted", path))
        elif isinstance(node, ast.Attribute) and node.attr in _METHOD_SWAP:
            found["method"].append(_Site("method", path))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and not _is_docstring(parents, node):
            found["string"].append(_Site("string", path))
        elif isinstance(node, ast.Return) and node.value is not None:
            found["drop-return"].append(_Site("drop-return", path))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            found["drop-not"].append(_Site("drop-not", path))
    return [site for kind in _KIND_ORDER for site in found[kind]]


def _mutated_node(node: ast.AST, kind: str) -> ast.AST | None:
    """A mutated copy of ``node`` (for ``drop-else``: the ``if`` without its ``else``)."""
    new = copy.deepcopy(node)
    if kind == "compare" and isinstance(new, ast.Compare):
        new.ops[0] = _COMPARE_FLIP[type(new.ops[0])]()
    elif kind == "constant" and isinstance(new, ast.Constant) and type(new.value) is int:
        new.value = new.value + 1
    elif kind == "binop" and isinstance(new, ast.BinOp):
        new.op = _BINOP_SWAP[type(new.op)]()
    elif kind == "negate-if" and isinstance(new, ast.If):
        new.test = ast.UnaryOp(op=ast.Not(), operand=new.test)
    elif kind == "drop-else" and isinstance(new, ast.If):
        new.orelse = []
    elif kind == "boolop" and isinstance(new, ast.BoolOp):
        new.op = ast.Or() if isinstance(new.op, ast.And) else ast.And()
    elif kind == "call" and isinstance(new, ast.Call) and isinstance(new.func, ast.Name):
        new.func = ast.Name(id=_CALL_SWAP[new.func.id], ctx=ast.Load())
    elif kind == "sorted" and isinstance(new, ast.Call):
        new.keywords.append(ast.keyword(arg="reverse", value=ast.Constant(value=True)))
    elif kind == "method" and isinstance(new, ast.Attribute):
        new.attr = _METHOD_SWAP[new.attr]
    elif kind == "string" and isinstance(new, ast.Constant) and isinstance(new.value, str):
        new.value = " " if new.value == "" else new.value[:-1]
    elif kind == "drop-not" and isinstance(new, ast.UnaryOp):
        return new.operand
    elif kind == "drop-return" and isinstance(new, ast.Return) and new.value is not None:
        return ast.Expr(value=new.value)
    else:
        return None
    return new


def _splice(source: str, node: ast.expr | ast.stmt, replacement: str) -> str:
    """``source`` with ``node``'s text replaced by ``replacement`` (positions are UTF-8 byte offsets)."""
    lines = source.splitlines(keepends=True)
    start_line, end_line = node.lineno - 1, (node.end_lineno or node.lineno) - 1
    start = lines[start_line].encode()[: node.col_offset].decode()
    end = lines[end_line].encode()[node.end_col_offset or 0 :].decode()
    return "".join(lines[:start_line]) + start + replacement + end + "".join(lines[end_line + 1 :])


def _apply(source: str, tree: ast.Module, site: _Site) -> str | None:
    """The mutant of ``source`` at ``site``, rewritten in place; None when the mutation changes nothing."""
    node = _node_at(tree, site.path)
    new = _mutated_node(node, site.kind)
    if new is None or not isinstance(node, ast.expr | ast.stmt):
        return None
    target = copy.deepcopy(tree)
    parent_path, index = site.path[:-1], site.path[-1]
    _replace_child(_node_at(target, parent_path), index, new)
    expected = ast.dump(ast.parse(ast.unparse(target)))
    if expected == ast.dump(tree):
        return None
    candidates: list[str | None]
    if isinstance(node, ast.If):
        # Statements: rewrite the test in place, or cut the else branch's lines.
        if site.kind == "negate-if":
            candidates = [_splice(source, node.test, f"not ({ast.get_source_segment(source, node.test)})")]
        else:
            candidates = [_drop_else(source, node)]
    else:
        text = ast.unparse(new)
        candidates = [_splice(source, node, text), _splice(source, node, f"({text})")]
    for candidate in candidates:
        if candidate is not None and _dump_or_none(candidate) == expected:
            return candidate
    return ast.unparse(target) + "\n"


def _drop_else(source: str, node: ast.If) -> str | None:
    """``source`` without the lines of ``node``'s ``else`` branch (None for an ``elif`` chain or one-liners)."""
    first, last = node.orelse[0], node.orelse[-1]
    lines = source.splitlines(keepends=True)
    else_line = first.lineno - 2
    if else_line < 0 or not lines[else_line].strip().startswith("else"):
        return None
    return "".join(lines[:else_line] + lines[(last.end_lineno or last.lineno) :])


def _dump_or_none(source: str) -> str | None:
    try:
        return ast.dump(ast.parse(source))
    except SyntaxError:
        return None


def _replace_child(parent: ast.AST, index: int, new: ast.AST) -> None:
    """Put ``new`` in place of the ``index``-th child of ``parent`` (same order as ``ast.iter_child_nodes``)."""
    i = 0
    for field, value in ast.iter_fields(parent):
        if isinstance(value, ast.AST):
            if i == index:
                setattr(parent, field, new)
                return
            i += 1
        elif isinstance(value, list):
            for j, item in enumerate(value):
                if isinstance(item, ast.AST):
                    if i == index:
                        value[j] = new
                        return
                    i += 1
    raise IndexError(index)


def _mutants(code: str, tree: ast.Module, sites: list[_Site], seen: set[str]) -> Iterator[tuple[tuple[int, ...], str]]:
    """(site path, mutant) for the ``sites`` in order, lazily, skipping mutants already in ``seen``."""
    for site in sites:
        mutant = _apply(code, tree, site)
        key = None if mutant is None else _dump_or_none(mutant)
        if mutant is not None and key is not None and key not in seen:
            seen.add(key)
            yield site.path, mutant


def _apart(site: _Site, path: tuple[int, ...]) -> bool:
    """Whether ``site`` is neither an ancestor nor a descendant of the node at ``path``."""
    return site.path[: len(path)] != path and path[: len(site.path)] != site.path


@lru_cache(maxsize=512)
def code_mutants(code: str, entry_point: str | None = None, limit: int = 9) -> tuple[str, ...]:
    """Up to ``limit`` distinct wrong versions of ``code``, most "popular" bug first; each parses.

    Mutant k carries two bugs: the k-th single mutation, then a second one elsewhere in the function (starting
    half-way down the list of places, on a node that neither contains nor is contained in the first, so it
    cannot undo it; when there is none, the enclosing ``return`` is dropped). One slip can land where the tests
    do not look (about one single mutant in nine survives HumanEval's tests); two rarely both do. Raises
    ValueError when ``code`` is not valid Python."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise ValueError(f"the canonical solution does not parse as Python: {exc.msg} (line {exc.lineno})") from None
    seen = {ast.dump(tree)}
    out: list[str] = []
    for path, first in _mutants(code, tree, _sites(tree, entry_point), set(seen)):
        first_tree = ast.parse(first)
        sites = [site for site in _sites(first_tree, entry_point) if _apart(site, path)]
        if not sites:
            sites = [site for site in _sites(first_tree, entry_point) if site.kind == "drop-return"]
        start = len(sites) // 2
        chosen = next(
            (m for _, m in _mutants(first, first_tree, sites[start:] + sites[:start], {*seen, ast.dump(first_tree)})),
            first,
        )
        seen.add(ast.dump(ast.parse(chosen)))
        out.append(chosen)
        if len(out) >= limit:
            break
    return tuple(out)


# ---- numbers, LaTeX and arithmetic expressions ----------------------------------------------------------

_PLAIN_NUMBER = re.compile(r"^\s*-?\d+(?:\.\d+)?\s*$")
_INTEGER_RUN = re.compile(r"\d+")


def _fmt(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    as_float = float(value)
    return f"{as_float:.6g}" if abs(as_float) < 1e15 else str(value)


def number_near_misses(answer: str) -> list[str]:
    """Typical wrong values near a numeric answer: off by one, a slipped factor of ten, doubled or halved,
    a dropped sign, off by ten. Empty when ``answer`` is not a plain number."""
    cleaned = answer.replace(",", "").replace("$", "").strip()
    if not _PLAIN_NUMBER.match(cleaned):
        return []
    gold = Fraction(cleaned)
    candidates = [gold + 1, gold - 1, gold * 10, gold * 2, gold + 10, -gold, gold / 2, gold - 10, gold / 10]
    out: list[str] = []
    for value in candidates:
        text = _fmt(value)
        if value != gold and text not in out:
            out.append(text)
    return out


def latex_near_misses(answer: str) -> list[str]:
    """Near misses of a LaTeX answer (``\\frac{\\pi}{2}`` → ``\\frac{\\pi}{3}``): one of its integers changed
    (+1, −1, +2, doubled), starting from the last; for an answer with no integer, a sign slip or a stray ``+1``."""
    numeric = number_near_misses(answer)
    if numeric:
        return numeric
    runs = list(_INTEGER_RUN.finditer(answer))
    out: list[str] = []
    for m in reversed(runs):
        n = int(m.group(0))
        for new in (n + 1, n - 1 if n > 1 else n + 3, n + 2, 2 * n if n > 1 else n + 4):
            variant = answer[: m.start()] + str(new) + answer[m.end() :]
            if variant not in out and variant != answer:
                out.append(variant)
    if not runs:
        out += [f"-{answer}" if not answer.startswith("-") else answer[1:], f"{answer}+1", "0"]
    return out


def safe_arithmetic(expression: str) -> Fraction | None:
    """The exact value of an arithmetic expression of numbers, + − × ÷ and parentheses; None otherwise
    (other syntax, division by zero)."""
    try:
        tree = ast.parse(expression.replace("×", "*").replace("÷", "/"), mode="eval")
    except SyntaxError:
        return None
    ops: dict[type[ast.operator], Callable[[Fraction, Fraction], Fraction]] = {
        ast.Add: lambda x, y: x + y,
        ast.Sub: lambda x, y: x - y,
        ast.Mult: lambda x, y: x * y,
        ast.Div: lambda x, y: x / y,
    }

    def ev(node: ast.AST) -> Fraction:
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return Fraction(str(node.value))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in ops:
            return ops[type(node.op)](ev(node.left), ev(node.right))
        raise ValueError("not plain arithmetic")

    try:
        return ev(tree.body)
    except (ValueError, ZeroDivisionError):
        return None


_OPERATOR = re.compile(r"[+\-*/]")


def expression_near_misses(answer: str) -> list[str]:
    """Expressions that look like ``answer`` but miss its value: one operator swapped (``(3+5)*3`` →
    ``(3-5)*3``), kept only when the value changes; else the expression with its last operand dropped."""
    gold = safe_arithmetic(answer)
    out: list[str] = []
    for m in _OPERATOR.finditer(answer):
        if m.group(0) == "-" and (m.start() == 0 or answer[m.start() - 1] in "(+-*/"):
            continue  # a sign, not an operator
        for op in "+-*/":
            if op == m.group(0):
                continue
            variant = answer[: m.start()] + op + answer[m.end() :]
            value = safe_arithmetic(variant)
            if value is not None and value != gold and variant not in out:
                out.append(variant)
    if not out:
        cut = max((m.start() for m in _OPERATOR.finditer(answer)), default=-1)
        if cut > 0:
            out.append(answer[:cut].rstrip())
    return out
