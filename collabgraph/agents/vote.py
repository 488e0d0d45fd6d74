"""``vote``: majority or weighted vote over the answers extracted from its inputs (every sample of every
input node); calls no model. See ``voting`` for the rules (task-aware equivalence, deterministic ties, the
agreement filter).

The output's ``answer`` is the winning answer; its one text is the winning class's first sample, so a node
reading the vote sees a worked solution; ``data['votes']`` lists every class with its score and members.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from collabgraph.agents.fuse import no_candidates
from collabgraph.agents.run import NodeRun
from collabgraph.agents.samples import samples_of
from collabgraph.agents.types import NodeContext, NodeOutput
from collabgraph.agents.voting import tally
from collabgraph.errors import CollabgraphError

__all__ = ["vote"]

VoteMethod = Literal["majority", "weighted"]


async def vote(
    ctx: NodeContext,
    *,
    candidates: Sequence[NodeOutput],
    method: VoteMethod = "majority",
    weights: Mapping[str, float] | None = None,
    require_agreement: bool = False,
) -> NodeOutput:
    """Vote over ``candidates``; ``weights`` (node id → weight, default 1) apply with ``method='weighted'``."""
    if method not in ("majority", "weighted"):
        raise CollabgraphError(f"node {ctx.node_id!r}: vote method must be 'majority' or 'weighted', got {method!r}")
    bad = {k: w for k, w in (weights or {}).items() if not w > 0}
    if bad:
        raise CollabgraphError(f"node {ctx.node_id!r}: vote weights must be positive, got {bad}")
    run = NodeRun(ctx, "vote")
    ballots = samples_of(candidates)
    task, example = ctx.task, ctx.example
    result = tally(
        ballots,
        lambda a, b: task.same(a, b, example),
        weights=weights if method == "weighted" else None,
        require_agreement=require_agreement,
    )
    if result.winner is None:
        if not ballots:
            return run.failure(no_candidates("vote", candidates))
        return run.failure(f"vote: none of the {len(ballots)} candidate samples states an answer")
    first = ballots[result.winner.members[0]]
    data: dict[str, object] = {
        "method": method,
        "votes": [
            {
                "answer": cls.answer,
                "score": cls.score,
                "members": [f"{ballots[i].node_id}[{ballots[i].index}]" for i in cls.members],
            }
            for cls in result.classes
        ],
    }
    if result.agreement is not None:
        data["agreement"] = result.agreement
    return run.output(texts=[first.text], answers=[first.answer], answer=result.winner.answer, data=data)
