"""What running a graph on one example gives: the final answer, its correctness, what it cost, how long it took on
the critical path, per-node totals and the full trace."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from collabgraph.agents.types import NodeOutput
from collabgraph.models.types import Usage

__all__ = ["GraphExampleResult", "NodeTotals", "node_totals"]


class NodeTotals(BaseModel):
    """One node's totals over its runs on one example. ``latency_s`` sums its runs' own latencies (time spent in
    the node, whether or not on the critical path); ``errors`` counts its failed runs."""

    model_config = ConfigDict(frozen=True)
    runs: int = 0
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    flops: float = 0.0
    latency_s: float = 0.0
    errors: int = 0

    def add(self, output: NodeOutput) -> NodeTotals:
        """These totals with one more run."""
        return NodeTotals(
            runs=self.runs + 1,
            calls=self.calls + output.calls,
            prompt_tokens=self.prompt_tokens + output.usage.prompt_tokens,
            completion_tokens=self.completion_tokens + output.usage.completion_tokens,
            cost_usd=self.cost_usd + output.usage.cost_usd,
            flops=self.flops + output.usage.flops,
            latency_s=self.latency_s + output.latency_s,
            errors=self.errors + (output.error is not None),
        )


def node_totals(trace: Iterable[NodeOutput], order: Iterable[str] = ()) -> dict[str, NodeTotals]:
    """Totals per node id over ``trace``; ids listed in ``order`` come first, in that order, the rest after."""
    totals: dict[str, NodeTotals] = dict.fromkeys(order, NodeTotals())
    for output in trace:
        totals[output.node_id] = totals.get(output.node_id, NodeTotals()).add(output)
    return {k: v for k, v in totals.items() if v.runs}


class GraphExampleResult(BaseModel):
    """The outcome of a graph on one example.

    ``answer`` is the final answer, given by the node whose edge to END was taken (``final_node``); ``correct`` is
    the task's verdict on it. ``usage`` sums every call of every node (tokens, USD, FLOPs; its ``latency_s`` is the
    time all nodes spent, summed), while ``latency_s`` is the critical path in virtual time: parallel branches
    overlap, sequential steps add. ``nodes`` holds per-node totals in graph order; ``trace`` every node output in
    the order the nodes ran. ``error`` is set when the example failed (a model that failed for good, a node that
    raised, the recursion limit): it then has no answer and is not correct."""

    model_config = ConfigDict(frozen=True)
    example_id: str
    seed: int = 0
    answer: str | None = None
    correct: bool = False
    final_node: str | None = None
    score_detail: str = ""
    usage: Usage = Field(default_factory=Usage)
    calls: int = 0
    latency_s: float = 0.0
    nodes: dict[str, NodeTotals] = Field(default_factory=dict)
    trace: list[NodeOutput] = Field(default_factory=list)
    error: str | None = None
