"""Program-of-thought execution: run the program in a response in the sandbox and read back its answer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from collabgraph.agents.parsing import printed_answer
from collabgraph.agents.run import NodeRun
from collabgraph.sandbox import ExecLimits, Sandbox, available_sandbox
from collabgraph.tasks.code import extract_code
from collabgraph.tasks.extract import format_answer
from collabgraph.tasks.types import Example, Task

__all__ = ["POT_TIMEOUT_S", "ProgramRun", "run_programs", "sandbox_of"]

POT_TIMEOUT_S = 10.0
"""Wall-clock limit of one program-of-thought program (a grade-school computation takes milliseconds)."""

_STDERR_CHARS = 300


@dataclass(frozen=True)
class ProgramRun:
    """What running the program in one response gave: the answer it printed, as the task extracts it from the
    answer stated in the task's format (``statement``), or None with ``detail`` saying why."""

    answer: str | None
    statement: str
    detail: str


@cache
def _default_sandbox() -> Sandbox:
    return available_sandbox("auto")


def sandbox_of(sandbox: object) -> Sandbox:
    """The node context's sandbox, or the process's default one (``available_sandbox()``)."""
    return _default_sandbox() if sandbox is None else sandbox  # type: ignore[return-value]


async def _run_one(sandbox: Sandbox, task: Task, example: Example, text: str, limits: ExecLimits) -> ProgramRun:
    program = extract_code(text)
    if program is None:
        return ProgramRun(None, "The response holds no program.", "no program")
    result = await sandbox.exec(code=program, limits=limits)
    if result.timed_out:
        return ProgramRun(None, f"The program timed out after {limits.timeout_s:g} s.", "timed out")
    if not result.ok:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        why = (lines[-1].strip() if lines else f"exit code {result.exit_code}")[:_STDERR_CHARS]
        return ProgramRun(None, f"The program failed: {why}", f"failed: {why}")
    printed = printed_answer(result.stdout)
    if printed is None:
        return ProgramRun(None, "The program printed nothing.", "printed nothing")
    statement = format_answer(example.answer_format, printed)
    answer = task.extract(statement, example)
    return ProgramRun(answer, f"The program printed: {printed}\n{statement}", "ran")


async def run_programs(
    run: NodeRun, texts: Sequence[str], *, timeout_s: float = POT_TIMEOUT_S, role: str = "execute"
) -> list[ProgramRun]:
    """Run the program of every response in parallel in the node's sandbox; traced as one step whose latency
    is the wall time of the slowest."""
    ctx = run.ctx
    sandbox = sandbox_of(ctx.sandbox)
    limits = ExecLimits(timeout_s=timeout_s)
    started = time.perf_counter()
    runs = await asyncio.gather(*(_run_one(sandbox, ctx.task, ctx.example, t, limits) for t in texts))
    run.executed(role, [r.statement for r in runs], time.perf_counter() - started)
    return list(runs)
