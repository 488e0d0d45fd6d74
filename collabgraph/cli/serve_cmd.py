"""``collabgraph serve-sim`` and ``collabgraph vllm-serve``: OpenAI-compatible servers and the pool entries
that point collabgraph at them. Output is plain text (a pool-file snippet must paste cleanly)."""

from __future__ import annotations

import asyncio
import os
import shlex
import sys
from pathlib import Path

import yaml

from collabgraph.errors import CollabgraphError
from collabgraph.models.pool import POOL_SCHEMA, ModelPool, ModelSpec, default_pool, load_pool

__all__ = ["run_serve_sim", "run_vllm_serve", "serve_sim_banner"]

_EXAMPLE_MODEL = "replay/Meta-Llama-3_1-70B-Instruct"


def _out(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


def serve_sim_banner(pool: ModelPool, base_url: str, served: list[ModelSpec], options: str) -> str:
    """What ``serve-sim`` prints once it listens: where, what, and a pool file that points collabgraph at it."""
    from collabgraph.models.server import served_pool_entry

    example = pool.get(_EXAMPLE_MODEL) if _EXAMPLE_MODEL in pool else served[0]
    snippet = yaml.safe_dump(
        {"schema": POOL_SCHEMA, "models": {f"serve-sim/{example.name}": served_pool_entry(example, base_url)}},
        sort_keys=False,
    )
    return "\n".join(
        [
            f"serve-sim: {len(served)} offline models (sim/, replay/) at {base_url}  [{options}]",
            f"  list them:  curl {base_url}/models",
            "  requests need the offline metadata in the body: "
            '"collabgraph": {"meta": {task, example_id, answer, answer_format, ...}, "first_sample": 0}',
            "Point collabgraph at it with a pool file (--models FILE); one entry per model, e.g.:",
            "",
            snippet,
            "Press Ctrl-C to stop.",
        ]
    )


def run_serve_sim(
    *,
    host: str,
    port: int,
    latency_scale: float,
    fixed_latency: float,
    fail_rate: float,
    hang_s: float,
    seed: int,
    models: Path | None,
    data_dir: Path | None,
) -> None:
    """Serve the offline pools over the OpenAI HTTP API until Ctrl-C."""
    from collabgraph.models.server import make_app, serve_in_background, served_models

    pool = load_pool(models) if models else default_pool()
    served = served_models(pool)
    try:
        app = make_app(
            pool,
            latency_scale=latency_scale,
            fixed_latency=fixed_latency,
            fail_rate=fail_rate,
            hang_s=hang_s,
            seed=seed,
            data_dir=data_dir,
        )
    except ValueError as exc:
        raise CollabgraphError(f"serve-sim: {exc}") from None
    options = f"latency scale {latency_scale:g}, fixed latency {fixed_latency:g} s, fail rate {fail_rate:g}"
    options += f", hang {hang_s:g} s, seed {seed}" if fail_rate else f", seed {seed}"

    async def serve() -> None:
        try:
            async with serve_in_background(app, host, port) as base_url:
                _out(serve_sim_banner(pool, base_url, served, options))
                await asyncio.Event().wait()
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise CollabgraphError(
                f"serve-sim: cannot listen on {host}:{port}: {reason}; pick another --port (0 picks a free one)"
            ) from None

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        sys.stderr.write("serve-sim: stopped\n")


def run_vllm_serve(
    *, model: str, port: int, host: str, seed: int, dummy_weights: bool, dry_run: bool, extra: list[str]
) -> None:
    """Print the ``vllm serve`` command and the pool entry for it; then, unless ``dry_run``, replace this
    process with the server (vLLM must be installed: the ``collabgraph[vllm]`` extra)."""
    from collabgraph.models.vllm import build_vllm_command, vllm_argv, vllm_pool_yaml

    command = build_vllm_command(model, host=host, port=port, seed=seed, dummy_weights=dummy_weights, extra=extra)
    argv = None if dry_run else vllm_argv(command)
    _out(f"command: {shlex.join(command)}")
    _out("pool entry (save it as a file and pass it with --models FILE):")
    _out("")
    _out(vllm_pool_yaml(model, host, port))
    if argv is None:
        return
    _out(f"starting vLLM ({argv[0]}) …")
    os.execv(argv[0], argv)
