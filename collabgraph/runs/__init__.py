"""Runs: evaluating models and graphs on tasks, the statistics their reports carry, and the run directories they
write (``run_graph_to_dir`` runs a graph into one, resuming what an earlier run of the same command left)."""

from collabgraph.runs.aliases import model_names, override_models, parse_model_sets, used_models
from collabgraph.runs.evaluate import (
    CompletionGateway,
    EvalReport,
    ExampleResult,
    evaluate_model,
    summarise,
)
from collabgraph.runs.graph_run import (
    GraphRun,
    PreparedRun,
    default_run_dir,
    execute_run,
    prepare_run,
    run_graph_to_dir,
    run_identity,
)
from collabgraph.runs.metrics import cluster_ci, maj_at_k, majority, majority_index, pass_at_k, wilson_ci
from collabgraph.runs.report import GraphRunSummary, NodeRow, node_rows, summarize_graph_run
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
    "GraphRun",
    "GraphRunSummary",
    "JsonlWriter",
    "NodeRow",
    "PreparedRun",
    "RunDir",
    "RunDirError",
    "cluster_ci",
    "default_run_dir",
    "evaluate_model",
    "execute_run",
    "maj_at_k",
    "majority",
    "majority_index",
    "model_names",
    "node_rows",
    "override_models",
    "parse_model_sets",
    "pass_at_k",
    "prepare_run",
    "public_model_entry",
    "read_jsonl",
    "repair_tail",
    "run_graph_to_dir",
    "run_identity",
    "run_key",
    "slug",
    "summarise",
    "summarize_graph_run",
    "used_models",
    "wilson_ci",
]
