"""``select``: pick one candidate sample, by an LLM judge or by a verifier's checks.

- ``by='judge'``: the judge sees the numbered candidates (template ``prompts/select.txt``) and names one with
  ``SELECTED: N`` (``parse_selection`` also reads "I choose candidate N" and the like). When it names none
  but states a final answer that exactly one candidate class gives, that candidate is taken. Otherwise one
  retry, then the node fails.
- ``by='verifier'``: no model; the candidate whose check in the verify node's ``data['checks']`` scored best
  (passed before failed), the first in input order on a tie. Candidates the verifier did not check are not
  eligible; if it checked none, the node fails.

The output is the chosen sample (its text and answer); ``data`` says which and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from collabgraph.agents.fuse import no_candidates
from collabgraph.agents.meta import offline_meta
from collabgraph.agents.parsing import parse_selection
from collabgraph.agents.run import Malformed, NodeRun
from collabgraph.agents.samples import Sample, numbered, offline_candidates, samples_of
from collabgraph.agents.templates import user_message
from collabgraph.agents.types import NodeContext, NodeOutput
from collabgraph.errors import CollabgraphError
from collabgraph.models.types import Completion
from collabgraph.tasks.types import Example, Task

__all__ = ["select"]

SelectBy = Literal["judge", "verifier"]


def _chosen(run: NodeRun, sample: Sample, data: dict[str, object]) -> NodeOutput:
    return run.output(
        texts=[sample.text],
        answers=[sample.answer],
        answer=sample.answer,
        data={"selected": f"{sample.node_id}[{sample.index}]", **data},
    )


def _by_answer(task: Task, example: Example, text: str, shown: Sequence[Sample]) -> int | None:
    """The candidate whose answer the judge stated, when the judge named no number and exactly one class of
    equivalent candidate answers matches."""
    stated = task.extract(text, example)
    if stated is None:
        return None
    hits = [i for i, s in enumerate(shown) if s.answer is not None and task.same(stated, s.answer, example)]
    if not hits:
        return None
    first = shown[hits[0]].answer
    assert first is not None
    if all(task.same(first, s.answer, example) for s in (shown[i] for i in hits) if s.answer is not None):
        return hits[0]
    return None


async def select(
    ctx: NodeContext,
    *,
    candidates: Sequence[NodeOutput],
    by: SelectBy = "judge",
    model: str | None = None,
    verifier: NodeOutput | None = None,
    temperature: float = 0.0,
    max_tokens: int | None = None,
    prompt: str | None = None,
) -> NodeOutput:
    """Pick one sample of ``candidates``; see the module docstring."""
    run = NodeRun(ctx, "select")
    shown = samples_of(candidates)
    if not shown:
        return run.failure(no_candidates("select", candidates))
    if by == "verifier":
        if verifier is None:
            raise CollabgraphError(f"node {ctx.node_id!r}: select by 'verifier' needs the verify node's output")
        return _by_verifier(run, shown, verifier)
    if by != "judge":
        raise CollabgraphError(f"node {ctx.node_id!r}: select by must be 'judge' or 'verifier', got {by!r}")
    if model is None:
        raise CollabgraphError(f"node {ctx.node_id!r}: select by 'judge' needs a model")
    task, example = ctx.task, ctx.example
    messages = user_message("select", prompt, task, example, candidates=numbered(shown), count=len(shown))

    async def parse(completions: list[Completion]) -> tuple[int, str]:
        text = completions[0].text
        index = parse_selection(text, len(shown))
        how = "named"
        if index is None:
            index, how = _by_answer(task, example, text, shown), "answer"
        if index is None:
            raise Malformed(f"no selection (expected a line 'SELECTED: N' with N from 1 to {len(shown)})")
        return index, how

    async def body() -> NodeOutput:
        meta = offline_meta(task, example, "select", await offline_candidates(task, example, shown))
        index, how = await run.ask(
            model=model,
            messages=messages,
            meta=meta,
            parse=parse,
            temperature=temperature,
            max_tokens=max_tokens,
        )
        return _chosen(run, shown[index], {"by": "judge", "how": how, "judgement": run.trace[-1].texts[0]})

    return await run.guarded(body)


def _by_verifier(run: NodeRun, shown: Sequence[Sample], verifier: NodeOutput) -> NodeOutput:
    if verifier.error is not None:
        return run.failure(f"select: verifier {verifier.node_id!r} failed: {verifier.error}")
    checks = verifier.data.get("checks", [])
    scores: dict[tuple[str, int], float] = {
        (str(c["node_id"]), int(c["sample"])): float(c["score"]) for c in checks if c.get("score") is not None
    }
    best: tuple[float, Sample] | None = None
    for sample in shown:
        score = scores.get((sample.node_id, sample.index))
        if score is not None and (best is None or score > best[0]):
            best = (score, sample)
    if best is None:
        checked = sorted({f"{n}[{i}]" for n, i in scores})
        return run.failure(
            f"select: verifier {verifier.node_id!r} checked none of the candidates "
            f"(it checked {', '.join(checked) or 'nothing'}; candidates come from "
            f"{', '.join(sorted({s.node_id for s in shown}))})"
        )
    return _chosen(run, best[1], {"by": "verifier", "score": best[0], "verifier": verifier.node_id})
