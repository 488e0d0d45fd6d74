"""Graphs built in Python equal the same graphs loaded from YAML, and are validated the same way."""

from __future__ import annotations

import pytest

from collabgraph.errors import ConfigError
from collabgraph.graphs import END, Graph, GraphSpec, RoundBelow, VerdictIs, load, register_kind
from collabgraph.models.pool import ModelPool
from tests.graphs.custom_kinds import Echo
from tests.graphs.helpers import FIXTURES

register_kind("echo", Echo)


def actor_critic() -> Graph:
    g = Graph(
        "actor_critic",
        "An actor answers, a stronger critic reviews, the actor refines until the critic accepts or 3 rounds pass.",
    )
    g.model("actor", "sim/llama-3.1-8b").model("critic", "sim/llama-3.1-70b").limits(max_rounds=3)
    actor = g.generate("actor", model="actor")
    critic = g.critique("critic", model="critic", target=["refine", actor])
    refine = g.refine("refine", model="actor", candidate=["refine", actor], feedback=critic)
    g.edge(actor, critic)
    g.edge(critic, refine, when=VerdictIs(verdict="rejected", of=critic), max_rounds=3)
    return g.exit(critic).edge(refine, critic)


def best_of_n() -> Graph:
    g = Graph("best_of_n", "Self-consistency - 8 samples of one model, majority vote over their answers.")
    g.model("m", "sim/llama-3.1-8b")
    a = g.generate("sample", model="m", samples=8, temperature=0.7)
    v = g.vote("vote", reads=[a])
    return g.edge(a, v).exit(v)


def fusion_dag() -> Graph:
    g = Graph(
        "fusion_dag",
        "Three assistants on different models answer in parallel; a fuser reads all three and writes one answer.",
    )
    for alias, name in [("a", "llama-3.1-8b"), ("b", "qwen2.5-7b"), ("c", "mistral-7b"), ("fuser", "llama-3.1-70b")]:
        g.model(alias, f"sim/{name}")
    start = g.generate("start", model="a", temperature=0.7)
    others = [g.generate("qwen", model="b", temperature=0.7), g.generate("mistral", model="c", temperature=0.7)]
    fuse = g.fuse("fuse", model="fuser", reads=[start, *others])
    for o in others:
        g.edge(start, o)
    g.edge(start, fuse)
    for o in others:
        g.edge(o, fuse)
    return g.exit(fuse)


def spawn_join() -> Graph:
    g = Graph(
        "spawn_join",
        "APR-style parallel search - a parent plans 4 subtasks, children search them in parallel, the join hands "
        "back only their results.",
    )
    g.model("planner", "sim/llama-3.1-70b").model("searcher", "sim/llama-3.1-8b").limits(max_width=8)
    plan = g.spawn("plan", mode="planned", model="planner", width=4, child="search")
    g.generate(
        "search",
        model="searcher",
        temperature=0.7,
        description="the child template - runs once per planned subtask, with no edges of its own",
    )
    collect = g.join("collect", reads=[plan], strategy="results_only")
    answer = g.select("answer", by="judge", model="planner", reads=[collect])
    return g.chain(plan, collect, answer).exit(answer)


def cot_pot() -> Graph:
    g = Graph(
        "cot_pot",
        "Collaborative verification - chain-of-thought answers checked against executed program-of-thought answers; "
        "disagreeing answers are dropped, the rest voted.",
    )
    g.model("m", "sim/llama-3.1-8b")
    cot = g.generate("cot", model="m", mode="cot", samples=4, temperature=0.7)
    pot = g.generate("pot", model="m", mode="pot", samples=4, temperature=0.7)
    run = g.verify("run_pot", check="pot", target=pot)
    vote = g.vote("vote", reads=[cot, run], require_agreement=True)
    return g.chain(cot, pot, run, vote).exit(vote)


def parallel_entries() -> Graph:
    g = Graph(
        "parallel_entries",
        "Two assistants on different models start at once; a fuser reads both answers and writes one.",
    )
    g.model("small", "sim/llama-3.2-1b").model("mid", "sim/llama-3.1-8b").model("fuser", "sim/llama-3.1-70b")
    a = g.generate("a", model="small", temperature=0.7)
    b = g.generate("b", model="mid", temperature=0.7)
    fuse = g.fuse("fuse", model="fuser", reads=[a, b])
    return g.entry(a, b).chain(a, fuse).chain(b, fuse).exit(fuse)


BUILDERS = {f.__name__: f for f in (actor_critic, best_of_n, fusion_dag, spawn_join, cot_pot, parallel_entries)}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_builder_equals_yaml(name: str, pool: ModelPool) -> None:
    assert BUILDERS[name]().build(pool) == load(FIXTURES / f"{name}.yaml", pool=pool)


