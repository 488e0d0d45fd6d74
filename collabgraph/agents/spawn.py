"""``spawn``: decide the branches of a fan-out; the graph runtime then runs the child once per branch.

- ``mode='replicas'``: ``width`` copies of the same input; no model call.
- ``mode='planned'`` (APR-style): a planner model splits the work into subtasks (template ``prompts/plan.txt``,
  parsed by ``parse_plan``); each child then runs with its subtask (``NodeContext.subtask``; for a generate
  child, ``solve_subtask``). A plan asks for at most ``MAX_PLANNED_SUBTASKS`` distinct subtasks; a wider spawn,
  or a plan that lists fewer than asked, hands them out round-robin, so ``subtasks`` always has ``width``
  entries (budgets are estimated from the width). A plan that lists nothing is retried once, then the node
  fails.
"""

from __future__ import annotations

from typing import Literal

from collabgraph.agents.meta import offline_meta
from collabgraph.agents.parsing import parse_plan
from collabgraph.agents.run import Malformed, NodeRun
from collabgraph.agents.templates import user_message
from collabgraph.agents.types import NodeContext, NodeOutput
from collabgraph.errors import CollabgraphError
from collabgraph.models.types import Completion

__all__ = ["MAX_PLANNED_SUBTASKS", "plan", "spawn"]

MAX_PLANNED_SUBTASKS = 5
"""Most distinct subtasks one plan is asked for: beyond a handful, planners repeat themselves."""

SpawnMode = Literal["replicas", "planned"]


async def plan(
    ctx: NodeContext,
    *,
    model: str,
    width: int,
    temperature: float = 0.0,
    max_tokens: int | None = None,
    prompt: str | None = None,
) -> NodeOutput:
    """Plan ``width`` subtasks (``NodeOutput.subtasks``, exactly ``width`` of them); see the module docstring."""
    if width < 1:
        raise CollabgraphError(f"node {ctx.node_id!r}: width must be at least 1, got {width}")
    run = NodeRun(ctx, "spawn")
    asked = min(width, MAX_PLANNED_SUBTASKS)
    task, example = ctx.task, ctx.example
    messages = user_message("plan", prompt, task, example, width=asked)

    async def parse(completions: list[Completion]) -> tuple[str, list[str]]:
        text = completions[0].text
        items = parse_plan(text)[:asked]
        if not items:
            raise Malformed("the plan lists no subtasks (expected a numbered list '1. …')")
        return text, items

    async def body() -> NodeOutput:
        meta = offline_meta(task, example, "plan", extra={"subtasks": asked})
        text, items = await run.ask(
            model=model,
            messages=messages,
            meta=meta,
            parse=parse,
            temperature=temperature,
            max_tokens=max_tokens,
        )
        subtasks = [items[i % len(items)] for i in range(width)]
        return run.output(
            texts=[text],
            answers=[None],
            subtasks=subtasks,
            data={"mode": "planned", "width": width, "planned": len(items)},
        )

    return await run.guarded(body)


async def spawn(
    ctx: NodeContext,
    *,
    width: int,
    mode: SpawnMode = "replicas",
    model: str | None = None,
    temperature: float = 0.0,
    max_tokens: int | None = None,
    prompt: str | None = None,
) -> NodeOutput:
    """The branches of a fan-out of ``width``: none planned (replicas) or ``plan``'s subtasks."""
    if width < 1:
        raise CollabgraphError(f"node {ctx.node_id!r}: width must be at least 1, got {width}")
    if mode == "replicas":
        return NodeRun(ctx, "spawn").output(data={"mode": "replicas", "width": width})
    if mode != "planned":
        raise CollabgraphError(f"node {ctx.node_id!r}: spawn mode must be 'replicas' or 'planned', got {mode!r}")
    if model is None:
        raise CollabgraphError(f"node {ctx.node_id!r}: spawn mode 'planned' needs a model to plan the subtasks")
    return await plan(ctx, model=model, width=width, temperature=temperature, max_tokens=max_tokens, prompt=prompt)
