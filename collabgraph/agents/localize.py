"""``localize``: rank the places in the repository that most likely hold the bug (template
``prompts/localize.txt``); the first step of the SWE repair pipeline (localize → patch → verify).

Each line of the response naming a location (``path/to/file.py::function``, or a path at file granularity;
list markers and backticks allowed) is read in order; ``data['locations']`` holds the first ``top_k``
distinct ones and ``answer`` the top one. A response naming none is retried once, then the node fails.
"""

from __future__ import annotations

import re
from typing import Literal

from collabgraph.agents.meta import offline_meta
from collabgraph.agents.run import Malformed, NodeRun
from collabgraph.agents.templates import user_message
from collabgraph.agents.types import NodeContext, NodeOutput
from collabgraph.errors import CollabgraphError
from collabgraph.models.types import Completion

__all__ = ["Granularity", "localize", "parse_locations"]

Granularity = Literal["file", "function"]

_LOCATION = re.compile(r"^\s*(?:[-*]|\d+[.):])?\s*`?([\w./-]+\.py(?:::[\w.<>]+)?)`?\s*$")


def parse_locations(text: str, top_k: int, granularity: Granularity = "function") -> list[str]:
    """The distinct locations ``text`` lists one per line, in order, at most ``top_k``; at file granularity
    only their paths."""
    found: dict[str, None] = {}
    for line in text.splitlines():
        match = _LOCATION.match(line)
        if match is None:
            continue
        location = match.group(1)
        found[location.split("::", 1)[0] if granularity == "file" else location] = None
    return list(found)[:top_k]


async def localize(
    ctx: NodeContext,
    *,
    model: str,
    top_k: int = 5,
    granularity: Granularity = "function",
    temperature: float = 0.0,
    max_tokens: int | None = None,
    prompt: str | None = None,
) -> NodeOutput:
    """Ask ``model`` for the ``top_k`` most likely bug locations; see the module docstring."""
    if top_k < 1:
        raise CollabgraphError(f"node {ctx.node_id!r}: top_k must be at least 1, got {top_k}")
    run = NodeRun(ctx, "localize")
    task, example = ctx.task, ctx.example
    messages = user_message("localize", prompt, task, example, top_k=top_k, granularity=granularity)

    async def parse(completions: list[Completion]) -> tuple[str, list[str]]:
        text = completions[0].text
        locations = parse_locations(text, top_k, granularity)
        if not locations:
            raise Malformed("the response names no location (expected lines like 'path/file.py::function')")
        return text, locations

    async def body() -> NodeOutput:
        meta = offline_meta(task, example, "localize", extra={"top_k": top_k})
        text, locations = await run.ask(
            model=model, messages=messages, meta=meta, parse=parse, temperature=temperature, max_tokens=max_tokens
        )
        return run.output(
            texts=[text],
            answers=[locations[0]],
            answer=locations[0],
            data={"locations": locations, "granularity": granularity},
        )

    return await run.guarded(body)
