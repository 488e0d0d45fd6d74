"""``collabgraph optimize``: search a space of graphs for the best one within a budget."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from collabgraph.cli.output import fmt_flops, fmt_usd, print_fields, print_json, print_table, progress_bar
from collabgraph.optimizers.base import Trial
from collabgraph.optimizers.driver import SearchResult, SearchSettings, optimize
from collabgraph.optimizers.space import OPTIMIZER_NAMES, OptimizerName, load_space
from collabgraph.settings import gateway_settings

__all__ = ["optimize_cmd", "render_result"]


def _optimizer_name(name: str) -> OptimizerName:
    for known in OPTIMIZER_NAMES:
        if known == name:
            return known
    from collabgraph.errors import UnknownNameError

    raise UnknownNameError("optimizer", name, OPTIMIZER_NAMES)


def optimize_cmd(
    *,
    space_file: Path,
    optimizer: str | None,
    evaluations: int | None,
    seed: int,
    batch: int | None,
    out: Path | None,
    data_dir: Path | None,
    fmt: str,
) -> SearchResult:
    """Load the space, run or resume the search with a progress bar (best-so-far on it), print the result."""
    space, pool = load_space(space_file)
    name = _optimizer_name(optimizer) if optimizer is not None else space.optimizer.name
    total = evaluations if evaluations is not None else space.optimizer.evaluations
    settings = SearchSettings(
        optimizer=name,
        evaluations=total,
        seed=seed,
        batch=batch,
        out=out,
        data_dir=data_dir,
        command=["collabgraph", *sys.argv[1:]],
        gateway_options=dict(gateway_settings()),
    )
    with progress_bar(total, f"{space.name} · {name}", enabled=fmt != "json") as advance:
        done = 0

        def on_trial(trial: Trial, best: float | None, evaluated: int) -> None:
            nonlocal done
            while done < min(evaluated, total):
                done += 1
                advance(f"best {best:.3f}" if best is not None else "nothing within budget yet")

        try:
            result = asyncio.run(optimize(space, pool, settings, on_trial=on_trial))
        except KeyboardInterrupt:
            sys.stderr.write("interrupted: every finished evaluation is logged; run the same command to resume\n")
            raise SystemExit(130) from None
    if fmt == "json":
        print_json(result.model_dump(mode="json"))
    else:
        render_result(result)
    return result


def _with_ci(accuracy: float, n: int) -> str:
    from collabgraph.runs.metrics import wilson_ci

    low, high = wilson_ci(accuracy * n, n)
    return f"{accuracy:.4f}  95% CI {low:.3f}–{high:.3f}, {n} examples"


def render_result(result: SearchResult) -> None:
    """The search's outcome as tables: the run, the best graph, and the Pareto front."""
    fields = [
        (
            "optimizer",
            f"{result.optimizer} ({result.update} update)"
            if result.optimizer == "agent-reinforce"
            else result.optimizer,
        ),
        ("evaluations", f"{result.evaluations} ({result.new_evaluations} new in this run)"),
        (
            "trials",
            f"{result.trials} proposed · {result.rejected} rejected · {result.repaired} repaired · "
            f"{result.over_budget} over budget when measured",
        ),
        ("budget", ", ".join(f"{k} {v:.4g}" for k, v in result.budget.items()) or "none"),
        ("run dir", result.run_dir),
    ]
    print_fields(fields, title=f"search {result.space} on {result.task}")
    best = result.best
    if best is None:
        sys.stdout.write("no evaluated graph was within budget\n")
    else:
        print_fields(
            [
                ("graph", best.graph),
                ("design", best.description),
                ("dev accuracy", _with_ci(best.dev_accuracy, best.dev_examples) + " (the search chose it on these)"),
                (
                    "test accuracy",
                    _with_ci(best.test_accuracy, best.test_examples) if best.test_accuracy is not None else "n/a",
                ),
                (
                    "per query",
                    f"{fmt_usd(best.mean_cost_usd)} · {fmt_flops(best.mean_flops)} · {best.mean_latency_s:.2f} s · {best.mean_tokens:,.0f} tokens",
                ),
                ("reproduce", best.reproduce),
            ],
            title="best graph",
        )
    rows = [
        [f"{p.accuracy:.3f}", fmt_flops(p.flops), fmt_usd(p.usd), f"{p.latency_s:.2f}", p.description]
        for p in result.pareto
    ]
    print_table(
        ["dev acc", "FLOPs", "USD", "latency s", "graph"],
        rows,
        title=f"Pareto front (accuracy vs {result.pareto_axis}) · pareto.csv, pareto.png, best_so_far.png",
        right_align=["dev acc", "FLOPs", "USD", "latency s"],
    )
