"""``join``: collect parallel branches (a spawn's children, or parallel nodes) with a strategy; no model call.

- ``all``: every sample of every branch that did not fail; ``answer`` is the first branch's answer.
- ``first``: the first branch, in branch order, that succeeded with an answer.
- ``vote``: majority over every branch's answers (see ``voting``).
- ``results_only`` (APR): only each branch's final answer, stated in the task's format (``texts`` are those
  statements, not the branches' reasoning), one per branch that has one; ``answer`` is the first.

Branch order is the order of ``children`` (the runtime passes them in branch order, never finishing order).
Failed branches are listed in ``data['failed']`` (branch index, node id, error); when every branch failed, so does the join.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from collabgraph.agents.run import NodeRun
from collabgraph.agents.samples import samples_of
from collabgraph.agents.types import NodeContext, NodeOutput
from collabgraph.agents.vote import vote
from collabgraph.errors import CollabgraphError
from collabgraph.tasks.extract import format_answer

__all__ = ["JOIN_STRATEGIES", "join"]

JoinStrategy = Literal["all", "first", "vote", "results_only"]
JOIN_STRATEGIES: tuple[str, ...] = ("all", "first", "vote", "results_only")


async def join(ctx: NodeContext, *, children: Sequence[NodeOutput], strategy: JoinStrategy = "all") -> NodeOutput:
    """Collect ``children`` with ``strategy``; see the module docstring."""
    if strategy not in JOIN_STRATEGIES:
        raise CollabgraphError(
            f"node {ctx.node_id!r}: unknown join strategy {strategy!r}; expected one of {', '.join(JOIN_STRATEGIES)}"
        )
    run = NodeRun(ctx, "join")
    failed = [
        {"branch": i, "node_id": c.node_id, "error": c.error} for i, c in enumerate(children) if c.error is not None
    ]
    ok = [c for c in children if c.error is None]
    base: dict[str, object] = {"strategy": strategy, "branches": len(children)}
    if failed:
        base["failed"] = failed
    if not ok:
        detail = "; ".join(f"{f['node_id']}: {f['error']}" for f in failed) or "no branches"
        return run.failure(f"join: every branch failed ({detail})")
    if strategy == "vote":
        voted = await vote(ctx, candidates=ok)
        return voted.model_copy(update={"kind": "join", "data": {**base, **voted.data}})
    if strategy == "first":
        chosen = next((c for c in ok if c.answer is not None), None)
        if chosen is None:
            return run.failure("join: no branch gave an answer")
        return run.output(
            texts=list(chosen.texts),
            answers=list(chosen.answers),
            answer=chosen.answer,
            data={**base, "chosen": chosen.node_id},
        )
    if strategy == "results_only":
        results = [(c.node_id, c.answer) for c in ok if c.answer is not None]
        if not results:
            return run.failure("join: no branch gave an answer")
        fmt = ctx.example.answer_format
        return run.output(
            texts=[format_answer(fmt, a) for _, a in results],
            answers=[a for _, a in results],
            answer=results[0][1],
            data={**base, "from": [n for n, _ in results]},
        )
    samples = samples_of(ok)
    answer = next((c.answer for c in ok if c.answer is not None), None)
    return run.output(texts=[s.text for s in samples], answers=[s.answer for s in samples], answer=answer, data=base)
