"""Node kinds as typed configs: one pydantic model per ``kind``, joined in the ``Node`` discriminated union.

These are specs only; what a node does at run time lives in ``collabgraph.agents``. Every node has an ``id``, the
ids it ``reads`` (data flow, apart from control edges) and a ``description``. Role fields (``target``,
``candidate``, ``feedback``, ``verifier``, ``localization``) are inputs too: a node id, or a list meaning the most
recent output among those nodes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from collabgraph.graphs.ids import IMPL_PATTERN, NodeId, RoleRef, ref_ids

if TYPE_CHECKING:
    from collabgraph.graphs.spec import GraphSpec

__all__ = [
    "AGGREGATOR_KINDS",
    "KIND_MODELS",
    "CritiqueNode",
    "CustomNode",
    "FuseNode",
    "GenerateNode",
    "JoinNode",
    "LocalizeNode",
    "Node",
    "NodeBase",
    "PatchNode",
    "RefineNode",
    "SelectNode",
    "SpawnNode",
    "SubgraphRef",
    "VerifyNode",
    "VoteNode",
]

_CONFIG = ConfigDict(
    extra="forbid", frozen=True, validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
)

Loc = tuple[str | int, ...]

ModelName = Annotated[
    str, Field(min_length=1, description="a model alias from `models`, or a pool model name such as sim/llama-3.1-8b")
]
Reads = Annotated[list[NodeId], Field(min_length=1, description="the candidates this node combines")]


class NodeBase(BaseModel):
    """Fields every node has."""

    model_config = _CONFIG
    AGGREGATES: ClassVar[bool] = False
    """Kinds that combine several inputs by nature (vote, fuse, select, join): they always wait for every
    incoming branch, so a fan-in on them needs no ``join`` declaration."""

    id: NodeId
    reads: list[NodeId] = Field(default_factory=list, description="ids of the nodes whose outputs this node reads")
    description: str = ""

    def role_refs(self) -> dict[str, str | list[str]]:
        """The role fields this kind reads besides ``reads`` (``target``, ``candidate`` …), by field name."""
        return {}

    def optional_inputs(self) -> frozenset[str]:
        """Role fields whose input may not have run yet when this node runs (the node then does without it), such
        as a repair loop's feedback: they need a path to this node, not one in the first round."""
        return frozenset()

    def inputs(self) -> list[tuple[Loc, list[str]]]:
        """Every input as (location within the node, node ids). A list of ids is one input: the latest among them."""
        out: list[tuple[Loc, list[str]]] = [(("reads", j), [r]) for j, r in enumerate(self.reads)]
        out += [((name,), ref_ids(ref)) for name, ref in self.role_refs().items()]
        return out

    @property
    def model_name(self) -> str | None:
        """The model alias or pool name this node calls, if any."""
        value = getattr(self, "model", None)
        return value if isinstance(value, str) else None


class _Llm(BaseModel):
    model_config = _CONFIG
    model: ModelName
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    max_tokens: int | None = Field(default=None, gt=0)
    prompt: str | None = Field(default=None, description="replaces the kind's default prompt template")


class _OptionalLlm(BaseModel):
    model_config = _CONFIG
    model: ModelName | None = None
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    max_tokens: int | None = Field(default=None, gt=0)
    prompt: str | None = Field(default=None, description="replaces the kind's default prompt template")


class _Joins(BaseModel):
    model_config = _CONFIG
    join: Literal["all"] | None = Field(
        default=None,
        description="how a fan-in joins: 'all' waits for every incoming branch and reads every input once. "
        "Required when this node is reached from parallel branches or reads outputs of parallel nodes.",
    )


class GenerateNode(_Joins, _Llm, NodeBase):
    """Answer the task: chain-of-thought (``cot``) or program-of-thought (``pot``), ``samples`` times."""

    kind: Literal["generate"]
    mode: Literal["cot", "pot"] = "cot"
    samples: int = Field(default=1, ge=1)


class CritiqueNode(_Joins, _Llm, NodeBase):
    """Step-level feedback and a verdict (accepted / rejected) on the candidate of ``target``."""

    kind: Literal["critique"]
    target: RoleRef

    def role_refs(self) -> dict[str, str | list[str]]:
        return {"target": self.target}


class RefineNode(_Joins, _Llm, NodeBase):
    """Revise the ``candidate`` given the ``feedback`` of a critique."""

    kind: Literal["refine"]
    candidate: RoleRef
    feedback: RoleRef

    def role_refs(self) -> dict[str, str | list[str]]:
        return {"candidate": self.candidate, "feedback": self.feedback}


class FuseNode(_Llm, NodeBase):
    """Read several candidates and write one answer (Agent-REINFORCE's fuser)."""

    AGGREGATES: ClassVar[bool] = True
    kind: Literal["fuse"]
    reads: Reads


class SelectNode(_OptionalLlm, NodeBase):
    """Pick one candidate of ``reads``: an LLM judge (``by: judge``, needs ``model``) or the best score of a
    verify node (``by: verifier``, needs ``verifier``, calls no model)."""

    AGGREGATES: ClassVar[bool] = True
    kind: Literal["select"]
    reads: Reads
    by: Literal["judge", "verifier"] = "judge"
    verifier: RoleRef | None = None

    def role_refs(self) -> dict[str, str | list[str]]:
        return {"verifier": self.verifier} if self.verifier is not None else {}


