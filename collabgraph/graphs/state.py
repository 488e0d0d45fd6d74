"""The LangGraph state of one example's run, its reducers, and how a finished state is read.

Every key of ``GraphState`` has a reducer, because parallel branches write them all, and every reducer orders what
it merges by (node, round, branch) — never by arrival — so the state after each super-step does not depend on which
branch finished first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, TypedDict

from pydantic import BaseModel, ConfigDict

from collabgraph.agents.types import NodeOutput, TraceEntry
from collabgraph.graphs.latency import TimedRun, critical_path
from collabgraph.models.types import Usage

__all__ = [
    "STATE_TYPES",
    "ChildInput",
    "GraphState",
    "RunError",
    "RunRecord",
    "add_counts",
    "first_error",
    "keep_final",
    "merge_outputs",
    "merge_routes",
    "run_latency",
    "state_runs",
    "timed_runs",
]


class RunRecord(BaseModel):
    """One run of one node on one example. ``key`` is the node id (for a spawn's children: the child template's
    id, or ``<spawn>.child`` for an inline subgraph); ``branch`` numbers a spawn's children; ``step`` is the
    LangGraph super-step it ran in; ``next`` is where control went after it (node ids, ``END``, or the child key
    once per child spawned)."""

    model_config = ConfigDict(frozen=True)
    key: str
    round: int
    branch: int | None = None
    step: int
    output: NodeOutput
    next: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """A unique name for the run: ``critic#2`` (round 2), ``search#1.3`` (round 1, branch 3)."""
        return f"{self.key}#{self.round}" + (f".{self.branch}" if self.branch is not None else "")

    @property
    def slot(self) -> tuple[int, int]:
        """(round, branch) with -1 for no branch: the run's place among its node's runs."""
        return self.round, -1 if self.branch is None else self.branch


class RunError(BaseModel):
    """The failure that stopped an example: the step and node run where it happened, and its message."""

    model_config = ConfigDict(frozen=True)
    step: int
    node_id: str
    message: str


def merge_outputs(left: dict[str, list[RunRecord]], right: dict[str, list[RunRecord]]) -> dict[str, list[RunRecord]]:
    """Union of node runs, each node's runs ordered by (round, branch); a run written again replaces the old."""
    merged = dict(left)
    for key, runs in right.items():
        by_slot = {r.slot: r for r in merged.get(key, [])}
        by_slot.update({r.slot: r for r in runs})
        merged[key] = [by_slot[slot] for slot in sorted(by_slot)]
    return merged


def add_counts(left: dict[str, int], right: dict[str, int]) -> dict[str, int]:
    """Counters merged by addition, so the order of parallel writes does not matter; zeros are dropped."""
    merged = dict(left)
    for key, delta in right.items():
        merged[key] = merged.get(key, 0) + delta
    return {k: v for k, v in sorted(merged.items()) if v != 0}


def merge_routes(left: dict[str, tuple[str, ...]], right: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Each node's latest routing decision (a node runs at most once per step, so parallel writes never clash)."""
    return {**left, **right}


def keep_final(left: RunRecord | None, right: RunRecord | None) -> RunRecord | None:
    """The run that ended the graph (the later one, by step then node, should two ever claim it)."""
    runs = [r for r in (left, right) if r is not None]
    return max(runs, key=lambda r: (r.step, r.key, r.slot)) if runs else None


def first_error(left: RunError | None, right: RunError | None) -> RunError | None:
    """The earliest failure (by step, then node), whatever order parallel failures arrive in."""
    errors = [e for e in (left, right) if e is not None]
    return min(errors, key=lambda e: (e.step, e.node_id)) if errors else None


class GraphState(TypedDict, total=False):
    """The LangGraph state of one example's run."""

    outputs: Annotated[dict[str, list[RunRecord]], merge_outputs]
    """Node key -> its runs, ordered by (round, branch)."""
    pending: Annotated[dict[str, int], add_counts]
    """Node key -> triggers received and not yet consumed by a run (what a waiting node waits on)."""
    rounds: Annotated[dict[str, int], add_counts]
    """Loop edge (``edges[k]`` as ``"k"``) -> times taken: the loop round counters."""
    routes: Annotated[dict[str, tuple[str, ...]], merge_routes]
    """Node id -> where its latest run sent control (what its conditional edge follows)."""
    final: Annotated[RunRecord | None, keep_final]
    """The run whose edge to END was taken: it gives the final answer."""
    error: Annotated[RunError | None, first_error]
    """The failure that stopped the example, if any."""


class ChildInput(TypedDict):
    """What ``Send`` hands one child of a spawn: its place, its subtask and the runs its template reads."""

    spawn: str
    round: int
    branch: int
    subtask: str | None
    outputs: dict[str, list[RunRecord]]


STATE_TYPES: tuple[type[BaseModel], ...] = (RunRecord, RunError, NodeOutput, TraceEntry, Usage)
"""The classes a checkpoint of ``GraphState`` holds: the checkpointer's deserialization allow-list."""


def state_runs(state: Mapping[str, Any]) -> list[RunRecord]:
    """Every node run of a state in a deterministic order: by step, then node key, round and branch."""
    runs = [r for rs in state.get("outputs", {}).values() for r in rs]
    return sorted(runs, key=lambda r: (r.step, r.key, r.slot))


def timed_runs(state: Mapping[str, Any]) -> list[TimedRun]:
    """The runs of a state as ``TimedRun``s. A run waits on the runs that sent control to its node since that
    node's previous run (a waiting node consumes every trigger it received meanwhile)."""
    runs = state_runs(state)
    steps: dict[str, list[int]] = {}
    for r in runs:
        steps.setdefault(r.key, []).append(r.step)
    timed: list[TimedRun] = []
    for run in runs:
        since = max((s for s in steps[run.key] if s < run.step), default=-1)
        after = tuple(r.name for r in runs if since <= r.step < run.step and run.key in r.next)
        timed.append(TimedRun(run.name, run.output.latency_s, after))
    return timed


def run_latency(state: Mapping[str, Any]) -> float:
    """Critical-path latency of a run: the finish of the run that ended the graph (of the latest run when none
    did, as when the example failed)."""
    final = state.get("final")
    return critical_path(timed_runs(state), final.name if final is not None else None)
