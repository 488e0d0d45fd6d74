"""Graph overhead benchmark (issue 3), printed as a ratio measured in one run:

framework overhead per node of a collabgraph graph against a hand-written LangGraph graph that makes the same
model calls. The graph is a small fusion DAG (``a`` answers; ``b`` and ``c`` answer in parallel; ``fuse`` reads all
three; ``check`` critiques the fused answer), run example after example through the same gateway (cache off) on a
litellm mock model. The hand-written graph replays, node by node, exactly the calls (model, messages, samples,
seed, metadata) collabgraph's nodes made on each example, joins with a plain multi-source edge and keeps only the
texts in its state: what someone wiring the calls by hand would write. Both are timed in alternating blocks so
that load from other processes hits both alike. Target: at most 1.3×.

Run: ``.venv/bin/python benchmarks/graph_overhead.py [--examples 20] [--blocks 6]``. Nothing touches the network.
"""

from __future__ import annotations

import argparse
import asyncio
import operator
import os
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Annotated, Any, TypedDict

from collabgraph.graphs import GraphSpec, loads
from collabgraph.graphs.compile import CompiledGraph, compile_graph
from collabgraph.graphs.runtime import run_example
from collabgraph.models import Gateway, ModelPool, ModelSpec
from collabgraph.models.types import Completion, Usage
from collabgraph.tasks import Example, Task, get_task

MOCK_TEXT = "Half of 48 is 24, and 48 + 24 = 72.\nVERDICT: CORRECT\n#### 72"
MOCK_ID = "openai/collabgraph-bench"

GRAPH = """
schema: collabgraph.graph/v1
name: overhead
entry: a
nodes:
  - {id: a, kind: generate, model: bench}
  - {id: b, kind: generate, model: bench}
  - {id: c, kind: generate, model: bench}
  - {id: fuse, kind: fuse, model: bench, reads: [a, b, c]}
  - {id: check, kind: critique, model: bench, target: fuse}
edges:
  - {from: a, to: b}
  - {from: a, to: c}
  - {from: a, to: fuse}
  - {from: b, to: fuse}
  - {from: c, to: fuse}
  - {from: fuse, to: check}
  - {from: check, to: END}
"""

Calls = dict[tuple[str, str], list[dict[str, Any]]]
"""(example id, node) -> the keyword arguments of each gateway call that node made on that example."""


class FreeGateway:
    """A gateway whose every call costs nothing: the mock text at once (shows the framework's own cost)."""

    async def complete(self, model: str, messages: Sequence[Any], *, n: int = 1, **kwargs: Any) -> list[Completion]:
        return [Completion(model=model, text=MOCK_TEXT, usage=Usage(), sample_index=k) for k in range(n)]


class Recorder:
    """A gateway that passes calls through and records them by (example, LangGraph node)."""

    def __init__(self, gateway: Gateway | FreeGateway) -> None:
        self.gateway = gateway
        self.calls: Calls = defaultdict(list)

    async def complete(self, model: str, messages: Sequence[Any], **kwargs: Any) -> list[Completion]:
        from langgraph.config import get_config

        node = str(get_config()["metadata"]["langgraph_node"])
        self.calls[(kwargs["meta"].example_id, node)].append({"model": model, "messages": messages, **kwargs})
        return await self.gateway.complete(model, messages, **kwargs)


def merge(left: dict[str, list[str]], right: dict[str, list[str]]) -> dict[str, list[str]]:
    return {**left, **right}


class State(TypedDict, total=False):
    """The hand-written graph's state: the example and each node's texts."""

    example_id: str
    texts: Annotated[dict[str, list[str]], merge]
    steps: Annotated[list[str], operator.add]


