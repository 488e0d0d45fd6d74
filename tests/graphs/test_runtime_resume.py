"""Resuming: a run stopped mid-graph resumes from its SQLite checkpoint without re-running finished nodes or paying
for a call twice; finished examples are read back; failed ones run again; the gateway's call cache serves
re-asked calls because every call is numbered the same way on every run."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from collabgraph.graphs import GraphSpec, load
from collabgraph.graphs.compile import compile_graph
from collabgraph.graphs.result import GraphExampleResult
from collabgraph.graphs.runtime import open_checkpointer, run_example, run_graph, thread_id
from collabgraph.models.cache import CallCache
from collabgraph.models.gateway import Gateway
from collabgraph.models.pool import ModelPool, default_pool
from collabgraph.tasks import Example, Task, get_task
from tests.graphs.helpers import FIXTURES
from tests.graphs.scripted import Call, ScriptedGateway, ScriptedSandbox


@pytest.fixture(scope="module")
def task() -> Task:
    return get_task("gsm8k")


@pytest.fixture(scope="module")
def example(task: Task) -> Example:
    return task.examples(limit=1)[0]


def fixture(name: str, pool: ModelPool) -> GraphSpec:
    return load(FIXTURES / f"{name}.yaml", pool=pool)


class Interrupter:
    """Stops the run, as Ctrl-C would (its task is cancelled), while the ``nth`` call to ``victim`` is in flight
    and, with ``after``, once a call to that model has been answered."""

    def __init__(self, victim: str, after: str | None = None, nth: int = 1) -> None:
        self.victim, self.after, self.nth = victim, after, nth
        self.answered = asyncio.Event()
        self.seen = 0
        self.run: asyncio.Task[Any] | None = None
        self.armed = True

    async def __call__(self, call: Call) -> None:
        if call.model == self.after:
            self.answered.set()
        if call.model != self.victim or not self.armed:
            return
        self.seen += 1
        if self.seen == self.nth:
            if self.after is not None:
                await self.answered.wait()
            await asyncio.sleep(0.05)  # let finished branches' writes reach the checkpoint
            assert self.run is not None
            self.run.cancel()
            await asyncio.sleep(60)


def paid(gateway: ScriptedGateway, interrupted: Call | None = None) -> list[tuple[str, str, int, int, int]]:
    return [c.key for c in gateway.calls if c is not interrupted]


async def test_a_stopped_run_resumes_without_re_running_finished_nodes(
    pool: ModelPool, task: Task, example: Example, tmp_path: Path
) -> None:
    compiled = compile_graph(fixture("fusion_dag", pool), pool)
    stop = Interrupter(victim="sim/mistral-7b", after="sim/qwen2.5-7b")
    gateway = ScriptedGateway(block=stop)
    path = tmp_path / "checkpoints.sqlite"
    async with open_checkpointer(path) as saver:
        stop.run = asyncio.ensure_future(
            run_example(compiled, task=task, example=example, gateway=gateway, checkpointer=saver)
        )
        with pytest.raises(asyncio.CancelledError):
            await stop.run
    first = [c.model for c in gateway.calls]
    assert sorted(first) == ["sim/llama-3.1-8b", "sim/mistral-7b", "sim/qwen2.5-7b"]
    interrupted = next(c for c in gateway.calls if c.model == "sim/mistral-7b")

    stop.armed = False
    async with open_checkpointer(path) as saver:
        resumed = await run_example(compiled, task=task, example=example, gateway=gateway, checkpointer=saver)
    # Only the interrupted node and what follows it ran again: start and qwen were not asked twice.
    assert [c.model for c in gateway.calls[3:]] == ["sim/mistral-7b", "sim/llama-3.1-70b"]
    keys = paid(gateway, interrupted)
    assert len(keys) == len(set(keys)) == 4
    assert interrupted.key == gateway.calls[3].key  # the re-run asks exactly the call that was cut off

    uninterrupted = await run_example(compiled, task=task, example=example, gateway=ScriptedGateway())
    assert resumed == uninterrupted


@pytest.mark.parametrize("saved", [1, 2, 3, 5])
async def test_a_run_stopped_right_after_any_checkpoint_resumes_and_pays_nothing_twice(
    saved: int, pool: ModelPool, task: Task, example: Example, tmp_path: Path
) -> None:
    compiled = compile_graph(fixture("actor_critic", pool), pool)
    plain = ScriptedGateway(accept=False)
    uninterrupted = await run_example(compiled, task=task, example=example, gateway=plain)
    gateway = ScriptedGateway(accept=False)
    async with open_checkpointer(tmp_path / "c.sqlite") as saver:
        run: asyncio.Task[Any] | None = None
        writes = 0
        aput = saver.aput

        async def stop_after(*args: Any, **kwargs: Any) -> Any:
            nonlocal writes
            result = await aput(*args, **kwargs)
            writes += 1
            if writes == saved:  # the process dies right after this checkpoint reached the disk
                assert run is not None
                run.cancel()
                await asyncio.sleep(60)
            return result

        saver.aput = stop_after  # type: ignore[method-assign]
        run = asyncio.ensure_future(
            run_example(compiled, task=task, example=example, gateway=gateway, checkpointer=saver)
        )
        with pytest.raises(asyncio.CancelledError):
            await run
        saver.aput = aput  # type: ignore[method-assign]
        resumed = await run_example(compiled, task=task, example=example, gateway=gateway, checkpointer=saver)
    assert resumed == uninterrupted
    assert [c.key for c in gateway.calls] == [c.key for c in plain.calls]  # every call asked once, in order


async def test_a_finished_example_is_read_back_without_running(
    pool: ModelPool, task: Task, example: Example, tmp_path: Path
) -> None:
    compiled = compile_graph(fixture("actor_critic", pool), pool)
    gateway = ScriptedGateway()
    async with open_checkpointer(tmp_path / "c.sqlite") as saver:
        first = await run_example(compiled, task=task, example=example, gateway=gateway, checkpointer=saver)
        calls = len(gateway.calls)
        again = await run_example(compiled, task=task, example=example, gateway=gateway, checkpointer=saver)
        other_seed = await run_example(
            compiled, task=task, example=example, gateway=gateway, seed=1, checkpointer=saver
        )
    assert again == first and len(gateway.calls) > calls
    assert calls == first.calls and len(gateway.calls) == calls + other_seed.calls  # only seed 1 ran


async def test_a_failed_example_runs_again(pool: ModelPool, task: Task, example: Example, tmp_path: Path) -> None:
    compiled = compile_graph(fixture("fusion_dag", pool), pool)
    async with open_checkpointer(tmp_path / "c.sqlite") as saver:
        broken = ScriptedGateway(fail=frozenset({"sim/llama-3.1-70b"}))
        failed = await run_example(compiled, task=task, example=example, gateway=broken, checkpointer=saver)
        healthy = ScriptedGateway()
        fixed = await run_example(compiled, task=task, example=example, gateway=healthy, checkpointer=saver)
    assert failed.error is not None and "scripted failure" in failed.error
    assert fixed.error is None and fixed.final_node == "fuse"
    assert fixed == await run_example(compiled, task=task, example=example, gateway=ScriptedGateway())


async def test_a_resumed_run_keeps_within_the_recursion_limit(
    pool: ModelPool, task: Task, example: Example, tmp_path: Path
) -> None:
    # The critic always rejects: actor, 3 rounds of critic + refine, and a last critic take 9 super-steps.
    spec = fixture("actor_critic", pool)
    enough = compile_graph(spec.model_copy(update={"limits": spec.limits.model_copy(update={"recursion_limit": 9})}))
    short = compile_graph(spec.model_copy(update={"limits": spec.limits.model_copy(update={"recursion_limit": 8})}))
    for compiled, ok in ((enough, True), (short, False)):
        stop = Interrupter(victim="sim/llama-3.1-8b", nth=3)  # during the second refine
        gateway = ScriptedGateway(block=stop, accept=False)
        plain = await run_example(compiled, task=task, example=example, gateway=ScriptedGateway(accept=False))
        assert (plain.error is None) is ok
        async with open_checkpointer(tmp_path / f"{ok}.sqlite") as saver:
            stop.run = asyncio.ensure_future(
                run_example(compiled, task=task, example=example, gateway=gateway, checkpointer=saver)
            )
            with pytest.raises(asyncio.CancelledError):
                await stop.run
            stop.armed = False
            resumed = await run_example(compiled, task=task, example=example, gateway=gateway, checkpointer=saver)
        assert resumed == plain


def uncached(result: GraphExampleResult) -> GraphExampleResult:
    """The result as if no sample had come from the cache (the only thing a cached re-run changes)."""
    trace = [
        o.model_copy(update={"trace": [e.model_copy(update={"cached": 0}) for e in o.trace]}) for o in result.trace
    ]
    return result.model_copy(update={"trace": trace})


def test_a_thread_is_one_example_of_one_graph_under_one_seed() -> None:
    assert thread_id("abc", "gsm8k/test/1", 3) == "abc:gsm8k/test/1:3"


async def test_a_re_run_graph_pays_for_nothing(pool: ModelPool, task: Task, tmp_path: Path) -> None:
    examples = task.examples(limit=3)
    gateway = ScriptedGateway()
    spec = fixture("spawn_join", pool)
    path = tmp_path / "run" / "checkpoints.sqlite"
    first = await run_graph(spec, task=task, examples=examples, gateway=gateway, pool=pool, checkpoint_path=path)
    calls = len(gateway.calls)
    again = await run_graph(spec, task=task, examples=examples, gateway=gateway, pool=pool, checkpoint_path=path)
    assert path.is_file() and again == first and len(gateway.calls) == calls


async def test_the_call_cache_serves_a_whole_re_run(task: Task, tmp_path: Path) -> None:
    # The real gateway and the calibrated sim models, cache on: a second run asks exactly the same calls.
    spec = load(
        """
