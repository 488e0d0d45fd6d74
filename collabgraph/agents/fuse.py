"""``fuse``: read several candidates and write one answer (Agent-REINFORCE's fuser; template
``prompts/fuse.txt``).

Every sample of every input that did not fail is shown, numbered. No answer in the fused solution → one
retry, then the node fails; no candidate at all → the node fails without calling.
"""

from __future__ import annotations

from collections.abc import Sequence

from collabgraph.agents.meta import offline_meta
from collabgraph.agents.run import Malformed, NodeRun
from collabgraph.agents.samples import numbered, offline_candidates, samples_of
from collabgraph.agents.templates import user_message
from collabgraph.agents.types import NodeContext, NodeOutput
from collabgraph.models.types import Completion

__all__ = ["fuse", "no_candidates"]


def no_candidates(kind: str, candidates: Sequence[NodeOutput]) -> str:
    """The failure message of a reading kind whose inputs all failed or are empty."""
    failed = [f"{c.node_id}: {c.error}" for c in candidates if c.error is not None]
    detail = f" ({'; '.join(failed)})" if failed else ""
    return f"{kind}: no candidate to read: every input failed or is empty{detail}"


async def fuse(
    ctx: NodeContext,
    *,
    model: str,
    candidates: Sequence[NodeOutput],
    temperature: float = 0.0,
    max_tokens: int | None = None,
    prompt: str | None = None,
) -> NodeOutput:
    """Write one answer from ``candidates``; see the module docstring."""
    run = NodeRun(ctx, "fuse")
    shown = samples_of(candidates)
    if not shown:
        return run.failure(no_candidates("fuse", candidates))
    task, example = ctx.task, ctx.example
    messages = user_message("fuse", prompt, task, example, candidates=numbered(shown), count=len(shown))

    async def parse(completions: list[Completion]) -> tuple[str, str]:
        text = completions[0].text
        answer = task.extract(text, example)
        if answer is None:
            raise Malformed("the fused solution states no final answer")
        return text, answer

    async def body() -> NodeOutput:
        meta = offline_meta(task, example, "fuse", await offline_candidates(task, example, shown))
        text, answer = await run.ask(
            model=model,
            messages=messages,
            meta=meta,
            parse=parse,
            temperature=temperature,
            max_tokens=max_tokens,
        )
        return run.output(
            texts=[text], answers=[answer], answer=answer, data={"read": [f"{s.node_id}[{s.index}]" for s in shown]}
        )

    return await run.guarded(body)
