"""Pareto fronts of accuracy against a cost, the CSV files they are written to, and the search's PNG plots."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["FrontPoint", "pareto_front", "plot_best_so_far", "plot_front", "write_front_csv"]


class FrontPoint(BaseModel):
    """One evaluated graph as a point: its dev accuracy and costs per query."""

    model_config = ConfigDict(frozen=True)
    number: int
    key: str
    accuracy: float
    flops: float
    usd: float
    tokens: float
    latency_s: float
    description: str = ""

    def cost(self, axis: str) -> float:
        value: float = getattr(self, axis)
        return value


def pareto_front(points: Sequence[FrontPoint], axis: str) -> list[FrontPoint]:
    """The points no other point beats on both accuracy (higher) and ``axis`` (lower), cheapest first. Of points
    equal on both, the first evaluated is kept."""
    ordered = sorted(points, key=lambda p: (p.cost(axis), -p.accuracy, p.number))
    front: list[FrontPoint] = []
    for p in ordered:
        if not front or p.accuracy > front[-1].accuracy:
            front.append(p)
    return front


def write_front_csv(path: Path, front: Sequence[FrontPoint]) -> None:
    """``front`` as CSV, one row per point, with a header."""
    fields = list(FrontPoint.model_fields)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for p in front:
            writer.writerow(p.model_dump())


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only: never a window, works without a display
    import matplotlib.pyplot as plt

    return plt


def plot_best_so_far(path: Path, curve: Sequence[float | None], title: str) -> None:
    """Best feasible dev accuracy after each evaluation, as a PNG (evaluations with nothing feasible yet are gaps)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
    xs = [i + 1 for i, v in enumerate(curve) if v is not None]
    ys = [v for v in curve if v is not None]
    ax.step(xs, ys, where="post", color="tab:blue")
    ax.scatter(xs, ys, s=8, color="tab:blue")
    ax.set_xlabel("evaluations")
    ax.set_ylabel("best dev accuracy within budget")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_front(
    path: Path, points: Sequence[FrontPoint], front: Sequence[FrontPoint], axis: str, limit: float | None, title: str
) -> None:
    """Every feasible graph (grey) and the Pareto front (line) of accuracy against ``axis``, with the budget."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
    ax.scatter([p.cost(axis) for p in points], [p.accuracy for p in points], s=10, color="0.6", label="graphs")
    ax.plot(
        [p.cost(axis) for p in front], [p.accuracy for p in front], "o-", color="tab:red", ms=4, label="Pareto front"
    )
    if limit is not None:
        ax.axvline(limit, color="k", ls="--", lw=0.8, label="budget")
    if axis == "flops":
        from matplotlib.ticker import NullFormatter

        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels on a short log axis overlap
    ax.set_xlabel(
        {"flops": "FLOPs per query", "usd": "USD per query", "latency_s": "latency per query (s)"}.get(axis, axis)
    )
    ax.set_ylabel("dev accuracy")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
