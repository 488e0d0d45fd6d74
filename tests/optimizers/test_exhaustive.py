"""Exhaustive search: every graph of the space once, in ``enumerate_designs`` order, then exhausted; refuses spaces
too large to enumerate with a message saying how large and what to do."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings

from collabgraph.errors import CollabgraphError
from collabgraph.optimizers import EXHAUSTIVE_CAP, Exhaustive, SpaceTooLargeError
from collabgraph.optimizers.design import Design, enumerate_designs
from collabgraph.optimizers.space import SearchSpace
from tests.optimizers.loop import MODELS, make_space, problems, run_loop, spaces


def _reward(design: Design) -> float:
    return len(design.canonical().structure().kept) / 10


def test_proposes_enumerate_designs_in_order_a_batch_at_a_time_then_is_exhausted() -> None:
    space = make_space(nodes=3)
    expected = list(enumerate_designs(space))
    optimizer = Exhaustive(space, seed=0, batch=4)
    assert optimizer.total == len(expected) == 28
    batches = []
    while not optimizer.exhausted:
        batches.append(optimizer.ask())
    assert [len(b) for b in batches] == [4] * 7
    assert [d for b in batches for d in b] == expected
    assert optimizer.ask() == []


async def test_the_loop_evaluates_every_graph_once_and_stops() -> None:
    space = make_space(nodes=3, models=MODELS[:3], roles=["assistant", "critic", "vote"])
    optimizer = Exhaustive(space, seed=0, batch=5)
    trials = await run_loop(optimizer, _reward, 10_000)
    assert optimizer.exhausted
    assert [t.key for t in trials] == [d.key() for d in enumerate_designs(space)]
    assert len({t.key for t in trials}) == len(trials) == optimizer.total


def test_the_order_does_not_depend_on_the_seed() -> None:
    space = make_space(nodes=3)
    assert Exhaustive(space, seed=1, batch=50).ask() == Exhaustive(space, seed=2, batch=50).ask()


def test_a_space_over_the_cap_is_refused_with_its_size_and_a_way_out() -> None:
    space = make_space(nodes=4, models=MODELS[:3])  # 1,221 graphs
    with pytest.raises(SpaceTooLargeError) as info:
        Exhaustive(space, seed=0, batch=4, cap=1000)
    assert isinstance(info.value, CollabgraphError)
    assert str(info.value) == (
        "exhaustive search refused: the search space 'test-space' holds more than 1,000 distinct graphs (the cap) "
        "(4 nodes, 3 models, 2 roles, 1 sample counts); use fewer nodes or models (or tighter limits.width / "
        "limits.depth), or a sampling optimizer: random, tpe, reinforce, agent-reinforce"
    )
    assert Exhaustive(space, seed=0, batch=4, cap=1221).total == 1221


def test_the_default_cap_refuses_a_space_of_more_than_20000_graphs() -> None:
    space = make_space(nodes=4, models=MODELS[:3], roles=["assistant", "fuser", "critic", "select"], samples=[1, 3])
    with pytest.raises(SpaceTooLargeError, match=f"holds more than {EXHAUSTIVE_CAP:,} distinct graphs"):
        Exhaustive(space, seed=0, batch=4)


def test_too_many_nodes_are_refused_before_enumerating() -> None:
    space = make_space(nodes=7, models=MODELS[:1], depth=1)  # one graph, but 2^21 edge sets to walk
    with pytest.raises(SpaceTooLargeError, match=r"'test-space' has 7 nodes \(at most 6 can be enumerated\)"):
        Exhaustive(space, seed=0, batch=4)


def test_a_batch_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="batch must be at least 1, got 0"):
        Exhaustive(make_space(), seed=0, batch=0)


@settings(max_examples=40, deadline=None)
@given(space=spaces(max_nodes=3))
def test_every_proposal_is_within_the_space(space: SearchSpace) -> None:
    trials = asyncio.run(run_loop(Exhaustive(space, seed=0, batch=7), _reward, 10_000))
    assert len(trials) == len({t.key for t in trials})
    for t in trials:
        assert problems(t.design, space, raw=False) == []
