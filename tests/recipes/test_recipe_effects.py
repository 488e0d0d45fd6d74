"""The effects the papers report, reproduced by the shipped recipes on the calibrated sim pool.

Each test runs a recipe and a one-node baseline on the same seeded examples and compares them pairwise: ``wins``
are examples only the recipe gets right, ``losses`` examples only the baseline does. The effect holds when the
recipe is more accurate and the one-sided exact sign test on (wins, losses) rejects "no difference" at
``ALPHA``. Everything is seeded and the sim pool is deterministic, so these numbers are the same on every run.

- Self-consistency (Wang et al. 2022): a majority vote over 8 samples beats one greedy answer of the same model.
- Actor-critic refinement with a stronger critic beats the actor alone.
- APR-style spawn/join (Pan et al. 2025): parallel search over planned subtasks beats one sequential search on
  countdown, every seat on the same model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest

from collabgraph.graphs import Graph, GraphSpec, load
from collabgraph.graphs.runtime import run_graph
from collabgraph.models.gateway import Gateway
from collabgraph.runs.aliases import model_names
from collabgraph.tasks import get_task
from tests.conftest import REPO_ROOT

RECIPES = REPO_ROOT / "recipes"
ALPHA = 0.01
N_GSM8K = 200
N_COUNTDOWN = 150


def sign_test(wins: int, losses: int) -> float:
    """One-sided exact p-value of ``wins`` or more among ``wins + losses`` discordant pairs under a fair coin."""
    n = wins + losses
    return sum(math.comb(n, k) for k in range(wins, n + 1)) / 2**n if n else 1.0


@dataclass(frozen=True)
class Paired:
    n: int
    recipe: float
    baseline: float
    wins: int
    losses: int

    @property
    def p(self) -> float:
        return sign_test(self.wins, self.losses)

    def __str__(self) -> str:
        return (
            f"n={self.n}: recipe {self.recipe:.3f} vs baseline {self.baseline:.3f}, "
            f"wins {self.wins} / losses {self.losses}, one-sided p = {self.p:.2g}"
        )


def single(model: str) -> GraphSpec:
    """The baseline: one greedy answer of ``model``."""
    g = Graph("single").model("m", model)
    g.exit(g.generate("answer", model="m"))
    return g.build()


async def compare(recipe: GraphSpec, baseline: GraphSpec, task_name: str, n: int) -> Paired:
    task = get_task(task_name)
    examples = task.examples("test", n, 0)
    async with Gateway() as gateway:
        ours = await run_graph(recipe, task=task, examples=examples, gateway=gateway, concurrency=32)
        theirs = await run_graph(baseline, task=task, examples=examples, gateway=gateway, concurrency=32)
    assert not [r.error for r in ours + theirs if r.error is not None]
    return Paired(
        n=n,
        recipe=sum(r.correct for r in ours) / n,
        baseline=sum(r.correct for r in theirs) / n,
        wins=sum(a.correct and not b.correct for a, b in zip(ours, theirs, strict=True)),
        losses=sum(b.correct and not a.correct for a, b in zip(ours, theirs, strict=True)),
    )


def test_the_sign_test() -> None:
    assert sign_test(0, 0) == 1.0
    assert sign_test(3, 0) == pytest.approx(1 / 8)
    assert sign_test(12, 1) == pytest.approx(14 / 8192)
    assert sign_test(1, 12) > 0.99


async def test_best_of_8_vote_beats_one_sample_of_the_same_model() -> None:
    recipe = load(RECIPES / "best_of_n.yaml")
    model = recipe.models["m"]
    result = await compare(recipe, single(model), "gsm8k", N_GSM8K)
    assert result.recipe > result.baseline and result.p < ALPHA, str(result)


async def test_actor_critic_with_a_strong_critic_beats_the_actor_alone() -> None:
    recipe = load(RECIPES / "actor_critic.yaml")
    assert recipe.models["critic"] == "sim/llama-3.1-70b"  # the strong critic
    result = await compare(recipe, single(recipe.models["actor"]), "gsm8k", N_GSM8K)
    assert result.recipe > result.baseline and result.p < ALPHA, str(result)


async def test_spawn_join_beats_a_single_sequential_search_on_countdown() -> None:
    recipe = load(RECIPES / "spawn_join.yaml")
    (model,) = model_names(recipe)  # every seat on one model: equal model, only the search differs
    result = await compare(recipe, single(model), "countdown", N_COUNTDOWN)
    assert result.recipe > result.baseline and result.p < ALPHA, str(result)
