"""Running compiled graphs on real task examples with a scripted model: answers, correctness, accounting, routing,
waiting joins, parallel entries, failures, and bounded concurrency over many examples; and one graph run end to end
with ``collabgraph run`` on the sim pool."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

import pytest

from collabgraph import agents
from collabgraph.agents.types import NodeContext, NodeOutput
from collabgraph.graphs import Graph, GraphSpec, load, register_kind
from collabgraph.graphs.compile import compile_graph
from collabgraph.graphs.result import GraphExampleResult
from collabgraph.graphs.runtime import run_example, run_graph
from collabgraph.models.pool import ModelPool
from collabgraph.runs import read_jsonl
from collabgraph.tasks import Example, Task, get_task
from tests.conftest import RunCli
from tests.graphs.helpers import FIXTURES
from tests.graphs.scripted import ScriptedGateway, ScriptedSandbox
from tests.helpers import cli_json

FIXTURE_NAMES = ["actor_critic", "best_of_n", "cot_pot", "fusion_dag", "parallel_entries", "spawn_join"]
FINAL_NODE = {"actor_critic": "critic", "best_of_n": "vote", "cot_pot": "vote", "fusion_dag": "fuse"}
FINAL_NODE |= {"parallel_entries": "fuse", "spawn_join": "answer"}


@pytest.fixture(scope="module")
def task() -> Task:
    return get_task("gsm8k")


@pytest.fixture(scope="module")
def examples(task: Task) -> list[Example]:
    return task.examples(limit=6)


def fixture(name: str, pool: ModelPool) -> GraphSpec:
    return load(FIXTURES / f"{name}.yaml", pool=pool)


async def run(
    spec: GraphSpec, pool: ModelPool, task: Task, example: Example, gateway: ScriptedGateway | None = None
) -> GraphExampleResult:
    return await run_example(
        compile_graph(spec, pool),
        task=task,
        example=example,
        gateway=gateway or ScriptedGateway(),
        sandbox=ScriptedSandbox(),
    )


# -- results -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FIXTURE_NAMES)
async def test_every_fixture_runs_to_an_answer_with_its_accounting(
    name: str, pool: ModelPool, task: Task, examples: list[Example]
) -> None:
    gateway = ScriptedGateway()
    result = await run(fixture(name, pool), pool, task, examples[0], gateway)
    assert result.error is None
    assert result.example_id == examples[0].id
    assert result.final_node == FINAL_NODE[name]
    assert result.answer is not None
    # Every call the gateway answered is counted once, in the node that made it.
    assert result.calls == len(gateway.calls) == sum(t.calls for t in result.nodes.values())
    assert result.usage.prompt_tokens == 10 * len(gateway.calls)
    assert result.usage.completion_tokens == sum(5 * c.n for c in gateway.calls)
    assert result.usage.cost_usd == pytest.approx(sum(0.001 * c.n for c in gateway.calls))
    assert sum(t.runs for t in result.nodes.values()) == len(result.trace)
    assert list(result.nodes) == [n for n in fixture(name, pool).node_ids if n in result.nodes]


async def test_the_final_answer_is_scored_by_the_task(pool: ModelPool, task: Task, examples: list[Example]) -> None:
    ex = examples[0]
    right = await run(fixture("best_of_n", pool), pool, task, ex, ScriptedGateway(wrong=(ex.answer, ex.answer)))
    assert (right.answer, right.correct, right.score_detail) == (ex.answer, True, "")
    g = Graph("one").model("m", "sim/llama-3.1-8b")
    spec = g.exit(g.generate("a", model="m")).build(pool)
    results = [await run(spec, pool, task, e, ScriptedGateway(wrong=("-1", "-2"))) for e in examples]
    assert {r.correct for r in results} == {True, False}  # the scripted model is right on some examples only
    for r, e in zip(results, examples, strict=True):
        assert r.correct is (r.answer == e.answer)
        assert r.score_detail == ("" if r.correct else f"expected {e.answer}")


async def test_the_trace_lists_node_runs_in_the_order_they_ran(
    pool: ModelPool, task: Task, examples: list[Example]
) -> None:
    result = await run(fixture("actor_critic", pool), pool, task, examples[0], ScriptedGateway(accept=False))
    assert [(o.node_id, o.round) for o in result.trace] == [
        ("actor", 1),
        ("critic", 1),
        ("refine", 1),
        ("critic", 2),
        ("refine", 2),
        ("critic", 3),
        ("refine", 3),
        ("critic", 4),
    ]
    assert result.nodes["critic"].runs == 4 and result.nodes["refine"].runs == 3
    assert result.nodes["critic"].latency_s == 4.0


async def test_several_entries_start_together_and_the_fuser_reads_them_all(
    pool: ModelPool, task: Task, examples: list[Example]
) -> None:
    spec = fixture("parallel_entries", pool)
    small, mid, fuser = (spec.model_for(spec.node(n).model_name or "") for n in ("a", "b", "fuse"))
    in_flight: set[str] = set()
    peak = 0
    both = asyncio.Event()

    async def block(call: Any) -> None:
        # An entry's call holds until the other entry's call is in flight too: only concurrent entries meet here
        # (run one after the other, the first would wait out the guard alone, and the peak would stay 1).
        nonlocal peak
        if call.model == fuser:
            return
        in_flight.add(call.model)
        peak = max(peak, len(in_flight))
        if len(in_flight) == 2:
            both.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(both.wait(), 2.0)
        in_flight.discard(call.model)

    gateway = ScriptedGateway(latency={small: 1.0, mid: 2.0, fuser: 0.5}, block=block)
    result = await run(spec, pool, task, examples[0], gateway)
    assert result.error is None and result.final_node == "fuse"
    assert peak == 2
    # In virtual time the entries overlap: the slower one (2 s) then the fuser (0.5 s); one after the other would
    # take 3.5 s.
    assert result.latency_s == 2.5
    assert result.usage.latency_s == 3.5
    a, b, fuse = (next(o for o in result.trace if o.node_id == n) for n in ("a", "b", "fuse"))
    assert fuse.data["read"] == ["a[0]", "b[0]"]
    (fuse_call,) = [c for c in gateway.calls if c.model == fuser]
    for entry in (a, b):
        assert json.dumps(entry.texts[0].strip())[1:-1] in fuse_call.prompt


async def test_a_loop_back_to_one_entry_runs_only_that_entry_again(
    pool: ModelPool, task: Task, examples: list[Example]
) -> None:
    g = Graph("loop").model("m", "sim/llama-3.1-8b").limits(max_rounds=2)
    a, b = g.generate("a", model="m"), g.generate("b", model="m")
    f = g.fuse("f", model="m", reads=[a, b])
    c = g.critique("c", model="m", target=f)
    g.entry(a, b).chain(a, f).chain(b, f).chain(f, c).exit(c)
    g.edge(c, b, when={"verdict": "rejected", "of": "c"})
    result = await run(g.build(pool), pool, task, examples[0], ScriptedGateway(accept=False))
    assert result.error is None
    rounds = [("b", 2), ("f", 2), ("c", 2), ("b", 3), ("f", 3), ("c", 3)]
    assert [(o.node_id, o.round) for o in result.trace] == [("a", 1), ("b", 1), ("f", 1), ("c", 1), *rounds]
    assert result.latency_s == 3.0 + 2 * 3.0  # a beside b, f, c; then b, f, c per round


async def test_children_of_a_planned_spawn_get_their_subtasks(
    pool: ModelPool, task: Task, examples: list[Example]
) -> None:
    result = await run(fixture("spawn_join", pool), pool, task, examples[0])
    children = [o for o in result.trace if o.node_id == "search"]
    assert [o.data.get("subtask") for o in children] == [f"part {i} of the problem" for i in (1, 2, 3, 4)]
    (plan,) = [o for o in result.trace if o.node_id == "plan"]
    assert len(plan.subtasks) == 4


async def test_replicas_draw_different_samples(pool: ModelPool, task: Task, examples: list[Example]) -> None:
    g = Graph("replicas").model("m", "sim/llama-3.1-8b")
    s = g.spawn("s", child="c", width=6)
    g.generate("c", model="m", temperature=0.7)
    j = g.join("j", reads=[s], strategy="vote")
    g.chain(s, j).exit(j)
    gateway = ScriptedGateway()
    result = await run(g.build(pool), pool, task, examples[0], gateway)
    assert result.error is None
    assert len({c.seed for c in gateway.calls}) == 6  # one call per child, each its own draw
    assert len({o.texts[0] for o in result.trace if o.node_id == "c"}) > 1


async def test_an_inline_child_graph_counts_everything_it_did(
    pool: ModelPool, task: Task, examples: list[Example]
) -> None:
    child = Graph("child").model("m", "sim/llama-3.1-8b")
    q = child.generate("q", model="m")
    v = child.critique("v", model="m", target=q)
    child.chain(q, v).exit(v)
    g = Graph("parent")
    s = g.spawn("s", child=child, width=3)
    j = g.join("j", reads=[s], strategy="results_only")
    g.chain(s, j).exit(j)
    gateway = ScriptedGateway()
    result = await run(g.build(pool), pool, task, examples[0], gateway)
    assert result.error is None
    kids = [o for o in result.trace if o.node_id == "s.child"]
    assert len(kids) == 3 and all(o.calls == 2 and len(o.trace) == 2 for o in kids)
    assert result.calls == len(gateway.calls) == 6
    assert result.latency_s == 2.0  # each child: generate then critique; the three side by side
    assert len({c.seed for c in gateway.calls}) == 6


# -- routing -----------------------------------------------------------------------------------------------------


def _router(pool: ModelPool, when: dict[str, Any]) -> GraphSpec:
    """a (4 samples) -> check (critique) -> yes when ``when`` holds, else no."""
    g = Graph("router").model("m", "sim/llama-3.1-8b")
    a = g.generate("a", model="m", samples=4, temperature=0.7)
    check = g.critique("check", model="m", target=a)
    yes, no = g.vote("yes", reads=[a]), g.fuse("no", model="m", reads=[a])
    g.chain(a, check).edge(check, yes, when=when).edge(check, no).exit(yes, no)
    return g.build(pool)


@pytest.mark.parametrize(
    ("when", "accept", "branch"),
    [
        ({"verdict": "accepted", "of": "check"}, True, "yes"),
        ({"verdict": "accepted", "of": "check"}, False, "no"),
        ({"not": {"verdict": "accepted", "of": "check"}}, False, "yes"),
        ({"round_lt": 2}, True, "yes"),
        ({"round_lt": 1}, True, "no"),
        ({"round_lt": 2, "of": "a"}, True, "yes"),
        ({"all": [{"verdict": "accepted", "of": "check"}, {"round_lt": 1}]}, True, "no"),
        ({"any": [{"verdict": "accepted", "of": "check"}, {"round_lt": 1}]}, True, "yes"),
    ],
)
async def test_a_router_takes_the_first_branch_whose_condition_holds(
    when: dict[str, Any], accept: bool, branch: str, pool: ModelPool, task: Task, examples: list[Example]
) -> None:
    result = await run(_router(pool, when), pool, task, examples[0], ScriptedGateway(accept=accept))
    assert result.final_node == branch
    assert branch in result.nodes and ({"yes", "no"} - {branch}).isdisjoint(result.nodes)


@pytest.mark.parametrize("agree", [True, False])
async def test_answers_agree_compares_every_sample(
    agree: bool, pool: ModelPool, task: Task, examples: list[Example]
) -> None:
    ex = examples[0]
    when = {"agree": agree, "of": ["a"]}
    unanimous = await run(_router(pool, when), pool, task, ex, ScriptedGateway(wrong=(ex.answer, ex.answer)))
    assert unanimous.final_node == ("yes" if agree else "no")
    split = await run(_router(pool, when), pool, task, ex, ScriptedGateway(wrong=("-1", "-2")))
    (a,) = [o for o in split.trace if o.node_id == "a"]
    assert len(set(a.answers)) > 1  # the scripted samples disagree here
    assert split.final_node == ("no" if agree else "yes")


@pytest.mark.parametrize(("passed", "branch"), [(True, "yes"), (False, "no")])
async def test_passed_reads_the_latest_check(
    passed: bool, branch: str, pool: ModelPool, task: Task, examples: list[Example]
) -> None:
    g = Graph("pot").model("m", "sim/llama-3.1-8b")
    p = g.generate("p", model="m", mode="pot")
    check = g.verify("check", check="pot", target=p)
    yes, no = g.vote("yes", reads=[check]), g.vote("no", reads=[p])
    g.chain(p, check).edge(check, yes, when={"passed": passed, "of": "check"}).edge(check, no).exit(yes, no)
    # A PoT program that prints what its sample states always passes its check.
    result = await run(g.build(pool), pool, task, examples[0])
    assert result.final_node == branch


async def test_a_loop_edge_is_taken_at_most_its_budget(pool: ModelPool, task: Task, examples: list[Example]) -> None:
    g = Graph("loop").model("m", "sim/llama-3.1-8b").limits(max_rounds=5)
    actor = g.generate("actor", model="m")
    critic = g.critique("critic", model="m", target=["refine", "actor"])
    g.refine("refine", model="m", candidate=["refine", "actor"], feedback="critic")
    g.edge(actor, critic).edge(critic, "refine", when={"verdict": "rejected", "of": "critic"}, max_rounds=2)
    g.exit(critic).edge("refine", critic)
    result = await run(g.build(pool), pool, task, examples[0], ScriptedGateway(accept=False))
    assert result.nodes["refine"].runs == 2 and result.nodes["critic"].runs == 3
    assert result.final_node == "critic"


# -- waiting joins -----------------------------------------------------------------------------------------------


async def test_a_join_behind_another_join_runs_once_after_it(
    pool: ModelPool, task: Task, examples: list[Example]
) -> None:
    # LangGraph releases both deferred nodes (inner, outer) at once; outer must wait for inner all the same.
    g = Graph("nested").model("m", "sim/llama-3.1-8b")
    s = g.generate("s", model="m")
    x1, x2, y = g.generate("x1", model="m"), g.generate("x2", model="m"), g.generate("y", model="m")
    inner = g.vote("inner", reads=[x1, x2])
    outer = g.vote("outer", reads=[inner, y])
    g.edge(s, x1).edge(s, x2).edge(s, y).chain(x1, inner).chain(x2, inner).chain(inner, outer).chain(y, outer)
    result = await run(g.exit(outer).build(pool), pool, task, examples[0])
    assert result.nodes["outer"].runs == 1 and result.nodes["inner"].runs == 1
    order = [o.node_id for o in result.trace]
    assert order.index("inner") < order.index("outer")
    assert result.latency_s == 2.0


async def test_a_join_behind_a_spawn_waits_for_its_children(
    pool: ModelPool, task: Task, examples: list[Example]
) -> None:
    g = Graph("mixed").model("m", "sim/llama-3.1-8b")
    s = g.generate("s", model="m")
    y = g.generate("y", model="m")
    sp = g.spawn("sp", child="c", width=3)
    g.generate("c", model="m")
    j = g.join("j", reads=[sp])
    v = g.vote("v", reads=[j, y])
    g.edge(s, sp).edge(s, y).chain(sp, j, v).chain(y, v).exit(v)
    result = await run(g.build(pool), pool, task, examples[0])
    assert result.nodes["v"].runs == 1 and result.nodes["j"].runs == 1 and result.nodes["c"].runs == 3
    (vote,) = [o for o in result.trace if o.node_id == "v"]
    assert vote.error is None


# -- failures ----------------------------------------------------------------------------------------------------


async def test_a_model_that_fails_mid_graph_fails_the_example_with_its_error(
    pool: ModelPool, task: Task, examples: list[Example]
) -> None:
    gateway = ScriptedGateway(fail=frozenset({"sim/mistral-7b"}))
    result = await run(fixture("fusion_dag", pool), pool, task, examples[0], gateway)
    assert result.error is not None
    assert "mistral: " in result.error or "model 'sim/mistral-7b' failed" in result.error
    assert "scripted failure" in result.error
    assert (result.answer, result.correct, result.final_node) == (None, False, None)
    assert "fuse" not in result.nodes  # nothing runs after the failure
    assert result.nodes["start"].calls == 1 and result.nodes["mistral"].errors == 1
    assert result.usage.prompt_tokens == 10 * sum(1 for c in gateway.calls if c.model != "sim/mistral-7b")


async def test_a_malformed_output_fails_its_node_but_not_the_example(
    pool: ModelPool, task: Task, examples: list[Example]
) -> None:
    gateway = ScriptedGateway(malformed=frozenset({"critique"}))
    result = await run(fixture("actor_critic", pool), pool, task, examples[0], gateway)
    assert result.error is None
    (critic,) = [o for o in result.trace if o.node_id == "critic"]
    assert critic.error is not None and critic.calls == 2  # the call and its one retry
    assert result.final_node == "critic"  # no verdict is not "rejected": the fallback ends the graph


async def test_the_recursion_limit_fails_the_example(pool: ModelPool, task: Task, examples: list[Example]) -> None:
    spec = fixture("actor_critic", pool)
    spec = spec.model_copy(update={"limits": spec.limits.model_copy(update={"recursion_limit": 3})})
    result = await run(spec, pool, task, examples[0], ScriptedGateway(accept=False))
    assert result.error == (
        "recursion limit of 3 super-steps reached before the graph ended "
        "(raise limits.recursion_limit, or lower the loops' max_rounds)"
    )
    assert result.correct is False and result.trace  # what ran before the limit is kept
    assert result.calls == sum(o.calls for o in result.trace) > 0


async def _raises(ctx: NodeContext, inputs: dict[str, list[NodeOutput]], config: Any) -> NodeOutput:
    raise agents.CustomKindError("this kind is broken on purpose")


register_kind("broken", _raises)


async def test_a_node_that_raises_fails_the_example(pool: ModelPool, task: Task, examples: list[Example]) -> None:
    g = Graph("broken").model("m", "sim/llama-3.1-8b")
    a = g.generate("a", model="m")
    b = g.custom("b", impl="broken", reads=[a])
    result = await run(g.chain(a, b).exit(b).build(pool), pool, task, examples[0])
    assert result.error == "b: CustomKindError: this kind is broken on purpose"
    assert result.nodes["a"].calls == 1


async def test_one_failing_example_does_not_stop_the_others(
    pool: ModelPool, task: Task, examples: list[Example]
) -> None:
    bad = examples[2].id
    gateway = ScriptedGateway(fail_examples=frozenset({bad}), delay_seed=1)
    seen: list[str] = []
    results = await run_graph(
        fixture("fusion_dag", pool),
        task=task,
        examples=examples,
        gateway=gateway,
        pool=pool,
        concurrency=3,
        on_result=lambda r: seen.append(r.example_id),
    )
    assert [r.example_id for r in results] == [e.id for e in examples]
    assert sorted(seen) == sorted(e.id for e in examples)
    assert [r.error is not None for r in results] == [e.id == bad for e in examples]


# -- many examples -----------------------------------------------------------------------------------------------


async def test_examples_run_at_most_concurrency_at_once(pool: ModelPool, task: Task, examples: list[Example]) -> None:
    in_flight: set[str] = set()
    peak = 0
    crowded = asyncio.Event()

    async def block(call: Any) -> None:
        # Each call holds until as many as the limit are in flight (or a while has passed), then lets go.
        nonlocal peak
        in_flight.add(call.prompt)
        peak = max(peak, len(in_flight))
        if len(in_flight) >= 2:
            crowded.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(crowded.wait(), 2.0)
        await asyncio.sleep(0.01)  # others that were let in would show up now
        in_flight.discard(call.prompt)
        crowded.clear()

    spec = Graph("one").model("m", "sim/llama-3.1-8b")
    spec.exit(spec.generate("a", model="m"))
    results = await run_graph(
        spec.build(pool), task=task, examples=examples, gateway=ScriptedGateway(block=block), pool=pool, concurrency=2
    )
    assert len(results) == len(examples)
    assert peak == 2


async def test_results_do_not_depend_on_concurrency(pool: ModelPool, task: Task, examples: list[Example]) -> None:
    spec = fixture("fusion_dag", pool)
    one = await run_graph(
        spec, task=task, examples=examples, gateway=ScriptedGateway(delay_seed=3), pool=pool, concurrency=1
    )
    many = await run_graph(
        spec, task=task, examples=examples, gateway=ScriptedGateway(delay_seed=4), pool=pool, concurrency=6
    )
    assert one == many


async def test_concurrency_must_be_positive(pool: ModelPool, task: Task, examples: list[Example]) -> None:
    with pytest.raises(ValueError, match="concurrency must be at least 1, got 0"):
        await run_graph(
            fixture("best_of_n", pool), task=task, examples=examples, gateway=ScriptedGateway(), concurrency=0
        )


# -- end to end --------------------------------------------------------------------------------------------------


def test_collabgraph_run_runs_a_two_entry_graph_on_the_sim_pool(run_cli: RunCli, tmp_path: Path) -> None:
    graph = str(FIXTURES / "parallel_entries.yaml")
    args = ("run", graph, "--task", "gsm8k", "--limit", "5", "--out", str(tmp_path / "run"), "--format", "json")
    report = cli_json(run_cli(*args))
    assert (report["graph"], report["n"], report["errors"]) == ("parallel_entries", 5, 0)
    assert [row["node"] for row in report["nodes"]] == ["a", "b", "fuse"]
    assert all(row["runs"] == 1.0 for row in report["nodes"])
    for row in read_jsonl(tmp_path / "run" / "results.jsonl"):
        nodes = row["nodes"]
        # The sim models' latencies are virtual: the entries overlap, the fuser adds.
        assert row["latency_s"] == pytest.approx(
            max(nodes["a"]["latency_s"], nodes["b"]["latency_s"]) + nodes["fuse"]["latency_s"]
        )
        assert row["latency_s"] < sum(n["latency_s"] for n in nodes.values())
        (fuse,) = [o for o in row["trace"] if o["node_id"] == "fuse"]
        assert fuse["data"]["read"] == ["a[0]", "b[0]"]
