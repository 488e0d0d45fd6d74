"""Critical-path latency: the pure schedule on hand-built runs, and what a compiled graph reports."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collabgraph.graphs import Graph
from collabgraph.graphs.compile import compile_graph
from collabgraph.graphs.latency import TimedRun, Timing, critical_path, schedule
from collabgraph.graphs.runtime import run_example
from collabgraph.models.pool import ModelPool
from collabgraph.tasks import Example, get_task
from tests.graphs.scripted import ScriptedGateway, ScriptedSandbox

# -- the schedule ------------------------------------------------------------------------------------------------


def test_parallel_branches_overlap_and_a_fuse_adds() -> None:
    runs = [
        TimedRun("start", 0.0),
        TimedRun("a", 1.0, ("start",)),
        TimedRun("b", 1.0, ("start",)),
        TimedRun("fuse", 1.0, ("a", "b")),
    ]
    assert critical_path(runs, "fuse") == 2.0
    assert schedule(runs)["fuse"] == Timing(1.0, 2.0)


def test_the_slowest_branch_sets_the_start_of_a_join() -> None:
    runs = [TimedRun("a", 0.5), TimedRun("b", 2.0), TimedRun("join", 0.25, ("a", "b"))]
    assert schedule(runs)["join"] == Timing(2.0, 2.25)


def test_each_round_of_a_loop_adds() -> None:
    runs = [TimedRun("actor#1", 1.0)]
    last = "actor#1"
    for r in range(1, 4):
        runs += [TimedRun(f"critic#{r}", 1.0, (last,)), TimedRun(f"refine#{r}", 1.0, (f"critic#{r}",))]
        last = f"refine#{r}"
    runs.append(TimedRun("critic#4", 1.0, (last,)))
    assert critical_path(runs, "critic#4") == 8.0


def test_without_an_end_the_latest_finish_counts() -> None:
    runs = [TimedRun("a", 1.0), TimedRun("b", 3.0), TimedRun("c", 1.0, ("a",))]
    assert critical_path(runs) == 3.0
    assert critical_path([]) == 0.0


@pytest.mark.parametrize(
    ("runs", "message"),
    [
        ([TimedRun("a", -1.0)], "run 'a' has a negative latency -1.0"),
        ([TimedRun("a", 1.0), TimedRun("a", 1.0)], "run 'a' appears twice"),
        ([TimedRun("b", 1.0, ("a",))], "run 'b' waits on 'a', which did not run before it"),
    ],
)
def test_bad_runs_are_refused_with_the_reason(runs: list[TimedRun], message: str) -> None:
    with pytest.raises(ValueError) as exc:
        schedule(runs)
    assert str(exc.value) == message


def test_an_unknown_end_is_refused() -> None:
    with pytest.raises(ValueError, match="no run 'z'"):
        critical_path([TimedRun("a", 1.0)], "z")


@st.composite
def _dags(draw: st.DrawFn) -> list[TimedRun]:
    n = draw(st.integers(1, 12))
    runs: list[TimedRun] = []
    for i in range(n):
        after = draw(st.lists(st.sampled_from([r.key for r in runs]), unique=True)) if runs else []
        runs.append(TimedRun(f"r{i}", draw(st.floats(0.0, 10.0)), tuple(after)))
    return runs


@given(_dags())
def test_the_critical_path_lies_between_the_slowest_run_and_the_sum(runs: list[TimedRun]) -> None:
    total = critical_path(runs)
    assert max(r.latency_s for r in runs) <= total + 1e-9
    assert total <= sum(r.latency_s for r in runs) + 1e-9
    timings = schedule(runs)
    for r in runs:  # nothing starts before what it waits on has finished
        assert all(timings[k].finish_s <= timings[r.key].start_s for k in r.after)


# -- what a run reports ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example() -> Example:
    return get_task("gsm8k").examples(limit=1)[0]


async def _latency(graph: Graph, pool: ModelPool, example: Example, gateway: ScriptedGateway) -> float:
    compiled = compile_graph(graph.build(pool), pool)
    result = await run_example(
        compiled, task=get_task("gsm8k"), example=example, gateway=gateway, sandbox=ScriptedSandbox()
    )
    assert result.error is None
    return result.latency_s


async def test_two_parallel_one_second_branches_and_a_fuse_take_two_seconds(pool: ModelPool, example: Example) -> None:
    g = Graph("fan").model("free", "sim/gemma-2-9b").model("m", "sim/llama-3.1-8b")
    start = g.generate("start", model="free")
    a, b = g.generate("a", model="m"), g.generate("b", model="m")
    fuse = g.fuse("fuse", model="m", reads=[a, b])
    g.edge(start, a).edge(start, b).chain(a, fuse).chain(b, fuse).exit(fuse)
    gateway = ScriptedGateway(latency={"sim/gemma-2-9b": 0.0}, latency_s=1.0)
    assert await _latency(g, pool, example, gateway) == 2.0


async def test_a_slower_branch_sets_the_pace(pool: ModelPool, example: Example) -> None:
    g = Graph("fan").model("free", "sim/gemma-2-9b").model("slow", "sim/qwen2.5-7b").model("m", "sim/llama-3.1-8b")
    start = g.generate("start", model="free")
    a, b = g.generate("a", model="m"), g.generate("b", model="slow")
    vote = g.vote("vote", reads=[a, b])
    g.edge(start, a).edge(start, b).chain(a, vote).chain(b, vote).exit(vote)
    gateway = ScriptedGateway(latency={"sim/gemma-2-9b": 0.0, "sim/qwen2.5-7b": 3.0}, latency_s=1.0)
    assert await _latency(g, pool, example, gateway) == 3.0


async def test_every_round_of_a_critique_loop_adds(pool: ModelPool, example: Example) -> None:
    g = Graph("loop").model("m", "sim/llama-3.1-8b").limits(max_rounds=3)
    actor = g.generate("actor", model="m")
    critic = g.critique("critic", model="m", target=["refine", "actor"])
    g.refine("refine", model="m", candidate=["refine", "actor"], feedback="critic")
    g.edge(actor, critic).edge(critic, "refine", when={"verdict": "rejected", "of": "critic"}).exit(critic)
    g.edge("refine", critic)
    # Rejected every time: actor, then 3 rounds of critic + refine, then the critic that ends it.
    assert await _latency(g, pool, example, ScriptedGateway(accept=False)) == 8.0
    assert await _latency(g, pool, example, ScriptedGateway(accept=True)) == 2.0


async def test_spawned_children_overlap(pool: ModelPool, example: Example) -> None:
    g = Graph("apr").model("m", "sim/llama-3.1-8b").limits(max_width=8)
    plan = g.spawn("plan", child="search", width=6, mode="planned", model="m")
    g.generate("search", model="m")
    collect = g.join("collect", reads=[plan])
    g.chain(plan, collect).exit(collect)
    assert await _latency(g, pool, example, ScriptedGateway()) == 2.0  # the plan, then six searches side by side
