"""``collabgraph eval``: one model on one task — accuracy with its 95 % CI, maj@k / pass@k, and what it cost."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from collabgraph.cli.output import fmt_count, fmt_flops, fmt_usd, print_fields, print_json, progress_bar
from collabgraph.models.pool import default_pool, load_pool
from collabgraph.runs.evaluate import EvalReport, ExampleResult, evaluate_model
from collabgraph.settings import gateway_settings
from collabgraph.tasks.types import as_split

__all__ = ["render_text", "run_eval"]


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
    from collabgraph.models.gateway import Gateway
    from collabgraph.tasks import get_task

    pool = load_pool(models) if models is not None else default_pool()
    pool.resolve(model, api_base)  # an unknown model fails here, naming the closest ones, before any work
    options = gateway_settings()
    the_task = get_task(task, data_dir)
    examples = the_task.examples(as_split(split), limit, seed)

    async def evaluate(on_result: Callable[[ExampleResult], None]) -> EvalReport:
        async with Gateway(pool, cache=None if no_cache else "default", data_dir=data_dir, **options) as gateway:
            return await evaluate_model(
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

    correct = 0.0
    done = failed = 0

    with progress_bar(len(examples), f"{model} · {task}", enabled=fmt != "json") as advance:

        def on_result(result: ExampleResult) -> None:
            nonlocal correct, done, failed
            correct += result.accuracy
            done += 1
            failed += result.error is not None
            advance(f"acc {correct / done:.3f}" + (f" · {failed} failed" if failed else ""))

        report = asyncio.run(evaluate(on_result))
    if fmt == "json":
        print_json(report.summary())
    else:
        render_text(report)


def render_text(report: EvalReport) -> None:
    """The report as a compact two-column table, followed by the first error messages when some calls failed."""
    low, high = report.ci95
    k = report.samples
    fields = [
        ("model", report.model),
        ("task", f"{report.task} ({report.split} split, {report.n} examples)"),
        ("samples", f"K={k}, temperature {report.temperature:g}, seed {report.seed}"),
        ("accuracy", f"{report.accuracy:.3f}  (95% CI {low:.3f} – {high:.3f})"),
    ]
    if report.maj_at_k is not None:
        fields.append((f"maj@{k}", f"{report.maj_at_k:.3f}"))
    if report.pass_at_k is not None:
        fields.append((f"pass@{k}", f"{report.pass_at_k:.3f}"))
    if report.errors < report.n:  # the means cover the examples whose call succeeded: none, nothing to show
        fields += [
            (
                "tokens / example",
                f"{fmt_count(report.mean_prompt_tokens)} in, {fmt_count(report.mean_completion_tokens)} out",
            ),
            ("cost / example", fmt_usd(report.mean_cost_usd)),
            ("latency / example", f"{report.mean_latency_s:.2f} s"),
            ("FLOPs / example", fmt_flops(report.mean_flops)),
        ]
    fields += [
        ("cached calls", f"{report.cached_calls} of {report.n}"),
        ("errors", str(report.errors)),
    ]
    print_fields(fields)
    if report.errors:
        shown = len(report.error_examples)
        print(
            f"\nfailed examples (first {shown} of {report.errors}):" if report.errors > shown else "\nfailed examples:"
        )
        for message in report.error_examples:
            print(f"  {message}")
