"""Random search: uniform draws over the decision variables, each distinct graph proposed once, deterministic."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collabgraph.optimizers import RandomSearch
from collabgraph.optimizers.design import Design, enumerate_designs
from collabgraph.optimizers.random_search import edge_pairs, sample_design
from collabgraph.optimizers.space import SearchSpace
from tests.optimizers.loop import MODELS, make_space, problems, run_loop, spaces


def _reward(design: Design) -> float:
    return 0.5


async def test_same_seed_same_proposals_and_different_seeds_differ() -> None:
    space = make_space(nodes=4)
    runs = [await run_loop(RandomSearch(space, seed=s, batch=3), _reward, 30) for s in (7, 7, 8)]
    designs = [[t.design for t in run] for run in runs]
    assert designs[0] == designs[1]
    assert designs[0] != designs[2]


async def test_never_proposes_a_graph_twice_while_new_ones_remain() -> None:
    space = make_space(nodes=4)  # 294 graphs
    trials = await run_loop(RandomSearch(space, seed=0, batch=4), _reward, 120)
    keys = [t.design.key() for t in trials]
    assert len(keys) == 120
    assert len(set(keys)) == len(keys)


async def test_covers_a_small_space_then_falls_back_to_repeats() -> None:
    space = make_space(nodes=3, models=MODELS[:1])
    total = {d.key() for d in enumerate_designs(space)}
    assert len(total) == 5
    optimizer = RandomSearch(space, seed=3, batch=1, max_tries=200)
    trials = await run_loop(optimizer, _reward, 5)
    assert {t.key for t in trials} == total
    assert not optimizer.events
    extra = optimizer.ask()  # the space is used up: repeats, said so, and no endless loop
    assert {d.key() for d in extra} <= total
    assert [e["reason"] for e in optimizer.drain_events()] == [
        "no new graph within the limits in 200 draws; proposing a repeat"
    ]


def test_limits_that_reject_most_draws_fall_back_to_a_single_node_graph() -> None:
    space = make_space(nodes=4, depth=1)  # only graphs whose output has no inputs fit (1 draw in 8)
    optimizer = RandomSearch(space, seed=0, batch=12, max_tries=1)
    designs = optimizer.ask()
    assert all(d.within_limits(space) == [] and d.structure().kept == [3] for d in designs)
    reasons = Counter(e["reason"] for e in optimizer.events)
    assert reasons["no new graph within the limits in 1 draws; proposing a single-node graph"] >= 6


def test_draws_are_uniform_over_each_decision() -> None:
    space = make_space(nodes=3, models=MODELS[:3], roles=["assistant", "fuser", "critic", "vote"], samples=[1, 3])
    rng = random.Random(0)
    draws = [sample_design(space, rng) for _ in range(3000)]
    edges = Counter(e for d in draws for e in d.edges)
    assert set(edges) == set(edge_pairs(3))
    assert all(abs(n / 3000 - 1 / 2) < 0.04 for n in edges.values())
    for j in range(3):
        for values, attr in ((space.models, "model"), (space.roles, "role"), (space.limits.samples, "samples")):
            counts = Counter(getattr(d.slots[j], attr) for d in draws)
            assert set(counts) == set(values)
            assert all(abs(n / 3000 - 1 / len(values)) < 0.04 for n in counts.values())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch": 0}, "batch must be at least 1, got 0"),
        ({"batch": 2, "max_tries": 0}, "max_tries must be at least 1, got 0"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RandomSearch(make_space(), seed=0, **kwargs)


@settings(max_examples=40, deadline=None)
@given(space=spaces(), seed=st.integers(0, 2**32))
def test_every_proposal_is_within_the_space(space: SearchSpace, seed: int) -> None:
    trials = asyncio.run(run_loop(RandomSearch(space, seed=seed, batch=3, max_tries=50), _reward, 8, max_asks=4))
    assert trials
    for t in trials:
        assert problems(t.design, space) == []