def test_build_runs_the_same_checks(pool: ModelPool) -> None:
    g = Graph("broken").model("m", "sim/llama-3.1-8b")
    a = g.generate("a", model="m")
    b = g.generate("b", model="m")
    g.edge(a, b).edge(b, a).exit(b)
    with pytest.raises(ConfigError) as info:
        g.build(pool)
    assert info.value.source == "graph 'broken'"
    assert [e.loc for e in info.value.errors] == ["edges[1]"]
    assert "loop a → b → a has no condition" in info.value.errors[0].msg
    assert isinstance(g.build(pool, check=False), GraphSpec)


def test_build_reports_type_errors_at_their_field(pool: ModelPool) -> None:
    g = Graph("typed")
    g.generate("a", model="sim/llama-3.1-8b", samples="many")
    g.exit("a")
    with pytest.raises(ConfigError) as info:
        g.build(pool)
    assert [e.loc for e in info.value.errors] == ["nodes[0].samples"]


def test_entry_defaults_to_the_first_node_and_can_be_set(pool: ModelPool) -> None:
    g = Graph("two")
    a = g.generate("a", model="sim/llama-3.1-8b")
    b = g.generate("b", model="sim/llama-3.1-8b")
    g.edge(a, b).exit(b)
    assert g.build(pool).entry == "a"
    g.entry(b)
    with pytest.raises(ConfigError, match="not reachable from the entry 'b'"):
        g.build(pool)


def test_entry_can_name_several_nodes_that_start_at_once(pool: ModelPool) -> None:
    g = Graph("two")
    a = g.generate("a", model="sim/llama-3.1-8b")
    b = g.generate("b", model="sim/llama-3.1-8b")
    v = g.vote("v", reads=[a, b])
    g.chain(a, v).chain(b, v).exit(v)
    g.entry(a, b)
    spec = g.build(pool)
    assert (spec.entry, spec.entries) == (["a", "b"], ("a", "b"))
    assert g.to_data()["entry"] == ["a", "b"]
    g.entry(b)  # one id again: the single-entry form, as before
    assert g.to_data()["entry"] == "b"
    g.entry(a, b, a)
    with pytest.raises(ConfigError) as info:
        g.build(pool)
    assert [(e.loc, e.msg) for e in info.value.errors] == [("entry[2]", "duplicate entry 'a' (first at entry[0])")]


def test_subgraph_child_and_dict_conditions(pool: ModelPool) -> None:
    child = Graph("child")
    child.exit(child.generate("q", model="solver"))
    g = Graph("nested").model("solver", "sim/qwen2.5-7b")
    fan = g.spawn("fan", child=child, width=3)
    collect = g.join("collect", reads=[fan], strategy="vote")
    again = g.generate("again", model="solver", reads=[collect])
    g.chain(fan, collect)
    g.edge(collect, again, when={"round_lt": 2}).edge(collect, END)
    g.edge(again, END)
    spec = g.build(pool)
    text = f"""
schema: collabgraph.graph/v1
name: nested
models: {{solver: sim/qwen2.5-7b}}
entry: fan
nodes:
  - id: fan
    kind: spawn
    width: 3
    child: {{graph: {{schema: collabgraph.graph/v1, name: child, entry: q, nodes: [{{id: q, kind: generate, model: solver}}],
            edges: [{{from: q, to: {END}}}]}}}}
  - {{id: collect, kind: join, reads: [fan], strategy: vote}}
  - {{id: again, kind: generate, model: solver, reads: [collect]}}
edges:
  - {{from: fan, to: collect}}
  - {{from: collect, to: again, when: {{round_lt: 2}}}}
  - {{from: collect, to: END}}
  - {{from: again, to: END}}
"""
    assert spec == load(text, pool=pool)
    assert spec.edges[1].when == RoundBelow(round_lt=2)


def test_custom_node_from_the_builder(pool: ModelPool) -> None:
    g = Graph("custom")
    a = g.generate("a", model="sim/llama-3.1-8b")
    c = g.custom("c", impl="echo", config={"times": 2}, reads=[a])
    g.chain(a, c).exit(c)
    text = """
schema: collabgraph.graph/v1
name: custom
entry: a
nodes:
  - {id: a, kind: generate, model: sim/llama-3.1-8b}
  - {id: c, kind: custom, impl: echo, config: {times: 2}, reads: [a]}
edges: [{from: a, to: c}, {from: c, to: END}]
"""
    assert g.build(pool) == load(text, pool=pool)
