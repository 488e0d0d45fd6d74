"""Compiling specs to LangGraph: what is refused, how the graph is wired, the hash, call numbering and reducers."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collabgraph.agents.types import NodeOutput
from collabgraph.errors import ConfigError
from collabgraph.graphs import Graph, GraphSpec, dump, load, loads, recursion_limit, register_kind
from collabgraph.graphs.compile import call_seed, compile_graph, graph_hash
from collabgraph.graphs.runtime import open_checkpointer
from collabgraph.graphs.state import (
    RunError,
    RunRecord,
    add_counts,
    first_error,
    keep_final,
    merge_outputs,
)
from collabgraph.models.pool import ModelPool
from tests.graphs.custom_kinds import Echo
from tests.graphs.helpers import FIXTURES

FIXTURE_NAMES = ["actor_critic", "best_of_n", "cot_pot", "fusion_dag", "parallel_entries", "spawn_join"]

register_kind("echo", Echo)


def fixture(name: str, pool: ModelPool) -> GraphSpec:
    return load(FIXTURES / f"{name}.yaml", pool=pool)


# -- what cannot be compiled -------------------------------------------------------------------------------------


def test_an_invalid_graph_is_refused_with_its_locations(pool: ModelPool) -> None:
    spec = GraphSpec.model_validate(
        {
            "schema": "collabgraph.graph/v1",
            "name": "bad",
            "entry": "a",
            "nodes": [{"id": "a", "kind": "generate", "model": "sim/llama-3.1-8bb"}],
            "edges": [{"from": "a", "to": "END"}],
        }
    )
    with pytest.raises(ConfigError) as exc:
        compile_graph(spec, pool)
    (err,) = exc.value.errors
    assert err.loc == "nodes[0].model"
    assert "'sim/llama-3.1-8bb' is neither a model alias" in err.msg


def test_the_swe_kinds_compile(pool: ModelPool) -> None:
    g = Graph("swe").model("m", "sim/llama-3.1-8b")
    loc = g.localize("loc", model="m")
    p = g.patch("p", model="m", localization=loc)
    g.chain(loc, p).exit(p)
    compile_graph(g.build(pool), pool)


def test_a_custom_kind_without_run_is_refused_at_its_impl(pool: ModelPool) -> None:
    g = Graph("custom").model("m", "sim/llama-3.1-8b")
    a = g.generate("a", model="m")
    c = g.custom("c", impl="echo", config={"times": 2}, reads=[a])
    g.chain(a, c).exit(c)
    with pytest.raises(ConfigError) as exc:
        compile_graph(g.build(pool), pool)
    (err,) = exc.value.errors
    assert err.loc == "nodes[1].impl"
    assert "custom kind 'echo' cannot run" in err.msg


def test_an_unrunnable_node_inside_an_inline_child_graph_is_located_there(pool: ModelPool) -> None:
    child = Graph("child").model("m", "sim/llama-3.1-8b")
    child.exit(child.custom("c", impl="echo", config={"times": 2}))
    g = Graph("parent")
    s = g.spawn("s", child=child, width=2)
    j = g.join("j", reads=[s])
    g.chain(s, j).exit(j)
    with pytest.raises(ConfigError) as exc:
        compile_graph(g.build(pool), pool)
    (err,) = exc.value.errors
    assert err.loc == "nodes[0].child.graph.nodes[0].impl"


# -- wiring ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_the_invoke_config_always_sets_the_recursion_limit_and_max_concurrency(name: str, pool: ModelPool) -> None:
    spec = fixture(name, pool)
    compiled = compile_graph(spec, pool)
    assert compiled.config() == {
        "recursion_limit": recursion_limit(spec),
        "max_concurrency": spec.limits.max_concurrency,
    }
    assert compiled.config("t")["configurable"] == {"thread_id": "t"}


def test_explicit_limits_reach_the_config(pool: ModelPool) -> None:
    spec = fixture("best_of_n", pool)
    spec = spec.model_copy(
        update={"limits": spec.limits.model_copy(update={"recursion_limit": 7, "max_concurrency": 3})}
    )
    assert compile_graph(spec, pool).config() == {"recursion_limit": 7, "max_concurrency": 3}


def test_nodes_that_wait_for_every_branch_are_deferred(pool: ModelPool) -> None:
    compiled = compile_graph(fixture("fusion_dag", pool), pool)
    deferred = {name for name, node in compiled.builder.nodes.items() if node.defer}
    assert deferred == {"fuse"}
    assert set(compiled.builder.nodes) == {"start", "qwen", "mistral", "fuse"}


def test_every_entry_starts_from_start(pool: ModelPool) -> None:
    from langgraph.graph import START

    single = compile_graph(fixture("fusion_dag", pool), pool)
    assert {e for e in single.builder.edges if e[0] == START} == {(START, "start")}
    several = compile_graph(fixture("parallel_entries", pool), pool)
    assert {e for e in several.builder.edges if e[0] == START} == {(START, "a"), (START, "b")}
    assert {name for name, node in several.builder.nodes.items() if node.defer} == {"fuse"}


def test_a_spawn_sends_to_its_child_template_which_leads_to_the_join(pool: ModelPool) -> None:
    compiled = compile_graph(fixture("spawn_join", pool), pool)
    assert set(compiled.builder.nodes) == {"plan", "search", "collect", "answer"}
    assert ("search", "collect") in compiled.builder.edges
    assert {name for name, node in compiled.builder.nodes.items() if node.defer} == {"collect", "answer"}


def test_an_inline_child_graph_runs_under_its_own_key(pool: ModelPool) -> None:
    child = Graph("child").model("m", "sim/llama-3.1-8b")
    child.exit(child.generate("q", model="m"))
    g = Graph("parent")
    s = g.spawn("s", child=child, width=2)
    j = g.join("j", reads=[s])
    g.chain(s, j).exit(j)
    compiled = compile_graph(g.build(pool), pool)
    assert set(compiled.builder.nodes) == {"s", "s.child", "j"}
    # The inline child takes a super-step of its own: (2 nodes + 1 inline child) x 1 pass + 2.
    assert compiled.recursion_limit == recursion_limit(compiled.spec) == 5


async def test_a_checkpointer_is_compiled_in_once(pool: ModelPool, tmp_path: object) -> None:
    compiled = compile_graph(fixture("best_of_n", pool), pool)
    assert compiled.with_checkpointer(None) is compiled.graph
    async with open_checkpointer(f"{tmp_path}/c.sqlite") as saver:
        first = compiled.with_checkpointer(saver)
        assert compiled.with_checkpointer(saver) is first
        assert first.checkpointer is not None


# -- graph hash --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_the_hash_survives_a_yaml_round_trip(name: str, pool: ModelPool) -> None:
    spec = fixture(name, pool)
    h = graph_hash(spec)
    assert len(h) == 64 and int(h, 16) >= 0
    assert graph_hash(loads(dump(spec), pool=pool)) == h


# Run directories and checkpoints key on these: a single-entry graph hashes as it did before lists of entries.
PINNED_HASHES = {
    "actor_critic": "133736134e4d538d6da5ecbf07e8b4219d165b3d5712018c9312c0912df172e5",
    "best_of_n": "f82b56c48bd74b959f8cfb70f85ea8bd0be3cc898f49c5f9b60ab4123062cf41",
    "fusion_dag": "336ace8160a5a0ecefa70f83c1b6254e7f0b5244394c2c94950d5af8a5fb7bad",
}


@pytest.mark.parametrize("name", sorted(PINNED_HASHES))
def test_single_entry_hashes_are_unchanged(name: str, pool: ModelPool) -> None:
    spec = fixture(name, pool)
    assert graph_hash(spec) == PINNED_HASHES[name]
    # One entry written as a one-item list is the same graph, with the same hash.
    listed = GraphSpec.model_validate({**spec.model_dump(by_alias=True), "entry": [spec.entry]})
    assert graph_hash(listed) == PINNED_HASHES[name]


def test_the_hash_depends_on_the_entries(pool: ModelPool) -> None:
    spec = fixture("parallel_entries", pool)
    swapped = spec.model_copy(update={"entry": ["b", "a"]})
    assert graph_hash(spec) != graph_hash(spec.model_copy(update={"entry": "a"}))
    assert graph_hash(swapped) == graph_hash(loads(dump(swapped), pool=pool))


def test_the_hash_changes_with_any_field(pool: ModelPool) -> None:
    spec = fixture("best_of_n", pool)
    hashes = {
        graph_hash(spec),
        graph_hash(spec.model_copy(update={"description": "other"})),
        graph_hash(spec.model_copy(update={"models": {"m": "sim/qwen2.5-7b"}})),
        graph_hash(spec.model_copy(update={"limits": spec.limits.model_copy(update={"max_rounds": 4})})),
    }
    assert len(hashes) == 4


# -- call numbering ----------------------------------------------------------------------------------------------


def test_call_seeds_are_stable_and_distinct_per_node_round_branch_and_call() -> None:
    base = call_seed(0, "", "a", 1, None, 0)
    assert base == call_seed(0, "", "a", 1, None, 0)
    others = [
        call_seed(1, "", "a", 1, None, 0),
        call_seed(0, "s#1.0/", "a", 1, None, 0),
        call_seed(0, "", "b", 1, None, 0),
        call_seed(0, "", "a", 2, None, 0),
        call_seed(0, "", "a", 1, 0, 0),
        call_seed(0, "", "a", 1, None, 1),
    ]
    assert len({base, *others}) == 7
    assert all(0 <= s < 2**31 for s in [base, *others])


# -- reducers: the merged state does not depend on the order of parallel writes -----------------------------------


def _record(key: str, round: int, branch: int | None, step: int, text: str = "") -> RunRecord:
    output = NodeOutput(node_id=key, kind="generate", round=round, texts=[text] if text else [])
    return RunRecord(key=key, round=round, branch=branch, step=step, output=output)


_records = st.builds(
    _record,
    key=st.sampled_from(["a", "b", "c"]),
    round=st.integers(1, 3),
    branch=st.one_of(st.none(), st.integers(0, 3)),
    step=st.integers(1, 9),
)


@given(st.lists(_records, max_size=12), st.randoms(use_true_random=False))
def test_merged_outputs_do_not_depend_on_write_order(records: list[RunRecord], rnd: random.Random) -> None:
    # One write per (node, round, branch), as LangGraph runs one task per node (and per Send) in a step.
    updates = [{r.key: [r]} for r in {(r.key, r.slot): r for r in records}.values()]
    shuffled = updates[:]
    rnd.shuffle(shuffled)

    def fold(seq: list[dict[str, list[RunRecord]]]) -> dict[str, list[RunRecord]]:
        out: dict[str, list[RunRecord]] = {}
        for u in seq:
            out = merge_outputs(out, u)
        return out

    merged = fold(updates)
    assert merged == fold(shuffled)
    for runs in merged.values():
        assert [r.slot for r in runs] == sorted(r.slot for r in runs)


@given(st.lists(st.dictionaries(st.sampled_from("abcd"), st.integers(-3, 3)), max_size=6))
def test_counters_add_up_in_any_order(updates: list[dict[str, int]]) -> None:
    results = set()
    for perm in itertools.islice(itertools.permutations(updates), 24):
        out: dict[str, int] = {}
        for u in perm:
            out = add_counts(out, u)
        results.add(tuple(out.items()))
        assert 0 not in out.values()
    assert len(results) <= 1


def test_the_earliest_error_and_the_latest_final_win_in_any_order() -> None:
    errors = [RunError(step=3, node_id="b#1", message="x"), RunError(step=2, node_id="z#1", message="y")]
    assert first_error(errors[0], errors[1]) == first_error(errors[1], errors[0]) == errors[1]
    assert first_error(None, errors[0]) == errors[0] and first_error(None, None) is None
    finals = [_record("a", 1, None, 4), _record("b", 1, None, 6)]
    assert keep_final(finals[0], finals[1]) == keep_final(finals[1], finals[0]) == finals[1]
    assert keep_final(None, None) is None


def test_a_run_written_again_replaces_the_old_one() -> None:
    old, new = _record("a", 1, None, 2, "old"), _record("a", 1, None, 2, "new")
    assert merge_outputs({"a": [old]}, {"a": [new]}) == {"a": [new]}
