"""``verify``: execute a check on every sample of a target node in the sandbox; calls no model.

- ``unit_tests`` (code tasks): the task's own tests, as ``task.score`` runs them (HumanEval: the problem's
  ``check`` function), each sample bounded by ``timeout_s``.
- ``pot``: re-run the program in each sample and compare what it prints with the answer the sample states.
- ``patch`` (SWE repair): apply each sample's diff to the repository and run its tests, as ``task.score`` does
  (swe_mini: FAIL_TO_PASS and PASS_TO_PASS); ``feedback`` is the test output of the first sample, for a
  ``patch`` node's next attempt in the repair loop.

``data['checks']`` holds one entry per sample: ``node_id``, ``sample``, ``passed``, ``score`` (1.0 or 0.0)
and ``detail``; ``select`` with ``by: verifier`` reads it. The output passes the target's texts and answers
through, with ``answer`` the first passing sample's (else the target's own) and ``passed`` whether any
sample passed.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Literal

from collabgraph.agents.programs import run_programs
from collabgraph.agents.run import NodeRun
from collabgraph.agents.samples import Sample, samples_of
from collabgraph.agents.types import NodeContext, NodeOutput
from collabgraph.errors import CollabgraphError

__all__ = ["VERIFY_CHECKS", "verify"]

Check = Literal["unit_tests", "pot", "patch"]
VERIFY_CHECKS: tuple[str, ...] = ("unit_tests", "pot", "patch")
"""The checks this version runs."""


async def _unit_tests(run: NodeRun, samples: list[Sample], timeout_s: float) -> list[tuple[bool, str]]:
    task, example = run.ctx.task, run.ctx.example

    async def one(sample: Sample) -> tuple[bool, str]:
        try:
            score = await asyncio.wait_for(task.score(sample.text, example), timeout_s)
        except TimeoutError:
            return False, f"timed out after {timeout_s:g} s"
        return score.correct, score.detail or ("passed" if score.correct else "failed")

    started = time.perf_counter()
    results = await asyncio.gather(*(one(s) for s in samples))
    run.executed("unit_tests", [detail for _, detail in results], time.perf_counter() - started)
    return list(results)


async def _pot(run: NodeRun, samples: list[Sample], timeout_s: float) -> list[tuple[bool, str]]:
    task, example = run.ctx.task, run.ctx.example
    runs = await run_programs(run, [s.text for s in samples], timeout_s=timeout_s, role="pot_check")
    out: list[tuple[bool, str]] = []
    for sample, ran in zip(samples, runs, strict=True):
        if ran.answer is None:
            out.append((False, ran.detail))
        elif sample.answer is None:
            out.append((False, f"the program printed {ran.answer} but the sample states no answer"))
        elif task.same(ran.answer, sample.answer, example):
            out.append((True, f"the program prints the stated answer {sample.answer}"))
        else:
            out.append((False, f"the program prints {ran.answer}, the sample states {sample.answer}"))
    return out


async def verify(ctx: NodeContext, *, check: Check, target: NodeOutput, timeout_s: float = 10.0) -> NodeOutput:
    """Check every sample of ``target``; see the module docstring."""
    if check not in VERIFY_CHECKS:
        raise CollabgraphError(
            f"node {ctx.node_id!r}: unknown verify check {check!r}; checks available: {', '.join(VERIFY_CHECKS)}"
        )
    is_code = ctx.example.answer_format == "code"
    if check == "patch" and "fail_to_pass" not in ctx.example.meta:
        raise CollabgraphError(
            f"node {ctx.node_id!r}: check 'patch' applies diffs and runs a repository's tests, but task "
            f"{ctx.task.name!r} is not a repair task (swe_mini is); use check "
            f"{'unit_tests' if is_code else 'pot'}"
        )
    if check == "unit_tests" and not is_code:
        raise CollabgraphError(
            f"node {ctx.node_id!r}: check 'unit_tests' runs a code task's tests, but task {ctx.task.name!r} "
            "answers in prose; use check 'pot' to re-run program-of-thought answers"
        )
    if check == "pot" and is_code:
        raise CollabgraphError(
            f"node {ctx.node_id!r}: check 'pot' re-runs programs that print an answer, but task "
            f"{ctx.task.name!r} answers with code; use check 'unit_tests'"
        )
    run = NodeRun(ctx, "verify")
    if target.error is not None:
        return run.failure(f"verify: target {target.node_id!r} failed: {target.error}")
    samples = samples_of([target])
    if not samples:
        return run.failure(f"verify: target {target.node_id!r} has no text to check")
    # Applying a diff and running the tests is what the repair task's score does, as for unit tests.
    results = await (_pot if check == "pot" else _unit_tests)(run, samples, timeout_s)
    checks: list[dict[str, Any]] = [
        {"node_id": s.node_id, "sample": s.index, "passed": ok, "score": 1.0 if ok else 0.0, "detail": detail}
        for s, (ok, detail) in zip(samples, results, strict=True)
    ]
    passing = [s for s, (ok, _) in zip(samples, results, strict=True) if ok]
    answer = passing[0].answer if passing else target.answer
    return run.output(
        texts=list(target.texts),
        answers=list(target.answers),
        answer=answer,
        passed=bool(passing),
        feedback=results[0][1] if check == "patch" else None,
        data={"check": check, "target": target.node_id, "checks": checks},
    )
