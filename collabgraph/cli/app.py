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
sandbox_app = typer.Typer(help="Build, check and use the execution sandbox.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")


class TableOrJson(StrEnum):
    table = "table"
    json = "json"


class TextOrJson(StrEnum):
    text = "text"
    json = "json"


class ShowFormat(StrEnum):
    text = "text"
    mermaid = "mermaid"
    png = "png"


class OptimizerChoice(StrEnum):
    agent_reinforce = "agent-reinforce"
    random = "random"
    tpe = "tpe"
    exhaustive = "exhaustive"
    reinforce = "reinforce"


class BackendChoice(StrEnum):
    auto = "auto"
    docker = "docker"
    local = "local"


class BuildMethod(StrEnum):
    auto = "auto"
    dockerfile = "dockerfile"
    debootstrap = "debootstrap"


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


@app.command("run")
def run(
    graph: Annotated[Path, typer.Argument(help="Graph YAML file.")],
    task: Annotated[str, typer.Option("--task", help="Task name, e.g. gsm8k.")],
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Number of examples.")] = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    split: Annotated[str, typer.Option("--split", help="train, dev or test.")] = "test",
    sets: Annotated[
        list[str] | None, typer.Option("--set", help="Override a model alias: ALIAS=MODEL (repeatable).")
    ] = None,
    models: PoolOpt = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Run directory (default: runs/<graph>-<task>-<hash>).")
    ] = None,
    data_dir: DataDir = None,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="Examples in flight at once.")] = 8,
    fmt: Annotated[TextOrJson, typer.Option("--format", help="Output format.")] = TextOrJson.text,
) -> None:
    """Run a collaboration graph on a task into a run directory; re-running the same command resumes."""
    from collabgraph.cli.run_cmd import run_graph_cmd

    run_graph_cmd(
        graph=graph,
        task=task,
        limit=limit,
        seed=seed,
        sets=sets or [],
        models=models,
        out=out,
        data_dir=data_dir,
        concurrency=concurrency,
        fmt=fmt.value,
        split=split,
    )


@app.command("optimize")
def optimize(
    space: Annotated[Path, typer.Argument(help="Search space YAML (schema collabgraph.search/v1).")],
    optimizer: Annotated[
        OptimizerChoice | None, typer.Option("--optimizer", help="Search method (default: the space's).")
    ] = None,
    evaluations: Annotated[
        int | None,
        typer.Option("--evaluations", min=1, help="Graphs to evaluate on the dev split (default: the space's)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seeds the optimizer (the space seeds the examples).")] = 0,
    batch: Annotated[int | None, typer.Option("--batch", min=1, help="Graphs per optimizer step.")] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Search directory (default: runs/search/<space>-<optimizer>-s<seed>-<hash>)."),
    ] = None,
    data_dir: DataDir = None,
    fmt: Annotated[TextOrJson, typer.Option("--format", help="Output format.")] = TextOrJson.text,
) -> None:
    """Search graph structure and model assignment for the best accuracy within a budget; re-running resumes."""
    from collabgraph.cli.optimize_cmd import optimize_cmd

    optimize_cmd(
        space_file=space,
        optimizer=optimizer.value if optimizer is not None else None,
        evaluations=evaluations,
        seed=seed,
        batch=batch,
        out=out,
        data_dir=data_dir,
        fmt=fmt.value,
    )


@app.command("show")
def show(
    graph: Annotated[Path, typer.Argument(help="Graph YAML file.")],
    fmt: Annotated[ShowFormat, typer.Option("--format", help="text, mermaid or png.")] = ShowFormat.text,
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file (png default: ./<graph>.png).")] = None,
    models: PoolOpt = None,
) -> None:
    """Show a graph: an indented summary, a Mermaid flowchart, or a PNG drawing."""
    from collabgraph.cli.show_cmd import show_graph

    show_graph(graph, fmt.value, out, models)


@sandbox_app.command("build")
def sandbox_build(
    force: Annotated[bool, typer.Option("--force", help="Rebuild even when the image is up to date.")] = False,
    method: Annotated[
        BuildMethod, typer.Option("--method", help="auto, dockerfile or debootstrap.")
    ] = BuildMethod.auto,
) -> None:
    """Build the sandbox image (a Dockerfile where a registry answers, else a bootstrapped Debian root)."""
    from collabgraph.cli.sandbox_cmd import run_build

    run_build(force=force, method=method.value)


@sandbox_app.command("check")
def sandbox_check(
    fmt: Annotated[TextOrJson, typer.Option("--format", help="Output format.")] = TextOrJson.text,
) -> None:
    """Report the backend in use, the image, cold-start and warm-exec latency."""
    from collabgraph.cli.sandbox_cmd import run_check

    raise typer.Exit(run_check(fmt.value))


@sandbox_app.command("exec")
def sandbox_exec(
    file: Annotated[Path, typer.Argument(help="Python file to run as main.py.")],
    backend: Annotated[BackendChoice, typer.Option("--backend", help="docker, local or auto.")] = BackendChoice.auto,
    timeout: Annotated[float, typer.Option("--timeout", help="Wall-clock limit, seconds.")] = 10.0,
    memory: Annotated[int, typer.Option("--memory", help="Memory limit, MB.")] = 512,
    fmt: Annotated[TextOrJson, typer.Option("--format", help="Output format.")] = TextOrJson.text,
) -> None:
    """Run one Python file in the sandbox and print its result (exit code, output, timeouts, OOM)."""
    from collabgraph.cli.sandbox_cmd import run_exec

    raise typer.Exit(run_exec(file, backend=backend.value, timeout_s=timeout, memory_mb=memory, fmt=fmt.value))


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
    which: Annotated[str, typer.Argument(help="Which schema: graph or search.")] = "graph",
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