schema: collabgraph.graph/v1
name: sim_dag
models: {small: sim/llama-3.1-8b, big: sim/llama-3.1-70b}
entry: a
nodes:
  - {id: a, kind: generate, model: small, samples: 3, temperature: 0.7}
  - {id: b, kind: generate, model: small, temperature: 0.7}
  - {id: critic, kind: critique, model: big, target: b}
  - {id: fuse, kind: fuse, model: big, reads: [a, critic]}
edges:
  - {from: a, to: b}
  - {from: a, to: fuse}
  - {from: b, to: critic}
  - {from: critic, to: fuse}
  - {from: fuse, to: END}
""",
        pool=default_pool(),
    )
    examples = task.examples(limit=2)
    cache = CallCache(tmp_path / "calls.sqlite")
    try:
        async with Gateway(default_pool(), cache=cache) as gateway:
            first = await run_graph(spec, task=task, examples=examples, gateway=gateway, sandbox=ScriptedSandbox())
            paid = gateway.totals()
            again = await run_graph(spec, task=task, examples=examples, gateway=gateway, sandbox=ScriptedSandbox())
            after = gateway.totals()
    finally:
        cache.close()
    assert all(r.error is None for r in first)
    assert [uncached(r) for r in again] == [uncached(r) for r in first]
    assert {e.cached for r in again for o in r.trace for e in o.trace} != {0}
    for name, totals in after.items():
        assert totals.samples == 2 * paid[name].samples
        assert totals.cached == paid[name].cached + paid[name].samples  # every sample of the re-run from the cache
        assert totals.usage == paid[name].usage  # and nothing more paid
