"""swe_mini bug injection: each mutation kind, exact one-line edits, and gold patches that git applies."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collabgraph.tasks.swe.jobs import parse_summary
from collabgraph.tasks.swe.mutate import apply_mutation, find_mutations, unified_diff

MODULE = '''"""A module."""
LIMIT = 3


def clamp(x, low):
    if x < low:
        return low
    return x + 1


class Box:
    def ok(self, a, b):
        return a and b

    def outer(self):
        def inner(n):
            return n - 2
        return inner
'''


def edits(text: str) -> dict[tuple[str, str, str], str]:
    return {(m.function, m.kind, m.original): m.replacement for m in find_mutations("m.py", text)}


def test_each_kind_is_found_with_its_function() -> None:
    found = edits(MODULE)
    assert found[("clamp", "flip comparison", "<")] == "<="
    assert found[("clamp", "negate condition", "x < low")] == "not (x < low)"
    assert found[("clamp", "swap + and -", "+")] == "-"
    assert found[("clamp", "off-by-one constant", "1")] == "2"
    assert found[("clamp", "drop return value", "x + 1")] == "None"
    assert found[("Box.ok", "swap and/or", "and")] == "or"
    assert found[("Box.outer.inner", "swap + and -", "-")] == "+"
    assert found[("Box.outer.inner", "off-by-one constant", "2")] == "1"


def test_module_level_code_and_nested_bodies_are_not_counted_twice() -> None:
    mutations = find_mutations("m.py", MODULE)
    assert all(m.line != 2 for m in mutations), "LIMIT = 3 is not in a function"
    keys = [(m.line, m.start, m.kind) for m in mutations]
    assert len(keys) == len(set(keys))
    assert {m.function for m in mutations if m.line == 17} == {"Box.outer.inner"}


def test_negating_a_not_drops_it() -> None:
    found = edits("def f(x):\n    while not x.done():\n        x.step()\n")
    assert found[("f", "negate condition", "not x.done()")] == "x.done()"


def test_columns_count_characters_after_non_ascii_text() -> None:
    text = 'def f(a):\n    return "é" if a <= 2 else "ü"\n'
    (flip,) = [m for m in find_mutations("m.py", text) if m.kind == "flip comparison"]
    assert apply_mutation(text, flip) == 'def f(a):\n    return "é" if a < 2 else "ü"\n'


def test_a_mutation_that_does_not_match_the_text_is_refused() -> None:
    (flip,) = [m for m in find_mutations("m.py", MODULE) if m.kind == "flip comparison"]
    with pytest.raises(ValueError, match=r"m.py:6: expected '<' at"):
        apply_mutation(MODULE.replace("x < low", "x > low"), flip)


@settings(max_examples=40, deadline=None)
@given(op=st.sampled_from(["<", "<=", ">", ">=", "==", "!=", "is", "is not", "in", "not in", "+", "-"]))
def test_every_edit_changes_one_line_and_reverses_exactly(op: str) -> None:
    text = f"def f(a, b):\n    return (a {op} b)\n"
    mutations = find_mutations("m.py", text)
    assert mutations
    for mutation in mutations:
        buggy = apply_mutation(text, mutation)
        ast.parse(buggy)
        changed = [i for i, (x, y) in enumerate(zip(text.splitlines(), buggy.splitlines(), strict=True)) if x != y]
        assert changed == [mutation.line - 1]
        lines = buggy.splitlines(keepends=True)
        line = lines[mutation.line - 1]
        assert line[mutation.start : mutation.start + len(mutation.replacement)] == mutation.replacement
        lines[mutation.line - 1] = (
            line[: mutation.start] + mutation.original + line[mutation.start + len(mutation.replacement) :]
        )
        assert "".join(lines) == text


def test_gold_diff_applies_with_git_and_restores_the_file(tmp_path: Path) -> None:
    (flip,) = [m for m in find_mutations("pkg/m.py", MODULE) if m.kind == "flip comparison"]
    buggy = apply_mutation(MODULE, flip)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text(buggy)
    (tmp_path / "fix.patch").write_text(unified_diff("pkg/m.py", buggy, MODULE))
    subprocess.run(["git", "apply", "fix.patch"], cwd=tmp_path, check=True, capture_output=True)
    assert (tmp_path / "pkg" / "m.py").read_text() == MODULE


def test_pytest_summary_is_parsed_per_test() -> None:
    output = (
        "PASSED tests/test_a.py::test_one\n"
        "FAILED tests/test_a.py::test_two[x-1] - AssertionError: assert 1 == 2\n"
        "FAILED tests/test_b.py::T::test_three\n"
        "ERROR tests/test_c.py::test_four - fixture 'db' not found\n"
        "1 passed, 2 failed, 1 error in 0.1s\n"
    )
    run = parse_summary(output)
    assert run.passed == ("tests/test_a.py::test_one",)
    assert run.failed == {
        "tests/test_a.py::test_two[x-1]": "AssertionError: assert 1 == 2",
        "tests/test_b.py::T::test_three": "",
    }
    assert run.errors == ("tests/test_c.py::test_four",)
