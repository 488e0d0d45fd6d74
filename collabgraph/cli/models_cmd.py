"""``collabgraph models list``: the models of the pool, what they cost and the scores they are calibrated to.

Only the *name* of a model's API-key environment variable is ever shown, never a key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from collabgraph.cli.output import print_json, print_table
from collabgraph.models.pool import ModelPool, ModelSpec, default_pool, load_pool

__all__ = ["list_models", "model_entry"]


def model_entry(spec: ModelSpec) -> dict[str, Any]:
    """One model as JSON-ready values; ``scores`` maps task → published accuracy."""
    return {
        "name": spec.name,
        "litellm_id": spec.litellm_id,
        "provider": spec.provider,
        "family": spec.family,
        "params_b": spec.params_b,
        "active_params_b": spec.active_params_b,
        "price_in": spec.price_in,
        "price_out": spec.price_out,
        "api_base": spec.api_base,
        "api_key_env": spec.api_key_env,
        "offline": spec.offline,
        "scores": {task: score.accuracy for task, score in sorted(spec.scores.items())},
    }


def _params(spec: ModelSpec) -> str:
    if not spec.params_b:
        return "?"
    total = f"{spec.params_b:g}B"
    return total if spec.active_params_b is None else f"{total} ({spec.active_params_b:g}B active)"


def _row(spec: ModelSpec) -> list[str]:
    scores = ", ".join(f"{task} {s.accuracy:.2f}" for task, s in sorted(spec.scores.items()))
    return [
        spec.name,
        spec.provider,
        spec.family or "-",
        _params(spec),
        f"{spec.price_in:g} / {spec.price_out:g}",
        spec.api_key_env or "-",
        scores or "-",
    ]


def list_models(models: Path | None, fmt: str) -> None:
    """Print the pool (the built-in offline models, plus ``models`` when given) as a table or a JSON list."""
    pool: ModelPool = load_pool(models) if models is not None else default_pool()
    specs = list(pool)
    if fmt == "json":
        print_json([model_entry(s) for s in specs])
        return
    print_table(
        ["model", "provider", "family", "params", "$/Mtok in / out", "key env", "published scores"],
        [_row(s) for s in specs],
        title=f"{len(specs)} models",
        right_align=["params", "$/Mtok in / out"],
    )
