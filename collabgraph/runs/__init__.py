"""Runs: evaluating models on tasks, the statistics their reports carry, and the run directories they write."""

from collabgraph.runs.evaluate import (
    CompletionGateway,
    EvalReport,
    ExampleResult,
    evaluate_model,
    summarise,
)
from collabgraph.runs.metrics import cluster_ci, maj_at_k, majority, majority_index, pass_at_k, wilson_ci
from collabgraph.runs.rundir import (
    JsonlWriter,
    RunDir,
    RunDirError,
    public_model_entry,
    read_jsonl,
    repair_tail,
    run_key,
    slug,
)

__all__ = [
    "CompletionGateway",
    "EvalReport",
    "ExampleResult",
    "JsonlWriter",
    "RunDir",
    "RunDirError",
    "cluster_ci",
    "evaluate_model",
    "maj_at_k",
    "majority",
    "majority_index",
    "pass_at_k",
    "public_model_entry",
    "read_jsonl",
    "repair_tail",
    "run_key",
    "slug",
    "summarise",
    "wilson_ci",
]
