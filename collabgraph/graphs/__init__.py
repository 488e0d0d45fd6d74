"""Typed collaboration graphs: spec models, YAML I/O, JSON Schema, validation and control-flow analysis.

Load a graph with ``load``, build one in Python with ``Graph``, check it with ``validate`` / ``check``; the
compiler reads ``analyze(spec)`` and ``recursion_limit(spec)``.
"""

from collabgraph.graphs.analysis import ControlFlow, analyze, recursion_limit
from collabgraph.graphs.builder import Graph
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
from collabgraph.graphs.schema import SCHEMA_ID, SCHEMA_PATH, graph_json_schema, graph_schema_text
from collabgraph.graphs.spec import GRAPH_SCHEMA, Edge, GraphSpec, Limits
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
    "Condition",
    "ControlFlow",
    "CritiqueNode",
    "CustomKindError",
    "CustomNode",
    "Edge",
    "FuseNode",
    "GenerateNode",
    "Graph",
    "GraphSpec",
    "JoinNode",
    "Limits",
    "LocalizeNode",
    "LocatedError",
    "Node",
    "NodeBase",
    "NotCondition",
    "Passed",
    "PatchNode",
    "RefineNode",
    "RoundBelow",
    "SelectNode",
    "SpawnNode",
    "SubgraphRef",
    "VerdictIs",
    "VerifyNode",
    "VoteNode",
    "allow_modules",
    "allowed_module_prefixes",
    "analyze",
    "check",
    "condition_refs",
    "dump",
    "graph_json_schema",
    "graph_schema_text",
    "kind_config_model",
    "load",
    "loads",
    "recursion_limit",
    "ref_ids",
    "register_kind",
    "registered_kinds",
    "resolve_kind",
    "to_data",
    "validate",
]
