"""Typed collaboration graphs: spec models, YAML I/O, JSON Schema, validation and control-flow analysis.

Load a graph with ``load``, build one in Python with ``Graph``, check it with ``validate`` / ``check``; the
compiler reads ``analyze(spec)`` and ``recursion_limit(spec)``. ``compile_graph`` turns a spec into a LangGraph
graph; ``run_example`` / ``run_graph`` run it on task examples (``GraphExampleResult``: answer, correctness, usage,
critical-path latency, trace), resumable from a SQLite checkpoint.
"""

from collabgraph.graphs.analysis import ControlFlow, analyze, recursion_limit
from collabgraph.graphs.builder import Graph
from collabgraph.graphs.compile import CompiledGraph, ModelGateway, RunContext, compile_graph, graph_hash
from collabgraph.graphs.conditions import (
    CONDITION_KEYS,
    AllOf,
    AnswersAgree,
    AnyOf,
    Condition,
    NotCondition,
    Passed,
    RoundBelow,
    VerdictIs,
    condition_refs,
)
from collabgraph.graphs.custom import (
    ALLOW_ENV,
    ENTRY_POINT_GROUP,
    CustomKindError,
    allow_modules,
    allowed_module_prefixes,
    kind_config_model,
    register_kind,
    registered_kinds,
    resolve_kind,
)
from collabgraph.graphs.diagnostics import LocatedError
from collabgraph.graphs.ids import END, ref_ids
from collabgraph.graphs.io import dump, load, loads, to_data
from collabgraph.graphs.latency import TimedRun, Timing, critical_path, schedule
from collabgraph.graphs.nodes import (
    AGGREGATOR_KINDS,
    KIND_MODELS,
    CritiqueNode,
    CustomNode,
    FuseNode,
    GenerateNode,
    JoinNode,
    LocalizeNode,
    Node,
    NodeBase,
    PatchNode,
    RefineNode,
    SelectNode,
    SpawnNode,
    SubgraphRef,
    VerifyNode,
    VoteNode,
)
from collabgraph.graphs.result import GraphExampleResult, NodeTotals
from collabgraph.graphs.runtime import open_checkpointer, run_example, run_graph, thread_id
from collabgraph.graphs.schema import SCHEMA_ID, SCHEMA_PATH, graph_json_schema, graph_schema_text
from collabgraph.graphs.spec import GRAPH_SCHEMA, Edge, GraphSpec, Limits
from collabgraph.graphs.state import GraphState, RunError, RunRecord
from collabgraph.graphs.validate import check, validate

__all__ = [
    "AGGREGATOR_KINDS",
    "ALLOW_ENV",
    "CONDITION_KEYS",
    "END",
    "ENTRY_POINT_GROUP",
    "GRAPH_SCHEMA",
    "KIND_MODELS",
    "SCHEMA_ID",
    "SCHEMA_PATH",
    "AllOf",
    "AnswersAgree",
    "AnyOf",
    "CompiledGraph",
    "Condition",
    "ControlFlow",
    "CritiqueNode",
    "CustomKindError",
    "CustomNode",
    "Edge",
    "FuseNode",
    "GenerateNode",
    "Graph",
    "GraphExampleResult",
    "GraphSpec",
    "GraphState",
    "JoinNode",
    "Limits",
    "LocalizeNode",
    "LocatedError",
    "ModelGateway",
    "Node",
    "NodeBase",
    "NodeTotals",
    "NotCondition",
    "Passed",
    "PatchNode",
    "RefineNode",
    "RoundBelow",
    "RunContext",
    "RunError",
    "RunRecord",
    "SelectNode",
    "SpawnNode",
    "SubgraphRef",
    "TimedRun",
    "Timing",
    "VerdictIs",
    "VerifyNode",
    "VoteNode",
    "allow_modules",
    "allowed_module_prefixes",
    "analyze",
    "check",
    "compile_graph",
    "condition_refs",
    "critical_path",
    "dump",
    "graph_hash",
    "graph_json_schema",
    "graph_schema_text",
    "kind_config_model",
    "load",
    "loads",
    "open_checkpointer",
    "recursion_limit",
    "ref_ids",
    "register_kind",
    "registered_kinds",
    "resolve_kind",
    "run_example",
    "run_graph",
    "schedule",
    "thread_id",
    "to_data",
    "validate",
]
