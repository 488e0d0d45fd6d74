"""Code answers: the Python program in a model response, and the check programs that test it.

``humaneval_program`` builds what the official HumanEval harness executes; ``evalplus_job`` what the EvalPlus
harness checks (differential testing against the reference solution on the base and extra inputs).
"""

from __future__ import annotations

import ast
import json
import re
import textwrap
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CheckJob",
    "defines_function",
    "evalplus_job",
    "extract_code",
    "humaneval_program",
    "normalize_code",
    "solution_program",
]

_PYTHON_TAGS = frozenset({"", "python", "python3", "py", "py3", "ipython", "pycon"})
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([^\s`]*)")
_CODE_START = re.compile(r"^(?:async[ \t]+def|def|class|import|from|@)\b")
_MAX_SCAN_LINES = 400
"""Longest unfenced text searched line by line for a program inside prose (the search is quadratic)."""


@dataclass(frozen=True)
class _Block:
    lang: str
    body: str


def _fenced_blocks(text: str) -> list[_Block]:
    """Markdown fenced blocks in order; an unterminated last block (a response cut off) runs to the end."""
    blocks: list[_Block] = []
    fence: str | None = None
    lang = ""
    lines: list[str] = []
    for line in text.splitlines():
        if fence is None:
            if m := _FENCE.match(line):
                fence, lang, lines = m.group(1), m.group(2).lower(), []
        elif line.strip().startswith(fence) and not line.strip().lstrip(fence[0]):
            blocks.append(_Block(lang, "\n".join(lines)))
            fence = None
        else:
            lines.append(line)
    if fence is not None and lines:
        blocks.append(_Block(lang, "\n".join(lines)))
    return blocks


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def defines_function(code: str, name: str) -> bool:
    """Whether ``code`` defines a function ``name`` at its top level (by a line-based check when it does not
    parse, so a response with a syntax error elsewhere still counts)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return re.search(rf"^(?:async[ \t]+)?def[ \t]+{re.escape(name)}[ \t]*\(", code, re.MULTILINE) is not None
    return any(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == name for n in tree.body)


def _tidy(code: str) -> str:
    """Drop leading blank lines and trailing whitespace, keep the first line's indentation (a body-only
    completion is indented)."""
    lines = code.rstrip().splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines) + "\n" if lines else ""


def _program_in_prose(text: str, entry_point: str | None) -> str | None:
    """The longest run of lines, starting at a ``def`` / ``import`` / … line, that parses as Python."""
    lines = text.splitlines()[:_MAX_SCAN_LINES]
    for start, line in enumerate(lines):
        if not _CODE_START.match(line):
            continue
        for end in range(len(lines), start, -1):
            chunk = "\n".join(lines[start:end])
            if _parses(chunk) and (entry_point is None or defines_function(chunk, entry_point)):
                return chunk
    return None


def extract_code(text: str, entry_point: str | None = None) -> str | None:
    """The Python program in a model response, or None when it holds none.

    In order: the last fenced Python (or untagged) block that defines ``entry_point``; else the last fenced
    Python block; else the last fenced block of any language; else the whole text when it parses as Python
    (also an indented, body-only completion); else the longest run of lines inside prose that parses (and
    defines ``entry_point`` when one is given).
    """
    blocks = [b for b in _fenced_blocks(text) if b.body.strip()]
    python = [b for b in blocks if b.lang in _PYTHON_TAGS]
    if entry_point is not None:
        defining = [b for b in python if defines_function(b.body, entry_point)]
        if defining:
            return _tidy(defining[-1].body)
    if python:
        return _tidy(python[-1].body)
    if blocks:
        return _tidy(blocks[-1].body)
    if not text.strip():
        return None
    if _parses(text) or _parses(textwrap.dedent(text)):
        return _tidy(text)
    found = _program_in_prose(text, entry_point)
    return _tidy(found) if found is not None else None


def _strip_main_guard(code: str) -> str:
    """Drop top-level ``if __name__ == "__main__":`` blocks: the official harness execs the program under
    another ``__name__``, so a response's demo code (which may call ``input()``) never runs there either."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return code
    lines = code.splitlines(keepends=True)
    drop: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "__name__" in ast.unparse(node.test) and "__main__" in ast.unparse(node.test):
            drop.update(range(node.lineno - 1, (node.end_lineno or node.lineno)))
    return "".join(line for i, line in enumerate(lines) if i not in drop)


def _preamble(prompt: str, entry_point: str) -> str:
    """The prompt up to the entry point's ``def``: its imports and helper functions."""
    m = re.search(rf"^(?:async[ \t]+)?def[ \t]+{re.escape(entry_point)}[ \t]*\(", prompt, re.MULTILINE)
    return prompt[: m.start()] if m else ""


def solution_program(prompt: str, completion_or_solution: str, entry_point: str) -> str:
    """The program that defines ``entry_point`` from a response's code.

    A full solution (it defines ``entry_point`` at top level) follows the prompt's preamble (imports and helper
    functions the solution may use without repeating them). A body-only completion follows the prompt itself,
    as the official harness does; one written without indentation is indented under the signature.
    """
    code = completion_or_solution
    if defines_function(code, entry_point):
        return _preamble(prompt, entry_point) + _strip_main_guard(code)
    program = prompt + code
    if not _parses(program) and code.strip() and not code.lstrip("\n")[:1].isspace():
        indented = textwrap.indent(code, "    ")
        if _parses(prompt + indented):
            return prompt + indented
    return program


def humaneval_program(prompt: str, completion_or_solution: str, test: str, entry_point: str) -> str:
    """The check program of the official HumanEval harness: ``prompt + completion + "\\n" + test +
    "\\ncheck(entry_point)\\n"``; a full solution takes the prompt's place (see ``solution_program``)."""
    return solution_program(prompt, completion_or_solution, entry_point) + "\n" + test + f"\ncheck({entry_point})\n"


@dataclass(frozen=True)
class CheckJob:
    """A sandbox job: ``code`` runs as ``main.py`` beside ``files``."""

    code: str
    files: dict[str, str]


# Runs as main.py. Mirrors evalplus.eval.unsafe_execute: the reference's outputs are the expected ones; float
# outputs compare with an absolute tolerance (atol, at least 1e-6 for floats) and rtol 1e-7 as np.allclose
# does, after checking type and length; find_zero is checked by |poly(xs, x)| <= atol. Pure Python, so the
# harness runs on a bare interpreter (the Docker image has no numpy). Inputs are deep-copied so a function
# that mutates its arguments cannot change what the other one sees.
_EVALPLUS_HARNESS = """\
import copy
import json
import math

ENTRY_POINT = {entry_point!r}
ATOL = {atol!r}


def load(path):
    namespace = {{"__name__": path[:-3]}}
    with open(path, encoding="utf-8") as fh:
        exec(compile(fh.read(), path, "exec"), namespace)
    return namespace[ENTRY_POINT]


def is_floats(x):
    if isinstance(x, float):
        return True
    if isinstance(x, (list, tuple)) and x:
        return all(isinstance(i, float) for i in x)
    return False


def close(out, exp, atol):
    if isinstance(exp, (list, tuple)):
        return isinstance(out, (list, tuple)) and len(out) == len(exp) and all(
            close(o, e, atol) for o, e in zip(out, exp)
        )
    if not isinstance(out, (int, float)) or not isinstance(exp, (int, float)):
        return False
    if math.isinf(out) or math.isinf(exp):
        return out == exp
    return abs(out - exp) <= atol + 1e-7 * abs(exp)


def poly(xs, x):
    return sum(coeff * math.pow(x, i) for i, coeff in enumerate(xs))


def matches(out, exp, inp):
    if ENTRY_POINT == "find_zero":
        return abs(poly(*inp, out)) <= ATOL
    if out == exp:
        return True
    atol = 1e-6 if ATOL == 0 and is_floats(exp) else ATOL
    if atol == 0 or type(out) is not type(exp):
        return False
    if isinstance(exp, (list, tuple)) and len(out) != len(exp):
        return False
    return close(out, exp, atol)


with open("inputs.json", encoding="utf-8") as fh:
    inputs = json.load(fh)
reference = load("reference.py")
expected = [reference(*copy.deepcopy(inp)) for inp in inputs]
candidate = load("solution.py")
for i, (inp, exp) in enumerate(zip(inputs, expected)):
    out = candidate(*copy.deepcopy(inp))
    if not matches(out, exp, inp):
        raise AssertionError(
            f"test {{i + 1}} of {{len(inputs)}}: {{ENTRY_POINT}}(*{{repr(inp)[:200]}}) returned {{repr(out)[:200]}}, "
            f"expected {{repr(exp)[:200]}}"
        )
print(f"passed {{len(inputs)}} tests")
"""


def evalplus_job(
    prompt: str,
    completion_or_solution: str,
    reference_solution: str,
    entry_point: str,
    inputs: list[list[Any]],
    atol: float,
) -> CheckJob:
    """The HumanEval+ check as the EvalPlus harness does it: run the reference (``prompt + canonical_solution``)
    and the candidate on every input (base then extra), and require every output to match. Unlike EvalPlus
    there is no per-input time limit derived from the reference's speed; the job's timeout bounds the whole."""
    return CheckJob(
        code=_EVALPLUS_HARNESS.format(entry_point=entry_point, atol=atol),
        files={
            "solution.py": solution_program(prompt, completion_or_solution, entry_point),
            "reference.py": prompt + reference_solution,
            "inputs.json": json.dumps(inputs),
        },
    )


def normalize_code(code: str) -> str:
    """A canonical form for comparing programs: the AST unparsed, without comments, docstrings or formatting;
    for code that does not parse, its lines with whitespace collapsed."""
    try:
        tree = ast.parse(textwrap.dedent(code))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return "\n".join(" ".join(line.split()) for line in code.splitlines() if line.strip())
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return ast.unparse(tree)
