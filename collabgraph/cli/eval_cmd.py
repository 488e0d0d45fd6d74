"""``collabgraph eval``: one model on one task — accuracy with its 95 % CI, maj@k / pass@k, and what it cost."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, get_args

from collabgraph.cli.output import fmt_count, fmt_flops, fmt_usd, print_json, print_table, progress_bar
from collabgraph.errors import UnknownNameError
from collabgraph.models.pool import ModelPool, default_pool, load_pool
from collabgraph.runs.evaluate import EvalReport, ExampleResult, evaluate_model
from collabgraph.tasks.types import Split

__all__ = ["render_text", "run_eval"]


def _gateway(pool: ModelPool, data_dir: Path | None, no_cache: bool) -> Any:
    from collabgraph.models import CallCache, Gateway

    return Gateway(pool=pool, cache=None if no_cache else CallCache(), data_dir=data_dir)


def _split(split: str) -> Split:
    splits: tuple[Split, ...] = get_args(Split)
    for s in splits:
        if s == split:
            return s
    raise UnknownNameError("split", split, splits)


def run_eval(
    *,
    model: str,
    task: str,
    limit: int | None,
    samples: int,
    temperature: float,
    seed: int,
    split: str,
    api_base: str | None,
    models: Path | None,
    data_dir: Path | None,
    concurrency: int,
    no_cache: bool,
    fmt: str,
) -> None:
    """Evaluate ``model`` on ``task`` and print the report (a table, or one JSON object on stdout)."""
    from collabgraph.tasks import get_task

    pool = load_pool(models) if models is not None else default_pool()
    pool.resolve(model, api_base)  # an unknown model fails here, naming the closest ones, before any work
    the_task = get_task(task, data_dir)
    examples = the_task.examples(_split(split), limit, seed)
    gateway = _gateway(pool, data_dir, no_cache)

    correct = 0.0
    done = 0

    with progress_bar(len(examples), f"{model} · {task}", enabled=fmt != "json") as advance:

        def on_result(result: ExampleResult) -> None:
            nonlocal correct, done
            correct += result.accuracy
            done += 1
            advance(f"acc {correct / done:.3f}" + (f" · {result.error[:40]}" if result.error else ""))

        report = asyncio.run(
            evaluate_model(
                gateway,
                the_task,
                model,
                examples=examples,
                samples=samples,
                temperature=temperature,
                seed=seed,
                concurrency=concurrency,
                api_base=api_base,
                split=split,
                progress=on_result,
            )
        )
    if fmt == "json":
        print_json(report.summary())
    else:
        render_text(report)


def render_text(report: EvalReport) -> None:
    """The report as a compact table, followed by the first error messages when some calls failed."""
    low, high = report.ci95
    columns = ["model", "task", "n", "accuracy (95% CI)"]
    row = [
        report.model,
        f"{report.task}/{report.split}",
        str(report.n),
        f"{report.accuracy:.3f} [{low:.3f}, {high:.3f}]",
    ]
    if report.samples > 1 and report.maj_at_k is not None and report.pass_at_k is not None:
        columns += [f"maj@{report.samples}", f"pass@{report.samples}"]
        row += [f"{report.maj_at_k:.3f}", f"{report.pass_at_k:.3f}"]
    columns += ["tokens in / out", "cost", "latency", "FLOPs", "errors"]
    row += [
        f"{fmt_count(report.mean_prompt_tokens)} / {fmt_count(report.mean_completion_tokens)}",
        fmt_usd(report.mean_cost_usd),
        f"{report.mean_latency_s:.2f} s",
        fmt_flops(report.mean_flops),
        str(report.errors),
    ]
    numeric = [c for c in columns if c not in ("model", "task")]
    title = f"single-model eval, K={report.samples}, T={report.temperature:g}, seed {report.seed}; means per example"
    print_table(columns, [row], title=title, right_align=numeric)
    for message in report.error_examples:
        print(f"error: {message}")
    if report.errors > len(report.error_examples):
        print(f"… and {report.errors - len(report.error_examples)} more failed example(s)")
