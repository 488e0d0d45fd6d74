"""Fan-out benchmark (issue 3), printed as a ratio measured in one run:

a width-64 spawn (64 replicas of a generate node, collected APR-style by a ``results_only`` join) against
``serve-sim`` over HTTP with a fixed injected latency of 200 ms per call, the gateway's cache off: wall time of the
whole graph on one example against the wall time of one call through the same gateway. The 64 children run side
by side, so the graph should take about one call. Target: at most 2×.

Two lines beside it: the same number of calls made straight through the gateway with ``asyncio.gather`` (no graph
at all), alternating with the graph runs: the floor the client's own CPU per call (litellm, HTTP) sets on this
machine, which the graph cannot go below; and the same graph on an in-process model that only sleeps 200 ms per
call, which shows what the fan-out itself costs.

serve-sim runs in its own process, so that its event loop does not compete with the graph's. Run:
``.venv/bin/python benchmarks/fanout.py [--width 64] [--latency 0.2] [--examples 9]``. Nothing touches the
network beyond 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

from collabgraph.agents.meta import offline_meta
from collabgraph.graphs import Graph
from collabgraph.graphs.compile import compile_graph
from collabgraph.graphs.runtime import run_example
from collabgraph.models import Gateway, ModelPool, ModelSpec, default_pool
from collabgraph.models.types import Completion, Usage
from collabgraph.tasks import get_task

SERVED_MODEL = "sim/llama-3.1-8b"


def _serve(latency: float, port_queue: Any) -> None:
    """serve-sim with a fixed injected latency, until the benchmark terminates it."""
    from collabgraph.models.server import make_app, serve_in_background

    async def run() -> None:
        async with serve_in_background(make_app(default_pool(), fixed_latency=latency)) as url:
            port_queue.put(url)
            await asyncio.Event().wait()

    asyncio.run(run())


class SleepingModel:
    """A gateway whose every call sleeps ``latency`` seconds in this process and answers at once (no HTTP, no
    litellm): what the graph's fan-out costs without the client's own CPU per call."""

    def __init__(self, latency: float) -> None:
        self.latency = latency

    async def complete(self, model: str, messages: Sequence[Any], *, n: int = 1, **kwargs: Any) -> list[Completion]:
        await asyncio.sleep(self.latency)
        usage = Usage(latency_s=self.latency)
        return [Completion(model=model, text="Adding up.\n#### 72", usage=usage, sample_index=k) for k in range(n)]


async def in_process(width: int, latency: float, examples: int) -> float:
    """Median seconds of the width-``width`` graph on one example against ``SleepingModel``."""
    pool = default_pool()
    g = Graph("fanout").limits(max_width=width, max_concurrency=width)
    spawn = g.spawn("spawn", child="child", width=width)
    g.generate("child", model=SERVED_MODEL, temperature=0.7)
    join = g.join("join", reads=[spawn], strategy="results_only")
    compiled = compile_graph(g.chain(spawn, join).exit(join).build(pool), pool)
    task = get_task("gsm8k")
    items = task.examples(limit=examples + 1)
    model = SleepingModel(latency)
    await run_example(compiled, task=task, example=items[-1], gateway=model)
    walls = []
    for example in items[:examples]:
        t0 = time.perf_counter()
        result = await run_example(compiled, task=task, example=example, gateway=model)
        walls.append(time.perf_counter() - t0)
        assert result.error is None and result.nodes["child"].calls == width, result.error
    return statistics.median(walls)


async def measure(url: str, width: int, examples: int) -> tuple[float, float, float, float]:
    """Median seconds of: one call, ``width`` concurrent calls straight through the gateway (no graph), the graph on
    one example; and the graph's reported critical path."""
    from collabgraph.models.server import served_pool_entry

    entry = {**served_pool_entry(default_pool().get(SERVED_MODEL), url), "max_concurrency": width}
    pool = ModelPool({"served": ModelSpec.model_validate(entry)})
    g = Graph("fanout").limits(max_width=width, max_concurrency=width)
    spawn = g.spawn("spawn", child="child", width=width)
    g.generate("child", model="served", temperature=0.7)
    join = g.join("join", reads=[spawn], strategy="results_only")
    compiled = compile_graph(g.chain(spawn, join).exit(join).build(pool), pool)
    task = get_task("gsm8k")
    items = task.examples(limit=examples + 1)

    async with Gateway(pool, cache=None, timeout_s=60) as gateway:
        meta = offline_meta(task, items[0])
        prompt = task.prompt(items[0])
        await gateway.complete("served", prompt, meta=meta, seed=-1)  # open the connection
        single: list[float] = []
        for i in range(5):
            t0 = time.perf_counter()
            await gateway.complete("served", prompt, meta=meta, seed=i, temperature=0.7)
            single.append(time.perf_counter() - t0)
        await run_example(compiled, task=task, example=items[-1], gateway=gateway)  # warm up: connections, imports
        # Bare fan-outs and graph runs alternate, so that load from other processes hits both alike.
        bare: list[float] = []
        walls: list[float] = []
        virtual: list[float] = []
        for i, example in enumerate(items[:examples]):
            t0 = time.perf_counter()
            await asyncio.gather(
                *(
                    gateway.complete("served", prompt, meta=meta, seed=i * width + k, temperature=0.7)
                    for k in range(width)
                )
            )
            bare.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            result = await run_example(compiled, task=task, example=example, gateway=gateway)
            walls.append(time.perf_counter() - t0)
            virtual.append(result.latency_s)
            assert result.error is None, result.error
            assert result.nodes["child"].calls == width
    return statistics.median(single), statistics.median(bare), statistics.median(walls), statistics.median(virtual)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--width", type=int, default=64, help="children of the spawn")
    parser.add_argument("--latency", type=float, default=0.2, help="serve-sim's injected latency per call, seconds")
    parser.add_argument("--examples", type=int, default=9, help="examples timed (the median is reported)")
    args = parser.parse_args(argv)

    ctx = multiprocessing.get_context("spawn")
    port_queue = ctx.Queue()
    server = ctx.Process(target=_serve, args=(args.latency, port_queue), daemon=True)
    server.start()
    try:
        url = port_queue.get(timeout=120)
        call_s, bare_s, graph_s, critical_s = asyncio.run(measure(url, args.width, args.examples))
    finally:
        server.terminate()
        server.join(10)
    local_s = asyncio.run(in_process(args.width, args.latency, args.examples))
    ratio = graph_s / call_s
    print(f"serve-sim over HTTP, {args.latency * 1000:.0f} ms injected per call, gateway cache off")
    print(f"  one call through the gateway:           {call_s * 1000:7.1f} ms (median of 5)")
    print(f"  {args.width} concurrent calls, no graph:      {bare_s * 1000:7.1f} ms wall (median of {args.examples})")
    print(f"  width-{args.width} spawn -> join, one example: {graph_s * 1000:7.1f} ms wall (median of {args.examples})")
    print(f"  critical path the result reports:       {critical_s * 1000:7.1f} ms (virtual, from the sim's latencies)")
    print(f"  graph wall / one call: {ratio:.2f}x (target <= 2x); load average {os.getloadavg()[0]:.1f}")
    print(f"  ({args.width} bare concurrent calls / one call: {bare_s / call_s:.2f}x: the floor the gateway sets here)")
    print(
        f"  the same graph on an in-process model sleeping {args.latency * 1000:.0f} ms per call (no HTTP, no "
        f"litellm): {local_s * 1000:.1f} ms = {local_s / args.latency:.2f}x one call"
    )
    ok = ratio <= 2.0
    print("target met" if ok else "target NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
