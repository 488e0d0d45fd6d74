"""``GraphSpec``: a whole collaboration graph — model aliases, limits, nodes, control edges — as one pydantic model.

Control flow and data flow are declared apart: ``edges`` say what runs after what (and under which condition);
each node's ``reads`` and role fields say whose outputs it reads. The graph starts at ``entry`` (one node, or a list
of nodes that all start at once) and ends when an edge to ``END`` is taken; the node that edge leaves gives the
final answer.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from collabgraph.graphs.conditions import Condition
from collabgraph.graphs.ids import AliasName, EntryRef, NodeId, ref_ids
from collabgraph.graphs.nodes import ModelName, Node, SpawnNode, SubgraphRef

__all__ = ["GRAPH_SCHEMA", "Edge", "GraphSpec", "Limits"]

GRAPH_SCHEMA = "collabgraph.graph/v1"

_CONFIG = ConfigDict(
    extra="forbid", frozen=True, validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
)


class Limits(BaseModel):
    """Explicit bounds on one run of the graph on one example."""

    model_config = _CONFIG
    max_rounds: int = Field(
        default=3,
        ge=1,
        description="round budget of every loop edge that sets no max_rounds of its own, and the cap on those that do",
    )
    max_width: int = Field(
        default=16, ge=1, description="the most samples, spawn width or parallel branches a single node may open"
    )
    max_concurrency: int = Field(
        default=16, ge=1, description="node runs in flight at once (LangGraph max_concurrency)"
    )
    recursion_limit: int | None = Field(
        default=None, ge=1, description="LangGraph super-step limit; derived from the graph when absent"
    )


class Edge(BaseModel):
    """A control edge. Without ``when`` it always fires; a node with several such edges runs them in parallel.
    A node whose edges carry ``when`` is a router: its conditional edges are tried in order, the first that holds
    (and whose loop budget is not spent) is taken, else its one edge without ``when`` (the fallback)."""

    model_config = _CONFIG
    from_: NodeId = Field(alias="from")
    to: NodeId = Field(description="a node id, or END to finish the graph")
    when: Condition | None = None
    max_rounds: int | None = Field(
        default=None, ge=1, description="on a loop edge: how many times it may be taken per example"
    )


class GraphSpec(BaseModel):
    """A collaboration graph, file schema ``collabgraph.graph/v1``."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        title="collabgraph graph",
    )
    schema_: Literal["collabgraph.graph/v1"] = Field(alias="schema")
    name: str = Field(min_length=1)
    description: str = ""
    models: dict[AliasName, ModelName] = Field(
        default_factory=dict, description="model aliases used by nodes: alias -> pool model name"
    )
    limits: Limits = Field(default_factory=Limits)
    entry: EntryRef
    nodes: Annotated[list[Node], Field(min_length=1)]
    edges: list[Edge] = Field(default_factory=list)

    def node(self, node_id: str) -> Node:
        """The node with id ``node_id`` (KeyError when there is none)."""
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)

    @property
    def entries(self) -> tuple[str, ...]:
        """The ids of the nodes the graph starts at, in the order ``entry`` lists them (one for a single entry)."""
        return tuple(ref_ids(self.entry))

    @property
    def node_ids(self) -> list[str]:
        """Node ids in declaration order."""
        return [n.id for n in self.nodes]

    def model_for(self, name: str) -> str:
        """The pool model name behind a node's ``model``: the alias's target, or the name itself."""
        return self.models.get(name, name)


SubgraphRef.model_rebuild()
SpawnNode.model_rebuild()
GraphSpec.model_rebuild()
