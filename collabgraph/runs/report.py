"""The summary of a graph run: accuracy with its 95 % CI, what an example cost on average, and a per-node table.

Means are per example over every example of the run, failed ones included: a failed example still paid for the
calls it made, and leaving it out would make a graph that fails often look cheap. Accuracy counts a failed
example as incorrect.
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import fmean
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from collabgraph.graphs import CustomNode, GraphSpec
from collabgraph.graphs.result import GraphExampleResult
from collabgraph.runs.metrics import wilson_ci

__all__ = ["MAX_ERROR_EXAMPLES", "GraphRunSummary", "NodeRow", "node_rows", "summarize_graph_run"]

MAX_ERROR_EXAMPLES = 5
"""How many error messages a summary keeps verbatim (``errors`` counts them all)."""


class NodeRow(BaseModel):
    """One node of the per-node table, as means per example over the run.

    ``latency_share`` is the node's own time (all its runs on an example, summed) as a fraction of the
    example's critical-path latency, over the run (Σ node time / Σ critical path). On a sequential graph the
    shares add up to the whole path; nodes on parallel branches overlap, so their shares can add up to more, and
    a node off the critical path still shows the time it took."""

    model_config = ConfigDict(frozen=True)
    node: str
    kind: str
    model: str | None = None
    runs: float = 0.0
    calls: float = 0.0
    tokens: float = 0.0
    cost_usd: float = 0.0
    flops: float = 0.0
    latency_s: float = 0.0
    latency_share: float = 0.0
    errors: int = 0


class GraphRunSummary(BaseModel):
    """What ``collabgraph run`` reports, and what ``summary.json`` holds."""

    model_config = ConfigDict(frozen=True)
    graph: str
    graph_hash: str
    task: str
    split: str
    seed: int
    limit: int | None
    n: int
    accuracy: float
    ci95: tuple[float, float]
    mean_cost_usd: float = 0.0
    mean_tokens: float = 0.0
    mean_prompt_tokens: float = 0.0
    mean_completion_tokens: float = 0.0
    mean_flops: float = 0.0
    mean_latency_s: float = 0.0
    mean_calls: float = 0.0
    errors: int = 0
    error_examples: list[str] = Field(default_factory=list)
    new_examples: int = 0
    resumed: bool = False
    run_dir: str = ""
    models: dict[str, str] = Field(default_factory=dict, description="the graph's model aliases as run")
    nodes: list[NodeRow] = Field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        return self.model_dump(mode="json")


def _node_meta(spec: GraphSpec, results: Sequence[GraphExampleResult]) -> dict[str, tuple[str, str | None]]:
    """(kind, model) per node key: from the spec where the key is a node id, else (an inline child graph's
    nodes) from what its outputs recorded."""
    meta: dict[str, tuple[str, str | None]] = {}
    for node in spec.nodes:
        name = node.model_name
        kind = f"custom:{node.impl}" if isinstance(node, CustomNode) else node.kind
        meta[node.id] = (kind, spec.model_for(name) if name is not None else None)
    for result in results:
        for output in result.trace:
            if output.node_id not in meta:
                models = {e.model for e in output.trace if e.model}
                meta[output.node_id] = (output.kind, ", ".join(sorted(models)) or None)
    return meta


def node_rows(spec: GraphSpec, results: Sequence[GraphExampleResult]) -> list[NodeRow]:
    """The per-node table over ``results``: graph order first, then nodes only the runs know (inline children);
    nodes that never ran are left out."""
    n = len(results)
    if n == 0:
        return []
    meta = _node_meta(spec, results)
    order = [*spec.node_ids, *(k for r in results for k in r.nodes if k not in spec.node_ids)]
    path = sum(r.latency_s for r in results)
    rows = []
    for key in dict.fromkeys(order):
        totals = [r.nodes[key] for r in results if key in r.nodes]
        if not totals:
            continue
        kind, model = meta.get(key, ("?", None))
        spent = sum(t.latency_s for t in totals)
        rows.append(
            NodeRow(
                node=key,
                kind=kind,
                model=model,
                runs=sum(t.runs for t in totals) / n,
                calls=sum(t.calls for t in totals) / n,
                tokens=sum(t.prompt_tokens + t.completion_tokens for t in totals) / n,
                cost_usd=sum(t.cost_usd for t in totals) / n,
                flops=sum(t.flops for t in totals) / n,
                latency_s=spent / n,
                latency_share=spent / path if path > 0 else 0.0,
                errors=sum(t.errors for t in totals),
            )
        )
    return rows


def summarize_graph_run(
    spec: GraphSpec,
    results: Sequence[GraphExampleResult],
    *,
    graph_hash: str,
    task: str,
    split: str,
    seed: int,
    limit: int | None,
    new_examples: int = 0,
    resumed: bool = False,
    run_dir: str = "",
) -> GraphRunSummary:
    """Aggregate per-example results (see the module docstring for what the means cover)."""
    n = len(results)
    correct = sum(r.correct for r in results)
    failed = [r for r in results if r.error is not None]

    def mean(values: Sequence[float]) -> float:
        return fmean(values) if values else 0.0

    return GraphRunSummary(
        graph=spec.name,
        graph_hash=graph_hash,
        task=task,
        split=split,
        seed=seed,
        limit=limit,
        n=n,
        accuracy=correct / n if n else 0.0,
        ci95=wilson_ci(correct, n),
        mean_cost_usd=mean([r.usage.cost_usd for r in results]),
        mean_tokens=mean([r.usage.prompt_tokens + r.usage.completion_tokens for r in results]),
        mean_prompt_tokens=mean([r.usage.prompt_tokens for r in results]),
        mean_completion_tokens=mean([r.usage.completion_tokens for r in results]),
        mean_flops=mean([r.usage.flops for r in results]),
        mean_latency_s=mean([r.latency_s for r in results]),
        mean_calls=mean([r.calls for r in results]),
        errors=len(failed),
        error_examples=[f"{r.example_id}: {r.error}" for r in failed[:MAX_ERROR_EXAMPLES]],
        new_examples=new_examples,
        resumed=resumed,
        run_dir=run_dir,
        models=dict(spec.models),
        nodes=node_rows(spec, results),
    )
