"""benchmarks/search_efficiency.py on a tiny space (2 slots, 2 sim models, 4 dev examples, 2 seeds): the report has
one row per optimizer with one figure per seed, and nothing any optimizer finds beats exhaustive search's optimum."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from collabgraph.optimizers.design import count_designs
from collabgraph.optimizers.space import SearchSpace

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "search_efficiency.py"
SEEDS, CAP, AT = 2, 6, (2, 4)


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("search_efficiency", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


bench = _load()


def tiny_case() -> Any:
    space = SearchSpace.model_validate(
        {
            "schema": "collabgraph.search/v1",
            "name": "tiny",
            "task": {"name": "math500", "dev": 4, "test": 1},
            "models": ["sim/llama-3.2-1b", "sim/llama-3.1-8b"],
            "roles": ["assistant", "vote"],
            "limits": {"nodes": 2},
        }
    )
    return bench.Case("tiny", space, "two sim models, two slots")


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    work = tmp_path_factory.mktemp("search-efficiency")
    return asyncio.run(bench.benchmark([tiny_case()], seeds=SEEDS, cap=CAP, at=AT, work=work))


def test_every_optimizer_has_one_figure_per_seed(reports: list[Any]) -> None:
    (report,) = reports
    assert list(report.rows) == [v.label for v in bench.VARIANTS]
    for row in report.rows.values():
        assert len(row.to_near) == len(row.to_optimum) == len(row.best) == SEEDS
        assert set(row.regret) == set(AT) and all(len(v) == SEEDS for v in row.regret.values())
        assert all(1 <= n <= CAP + 1 for n in row.to_near + row.to_optimum)
        # Reaching the optimum reaches 95 % of it no later.
        assert all(a <= b for a, b in zip(row.to_near, row.to_optimum, strict=True))
        assert all(e <= CAP for e in row.evaluations)
        assert row.lookups >= sum(row.evaluations)
    numeric, textual = report.rows["agent-reinforce numeric"], report.rows["agent-reinforce textual"]
    assert numeric.updates == ["numeric"] and numeric.textual_steps == 0 and numeric.steps >= SEEDS
    assert textual.updates == ["textual"] and 1 <= textual.textual_steps <= textual.steps


def test_exhaustive_optimum_bounds_every_search(reports: list[Any]) -> None:
    (report,) = reports
    truth = report.truth
    assert len(truth.table) == truth.designs == count_designs(report.case.space)  # no budget: every graph ran
    assert truth.optimum == max(ev.accuracy for ev in truth.table.values())
    for row in report.rows.values():
        assert row.misses == 0  # every graph an optimizer asked for was in exhaustive's table
        assert all(best <= truth.optimum for best in row.best)
        assert all(min(r) >= 0 for r in row.regret.values())


def test_report_prints_ratios_against_random_and_tpe(reports: list[Any]) -> None:
    text = "\n".join(bench.format_report(reports, AT))
    for agent in ("agent-reinforce numeric", "agent-reinforce textual"):
        ratio = reports[0].ratio(agent, "random")
        assert f"{agent} / random: {ratio:.2f}x" in text
        assert f"/ tpe: {reports[0].ratio(agent, 'tpe'):.2f}x" in text
    assert "load average" in text


@pytest.mark.parametrize(
    ("curve", "level", "expected"),
    [([0.0, 0.5, 0.5, 0.9], 0.5, 2), ([0.2, 0.4], 0.5, CAP + 1), ([0.7], 0.7, 1), ([0.1] * 10, 0.5, CAP + 1)],
)
def test_evaluations_to_a_level_censored_at_the_cap(curve: list[float], level: float, expected: int) -> None:
    assert bench.evaluations_to(curve, level, CAP) == expected


def test_regret_keeps_the_last_value_after_a_search_stops() -> None:
    assert bench.regret_at([0.2, 0.5], 0.6, 1) == pytest.approx(0.4)
    assert bench.regret_at([0.2, 0.5], 0.6, 5) == pytest.approx(0.1)
    assert bench.regret_at([], 0.6, 5) == pytest.approx(0.6)


def test_unknown_task_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        bench.main(["--tasks", "math500,math5000"])
    assert "unknown task(s) math5000; choose from math500, mmlu_pro, countdown" in capsys.readouterr().err


def test_regret_count_beyond_the_cap_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        bench.main(["--cap", "10", "--at", "5,20"])
    assert "every --at count within 1 … --cap" in capsys.readouterr().err