class VoteNode(NodeBase):
    """Vote over the answers extracted from ``reads`` (every sample of every node); calls no model."""

    AGGREGATES: ClassVar[bool] = True
    kind: Literal["vote"]
    reads: Reads
    method: Literal["majority", "weighted"] = "majority"
    weights: dict[NodeId, Annotated[float, Field(gt=0.0)]] = Field(
        default_factory=dict, description="with method: weighted, the weight of each read node's answers (default 1)"
    )
    require_agreement: bool = Field(
        default=False,
        description="drop answers that no candidate from a different read node gives (CoT checked against PoT)",
    )


class VerifyNode(_Joins, NodeBase):
    """Execute a check on the candidates of ``target`` in the sandbox; calls no model."""

    kind: Literal["verify"]
    check: Literal["unit_tests", "pot", "patch"]
    target: RoleRef
    timeout_s: float = Field(default=10.0, gt=0.0)

    def role_refs(self) -> dict[str, str | list[str]]:
        return {"target": self.target}


class SubgraphRef(BaseModel):
    """A child given as a whole graph, inlined; it may use the parent's model aliases."""

    model_config = _CONFIG
    graph: GraphSpec


def _child_tag(value: Any) -> str:
    return "ref" if isinstance(value, str) else "subgraph"


Child = Annotated[
    Annotated[NodeId, Tag("ref")] | Annotated[SubgraphRef, Tag("subgraph")],
    Discriminator(_child_tag),
    Field(description="the id of a template node (a node with no edges of its own), or {graph: <inline graph>}"),
]


class SpawnNode(_Joins, _OptionalLlm, NodeBase):
    """Fan out ``width`` branches of ``child``: copies of the same input (``mode: replicas``) or subtasks an LLM
    plans (``mode: planned``, needs ``model``). Its one out-edge leads to a join node that reads it; the join
    sees only each child's final result."""

    kind: Literal["spawn"]
    mode: Literal["replicas", "planned"] = "replicas"
    width: int = Field(ge=1)
    child: Child


class JoinNode(NodeBase):
    """Collect parallel branches (a spawn's children, or parallel nodes it reads) with a ``strategy``: ``all``
    (every output), ``first`` (the first success in branch order), ``vote`` (majority over their answers) or
    ``results_only`` (only each branch's final answer, without its trace)."""

    AGGREGATES: ClassVar[bool] = True
    kind: Literal["join"]
    reads: Reads
    strategy: Literal["all", "first", "vote", "results_only"] = "all"


class LocalizeNode(_Joins, _Llm, NodeBase):
    """SWE: rank the files or functions most likely to hold the bug described by the issue."""

    kind: Literal["localize"]
    top_k: int = Field(default=5, ge=1, le=100)
    granularity: Literal["file", "function"] = "function"


class PatchNode(_Joins, _Llm, NodeBase):
    """SWE: write ``samples`` unified diffs for the issue, given an optional ``localization``; in a repair loop,
    ``feedback`` names the verify node whose diff and test output the next attempt reads (none on the first)."""

    kind: Literal["patch"]
    localization: RoleRef | None = None
    feedback: RoleRef | None = None
    samples: int = Field(default=1, ge=1)

    def role_refs(self) -> dict[str, str | list[str]]:
        refs: dict[str, str | list[str]] = {}
        if self.localization is not None:
            refs["localization"] = self.localization
        if self.feedback is not None:
            refs["feedback"] = self.feedback
        return refs

    def optional_inputs(self) -> frozenset[str]:
        return frozenset({"feedback"})


class CustomNode(_Joins, _OptionalLlm, NodeBase):
    """A user-defined kind: ``impl`` is ``module:attr`` (module allow-listed) or a registered / entry-point name.
    ``config`` is checked against the kind's own ``config_model`` when it has one."""

    kind: Literal["custom"]
    impl: str = Field(
        pattern=IMPL_PATTERN,
        description="'package.module:attr' or the name of a kind registered in-process or as a "
        "'collabgraph.kinds' entry point",
    )
    config: dict[str, Any] = Field(default_factory=dict)


Node = Annotated[
    GenerateNode
    | CritiqueNode
    | RefineNode
    | FuseNode
    | SelectNode
    | VoteNode
    | VerifyNode
    | SpawnNode
    | JoinNode
    | LocalizeNode
    | PatchNode
    | CustomNode,
    Field(discriminator="kind"),
]

KIND_MODELS: dict[str, type[NodeBase]] = {
    "generate": GenerateNode,
    "critique": CritiqueNode,
    "refine": RefineNode,
    "fuse": FuseNode,
    "select": SelectNode,
    "vote": VoteNode,
    "verify": VerifyNode,
    "spawn": SpawnNode,
    "join": JoinNode,
    "localize": LocalizeNode,
    "patch": PatchNode,
    "custom": CustomNode,
}
"""Each ``kind`` with its config model."""

AGGREGATOR_KINDS = frozenset(k for k, cls in KIND_MODELS.items() if cls.AGGREGATES)
