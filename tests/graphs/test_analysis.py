"""Control-flow facts the compiler relies on: loop edges and budgets, waiting nodes, parallelism, recursion limit."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from collabgraph.graphs import END, GraphSpec, analyze, load, recursion_limit
from collabgraph.models.pool import ModelPool
from tests.graphs.helpers import FIXTURES
from tests.graphs.strategies import graphs


def fixture(name: str, pool: ModelPool) -> GraphSpec:
    return load(FIXTURES / f"{name}.yaml", pool=pool)


def test_actor_critic_loop(pool: ModelPool) -> None:
    spec = fixture("actor_critic", pool)
    flow = analyze(spec)
    assert flow.loop_edges == {1}  # critic → refine, the guarded edge
    assert flow.back_edges == {3}  # refine → critic closes the loop
    assert flow.round_budget(1) == 3 and flow.round_budget(0) is None
    assert flow.is_router("critic") and not flow.is_router("actor")
    assert flow.out_edges("critic") == [1, 2]
    assert flow.on_cycle("refine") and not flow.on_cycle("actor")
    assert flow.topological_order() == ["actor", "critic", "refine", END]
    # 3 nodes, one loop edge with 3 rounds: 3 × (1 + 3) + 2 super-steps at most
    assert recursion_limit(spec) == 14


def test_fusion_parallelism_and_waiting(pool: ModelPool) -> None:
    flow = analyze(fixture("fusion_dag", pool))
    assert flow.parallel("qwen", "mistral")
    assert not flow.parallel("start", "qwen") and not flow.parallel("qwen", "qwen")
    assert flow.fan_in_pair("fuse") is not None and flow.waits("fuse")
    assert not flow.waits("qwen")
    assert flow.guaranteed("fuse", ["qwen"])
    assert flow.loop_edges == set() and recursion_limit(fixture("fusion_dag", pool)) == 4 + 2


def test_templates_and_exclusive_branches(pool: ModelPool) -> None:
    flow = analyze(fixture("spawn_join", pool))
    assert flow.templates == {"search": "plan"}
    assert "search" not in flow.graph
    routed = analyze(fixture("actor_critic", pool))
    a, b = routed.out_edges("critic")
    assert routed.exclusive_edges(a, b)


def test_explicit_recursion_limit_wins(pool: ModelPool) -> None:
    spec = fixture("best_of_n", pool)
    assert recursion_limit(spec) == 2 + 2
    limited = spec.model_copy(update={"limits": spec.limits.model_copy(update={"recursion_limit": 99})})
    assert recursion_limit(limited) == 99


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_recursion_limit_covers_every_node_once_per_round(spec: GraphSpec) -> None:
    flow = analyze(spec)
    if spec.limits.recursion_limit is None:
        rounds = sum(flow.round_budget(k) or 0 for k in flow.loop_edges)
        assert recursion_limit(spec) >= len(spec.nodes) * (1 + rounds) + 2
    # every forward edge points ahead in the topological order
    order = {n: i for i, n in enumerate(flow.topological_order())}
    for k in flow.edge_ids:
        if k not in flow.back_edges:
            assert order[spec.edges[k].from_] < order[spec.edges[k].to]
