"""Critical-path latency in virtual time: parallel branches overlap, sequential steps add.

A run starts when the last of the runs that triggered it has finished and takes its own latency; the latency of
a whole run of a graph is the finish of the run that ended it. Timings are computed from what ran (the node runs
and who triggered whom), never from the wall clock, so they are the same however the branches were scheduled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["TimedRun", "Timing", "critical_path", "schedule"]


@dataclass(frozen=True)
class TimedRun:
    """One run of one node: its ``key`` (unique), its own latency, and the keys of the runs that triggered it."""

    key: str
    latency_s: float
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class Timing:
    """When a run started and finished, in seconds of virtual time from the start of the graph."""

    start_s: float
    finish_s: float


def schedule(runs: Iterable[TimedRun]) -> dict[str, Timing]:
    """Start and finish of every run. ``runs`` come in causal order (each run after those in its ``after``);
    a run with no ``after`` starts at 0. Raises ValueError for a negative latency, a duplicate key or an
    ``after`` that names no earlier run."""
    timings: dict[str, Timing] = {}
    for run in runs:
        if run.latency_s < 0:
            raise ValueError(f"run {run.key!r} has a negative latency {run.latency_s}")
        if run.key in timings:
            raise ValueError(f"run {run.key!r} appears twice")
        missing = [k for k in run.after if k not in timings]
        if missing:
            raise ValueError(f"run {run.key!r} waits on {', '.join(map(repr, missing))}, which did not run before it")
        start = max((timings[k].finish_s for k in run.after), default=0.0)
        timings[run.key] = Timing(start, start + run.latency_s)
    return timings


def critical_path(runs: Iterable[TimedRun], end: str | None = None) -> float:
    """The finish time of run ``end`` (the one that ended the graph), or of the latest run when ``end`` is None;
    0 for no runs."""
    timings = schedule(runs)
    if end is not None:
        if end not in timings:
            raise ValueError(f"no run {end!r}")
        return timings[end].finish_s
    return max((t.finish_s for t in timings.values()), default=0.0)
