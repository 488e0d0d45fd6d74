"""The ``collabgraph`` command. Each command's body imports its implementation lazily, so ``--help`` stays fast."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["app", "main"]

app = typer.Typer(
    name="collabgraph",
    help="Multi-LLM collaboration graphs: write them, run them on any model, search them under a budget.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
models_app = typer.Typer(help="Inspect model pools.", no_args_is_help=True)
app.add_typer(models_app, name="models")


class TableOrJson(StrEnum):
    table = "table"
    json = "json"


class TextOrJson(StrEnum):
    text = "text"
    json = "json"


DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Data directory (else $COLLABGRAPH_DATA, else the user cache).")
]
PoolOpt = Annotated[Path | None, typer.Option("--models", help="Model pool YAML, added to the built-in offline pool.")]


@models_app.command("list")
def models_list(
    models: PoolOpt = None,
    fmt: Annotated[TableOrJson, typer.Option("--format", help="Output format.")] = TableOrJson.table,
) -> None:
    """List the models of the pool (built-in sim/ and replay/ models, plus --models)."""
    from collabgraph.cli.models_cmd import list_models

    list_models(models, fmt.value)


@app.command("eval")
def eval_(
    model: Annotated[str, typer.Argument(help="Model name from the pool, e.g. sim/llama-3.1-8b.")],
    task: Annotated[str, typer.Option("--task", help="Task name, e.g. gsm8k.")],
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Number of examples.")] = None,
    samples: Annotated[int, typer.Option("--samples", min=1, help="Samples per example (K).")] = 1,
    temperature: Annotated[float, typer.Option("--temperature", min=0.0, max=2.0)] = 0.0,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    split: Annotated[str, typer.Option("--split", help="train, dev or test.")] = "test",
    api_base: Annotated[str | None, typer.Option("--api-base", help="OpenAI-compatible server (vLLM).")] = None,
    models: PoolOpt = None,
    data_dir: DataDir = None,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1)] = 32,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the call cache.")] = False,
    fmt: Annotated[TextOrJson, typer.Option("--format", help="Output format.")] = TextOrJson.text,
) -> None:
    """Single-model baseline: accuracy (95% CI), tokens, cost, latency and FLOPs; maj@k / pass@k with K > 1."""
    from collabgraph.cli.eval_cmd import run_eval

    run_eval(
        model=model,
        task=task,
        limit=limit,
        samples=samples,
        temperature=temperature,
        seed=seed,
        split=split,
        api_base=api_base,
        models=models,
        data_dir=data_dir,
        concurrency=concurrency,
        no_cache=no_cache,
        fmt=fmt.value,
    )


@app.command("serve-sim")
def serve_sim(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8808,
    latency_scale: Annotated[
        float, typer.Option("--latency-scale", min=0.0, help="Really sleep this × each call's virtual latency.")
    ] = 0.0,
    fixed_latency: Annotated[
        float, typer.Option("--fixed-latency", min=0.0, help="Really sleep this many seconds per call.")
    ] = 0.0,
    fail_rate: Annotated[
        float, typer.Option("--fail-rate", min=0.0, max=1.0, help="Fraction of calls answered 429 / 500 / hang.")
    ] = 0.0,
    hang_s: Annotated[float, typer.Option("--hang-s", min=0.0, help="How long an injected hang lasts.")] = 30.0,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    models: PoolOpt = None,
    data_dir: DataDir = None,
) -> None:
    """Serve the offline pools over the OpenAI HTTP API (/v1/models, /v1/chat/completions), as vLLM does."""
    from collabgraph.cli.serve_cmd import run_serve_sim

    run_serve_sim(
        host=host,
        port=port,
        latency_scale=latency_scale,
        fixed_latency=fixed_latency,
        fail_rate=fail_rate,
        hang_s=hang_s,
        seed=seed,
        models=models,
        data_dir=data_dir,
    )


@app.command("vllm-serve")
def vllm_serve(
    model: Annotated[str, typer.Argument(help="HF model id or local model directory.")],
    port: Annotated[int, typer.Option("--port")] = 8000,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    seed: Annotated[int, typer.Option("--seed")] = 0,
    dummy_weights: Annotated[
        bool, typer.Option("--dummy-weights", help="--load-format dummy: random weights, no download.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the command and pool entry; start nothing.")
    ] = False,
    extra: Annotated[list[str] | None, typer.Argument(help="Extra flags passed to vllm serve (after --).")] = None,
) -> None:
    """Start vLLM's OpenAI-compatible server with the flags collabgraph relies on, and print its pool entry."""
    from collabgraph.cli.serve_cmd import run_vllm_serve

    run_vllm_serve(
        model=model, port=port, host=host, seed=seed, dummy_weights=dummy_weights, dry_run=dry_run, extra=extra or []
    )


@app.command("validate")
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Graph YAML files to check.")],
    models: PoolOpt = None,
    fmt: Annotated[TextOrJson, typer.Option("--format", help="Output format.")] = TextOrJson.text,
) -> None:
    """Check graph files (schema, references, control flow, models); exit 1 when any is invalid."""
    from collabgraph.cli.graph_cmds import validate_paths

    raise typer.Exit(validate_paths(paths, fmt.value, models))


@app.command("schema")
def schema(
    which: Annotated[str, typer.Argument(help="Which schema: graph.")] = "graph",
) -> None:
    """Print the JSON Schema of a file format (for editors: yaml-language-server)."""
    from collabgraph.cli.graph_cmds import print_schema

    print_schema(which)


def main() -> None:
    """Console entry point: a ``CollabgraphError`` prints its message and exits 1, without a traceback; usage
    errors (bad option values) are typer's own, exit 2."""
    from collabgraph.errors import CollabgraphError

    try:
        app()
    except CollabgraphError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None
