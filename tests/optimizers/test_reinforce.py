"""Numeric REINFORCE on edges (GPTSwarm-style): edge probabilities follow the reward, slots stay uniform, and the
update is the score-function step it claims to be."""

from __future__ import annotations

import asyncio
import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collabgraph.optimizers import Reinforce
from collabgraph.optimizers.base import Trial
from collabgraph.optimizers.design import Design
from collabgraph.optimizers.reinforce import LOGIT_BOUND
from collabgraph.optimizers.space import SearchSpace
from tests.optimizers.loop import MODELS, make_space, problems, run_loop, spaces


async def _train(optimizer: Reinforce, reward: dict[bool, float], edge: tuple[int, int], steps: int) -> None:
    """``steps`` ask/tell rounds whose reward depends only on whether a design draws ``edge``."""
    for _ in range(steps):
        designs = optimizer.ask()
        await optimizer.tell(
            [Trial(number=k, design=d, status="ok", accuracy=reward[edge in d.edges]) for k, d in enumerate(designs)]
        )


@pytest.mark.parametrize("seed", [0, 1, 2])
async def test_the_edge_of_high_reward_designs_becomes_likely_and_the_others_do_not(seed: int) -> None:
    optimizer = Reinforce(make_space(nodes=4), seed=seed, batch=4)
    await _train(optimizer, {True: 1.0, False: 0.0}, (0, 3), 25)
    probs = optimizer.edge_probabilities()
    assert probs.pop((0, 3)) > 0.8
    assert all(0.25 < p < 0.75 for p in probs.values()), probs


async def test_an_edge_of_low_reward_designs_becomes_unlikely() -> None:
    optimizer = Reinforce(make_space(nodes=3), seed=0, batch=4)
    await _train(optimizer, {True: 0.1, False: 0.9}, (1, 2), 25)
    assert optimizer.edge_probabilities()[(1, 2)] < 0.2


async def test_one_step_is_the_score_function_estimate_with_the_mean_baseline() -> None:
    space = make_space(nodes=3, learning_rate=2.0)
    optimizer = Reinforce(space, seed=4, batch=4)
    designs = optimizer.ask()
    rewards = [1.0, 0.0, 0.5, 0.0]
    await optimizer.tell(
        [
            Trial(number=k, design=d, status="ok", accuracy=r)
            for k, (d, r) in enumerate(zip(designs, rewards, strict=True))
        ]
    )
    baseline = 0.375  # the first batch's own mean
    for (i, j), p in optimizer.edge_probabilities().items():
        grad = sum((r - baseline) * (((i, j) in d.edges) - 0.5) for d, r in zip(designs, rewards, strict=True)) / 4
        assert math.log(p / (1 - p)) == pytest.approx(2.0 * grad)
    [event] = optimizer.drain_events()
    assert event["event"] == "update" and event["kind"] == "reinforce"
    assert event["baseline"] == event["mean_reward"] == baseline
    assert event["edges"] == {f"{i}-{j}": round(p, 4) for (i, j), p in optimizer.edge_probabilities().items()}
    # The next baseline is the mean of every earlier reward; rejected and over-budget trials count as 0.
    designs = optimizer.ask()
    await optimizer.tell(
        [
            Trial(number=4, design=designs[0], status="ok", accuracy=1.0),
            Trial(number=5, design=designs[1], status="rejected"),
            Trial(number=6, design=designs[2], status="over_budget", accuracy=1.0),
            Trial(number=7, design=designs[3], status="ok", accuracy=1.0),
        ]
    )
    [event] = optimizer.drain_events()
    assert (event["baseline"], event["mean_reward"]) == (baseline, 0.5)


async def test_logits_stay_within_the_bound() -> None:
    optimizer = Reinforce(make_space(nodes=3, learning_rate=5.0), seed=0, batch=4)
    await _train(optimizer, {True: 1.0, False: 0.0}, (0, 2), 60)
    assert max(optimizer.edge_logits) == LOGIT_BOUND
    assert all(-LOGIT_BOUND <= v <= LOGIT_BOUND for v in optimizer.edge_logits)


async def test_only_the_edges_learn_slots_stay_uniform() -> None:
    space = make_space(nodes=3, models=MODELS[:2], roles=["assistant", "fuser", "vote"], samples=[1, 3])
    optimizer = Reinforce(space, seed=0, batch=8)
    # A reward that favours one model and one role: the slot logits must not follow it.
    for _ in range(40):
        designs = optimizer.ask()
        await optimizer.tell(
            [
                Trial(number=k, design=d, status="ok", accuracy=float(d.slots[2].model == MODELS[0]))
                for k, d in enumerate(designs)
            ]
        )
    assert optimizer.model_logits == [[0.0, 0.0]] * 3
    assert optimizer.role_logits == [[0.0, 0.0, 0.0]] * 3
    draws = [d for _ in range(100) for d in optimizer.ask()]
    counts = Counter(d.slots[2].model for d in draws)
    assert abs(counts[MODELS[0]] / len(draws) - 0.5) < 0.05
    roles = Counter(d.slots[0].role for d in draws)
    assert all(abs(n / len(draws) - 1 / 3) < 0.05 for n in roles.values())


async def test_same_seed_same_proposals_and_different_seeds_differ() -> None:
    space = make_space(nodes=4)

    def reward(d: Design) -> float:
        return float((1, 3) in d.edges)

    runs = [await run_loop(Reinforce(space, seed=s, batch=4), reward, 30) for s in (3, 3, 4)]
    designs = [[t.design for t in run] for run in runs]
    assert designs[0] == designs[1]
    assert designs[0] != designs[2]


def test_limits_that_reject_most_draws_fall_back_to_a_single_node_graph() -> None:
    space = make_space(nodes=4, depth=1)
    optimizer = Reinforce(space, seed=0, batch=12, max_tries=1)
    designs = optimizer.ask()
    assert all(d.within_limits(space) == [] for d in designs)
    assert (
        Counter(e["reason"] for e in optimizer.events)[
            "no draw within the limits in 1 tries; proposing a single-node graph"
        ]
        >= 6
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch": 0}, "batch must be at least 1, got 0"),
        ({"batch": 2, "max_tries": 0}, "max_tries must be at least 1, got 0"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Reinforce(make_space(), seed=0, **kwargs)


@settings(max_examples=40, deadline=None)
@given(space=spaces(), seed=st.integers(0, 2**32))
def test_every_proposal_is_within_the_space(space: SearchSpace, seed: int) -> None:
    optimizer = Reinforce(space, seed=seed, batch=3, max_tries=50)
    trials = asyncio.run(run_loop(optimizer, lambda d: float(len(d.edges) % 2), 12, max_asks=5))
    assert trials
    for t in trials:
        assert problems(t.design, space) == []
