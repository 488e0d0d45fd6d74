"""``collabgraph run``: a graph on a task, into a run directory that the same command resumes."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from collabgraph.cli.output import fmt_count, fmt_flops, fmt_usd, print_fields, print_json, print_table, progress_bar
from collabgraph.graphs import GraphSpec, check, load
from collabgraph.graphs.result import GraphExampleResult
from collabgraph.models.pool import ModelPool, default_pool, load_pool
from collabgraph.runs.aliases import override_models, parse_model_sets
from collabgraph.runs.graph_run import execute_run, prepare_run
from collabgraph.runs.report import GraphRunSummary
from collabgraph.settings import gateway_settings
from collabgraph.tasks import get_task
from collabgraph.tasks.types import as_split

__all__ = ["load_graph", "render_summary", "run_graph_cmd", "run_recipe", "run_spec"]


def load_graph(graph: Path, pool: ModelPool, sets: list[str]) -> GraphSpec:
    """Load and check ``graph`` with its model aliases overridden by ``sets`` (``ALIAS=MODEL``). Without
    overrides every error carries its line in the file; with them the graph is checked once they apply (so
    ``--set`` can replace a model this pool lacks)."""
    overrides = parse_model_sets(sets)
    if not overrides:
        return load(graph, pool=pool)
    spec = override_models(load(graph, pool=pool, check=False), overrides, pool)
    return check(spec, pool, str(graph))


def run_graph_cmd(
    *,
    graph: Path,
    task: str,
    limit: int | None,
    seed: int,
    sets: list[str],
    models: Path | None,
    out: Path | None,
    data_dir: Path | None,
    concurrency: int,
    fmt: str,
    split: str = "test",
) -> None:
    """Run ``graph`` on ``task`` (``limit`` examples of ``split`` in the order ``seed`` gives) into ``out`` (default
    ``runs/<graph>-<task>-<hash>``), with a progress bar on stderr; print the summary and per-node table, or one
    JSON object. Re-running the same command resumes the run; Ctrl-C keeps what finished (exit 130)."""
    pool = load_pool(models) if models is not None else default_pool()
    spec = load_graph(graph, pool, sets)
    run_spec(
        spec,
        task=task,
        limit=limit,
        seed=seed,
        pool=pool,
        out=out,
        data_dir=data_dir,
        concurrency=concurrency,
        fmt=fmt,
        split=split,
    )


def run_spec(
    spec: GraphSpec,
    *,
    task: str,
    limit: int | None = None,
    seed: int = 0,
    pool: ModelPool | None = None,
    out: Path | None = None,
    data_dir: Path | None = None,
    concurrency: int = 8,
    fmt: str = "text",
    split: str = "test",
    command: list[str] | None = None,
) -> GraphRunSummary:
    """What ``collabgraph run`` does once it has the graph: run ``spec`` into its run directory with a progress bar,
    print the report, and return the summary."""
    the_split = as_split(split)
    options = gateway_settings()
    the_task = get_task(task, data_dir)
    prepared = prepare_run(spec, the_task, split=the_split, limit=limit, seed=seed, pool=pool, out=out, command=command)
    where = prepared.run_dir.path
    if prepared.resumed and fmt != "json":
        sys.stderr.write(f"resuming {where}: {len(prepared.done)} of {len(prepared.examples)} examples already done\n")
    correct = sum(r.correct for r in prepared.done.values())
    finished = len(prepared.done)
    failed = sum(r.error is not None for r in prepared.done.values())
    total = len(prepared.examples)
    with progress_bar(total, f"{spec.name} · {task}", enabled=fmt != "json") as advance:
        for _ in range(finished):
            advance(f"acc {correct / finished:.3f}")

        def on_result(result: GraphExampleResult) -> None:
            nonlocal correct, finished, failed
            correct += result.correct
            finished += 1
            failed += result.error is not None
            advance(f"acc {correct / finished:.3f}" + (f" · {failed} failed" if failed else ""))

        try:
            run = asyncio.run(
                execute_run(
                    prepared, concurrency=concurrency, data_dir=data_dir, gateway_options=options, on_result=on_result
                )
            )
        except KeyboardInterrupt:
            sys.stderr.write(
                f"interrupted: {finished} of {total} examples kept in {where}; run the same command to resume\n"
            )
            raise SystemExit(130) from None
    if fmt == "json":
        print_json(run.summary.to_json())
    else:
        render_summary(run.summary)
    return run.summary


def run_recipe(spec: GraphSpec, *, task: str = "gsm8k", argv: list[str] | None = None) -> GraphRunSummary:
    """The ``__main__`` of a Python recipe: ``python recipes/x.py [--task T] [--limit N] [--seed S] [--out DIR]
    [--format text|json]`` runs the graph it built as ``collabgraph run`` runs a graph file."""
    import argparse

    from collabgraph.errors import CollabgraphError

    parser = argparse.ArgumentParser(description=f"Run the {spec.name!r} graph on a task.")
    parser.add_argument("--task", default=task, help=f"task name (default {task})")
    parser.add_argument("--limit", type=int, default=10, help="number of examples (default 10)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="run directory (default runs/<graph>-<task>-<hash>)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    if args.limit < 1:
        parser.error(f"--limit must be at least 1, got {args.limit}")
    try:
        return run_spec(
            spec,
            task=args.task,
            limit=args.limit,
            seed=args.seed,
            out=args.out,
            concurrency=args.concurrency,
            fmt=args.format,
            command=[sys.argv[0], *(argv if argv is not None else sys.argv[1:])],
        )
    except CollabgraphError as exc:
        sys.stderr.write(f"error: {exc}\n")
        raise SystemExit(1) from None


def render_summary(summary: GraphRunSummary) -> None:
    """A run's summary as a two-column table, the per-node table, then the first error messages."""
    low, high = summary.ci95
    resumed = summary.n - summary.new_examples
    fields = [
        ("graph", f"{summary.graph} ({summary.graph_hash[:12]})"),
        ("task", f"{summary.task} ({summary.split} split, {summary.n} examples, seed {summary.seed})"),
        ("accuracy", f"{summary.accuracy:.3f}  (95% CI {low:.3f} – {high:.3f})"),
        (
            "tokens / example",
            f"{fmt_count(summary.mean_tokens)} ({fmt_count(summary.mean_prompt_tokens)} in, "
            f"{fmt_count(summary.mean_completion_tokens)} out)",
        ),
        ("calls / example", fmt_count(summary.mean_calls)),
        ("cost / example", fmt_usd(summary.mean_cost_usd)),
        ("latency / example", f"{summary.mean_latency_s:.2f} s (critical path)"),
        ("FLOPs / example", fmt_flops(summary.mean_flops)),
        ("errors", str(summary.errors)),
        ("run directory", summary.run_dir + (f"  ({resumed} examples from an earlier run)" if resumed else "")),
    ]
    print_fields(fields)
    rows = [
        [
            row.node,
            row.kind,
            row.model or "–",
            fmt_count(row.calls),
            fmt_count(row.tokens),
            fmt_usd(row.cost_usd),
            f"{row.latency_s:.2f} s",
            f"{row.latency_share:.0%}",
        ]
        for row in summary.nodes
    ]
    print()
    print_table(
        ["node", "kind", "model", "calls", "tokens", "cost", "latency", "of path"],
        rows,
        title="per node, mean per example",
        right_align=["calls", "tokens", "cost", "latency", "of path"],
    )
    for message in summary.error_examples:
        print(f"error: {message}")
    if summary.errors > len(summary.error_examples):
        print(f"… and {summary.errors - len(summary.error_examples)} more failed example(s)")
