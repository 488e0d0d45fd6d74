"""The search driver against the real runtime and the sim pool: files, resume, budgets, repair and the test split."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from collabgraph.graphs import load
from collabgraph.models.cache import CallCache
from collabgraph.models.pool import default_pool
from collabgraph.optimizers import (
    BudgetError,
    CostModel,
    Design,
    Priors,
    SearchSettings,
    SearchSpace,
    Slot,
    alone,
    optimize,
    repair,
)

SMALL = "sim/llama-3.2-1b"
MID = "sim/llama-3.1-8b"
BIG = "sim/llama-3.1-70b"


def space(**changes: Any) -> SearchSpace:
    data: dict[str, Any] = {
        "schema": "collabgraph.search/v1",
        "name": "tiny",
        "task": {"name": "gsm8k", "dev": 8, "test": 12, "seed": 0},
        "models": [SMALL, MID],
        "roles": ["assistant", "fuser", "vote"],
        "limits": {"nodes": 2},
        "concurrency": 4,
    }
    data.update(changes)
    return SearchSpace.model_validate(data)


def events(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]


def paid_samples(run_dir: Path) -> int:
    return sum(len(e["samples"]) - e["cached"] for e in events(run_dir) if e["event"] == "call")


async def test_a_search_writes_its_files_and_a_rerun_evaluates_nothing(tmp_path: Path) -> None:
    sp = space()
    cache = CallCache(tmp_path / "cache.sqlite")
    settings = SearchSettings(optimizer="random", evaluations=4, seed=1, out=tmp_path / "run")
    first = await optimize(sp, default_pool(), settings, cache=cache)
    assert first.evaluations == first.new_evaluations == 4 and not first.resumed
    assert first.best is not None and first.best.test_examples == 12
    run = tmp_path / "run"
    for name in ("manifest.json", "events.jsonl", "best.yaml", "pareto.csv", "trials.csv", "summary.json"):
        assert (run / name).is_file(), name
    for png in ("best_so_far.png", "pareto.png"):
        assert (run / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((run / "summary.json").read_text())["best"]["key"] == first.best.key
    spec = load(run / "best.yaml", pool=default_pool())
    assert spec.description == first.best.description
    # The best is the most accurate feasible evaluation.
    trials = [e["trial"] for e in events(run) if e["event"] == "trial"]
    assert first.best.dev_accuracy == max(t["accuracy"] for t in trials if t["status"] == "ok")
    assert len(first.best_so_far) == 4 and first.best_so_far[-1] == first.best.dev_accuracy
    paid = paid_samples(run)
    assert paid > 0

    again = await optimize(sp, default_pool(), settings, cache=cache)
    assert again.new_evaluations == 0 and again.resumed
    assert again.best == first.best and again.pareto == first.pareto
    assert paid_samples(run) == paid  # nothing was asked of any model the second time

    more = await optimize(sp, default_pool(), SearchSettings(**{**settings.__dict__, "evaluations": 6}), cache=cache)
    assert more.evaluations == 6 and more.new_evaluations == 2
    numbers = [e["number"] for e in events(run) if e["event"] == "trial"]
    assert numbers == list(range(len(numbers)))  # every trial logged once, in order


async def test_the_same_design_is_never_evaluated_twice(tmp_path: Path) -> None:
    # Exhaustive over a space of 6 graphs, asked for more: each graph once, then the space is used up.
    sp = space(models=[SMALL, MID], roles=["assistant"])
    result = await optimize(
        sp,
        default_pool(),
        SearchSettings(optimizer="exhaustive", evaluations=50, out=tmp_path / "run"),
        cache=CallCache(tmp_path / "c.sqlite"),
    )
    assert result.evaluations == 6
    keys = [e["trial"]["key"] for e in events(tmp_path / "run") if e["event"] == "trial" and e["trial"]["key"]]
    assert len(keys) == len(set(keys)) == 6


async def test_an_infeasible_budget_names_the_cheapest_graph(tmp_path: Path) -> None:
    sp = space(budget={"flops": 1e9})
    with pytest.raises(BudgetError) as info:
        await optimize(
            sp,
            default_pool(),
            SearchSettings(optimizer="random", evaluations=2, out=tmp_path / "r"),
            cache=CallCache(tmp_path / "c.sqlite"),
        )
    msg = str(info.value)
    assert "no graph of 'tiny' fits the budget" in msg and f"[1] assistant {SMALL}" in msg
    assert "flops" in msg and "> 1e+09" in msg


async def test_over_budget_designs_are_repaired_or_rejected_and_counted(tmp_path: Path) -> None:
    # A budget that the 8B model fits alone but not beside another answering node.
    sp = space(models=[SMALL, MID], roles=["assistant", "fuser"], limits={"nodes": 3}, budget={"flops": 9e12})
    result = await optimize(
        sp,
        default_pool(),
        SearchSettings(optimizer="random", evaluations=8, seed=3, out=tmp_path / "run"),
        cache=CallCache(tmp_path / "c.sqlite"),
    )
    trials = [e["trial"] for e in events(tmp_path / "run") if e["event"] == "trial"]
    assert result.repaired == sum(t["repaired"] for t in trials) > 0
    for t in trials:
        if t["status"] == "ok":
            assert t["estimate"]["flops"] <= 9e12 and t["measured"]["flops"] <= 9e12
        if t["repaired"] and t["evaluated"]:
            assert len(Design.model_validate(t["evaluated"]).structure().kept) < len(
                Design.model_validate(t["design"]).canonical().structure().kept
            )


async def test_estimates_match_measurements_once_calibrated(tmp_path: Path) -> None:
    sp = space(
        models=[SMALL, MID],
        roles=["assistant", "fuser"],
        limits={"nodes": 3},
        task={"name": "gsm8k", "dev": 12, "test": 4},
    )
    await optimize(
        sp,
        default_pool(),
        SearchSettings(optimizer="random", evaluations=6, seed=0, out=tmp_path / "run"),
        cache=CallCache(tmp_path / "c.sqlite"),
    )
    for e in events(tmp_path / "run"):
        if e["event"] == "trial" and e["trial"]["status"] == "ok" and e["observations"]:
            est, got = e["trial"]["estimate"], e["trial"]["measured"]
            for measure in ("flops", "usd", "tokens"):
                assert est[measure] == pytest.approx(got[measure], rel=0.35), (measure, e["trial"]["design"])


def test_repair_drops_the_weakest_small_model_first() -> None:
    sp = space(models=[SMALL, MID, BIG], limits={"nodes": 3}, budget={"flops": 2e13})
    pool = default_pool()
    costs = CostModel(sp, pool)
    priors = Priors(accuracy={SMALL: 0.44, MID: 0.84, BIG: 0.95}, params_b={SMALL: 1.2, MID: 8.0, BIG: 70.6})
    # Both small answerers feed an 8B fuser; with the default 200/200-token guesses this is over 2e13 only once a
    # 70B answerer is in: it drops the weakest node (the 1B), then fits.
    d = Design(slots=(Slot(model=SMALL), Slot(model=BIG), Slot(role="fuser", model=MID)), edges=((0, 2), (1, 2)))
    fit = repair(d, costs, priors)
    assert costs.estimate(d).flops > 2e13
    assert fit.repaired and fit.dropped[0] == f"[0] assistant {SMALL}"
    assert fit.design is None or costs.estimate(fit.design).flops <= 2e13
    # Only the output left and still over: rejected.
    tight = space(models=[BIG], budget={"flops": 1e12})
    out = repair(alone(tight, BIG), CostModel(tight, pool), priors)
    assert out.design is None and "flops" in out.over


async def test_agent_reinforce_with_an_unreliable_optimizer_model_never_dies(tmp_path: Path) -> None:
    # The 1B model writes malformed updates often: re-asked, then a numeric step, and every step is logged.
    sp = space(
        limits={"nodes": 3},
        optimizer={"name": "agent-reinforce", "model": "sim/llama-3.2-1b", "retries": 0, "batch": 1},
    )
    result = await optimize(
        sp,
        default_pool(),
        SearchSettings(optimizer="agent-reinforce", evaluations=12, seed=0, out=tmp_path / "run"),
        cache=CallCache(tmp_path / "c.sqlite"),
    )
    assert result.update == "textual" and result.evaluations == 12 and result.best is not None
    log = events(tmp_path / "run")
    updates = [e for e in log if e["event"] == "optimizer" and e["type"] == "update"]
    assert [u["step"] for u in updates] == list(range(1, len(updates) + 1))
    assert {u["kind"] for u in updates} == {
        "textual",
        "numeric",
    }  # with no re-ask, each garbage reply is a numeric step
    assert any(e["event"] == "optimizer" and e["type"] == "update_attempt" for e in log)
    assert any(e["event"] == "call" and e["trial"] is None and e["model"] == "sim/llama-3.2-1b" for e in log)
    # A rerun replays the same steps from the log and the cache: nothing new, nothing logged twice.
    again = await optimize(
        sp,
        default_pool(),
        SearchSettings(optimizer="agent-reinforce", evaluations=12, seed=0, out=tmp_path / "run"),
        cache=CallCache(tmp_path / "c.sqlite"),
    )
    assert again.new_evaluations == 0 and again.best == result.best
    assert len([e for e in events(tmp_path / "run") if e["event"] == "optimizer" and e["type"] == "update"]) == len(
        updates
    )


@pytest.mark.parametrize("name", ["random", "agent-reinforce"])
async def test_samplers_skip_proposals_the_budget_would_reject_or_fold_into_a_known_graph(
    name: str, tmp_path: Path
) -> None:
    # Most designs of this space are over budget: without the driver's preview, many proposals were rejected or
    # repaired into graphs already run; with it, every proposal is a new graph.
    sp = space(models=[SMALL, MID, BIG], roles=["assistant", "fuser"], limits={"nodes": 3}, budget={"flops": 9e12})
    result = await optimize(
        sp,
        default_pool(),
        SearchSettings(optimizer=name, evaluations=6, seed=5, out=tmp_path / "run"),  # type: ignore[arg-type]
        cache=CallCache(tmp_path / "c.sqlite"),
    )
    assert result.rejected == 0 and result.evaluations == 6
    assert result.repaired > 0  # proposals were still repaired to fit, into graphs not run before
    if name == "random":  # uniform draws find a new graph each time; a concentrated distribution may repeat
        assert result.trials == 6
