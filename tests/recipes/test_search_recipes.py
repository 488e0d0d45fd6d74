"""Every search recipe runs end to end with its own optimizer, pool, roles and budget (on fewer examples), and
its best graph respects the budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from collabgraph.graphs import load
from collabgraph.models.cache import CallCache
from collabgraph.optimizers import SearchSettings, load_space, optimize
from tests.conftest import REPO_ROOT

RECIPES = sorted((REPO_ROOT / "recipes" / "search").glob("*.yaml"))


def test_the_four_recipes_the_issue_names_exist() -> None:
    assert {p.stem for p in RECIPES} >= {"math", "mmlu_pro", "humaneval", "countdown"}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.stem)
async def test_a_search_recipe_runs_and_stays_within_its_budget(recipe: Path, tmp_path: Path) -> None:
    space, pool = load_space(recipe)
    small = space.model_copy(update={"task": space.task.model_copy(update={"dev": 12, "test": 12})})
    result = await optimize(
        small,
        pool,
        SearchSettings(optimizer=space.optimizer.name, evaluations=3, out=tmp_path / "run"),
        cache=CallCache(tmp_path / "cache.sqlite"),
    )
    assert result.evaluations == 3 and result.best is not None
    best = result.best
    assert best.test_examples == 12 and best.test_accuracy is not None
    measured = {"flops": best.mean_flops, "usd": best.mean_cost_usd, "latency_s": best.mean_latency_s}
    for name, cap in space.budget.limits().items():
        assert measured[name] <= cap, name
    spec = load(best.graph, pool=pool)
    used = {n.model_name for n in spec.nodes if n.model_name}
    assert used <= set(space.models)
    if space.objective == "accuracy_latency":
        assert result.pareto_axis == "latency_s"
        latencies = [p.latency_s for p in result.pareto]
        assert latencies == sorted(latencies)