def hand_written(spec: GraphSpec, gateway: Gateway | FreeGateway, calls: Calls) -> Any:
    """The same DAG wired by hand in LangGraph: each node replays its recorded calls."""
    from langchain_core.runnables import RunnableConfig
    from langgraph.graph import END, START, StateGraph

    def node(name: str) -> Any:
        async def run(state: State, config: RunnableConfig) -> dict[str, Any]:
            texts: list[str] = []
            for call in calls[(state["example_id"], name)]:
                texts += [c.text for c in await gateway.complete(**call)]
            return {"texts": {name: texts}, "steps": [name]}

        return run

    builder: Any = StateGraph(State)
    for n in spec.node_ids:
        builder.add_node(n, node(n))
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("a", "c")
    builder.add_edge(["a", "b", "c"], "fuse")
    builder.add_edge("fuse", "check")
    builder.add_edge("check", END)
    return builder.compile()


async def measure(examples: int, blocks: int, free: bool) -> tuple[float, float, int]:
    """(collabgraph seconds, hand-written seconds, node runs per block), through the real gateway on the mock
    model, or with ``free`` through a gateway that costs nothing."""
    pool = ModelPool({"bench": ModelSpec(litellm_id=MOCK_ID, params={"mock_response": MOCK_TEXT})})
    spec = loads(GRAPH, pool=pool)
    compiled = compile_graph(spec, pool)
    task = get_task("gsm8k")
    items = task.examples(limit=examples)
    async with Gateway(pool, cache=None) as real:
        gateway: Gateway | FreeGateway = FreeGateway() if free else real
        recorder = Recorder(gateway)
        for ex in items:  # warm up, and record the calls each node makes
            result = await run_example(compiled, task=task, example=ex, gateway=recorder)
            assert result.error is None and result.final_node == "check", result.error
        by_hand = hand_written(spec, gateway, recorder.calls)
        config = compiled.config()
        for ex in items:
            state = await by_hand.ainvoke({"example_id": ex.id}, config)
            assert state["steps"][-1] == "check"

        ours = theirs = 0.0
        for _ in range(blocks):
            ours += await _block_ours(compiled, task, items, gateway)
            theirs += await _block_by_hand(by_hand, items, config)
    return ours, theirs, len(items) * len(spec.nodes)


async def _block_ours(
    compiled: CompiledGraph, task: Task, items: list[Example], gateway: Gateway | FreeGateway
) -> float:
    t0 = time.perf_counter()
    for ex in items:
        await run_example(compiled, task=task, example=ex, gateway=gateway)
    return time.perf_counter() - t0


async def _block_by_hand(graph: Any, items: list[Example], config: dict[str, Any]) -> float:
    t0 = time.perf_counter()
    for ex in items:
        await graph.ainvoke({"example_id": ex.id}, config)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=20, help="examples per block")
    parser.add_argument("--blocks", type=int, default=6, help="alternating timed blocks of each")
    args = parser.parse_args(argv)
    ours, theirs, runs = asyncio.run(measure(args.examples, args.blocks, free=False))
    total = runs * args.blocks
    ratio = ours / theirs
    print(
        f"fusion DAG (5 nodes, 5 calls per example), {args.examples} examples x {args.blocks} alternating blocks, "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print("(a) the gateway (cache off) on a litellm mock model:")
    print(f"    hand-written LangGraph graph: {theirs / total * 1e6:7.0f} us per node run")
    print(f"    collabgraph:                  {ours / total * 1e6:7.0f} us per node run")
    print(f"    overhead {(ours - theirs) / total * 1e6:.0f} us per node run; ratio {ratio:.2f}x (target <= 1.3x)")
    ours_free, theirs_free, _ = asyncio.run(measure(args.examples, args.blocks, free=True))
    print("(b) a gateway that costs nothing (the framework alone, no model at all):")
    print(f"    hand-written LangGraph graph: {theirs_free / total * 1e6:7.0f} us per node run")
    print(f"    collabgraph:                  {ours_free / total * 1e6:7.0f} us per node run")
    print(f"    collabgraph's own work: {(ours_free - theirs_free) / total * 1e6:.0f} us per node run")
    ok = ratio <= 1.3
    print("target met" if ok else "target NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
