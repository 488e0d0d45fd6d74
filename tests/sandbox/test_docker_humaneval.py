"""HumanEval scored through DockerSandbox: canonical solutions pass, wrong ones fail for real."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from docker_helpers import close_and_check

from collabgraph.sandbox import DockerSandbox
from collabgraph.tasks.humaneval import HumanEvalTask

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def sandbox() -> Iterator[DockerSandbox]:
    box = DockerSandbox(pool_size=2)
    yield box
    close_and_check(box)


def _fenced(code: str) -> str:
    return f"```python\n{code}```"


async def test_canonical_solutions_pass(sandbox: DockerSandbox) -> None:
    task = HumanEvalTask(sandbox=sandbox)
    examples = task.examples(limit=20, seed=7)
    scores = await asyncio.gather(*(task.score(_fenced(ex.answer), ex) for ex in examples))
    failed = {ex.id: s.detail for ex, s in zip(examples, scores, strict=True) if not s.correct}
    assert failed == {}


async def test_a_wrong_solution_fails_its_tests(sandbox: DockerSandbox) -> None:
    task = HumanEvalTask(sandbox=sandbox)
    example = next(ex for ex in task.examples() if ex.id == "HumanEval/0")
    wrong = example.meta["prompt"] + "    return not any(abs(a - b) < threshold for a in numbers for b in numbers)\n"
    score = await task.score(_fenced(wrong), example)
    assert not score.correct and score.detail.startswith("assertion failed")


async def test_a_hanging_solution_times_out(sandbox: DockerSandbox) -> None:
    task = HumanEvalTask(sandbox=sandbox, timeout_s=1.0)
    example = next(ex for ex in task.examples() if ex.id == "HumanEval/0")
    hang = example.meta["prompt"] + "    while True:\n        pass\n"
    score = await task.score(_fenced(hang), example)
    assert not score.correct and score.detail == "timed out after 1 s"


async def test_humaneval_plus_runs_its_differential_tests(sandbox: DockerSandbox) -> None:
    task = HumanEvalTask(plus=True, sandbox=sandbox)
    examples = task.examples(limit=3, seed=1)
    scores = await asyncio.gather(*(task.score(_fenced(ex.answer), ex) for ex in examples))
    assert all(s.correct for s in scores), [s.detail for s in scores]
