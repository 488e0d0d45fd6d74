"""Runs: evaluating models and graphs on tasks, and the statistics their reports carry."""

from collabgraph.runs.evaluate import (
    CompletionGateway,
    EvalReport,
    ExampleResult,
    evaluate_model,
    offline_meta,
    summarise,
)
from collabgraph.runs.metrics import cluster_ci, maj_at_k, majority, majority_index, pass_at_k, wilson_ci

__all__ = [
    "CompletionGateway",
    "EvalReport",
    "ExampleResult",
    "cluster_ci",
    "evaluate_model",
    "maj_at_k",
    "majority",
    "majority_index",
    "offline_meta",
    "pass_at_k",
    "summarise",
    "wilson_ci",
]
