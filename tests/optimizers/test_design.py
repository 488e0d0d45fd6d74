"""Designs: canonical forms, keys, enumeration and decoding into graphs that validate and run."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collabgraph.graphs import check
from collabgraph.models.pool import default_pool
from collabgraph.optimizers import Design, SearchSpace, Slot, count_designs, enumerate_designs

MODELS = ["sim/llama-3.2-1b", "sim/llama-3.1-8b"]


def space(**changes: Any) -> SearchSpace:
    data: dict[str, Any] = {
        "schema": "collabgraph.search/v1",
        "name": "t",
        "task": {"name": "gsm8k", "dev": 5, "test": 5},
        "models": MODELS,
        "roles": ["assistant", "fuser", "critic", "vote", "select"],
        "limits": {"nodes": 3, "samples": [1, 2]},
    }
    data.update(changes)
    return SearchSpace.model_validate(data)


SPACE = space()
ENUMERATED = {d.key() for d in enumerate_designs(SPACE)}


@st.composite
def designs(draw: st.DrawFn, sp: SearchSpace = SPACE) -> Design:
    n = sp.limits.nodes
    slots = tuple(
        Slot(
            role=draw(st.sampled_from(sp.roles)),
            model=draw(st.sampled_from(sp.models)),
            samples=draw(st.sampled_from(sp.limits.samples)),
        )
        for _ in range(n)
    )
    pairs = [(i, j) for j in range(n) for i in range(j)]
    edges = tuple(p for p in pairs if draw(st.booleans()))
    return Design(slots=slots, edges=edges)


@given(designs())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_canonical_is_idempotent_and_keeps_the_key(d: Design) -> None:
    c = d.canonical()
    assert c.canonical() == c
    assert c.key() == d.key()
    assert c.describe() == c.canonical().describe()


@given(designs())
@settings(max_examples=150, deadline=None)
def test_every_design_within_limits_is_one_the_enumeration_holds(d: Design) -> None:
    assert d.key() in ENUMERATED


@given(designs())
@settings(max_examples=60, deadline=None)
def test_every_design_decodes_to_a_graph_that_validates(d: Design) -> None:
    spec = d.to_graph(SPACE)
    check(spec, default_pool())
    st_ = d.structure()
    # One graph node per kept slot, plus the refine step of each critic.
    critics = sum(1 for j in st_.kept if st_.inputs[j] and d.slots[j].role == "critic")
    assert len(spec.nodes) == len(st_.kept) + critics
    finals = [e.from_ for e in spec.edges if e.to == "END"]
    assert len(finals) == 1


def test_unused_slots_and_edges_do_not_change_the_key() -> None:
    a = Design(slots=(Slot(model=MODELS[0]), Slot(model=MODELS[1]), Slot(model=MODELS[1])), edges=((1, 2),))
    b = Design(
        slots=(Slot(role="vote", model=MODELS[1], samples=2), Slot(model=MODELS[1]), Slot(model=MODELS[1])),
        edges=((0, 1), (1, 2)),
    )
    # In b, slot 0 feeds slot 1, which becomes a fuser: a different graph.
    assert a.key() != b.key()
    c = Design(
        slots=(Slot(role="critic", model=MODELS[1]), Slot(model=MODELS[1]), Slot(model=MODELS[1])), edges=((1, 2),)
    )
    assert a.key() == c.key()  # slot 0 reaches nothing: dropped whatever it was


def test_a_critic_reads_only_its_latest_input() -> None:
    d = Design(
        slots=(Slot(model=MODELS[0]), Slot(model=MODELS[1]), Slot(role="critic", model=MODELS[1])),
        edges=((0, 2), (1, 2)),
    )
    st_ = d.structure()
    assert st_.kept == [1, 2] and st_.inputs[2] == [1]
    spec = d.to_graph(SPACE)
    assert [n.kind for n in spec.nodes] == ["generate", "critique", "refine"]


def test_several_sources_start_together_and_the_output_reads_them() -> None:
    d = Design(
        slots=(Slot(model=MODELS[0], samples=2), Slot(model=MODELS[1]), Slot(role="fuser", model=MODELS[1])),
        edges=((0, 2), (1, 2)),
    )
    spec = d.to_graph(SPACE)
    assert spec.entries == ("assistant0", "assistant1")
    fuse = spec.node("fuser2")
    assert fuse.kind == "fuse" and fuse.reads == ["assistant0", "assistant1"]
    by_model = {n.model_name: n for n in spec.nodes if n.kind == "generate"}
    assert by_model[MODELS[0]].samples == 2 and by_model[MODELS[1]].samples == 1  # type: ignore[union-attr]
    st_ = d.structure()
    assert (st_.width, st_.depth) == (2, 2)


def test_limits_on_width_and_depth() -> None:
    wide = Design(slots=(Slot(model=MODELS[0]), Slot(model=MODELS[0]), Slot(model=MODELS[0])), edges=((0, 2), (1, 2)))
    deep = Design(slots=(Slot(model=MODELS[0]), Slot(model=MODELS[0]), Slot(model=MODELS[0])), edges=((0, 1), (1, 2)))
    narrow = space(limits={"nodes": 3, "width": 1})
    shallow = space(limits={"nodes": 3, "depth": 2})
    assert wide.within_limits(narrow) == ["width 2 > 1"] and deep.within_limits(narrow) == []
    assert deep.within_limits(shallow) == ["depth 3 > 2"] and wide.within_limits(shallow) == []
    assert all(not d.within_limits(narrow) for d in enumerate_designs(narrow))


def test_enumeration_counts_distinct_graphs() -> None:
    one = space(limits={"nodes": 1, "samples": [1, 3]})
    assert count_designs(one) == len(MODELS) * 2
    # Two slots, assistants only: each model alone (2), or a source feeding a fuser (2 x 2).
    two = space(roles=["assistant"], limits={"nodes": 2})
    assert count_designs(two) == 6
    keys = [d.key() for d in enumerate_designs(SPACE)]
    assert len(keys) == len(set(keys)) == len(ENUMERATED)


def test_isomorphic_designs_share_one_key_and_one_graph() -> None:
    small, mid = Slot(model=MODELS[0]), Slot(model=MODELS[1])
    fuser = Slot(role="fuser", model=MODELS[1])
    swapped_sources = [
        Design(slots=(small, mid, fuser), edges=((0, 2), (1, 2))),
        Design(slots=(mid, small, fuser), edges=((0, 2), (1, 2))),
    ]
    free_slot = [
        Design(slots=(small, mid, mid, fuser), edges=((0, 3),)),
        Design(slots=(mid, small, mid, fuser), edges=((1, 3),)),
        Design(slots=(mid, mid, small, fuser), edges=((2, 3),)),
    ]
    for group in (swapped_sources, free_slot):
        assert len({d.key() for d in group}) == 1
        assert len({d.to_graph(SPACE).model_dump_json() for d in group}) == 1
    # Not isomorphic: which source the critic reads matters.
    critic = Slot(role="critic", model=MODELS[1])
    a = Design(slots=(small, mid, critic, fuser), edges=((0, 2), (1, 3), (2, 3)))
    b = Design(slots=(mid, small, critic, fuser), edges=((0, 2), (1, 3), (2, 3)))
    assert a.key() != b.key()
