"""HumanEval (and HumanEval+): write a Python function from its signature and docstring; scored by executing
its unit tests in a sandbox."""

from __future__ import annotations

import ast
import gzip
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collabgraph.errors import CollabgraphError
from collabgraph.sandbox import ExecLimits, ExecResult, Sandbox, available_sandbox
from collabgraph.tasks.code import evalplus_job, extract_code, humaneval_program, normalize_code, solution_program
from collabgraph.tasks.data import data_file
from collabgraph.tasks.types import AnswerFormat, Example, Message, Score, Split

__all__ = ["HumanEvalTask"]

_BASE_FILE = "humaneval/HumanEval.jsonl.gz"
_PLUS_FILE = "humaneval/HumanEvalPlus.jsonl.gz"
_BASE_TIMEOUT_S = 10.0
_PLUS_TIMEOUT_S = 60.0
"""HumanEval+ runs up to 1,000 inputs through both the reference and the candidate; EvalPlus caps a task at 60 s."""
_DETAIL_CHARS = 300

_INSTRUCTIONS = (
    "Complete the following Python function. Reply with the complete function (its signature, the imports it "
    "needs and its body) in a single ```python code block.\n\n```python\n{prompt}```"
)


@dataclass(frozen=True)
class _PlusTests:
    """HumanEval+'s differential tests of one problem: base then extra inputs, checked against the reference."""

    reference: str
    inputs: list[list[Any]]
    atol: float


class HumanEvalTask:
    """The 164 HumanEval problems (OpenAI, 2021), one ``test`` split.

    The gold answer is the complete canonical function (``prompt + canonical_solution``); ``meta`` holds
    ``prompt``, ``entry_point`` and ``test`` (the official ``check`` function). ``score`` runs the response's
    function against the tests in ``sandbox`` (default: ``available_sandbox("auto")``) and counts it correct
    when every test passes within ``timeout_s``.

    With ``plus=True`` the problems and tests are HumanEval+ (EvalPlus): the fixed canonical solutions, and a
    function passes when its output equals the reference's on every base and extra input (floats within the
    problem's ``atol``), as the EvalPlus harness decides; the default timeout is then 60 s.
    """

    name = "humaneval"
    answer_format: AnswerFormat = "code"

    def __init__(
        self,
        data_dir: str | Path | None = None,
        *,
        plus: bool = False,
        sandbox: Sandbox | None = None,
        timeout_s: float | None = None,
        memory_mb: int = 512,
    ) -> None:
        self.plus = plus
        self.timeout_s = timeout_s if timeout_s is not None else (_PLUS_TIMEOUT_S if plus else _BASE_TIMEOUT_S)
        self.limits = ExecLimits(timeout_s=self.timeout_s, memory_mb=memory_mb)
        self.sandbox = sandbox if sandbox is not None else available_sandbox("auto")
        path = data_file(_PLUS_FILE if plus else _BASE_FILE, data_dir)
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
        self._examples = [_example(row) for row in rows]
        self._plus: dict[str, _PlusTests] = (
            {
                row["task_id"]: _PlusTests(
                    reference=row["prompt"] + row["canonical_solution"],
                    inputs=row["base_input"] + row["plus_input"],
                    atol=float(row["atol"]),
                )
                for row in rows
            }
            if plus
            else {}
        )

    def examples(self, split: Split = "test", limit: int | None = None, seed: int = 0) -> list[Example]:
        """The problems in an order shuffled by ``seed``; ``limit`` takes the first ``limit`` of that order."""
        if split != "test":
            raise CollabgraphError(f"task humaneval has no split {split!r}; valid splits: test")
        if limit is not None and limit < 0:
            raise CollabgraphError(f"task humaneval: limit must be 0 or more, got {limit}")
        order = list(self._examples)
        random.Random(seed).shuffle(order)
        return order if limit is None else order[:limit]

    def prompt(self, example: Example) -> list[Message]:
        """One user message: the function stub, asking for the complete function in a ```python block."""
        return [Message(role="user", content=_INSTRUCTIONS.format(prompt=example.meta["prompt"]))]

    def extract(self, text: str, example: Example) -> str | None:
        """The program in the response (see ``extract_code``)."""
        return extract_code(text, example.meta["entry_point"])

    def same(self, a: str, b: str, example: Example) -> bool:
        """Whether two programs are the same up to formatting, comments and docstrings."""
        return normalize_code(a) == normalize_code(b)

    async def score(self, text: str, example: Example) -> Score:
        """Run the response's function against the problem's tests; ``detail`` says why it failed."""
        code = self.extract(text, example)
        if code is None:
            return Score(correct=False, extracted=None, detail="no code found in the response")
        meta = example.meta
        syntax = _syntax_error(solution_program(meta["prompt"], code, meta["entry_point"]))
        if syntax is not None:
            return Score(correct=False, extracted=code, detail=syntax)
        if self.plus:
            tests = self._plus.get(example.id)
            if tests is None:
                raise CollabgraphError(
                    f"task humaneval+ has no problem {example.id!r}; expected an id like HumanEval/0"
                )
            job = evalplus_job(meta["prompt"], code, tests.reference, meta["entry_point"], tests.inputs, tests.atol)
            result = await self.sandbox.exec(code=job.code, files=job.files, limits=self.limits)
        else:
            program = humaneval_program(meta["prompt"], code, meta["test"], meta["entry_point"])
            result = await self.sandbox.exec(code=program, limits=self.limits)
        return Score(correct=result.ok, extracted=code, detail=_verdict(result, self.timeout_s))


def _example(row: dict[str, Any]) -> Example:
    return Example(
        id=row["task_id"],
        task="humaneval",
        question=row["prompt"],
        answer=row["prompt"] + row["canonical_solution"],
        answer_format="code",
        meta={"prompt": row["prompt"], "entry_point": row["entry_point"], "test": row["test"]},
    )


def _syntax_error(program: str) -> str | None:
    """Checked before running anything: a program that does not compile fails without a subprocess."""
    try:
        ast.parse(program)
    except SyntaxError as exc:
        return f"syntax error: {exc.msg} (line {exc.lineno})"
    except (ValueError, RecursionError, MemoryError) as exc:
        return f"syntax error: {type(exc).__name__}: {exc}"[:_DETAIL_CHARS]
    return None


def _verdict(result: ExecResult, timeout_s: float) -> str:
    if result.ok:
        return "passed"
    if result.timed_out:
        return f"timed out after {timeout_s:g} s"
    if result.oom_killed:
        return "out of memory"
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    last = lines[-1].strip() if lines else f"exit code {result.exit_code}"
    if last.startswith("AssertionError"):
        message = last.removeprefix("AssertionError").lstrip(": ")
        return ("assertion failed" + (f": {message}" if message else ""))[:_DETAIL_CHARS]
    return f"failed: {last}"[:_DETAIL_CHARS]
