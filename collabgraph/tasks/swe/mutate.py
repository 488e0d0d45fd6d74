"""Bug injection by AST mutation: find one-line edits of a module (flip a comparison, swap + and -, shift an
integer constant by one, swap and/or, negate a condition, drop a return value) and write them as patches.

A mutation is located with the AST but applied as a text edit of one source line, so the rest of the file
keeps its exact formatting and the gold patch that reverses it is a one-line diff."""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

__all__ = ["Mutation", "apply_mutation", "find_mutations", "unified_diff"]

_COMPARE: dict[type[ast.cmpop], tuple[str, str]] = {
    ast.Lt: (r"<", "<="),
    ast.LtE: (r"<=", "<"),
    ast.Gt: (r">", ">="),
    ast.GtE: (r">=", ">"),
    ast.Eq: (r"==", "!="),
    ast.NotEq: (r"!=", "=="),
    ast.Is: (r"is", "is not"),
    ast.IsNot: (r"is\s+not", "is"),
    ast.In: (r"in", "not in"),
    ast.NotIn: (r"not\s+in", "in"),
}
_BINOP: dict[type[ast.operator], tuple[str, str]] = {ast.Add: (r"\+", "-"), ast.Sub: (r"-", "+")}
_BOOLOP: dict[type[ast.boolop], tuple[str, str]] = {ast.And: (r"and", "or"), ast.Or: (r"or", "and")}


class Mutation(BaseModel):
    """One edit of ``path``: on line ``line`` (1-based), the characters ``[start, end)`` that read ``original``
    become ``replacement``. ``function`` is the qualified name of the function it is in; ``kind`` what it does."""

    model_config = ConfigDict(frozen=True)
    path: str
    function: str
    line: int
    start: int
    end: int
    original: str
    replacement: str
    kind: str


def apply_mutation(text: str, mutation: Mutation) -> str:
    """``text`` with ``mutation`` applied; raises ValueError when the line does not hold ``original`` there."""
    lines = text.splitlines(keepends=True)
    line = lines[mutation.line - 1]
    if line[mutation.start : mutation.end] != mutation.original:
        raise ValueError(f"{mutation.path}:{mutation.line}: expected {mutation.original!r} at {mutation.start}")
    lines[mutation.line - 1] = line[: mutation.start] + mutation.replacement + line[mutation.end :]
    return "".join(lines)


def unified_diff(path: str, before: str, after: str) -> str:
    """A ``git apply``-able unified diff of one file, ``a/path`` → ``b/path``."""
    diff = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{path}", f"b/{path}", n=3
    )
    return f"diff --git a/{path} b/{path}\n" + "".join(diff)


def find_mutations(path: str, text: str) -> list[Mutation]:
    """Every one-line mutation of the function bodies in module ``text``, in source order."""
    lines = text.splitlines(keepends=True)
    found: list[Mutation] = []
    for function, node in _functions(ast.parse(text), ""):
        for child in _own_nodes(node):
            mutation = _mutation(child, lines)
            if mutation is not None:
                found.append(mutation.model_copy(update={"path": path, "function": function}))
    return sorted(found, key=lambda m: (m.line, m.start, m.kind))


_Function = ast.FunctionDef | ast.AsyncFunctionDef


def _functions(node: ast.AST, prefix: str) -> Iterator[tuple[str, _Function]]:
    """Every function under ``node`` with its qualified name (``Class.method``, ``outer.inner``)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, _Function):
            yield prefix + child.name, child
            yield from _functions(child, f"{prefix}{child.name}.")
        elif isinstance(child, ast.ClassDef):
            yield from _functions(child, f"{prefix}{child.name}.")
        else:
            yield from _functions(child, prefix)


def _own_nodes(function: _Function) -> Iterator[ast.AST]:
    """The nodes of ``function``'s body, not descending into nested functions and classes (they have their own
    names)."""
    stack: list[ast.AST] = [node for node in reversed(function.body) if not isinstance(node, _Function | ast.ClassDef)]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(child for child in ast.iter_child_nodes(node) if not isinstance(child, _Function | ast.ClassDef))


def _utf8_to_chars(line: str, offset: int) -> int:
    return len(line.encode("utf-8")[:offset].decode("utf-8"))


def _span(node: ast.AST, lines: list[str]) -> tuple[int, int, int] | None:
    """(line, start char, end char) of a node that sits on one line."""
    lineno, end_lineno = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
    if lineno is None or lineno != end_lineno:
        return None
    line = lines[lineno - 1]
    return lineno, _utf8_to_chars(line, node.col_offset), _utf8_to_chars(line, node.end_col_offset)  # type: ignore[attr-defined]


def _edit(line: int, start: int, end: int, original: str, replacement: str, kind: str) -> Mutation:
    """A mutation not yet placed in a file and function (``find_mutations`` fills those in)."""
    return Mutation(
        path="", function="", line=line, start=start, end=end, original=original, replacement=replacement, kind=kind
    )


def _gap_edit(left: ast.AST, right: ast.AST, lines: list[str], pattern: str, new: str, kind: str) -> Mutation | None:
    """Replace the operator token between ``left`` and ``right`` (only brackets and blanks besides it)."""
    a, b = _span(left, lines), _span(right, lines)
    if a is None or b is None or a[0] != b[0]:
        return None
    gap = lines[a[0] - 1][a[2] : b[1]]
    match = re.fullmatch(rf"([\s)\]]*)({pattern})([\s(\[]*)", gap)
    if match is None:
        return None
    return _edit(a[0], a[2] + match.start(2), a[2] + match.end(2), match[2], new, kind)


def _mutation(node: ast.AST, lines: list[str]) -> Mutation | None:
    """The mutation of ``node`` itself (not of its children), if it has one."""
    edit: Mutation | None = None
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
        pattern, new = _COMPARE[type(node.ops[0])]
        edit = _gap_edit(node.left, node.comparators[0], lines, pattern, new, "flip comparison")
    elif isinstance(node, ast.BinOp) and type(node.op) in _BINOP:
        pattern, new = _BINOP[type(node.op)]
        edit = _gap_edit(node.left, node.right, lines, pattern, new, "swap + and -")
    elif isinstance(node, ast.BoolOp) and len(node.values) == 2 and type(node.op) in _BOOLOP:
        pattern, new = _BOOLOP[type(node.op)]
        edit = _gap_edit(node.values[0], node.values[1], lines, pattern, new, "swap and/or")
    elif isinstance(node, ast.Constant) and type(node.value) is int and 0 <= node.value <= 10:
        span = _span(node, lines)
        if span is not None and lines[span[0] - 1][span[1] : span[2]] == str(node.value):
            # 0 and 1 go up (down would often give a no-op or a negative index), the rest go down.
            new = str(node.value + 1) if node.value in (0, 1) else str(node.value - 1)
            edit = _edit(*span, str(node.value), new, "off-by-one constant")
    elif isinstance(node, ast.If | ast.While):
        span = _span(node.test, lines)
        if span is not None:
            original = lines[span[0] - 1][span[1] : span[2]]
            negated = f"not ({original})"
            if isinstance(node.test, ast.UnaryOp) and isinstance(node.test.op, ast.Not):
                operand = _span(node.test.operand, lines)
                if operand is not None:
                    negated = lines[span[0] - 1][operand[1] : operand[2]]
            edit = _edit(*span, original, negated, "negate condition")
    elif isinstance(node, ast.Return) and node.value is not None and not isinstance(node.value, ast.Constant):
        span = _span(node.value, lines)
        if span is not None:
            edit = _edit(*span, lines[span[0] - 1][span[1] : span[2]], "None", "drop return value")
    return edit
