"""TPE: Optuna's TPE sampler behind ask/tell — deterministic per seed, skips graphs it already knows, and finds a
planted optimum well before random search would."""

from __future__ import annotations

import asyncio
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collabgraph.optimizers import TPE
from collabgraph.optimizers.base import Trial
from collabgraph.optimizers.design import Design, Slot, count_designs
from collabgraph.optimizers.space import SearchSpace
from tests.optimizers.loop import MODELS, evaluations_to_find, make_space, problems, run_loop, spaces

QUALITY = {MODELS[0]: 1 / 3, MODELS[1]: 2 / 3, MODELS[2]: 1.0}
FAN_IN = ((0, 2), (1, 2))


def _planted(design: Design) -> float:
    """Better models score more; the fan-in of all three slots on the best model is the one optimum (1.0)."""
    c = design.canonical()
    quality = sum(QUALITY[c.slots[j].model] for j in c.structure().kept) / 3
    return 0.6 * quality + 0.4 * (c.edges == FAN_IN)


def _small_space() -> SearchSpace:
    return make_space(nodes=3, models=MODELS[:3])


async def test_same_seed_same_proposals_and_different_seeds_differ() -> None:
    space = _small_space()
    runs = [await run_loop(TPE(space, seed=s, batch=3), _planted, 20) for s in (5, 5, 6)]
    designs = [[t.design for t in run] for run in runs]
    assert designs[0] == designs[1]
    assert designs[0] != designs[2]


async def test_finds_a_planted_optimum_in_far_fewer_evaluations_than_the_space_holds() -> None:
    space = _small_space()
    size = count_designs(space)
    optimum = Design(
        slots=(Slot(model=MODELS[2]), Slot(model=MODELS[2]), Slot(role="fuser", model=MODELS[2])), edges=FAN_IN
    )
    assert _planted(optimum) == pytest.approx(1.0)
    found = []
    for seed in range(8):
        trials = await run_loop(TPE(space, seed=seed, batch=4), _planted, size // 2, until=optimum.key())
        found.append(evaluations_to_find(trials, optimum.key()) or size)
    # Random search without replacement needs size / 2 on average; TPE needs about 20 of the 102 here.
    assert statistics.mean(found) < size / 2, found


async def test_graphs_already_told_are_not_proposed_again() -> None:
    space = _small_space()
    optimizer = TPE(space, seed=0, batch=4)
    trials = await run_loop(optimizer, _planted, 40)
    repeats = len(trials) - len({t.key for t in trials})
    fallbacks = [e for e in optimizer.events if e["reason"].endswith("proposing a repeat")]
    assert repeats == len(fallbacks)
    assert repeats < 4


async def test_a_used_up_space_falls_back_to_repeats_without_looping_forever() -> None:
    space = make_space(nodes=2, models=MODELS[:1])  # two graphs
    optimizer = TPE(space, seed=0, batch=1, max_tries=5)
    trials = await run_loop(optimizer, _planted, 2)
    assert len({t.key for t in trials}) == 2
    optimizer.drain_events()
    [again] = optimizer.ask()
    assert again.key() in {t.key for t in trials}
    assert optimizer.drain_events() == [
        {
            "event": "fallback",
            "kind": "tpe",
            "reason": "no new graph within the limits in 5 trials; proposing a repeat",
        }
    ]


async def test_rejected_and_over_budget_trials_are_told_as_zero() -> None:
    space = _small_space()
    optimizer = TPE(space, seed=0, batch=2)
    a, b = optimizer.ask()
    await optimizer.tell(
        [
            Trial(number=0, design=a, status="rejected", reason="estimated over budget"),
            Trial(number=1, design=b, status="over_budget", accuracy=0.9),
        ]
    )
    assert [
        t.value for t in optimizer._study.trials if t.params == optimizer._params(a) or t.params == optimizer._params(b)
    ] == [0.0, 0.0]


async def test_telling_something_other_than_the_batch_asked_is_an_error() -> None:
    space = _small_space()
    optimizer = TPE(space, seed=0, batch=2)
    a, _ = optimizer.ask()
    with pytest.raises(RuntimeError, match=r"ask\(\) called again before tell\(\) answered the previous batch"):
        optimizer.ask()
    with pytest.raises(ValueError, match="told 1 trials for a batch of 2"):
        await optimizer.tell([Trial(number=0, design=a, status="ok", accuracy=0.5)])
    with pytest.raises(ValueError, match="trial 1 is not the design asked"):
        await optimizer.tell(
            [Trial(number=0, design=a, status="ok", accuracy=0.5), Trial(number=1, design=a, status="ok", accuracy=0.5)]
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
        TPE(make_space(), seed=0, **kwargs)


@settings(max_examples=20, deadline=None)
@given(space=spaces(), seed=st.integers(0, 2**32 - 1))
def test_every_proposal_is_within_the_space(space: SearchSpace, seed: int) -> None:
    optimizer = TPE(space, seed=seed, batch=3, max_tries=3)
    trials = asyncio.run(run_loop(optimizer, lambda d: len(d.edges) / 10, 9, max_asks=3))
    assert trials
    for t in trials:
        assert problems(t.design, space) == []
