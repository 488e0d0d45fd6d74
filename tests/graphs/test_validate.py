"""Graph checks: structure, loops, fan-ins, data flow, models and each kind's rules — each error at its field."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from collabgraph.errors import ConfigError, ErrorItem
from collabgraph.graphs import GraphSpec, analyze, check, load, loads, validate
from collabgraph.models.pool import ModelPool
from tests.graphs.helpers import FIXTURES, fixture_pool

M = "sim/llama-3.1-8b"


def gen(node_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": node_id, "kind": "generate", "model": M, **fields}


def graph(nodes: list[dict[str, Any]], edges: list[tuple[str, str] | dict[str, Any]], **top: Any) -> GraphSpec:
    data: dict[str, Any] = {"schema": "collabgraph.graph/v1", "name": "t", "entry": nodes[0]["id"], **top}
    data["nodes"] = nodes
    data["edges"] = [{"from": e[0], "to": e[1]} if isinstance(e, tuple) else e for e in edges]
    return GraphSpec.model_validate(data)


def errors(spec: GraphSpec) -> list[ErrorItem]:
    return validate(spec, fixture_pool())


def at(spec: GraphSpec, loc: str) -> ErrorItem:
    found = errors(spec)
    matching = [e for e in found if e.loc == loc]
    assert matching, f"no error at {loc}; got {[str(e) for e in found]}"
    return matching[0]


def assert_valid(spec: GraphSpec) -> None:
    assert [str(e) for e in errors(spec)] == []


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.yaml")), ids=lambda p: p.stem)
def test_fixtures_are_valid(path: Any, pool: ModelPool) -> None:
    assert validate(load(path, pool=pool, check=False), pool) == []


def test_check_returns_the_spec_or_raises_with_every_error() -> None:
    good = graph([gen("a")], [("a", "END")])
    assert check(good, fixture_pool()) is good
    bad = graph([gen("a", model="nope"), gen("a")], [("a", "END")])
    with pytest.raises(ConfigError) as info:
        check(bad, fixture_pool(), source="g.yaml")
    assert info.value.source == "g.yaml"
    assert {e.loc for e in info.value.errors} >= {"nodes[0].model", "nodes[1].id"}


def test_default_pool_accepts_direct_provider_ids() -> None:
    assert validate(graph([gen("a", model="openai/gpt-4o-mini")], [("a", "END")])) == []


# -- structure -----------------------------------------------------------------------------------------------------


def test_duplicate_and_reserved_ids() -> None:
    spec = graph([gen("a"), gen("a"), gen("END")], [("a", "END")])
    assert at(spec, "nodes[1].id").msg == "duplicate node id 'a' (first at nodes[0])"
    assert at(spec, "nodes[2].id").msg == "'END' is reserved"


def test_entry_must_name_a_node() -> None:
    spec = graph([gen("alpha")], [("alpha", "END")], entry="alpah")
    err = at(spec, "entry")
    assert (err.msg, err.hint) == ("no node 'alpah'", "did you mean 'alpha'?")


# -- several entries -----------------------------------------------------------------------------------------------


def two_entries(meet: dict[str, Any], entry: list[str] | None = None, **top: Any) -> GraphSpec:
    """Entries a and b (two models) meeting at ``meet``, which ends the graph."""
    nodes = [gen("a", model="sim/llama-3.2-1b"), gen("b"), meet]
    edges: list[Any] = [("a", meet["id"]), ("b", meet["id"]), (meet["id"], "END")]
    return graph(nodes, edges, entry=entry or ["a", "b"], **top)


def test_entries_meeting_at_an_aggregator_are_valid() -> None:
    assert_valid(two_entries({"id": "f", "kind": "fuse", "model": M, "reads": ["a", "b"]}))
    for aggregator in ("vote", "select", "join"):
        node = {"id": "f", "kind": aggregator, "reads": ["a", "b"], **({"model": M} if aggregator == "select" else {})}
        assert_valid(two_entries(node))
    assert_valid(two_entries(gen("f", reads=["a", "b"], join="all")))


def test_entries_meeting_at_a_plain_node_need_a_join_as_any_fan_in() -> None:
    err = at(two_entries(gen("f", reads=["a"])), "nodes[2].join")
    assert err.msg == "'f' is reached by edges[0] and edges[1], which can both fire in one run, but declares no join"
    assert err.hint is not None and "join: all" in err.hint


def test_reading_two_entries_needs_a_join() -> None:
    # a and b run in parallel; c after a reads both, so it must say how it waits for b.
    nodes = [gen("a"), gen("b"), gen("c", reads=["a", "b"]), {"id": "v", "kind": "vote", "reads": ["b", "c"]}]
    edges: list[Any] = [("a", "c"), ("b", "v"), ("c", "v"), ("v", "END")]
    spec = graph(nodes, edges, entry=["a", "b"])
    assert at(spec, "nodes[2].join").msg == "'c' reads 'a' and 'b', which run in parallel, but declares no join"


def test_two_entries_cannot_both_end_the_graph() -> None:
    spec = graph([gen("a"), gen("b")], [("a", "END"), ("b", "END")], entry=["a", "b"])
    assert "can both end the graph" in at(spec, "edges[1].to").msg


def test_an_unknown_entry_in_a_list_is_reported_at_its_item() -> None:
    err = at(two_entries({"id": "f", "kind": "vote", "reads": ["a", "b"]}, ["a", "bb"]), "entry[1]")
    assert (err.msg, err.hint) == ("no node 'bb'", "did you mean 'b'?")


def test_an_entry_listed_twice() -> None:
    spec = two_entries({"id": "f", "kind": "vote", "reads": ["a", "b"]}, ["a", "b", "a"])
    err = at(spec, "entry[2]")
    assert (err.msg, err.hint) == ("duplicate entry 'a' (first at entry[0])", "list each entry once")


def test_an_empty_entry_list_is_refused_when_parsed() -> None:
    data = two_entries({"id": "f", "kind": "vote", "reads": ["a", "b"]}).model_dump(by_alias=True)
    with pytest.raises(ConfigError) as info:
        loads(yaml.safe_dump({**data, "entry": []}), pool=fixture_pool())
    assert [(e.loc, e.msg) for e in info.value.errors] == [
        ("entry", "expected a node id or a non-empty list of node ids, got []")
    ]


def test_a_spawn_child_template_cannot_be_an_entry() -> None:
    spec = graph(
        [
            gen("a"),
            {"id": "plan", "kind": "spawn", "width": 2, "child": "search"},
            gen("search"),
            {"id": "collect", "kind": "join", "reads": ["plan"]},
            {"id": "v", "kind": "vote", "reads": ["a", "collect"]},
        ],
        [("a", "v"), ("plan", "collect"), ("collect", "v"), ("v", "END")],
        entry=["a", "plan", "search"],
    )
    assert at(spec, "entry[2]").msg == "'search' is the child template of spawn 'plan'"
    # Without the template, a spawn may itself be an entry, running beside a.
    assert_valid(spec.model_copy(update={"entry": ["a", "plan"]}))


def test_an_entry_downstream_of_another_would_run_twice() -> None:
    spec = two_entries({"id": "f", "kind": "vote", "reads": ["a", "b"]}, ["a", "b", "f"])
    err = at(spec, "entry[2]")
    assert err.msg == "entry 'f' also runs after 'a' (edges[0]), so it would run twice in one pass"
    assert err.hint == "drop 'f' from entry to start it after 'a', or remove edges[0]"


def test_a_loop_back_to_an_entry_is_a_loop_not_a_second_start() -> None:
    # f sends b round again while a critique of f rejects: the edge into entry b closes a guarded loop.
    nodes = [
        gen("a"),
        gen("b"),
        {"id": "f", "kind": "fuse", "model": M, "reads": ["a", "b"]},
        {"id": "c", "kind": "critique", "model": M, "target": "f"},
    ]
    edges: list[Any] = [
        ("a", "f"),
        ("b", "f"),
        ("f", "c"),
        {"from": "c", "to": "b", "when": {"verdict": "rejected", "of": "c"}},
        ("c", "END"),
    ]
    spec = graph(nodes, edges, entry=["a", "b"])
    assert_valid(spec)
    flow = analyze(spec)
    assert flow.back_edges == {3} and flow.loop_edges == {3}
    assert flow.parallel("a", "b") and not flow.parallel("b", "f")


def test_unreachable_from_several_entries() -> None:
    spec = graph(
        [gen("a"), gen("b"), {"id": "v", "kind": "vote", "reads": ["a", "b"]}, gen("x")],
        [("a", "v"), ("b", "v"), ("v", "END"), ("x", "END")],
        entry=["a", "b"],
    )
    assert at(spec, "nodes[3]").msg == "node 'x' is not reachable from the entries 'a', 'b'"


def test_entries_count_against_max_width() -> None:
    nodes = [gen(f"e{i}") for i in range(3)] + [{"id": "v", "kind": "vote", "reads": ["e0", "e1", "e2"]}]
    edges: list[Any] = [(f"e{i}", "v") for i in range(3)] + [("v", "END")]
    err = at(graph(nodes, edges, entry=["e0", "e1", "e2"], limits={"max_width": 2}), "entry[2]")
    assert (err.msg, err.hint) == (
        "the graph starts at 3 entries, more than limits.max_width = 2",
        "raise limits.max_width",
    )
    assert_valid(graph(nodes, edges, entry=["e0", "e1", "e2"], limits={"max_width": 3}))


def test_dangling_edges_name_the_closest_node() -> None:
    spec = graph([gen("actor"), gen("critic")], [("actor", "critc"), ("actr", "critic"), ("critic", "END")])
    err = at(spec, "edges[0].to")
    assert (err.msg, err.hint) == ("no node 'critc'", "did you mean 'critic'?")
    assert at(spec, "edges[1].from").hint == "did you mean 'actor'?"


def test_end_is_a_target_only() -> None:
    spec = graph([gen("a")], [("a", "END"), ("END", "a")])
    assert "target only" in at(spec, "edges[1].from").msg


def test_duplicate_edges() -> None:
    spec = graph([gen("a")], [("a", "END"), ("a", "END")])
    err = at(spec, "edges[1]")
    assert err.msg == "duplicate edge a → END (first at edges[0])"
    assert err.hint is not None and "any:" in err.hint


def test_unreachable_node() -> None:
    spec = graph([gen("a"), gen("b")], [("a", "END"), ("b", "END")])
    err = at(spec, "nodes[1]")
    assert err.msg == "node 'b' is not reachable from the entry 'a'"


def test_dead_end_reported_once_per_region() -> None:
    spec = graph([gen("a"), gen("b"), gen("c")], [("a", "b"), ("b", "c")])
    found = [e for e in errors(spec) if "never reaches END" in e.msg]
    assert [(e.loc, e.msg) for e in found] == [("nodes[2]", "node 'c' never reaches END")]
    assert found[0].hint == "add an edge from 'c' toward END"


def test_static_fan_out_is_bounded_by_max_width() -> None:
    nodes = [gen("a"), *(gen(f"b{i}") for i in range(3)), {"id": "v", "kind": "vote", "reads": ["b0", "b1", "b2"]}]
    edges: list[Any] = [("a", f"b{i}") for i in range(3)] + [(f"b{i}", "v") for i in range(3)] + [("v", "END")]
    err = at(graph(nodes, edges, limits={"max_width": 2}), "edges[2]")
    assert "fans out to 3 branches" in err.msg
    assert_valid(graph(nodes, edges, limits={"max_width": 3}))


# -- routing and loops ---------------------------------------------------------------------------------------------

ACTOR_CRITIC = [
    gen("actor"),
    {"id": "critic", "kind": "critique", "model": M, "target": ["refine", "actor"]},
    {"id": "refine", "kind": "refine", "model": M, "candidate": ["refine", "actor"], "feedback": "critic"},
]
REJECTED = {"verdict": "rejected", "of": "critic"}


def test_guarded_loop_is_valid() -> None:
    edges = [("actor", "critic"), {"from": "critic", "to": "refine", "when": REJECTED}, ("critic", "END")]
    assert_valid(graph(ACTOR_CRITIC, [*edges, ("refine", "critic")]))


def test_loop_without_a_condition_is_rejected_at_its_closing_edge() -> None:
    spec = graph(ACTOR_CRITIC, [("actor", "critic"), ("critic", "refine"), ("refine", "critic")])
    err = at(spec, "edges[2]")
    assert err.msg == "loop critic → refine → critic has no condition, so nothing ever ends it"
    assert err.hint is not None and "when:" in err.hint


def test_unconditional_self_loop_is_rejected_and_a_conditional_one_is_not() -> None:
    spec = graph([gen("a")], [("a", "a"), ("a", "END")])
    assert "loop a → a" in at(spec, "edges[0]").msg
    cond = {"from": "a", "to": "a", "when": {"agree": False, "of": ["a"]}}
    assert_valid(graph([gen("a", samples=3)], [cond, ("a", "END")]))


def test_router_needs_exactly_one_fallback() -> None:
    no_fallback = [("actor", "critic"), {"from": "critic", "to": "refine", "when": REJECTED}, ("refine", "critic")]
    err = at(graph(ACTOR_CRITIC, no_fallback), "edges[1]")
    assert "no fallback edge" in err.msg
    two = [*no_fallback, ("critic", "END"), {"from": "refine", "to": "END"}]
    spec = graph(ACTOR_CRITIC, [*two[:3], ("critic", "END"), ("critic", "actor")])
    assert "2 edges without `when`" in at(spec, "edges[4]").msg


def test_round_budget_rules() -> None:
    base = [("actor", "critic"), ("critic", "END"), ("refine", "critic")]
    over = graph(ACTOR_CRITIC, [*base, {"from": "critic", "to": "refine", "when": REJECTED, "max_rounds": 5}])
    assert at(over, "edges[3].max_rounds").msg == "5 exceeds limits.max_rounds = 3"
    assert_valid(
        graph(
            ACTOR_CRITIC,
            [*base, {"from": "critic", "to": "refine", "when": REJECTED, "max_rounds": 5}],
            limits={"max_rounds": 5},
        )
    )
    unconditional = graph([gen("a")], [{"from": "a", "to": "END", "max_rounds": 2}])
    assert "conditional edge" in at(unconditional, "edges[0].max_rounds").msg
    no_loop = graph(
        [gen("a"), gen("b")],
        [{"from": "a", "to": "b", "when": {"round_lt": 2}, "max_rounds": 2}, ("a", "END"), ("b", "END")],
    )
    assert at(no_loop, "edges[0].max_rounds").msg == "edge a → b is on no loop, so a round budget never applies"


def test_condition_references() -> None:
    def routed(when: dict[str, Any]) -> GraphSpec:
        return graph(
            [*ACTOR_CRITIC, {"id": "check", "kind": "verify", "check": "pot", "target": "actor"}],
            [
                ("actor", "check"),
                ("check", "critic"),
                {"from": "critic", "to": "refine", "when": when},
                ("critic", "END"),
                ("refine", "critic"),
            ],
        )

    assert_valid(routed({"all": [REJECTED, {"passed": False, "of": "check"}]}))
    err = at(routed({"verdict": "rejected", "of": "critc"}), "edges[2].when.of")
    assert (err.msg, err.hint) == ("no node 'critc'", "did you mean 'critic'?")
    err = at(routed({"any": [{"round_lt": 2}, {"verdict": "rejected", "of": "actor"}]}), "edges[2].when.any[1].of")
    assert err.msg == "`verdict` reads a critique node; 'actor' is a generate node"
    assert err.hint == "valid: critic"
    err = at(routed({"not": {"passed": True, "of": "actor"}}), "edges[2].when.not.of")
    assert "`passed` reads a verify node" in err.msg
    err = at(routed({"agree": True, "of": ["actor", "refine"]}), "edges[2].when.of[1]")
    assert "has not surely run when 'critic' routes" in err.msg


# -- fan-in --------------------------------------------------------------------------------------------------------


def fork(join_node: dict[str, Any]) -> GraphSpec:
    return graph(
        [gen("a"), gen("b"), gen("c"), join_node],
        [("a", "b"), ("a", "c"), ("b", join_node["id"]), ("c", join_node["id"]), (join_node["id"], "END")],
    )


def test_fan_in_needs_a_join() -> None:
    err = at(fork(gen("d", reads=["b", "c"])), "nodes[3].join")
    assert err.msg == "'d' is reached by edges[2] and edges[3], which can both fire in one run, but declares no join"
    assert err.hint is not None and "join: all" in err.hint
    assert_valid(fork(gen("d", reads=["b", "c"], join="all")))
    for aggregator in ("vote", "join"):
        assert_valid(fork({"id": "d", "kind": aggregator, "reads": ["b", "c"]}))
    assert_valid(fork({"id": "d", "kind": "fuse", "model": M, "reads": ["b", "c"]}))


def test_sequential_paths_into_one_node_are_a_fan_in_too() -> None:
    # a → b → c and a → c: without a join, c would run once after a and again after b.
    spec = graph([gen("a"), gen("b"), gen("c")], [("a", "b"), ("b", "c"), ("a", "c"), ("c", "END")])
    assert "declares no join" in at(spec, "nodes[2].join").msg


def test_branches_of_a_router_meet_without_a_join() -> None:
    spec = graph(
        [gen("a"), gen("b"), gen("c"), {"id": "d", "kind": "critique", "model": M, "target": ["b", "c"]}],
        [{"from": "a", "to": "b", "when": {"round_lt": 2}}, ("a", "c"), ("b", "d"), ("c", "d"), ("d", "END")],
    )
    assert_valid(spec)


def test_parallel_branches_cannot_both_end_the_graph() -> None:
    spec = graph([gen("a"), gen("b"), gen("c")], [("a", "b"), ("a", "c"), ("b", "END"), ("c", "END")])
    err = at(spec, "edges[3].to")
    assert "can both end the graph" in err.msg
    assert err.hint is not None and "vote, fuse, select or join" in err.hint


def test_reading_parallel_nodes_needs_a_join() -> None:
    nodes = [gen("a"), gen("b"), gen("c"), {"id": "v", "kind": "vote", "reads": ["b", "c"]}, gen("e", reads=["b", "c"])]
    edges: list[Any] = [("a", "b"), ("a", "c"), ("b", "v"), ("c", "v"), ("v", "e"), ("e", "END")]
    err = at(graph(nodes, edges), "nodes[4].join")
    assert err.msg == "'e' reads 'b' and 'c', which run in parallel, but declares no join"
    nodes[4] = gen("e", reads=["b", "c"], join="all")
    assert_valid(graph(nodes, edges))


# -- data flow -----------------------------------------------------------------------------------------------------


def test_reads_must_name_nodes() -> None:
    spec = graph([gen("actor"), gen("b", reads=["actr"])], [("actor", "b"), ("b", "END")])
    err = at(spec, "nodes[1].reads[0]")
    assert (err.msg, err.hint) == ("no node 'actr'", "did you mean 'actor'?")


def test_reads_must_be_produced_upstream() -> None:
    spec = graph([gen("a", reads=["b"]), gen("b")], [("a", "b"), ("b", "END")])
    err = at(spec, "nodes[0].reads[0]")
    assert err.msg == "'b' never runs before 'a', so its output is not there to read"


def test_reads_behind_a_condition_may_be_missing() -> None:
    spec = graph(
        [gen("a"), gen("b"), gen("c", reads=["b"])],
        [{"from": "a", "to": "b", "when": {"round_lt": 2}}, ("a", "c"), ("b", "c"), ("c", "END")],
    )
    err = at(spec, "nodes[2].reads[0]")
    assert "runs only under some router choices" in err.msg


def test_loop_inputs_need_a_first_round_alternative() -> None:
    nodes = [dict(n) for n in ACTOR_CRITIC]
    nodes[1]["target"] = "refine"
    edges = [("actor", "critic"), {"from": "critic", "to": "refine", "when": REJECTED}, ("critic", "END")]
    err = at(graph(nodes, [*edges, ("refine", "critic")]), "nodes[1].target")
    assert err.msg == "'refine' runs before 'critic' only through a loop, so the first round has nothing to read"
    assert err.hint == "list a node that runs in the first round too, latest first: [refine, actor]"


def test_list_role_reference_errors_point_at_the_item() -> None:
    nodes = [dict(n) for n in ACTOR_CRITIC]
    nodes[2]["candidate"] = ["refine", "actr"]
    edges = [("actor", "critic"), {"from": "critic", "to": "refine", "when": REJECTED}, ("critic", "END")]
    err = at(graph(nodes, [*edges, ("refine", "critic")]), "nodes[2].candidate[1]")
    assert err.hint == "did you mean 'actor'?"


def test_read_twice() -> None:
    spec = graph([gen("a"), gen("b", reads=["a", "a"])], [("a", "b"), ("b", "END")])
    assert at(spec, "nodes[1].reads[1]").msg == "'a' is read twice"


# -- spawn / join --------------------------------------------------------------------------------------------------


def spawn_graph(**changes: Any) -> GraphSpec:
    nodes: list[dict[str, Any]] = [
        {"id": "plan", "kind": "spawn", "mode": "planned", "model": M, "width": 4, "child": "search"},
        gen("search", reads=["plan"]),
        {"id": "collect", "kind": "join", "reads": ["plan"]},
    ]
    edges: list[Any] = [("plan", "collect"), ("collect", "END")]
    for key, value in changes.items():
        if key == "edges":
            edges = value
        else:
            index, field = key.split("__")
            nodes[int(index[1:])][field] = value
    return graph(nodes, edges)


def test_spawn_join_is_valid() -> None:
    assert_valid(spawn_graph())


def test_spawn_child_must_be_a_template_node() -> None:
    err = at(spawn_graph(n0__child="serch"), "nodes[0].child")
    assert (err.msg, err.hint) == ("no node 'serch'", "did you mean 'search'?")
    assert "cannot be a join node" in at(spawn_graph(n0__child="collect"), "nodes[0].child").msg
    assert "own child" in at(spawn_graph(n0__child="plan"), "nodes[0].child").msg


def test_templates_have_no_edges() -> None:
    spec = spawn_graph(edges=[("plan", "collect"), ("collect", "END"), ("search", "END")])
    assert "has no edges of its own" in at(spec, "edges[2].from").msg


def test_spawn_leads_to_its_join() -> None:
    spec = graph(
        [
            {"id": "plan", "kind": "spawn", "width": 2, "child": "search"},
            gen("search"),
            gen("other"),
            {"id": "collect", "kind": "join", "reads": ["plan"]},
        ],
        [("plan", "other"), ("other", "collect"), ("collect", "END")],
    )
    err = at(spec, "edges[0].to")
    assert err.msg == "spawn 'plan' must lead to a join node that reads it, not 'other'"
    assert err.hint == "use 'collect'"
    assert at(spec, "nodes[3].reads[0]").msg == "join 'collect' reads spawn 'plan' but does not follow it"


def test_only_a_join_reads_a_spawn_and_nobody_reads_a_template() -> None:
    spec = spawn_graph(
        n2__reads=["plan"], edges=[("plan", "collect"), ("collect", "after"), ("after", "END")]
    ).model_dump(by_alias=True)
    spec["nodes"].append(gen("after", reads=["plan", "search"]))
    built = GraphSpec.model_validate(spec)
    assert "is a spawn" in at(built, "nodes[3].reads[0]").msg
    err = at(built, "nodes[3].reads[1]")
    assert err.msg == "'search' is the child template of spawn 'plan'"


def test_spawn_model_rules_and_width() -> None:
    assert "planned spawn needs a model" in at(spawn_graph(n0__model=None), "nodes[0].model").msg
    replicas = spawn_graph(n0__mode="replicas")
    assert "calls no model" in at(replicas, "nodes[0].model").msg
    assert at(spawn_graph(n0__width=32), "nodes[0].width").msg == "width 32 exceeds limits.max_width = 16"


def test_subgraph_child_is_validated_with_the_parents_aliases() -> None:
    child = {
        "graph": {
            "schema": "collabgraph.graph/v1",
            "name": "c",
            "entry": "q",
            "nodes": [{"id": "q", "kind": "generate", "model": "solver"}],
            "edges": [{"from": "q", "to": "END"}],
        }
    }
    nodes: list[dict[str, Any]] = [
        {"id": "fan", "kind": "spawn", "width": 3, "child": child},
        {"id": "collect", "kind": "join", "reads": ["fan"], "strategy": "vote"},
    ]
    edges: list[Any] = [("fan", "collect"), ("collect", "END")]
    assert_valid(graph(nodes, edges, models={"solver": M}))
    err = at(graph(nodes, edges), "nodes[0].child.graph.nodes[0].model")
    assert "neither a model alias" in err.msg


# -- per kind ------------------------------------------------------------------------------------------------------


def test_model_aliases_resolve_against_the_pool() -> None:
    spec = graph([gen("a", model="m")], [("a", "END")], models={"m": "sim/llama-3.1-7b"})
    err = at(spec, "models.m")
    assert err.msg == "unknown model 'sim/llama-3.1-7b'"
    assert err.hint is not None and "'sim/llama-3.1-8b'" in err.hint


def test_node_model_must_be_an_alias_or_a_pool_model() -> None:
    spec = graph([gen("a", model="actr")], [("a", "END")], models={"actor": M})
    err = at(spec, "nodes[0].model")
    assert err.msg == "'actr' is neither a model alias of this graph nor a model of the pool"
    assert err.hint is not None and err.hint.startswith("did you mean 'actor'")
    assert_valid(graph([gen("a", model=M)], [("a", "END")]))


def test_samples_within_max_width() -> None:
    spec = graph([gen("a", samples=20)], [("a", "END")])
    assert at(spec, "nodes[0].samples").msg == "20 samples exceed limits.max_width = 16"
    assert_valid(graph([gen("a", samples=20)], [("a", "END")], limits={"max_width": 20}))


def selecting(node: dict[str, Any]) -> GraphSpec:
    return graph(
        [gen("a", samples=4), {"id": "t", "kind": "verify", "check": "unit_tests", "target": "a"}, node],
        [("a", "t"), ("t", "s"), ("s", "END")],
    )


def test_select_rules() -> None:
    assert_valid(selecting({"id": "s", "kind": "select", "model": M, "reads": ["a"]}))
    assert_valid(selecting({"id": "s", "kind": "select", "by": "verifier", "verifier": "t", "reads": ["a"]}))
    err = at(selecting({"id": "s", "kind": "select", "reads": ["a"]}), "nodes[2].model")
    assert err.msg == "select by judge needs a model"
    err = at(selecting({"id": "s", "kind": "select", "by": "verifier", "reads": ["a"]}), "nodes[2].verifier")
    assert err.hint == "e.g. verifier: t"
    spec = selecting({"id": "s", "kind": "select", "by": "verifier", "verifier": "a", "model": M, "reads": ["a"]})
    assert at(spec, "nodes[2].verifier").msg == "verifier comes from a verify node; 'a' is a generate node"
    assert at(spec, "nodes[2].model").msg == "select by: verifier calls no model"
    spec = selecting({"id": "s", "kind": "select", "model": M, "verifier": "t", "reads": ["a"]})
    assert at(spec, "nodes[2].verifier").msg == "only select by: verifier reads a verifier"


def voting(**fields: Any) -> GraphSpec:
    return graph(
        [gen("a"), gen("b"), {"id": "v", "kind": "vote", "reads": ["a", "b"], **fields}],
        [("a", "b"), ("b", "v"), ("v", "END")],
    )


def test_vote_rules() -> None:
    assert_valid(voting(method="weighted", weights={"a": 2.0}, require_agreement=True))
    err = at(voting(method="weighted", weights={"c": 2.0}), "nodes[2].weights.c")
    assert err.msg == "'c' is not among the nodes this vote reads"
    assert at(voting(method="weighted"), "nodes[2].weights").msg == "method: weighted needs weights"
    assert at(voting(weights={"a": 1.5}), "nodes[2].weights").hint == "set method: weighted"
    single = graph(
        [gen("a"), {"id": "v", "kind": "vote", "reads": ["a"], "require_agreement": True}], [("a", "v"), ("v", "END")]
    )
    assert "at least two read nodes" in at(single, "nodes[1].require_agreement").msg


def test_refine_feedback_comes_from_a_critique() -> None:
    nodes = [dict(n) for n in ACTOR_CRITIC]
    nodes[2]["feedback"] = "actor"
    edges = [("actor", "critic"), {"from": "critic", "to": "refine", "when": REJECTED}, ("critic", "END")]
    err = at(graph(nodes, [*edges, ("refine", "critic")]), "nodes[2].feedback")
    assert (err.msg, err.hint) == ("feedback comes from a critique node; 'actor' is a generate node", "valid: critic")


def test_subgraph_errors_do_not_hide_the_parents_own() -> None:
    child = {
        "graph": {
            "schema": "collabgraph.graph/v1",
            "name": "c",
            "entry": "q",
            "nodes": [{"id": "q", "kind": "generate", "model": "nope"}],
            "edges": [{"from": "q", "to": "END"}],
        }
    }
    spec = graph(
        [
            {"id": "fan", "kind": "spawn", "width": 3, "child": child},
            {"id": "collect", "kind": "join", "reads": ["fan"]},
            gen("stray"),
        ],
        [("fan", "collect"), ("collect", "END"), ("stray", "END")],
    )
    assert {e.loc for e in errors(spec)} == {"nodes[0].child.graph.nodes[0].model", "nodes[2]"}


def test_a_broken_edge_is_reported_without_the_flow_errors_it_causes() -> None:
    spec = graph(
        ACTOR_CRITIC,
        [
            ("actor", "critic"),
            {"from": "critic", "to": "refine", "when": REJECTED},
            ("critic", "ENDD"),
            ("refine", "critic"),
        ],
    )
    assert [e.loc for e in errors(spec)] == ["edges[2].to"]


def _repair_loop(patch: dict[str, Any], extra: list[dict[str, Any]] | None = None) -> GraphSpec:
    nodes = [
        {"id": "localize", "kind": "localize", "model": M},
        patch,
        {"id": "verify", "kind": "verify", "check": "patch", "target": "patch"},
        *(extra or []),
    ]
    edges: list[tuple[str, str] | dict[str, Any]] = [
        ("localize", "patch"),
        ("patch", "verify"),
        {"from": "verify", "to": "patch", "when": {"passed": False, "of": "verify"}, "max_rounds": 2},
        ("verify", "END"),
    ]
    return graph(nodes, edges)


def test_patch_feedback_from_the_verify_of_its_own_loop_is_valid() -> None:
    # verify runs before patch only through the loop: a feedback input may be absent on the first round.
    assert_valid(
        _repair_loop({"id": "patch", "kind": "patch", "model": M, "localization": "localize", "feedback": "verify"})
    )


def test_patch_feedback_comes_from_a_verify() -> None:
    spec = _repair_loop(
        {"id": "patch", "kind": "patch", "model": M, "localization": "localize", "feedback": "localize"}
    )
    err = at(spec, "nodes[1].feedback")
    assert (err.msg, err.hint) == ("feedback comes from a verify node; 'localize' is a localize node", "valid: verify")


def test_patch_feedback_must_be_able_to_reach_the_patch() -> None:
    # A verify that never runs before patch, not even through a loop, can never give it feedback.
    spec = _repair_loop(
        {"id": "patch", "kind": "patch", "model": M, "localization": "localize", "feedback": "late"},
        [{"id": "late", "kind": "verify", "check": "patch", "target": "patch"}],
    )
    err = at(spec, "nodes[1].feedback")
    assert "'late'" in err.msg
