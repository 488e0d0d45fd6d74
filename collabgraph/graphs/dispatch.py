"""How each node of a spec runs: its kind's function in ``collabgraph.agents``, called with the node's config and
its inputs resolved from the run's state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from collabgraph.agents import (
    critique,
    custom_kind,
    fuse,
    generate,
    get_kind,
    join,
    localize,
    patch,
    refine,
    run_custom,
    select,
    spawn,
    verify,
    vote,
)
from collabgraph.agents.types import NodeContext, NodeOutput
from collabgraph.errors import CollabgraphError, ErrorItem, format_loc
from collabgraph.graphs.nodes import (
    CritiqueNode,
    CustomNode,
    FuseNode,
    GenerateNode,
    JoinNode,
    LocalizeNode,
    Node,
    PatchNode,
    RefineNode,
    SelectNode,
    SpawnNode,
    VerifyNode,
    VoteNode,
)

__all__ = ["NodeInputs", "run_kind", "unrunnable"]


@dataclass(frozen=True)
class NodeInputs:
    """A node's inputs, resolved from the state. ``reads``: each read id -> its latest output (a spawn's: its
    latest children's outputs, by branch); ``history``: each read id -> all its outputs, latest last (what custom
    kinds receive); ``roles``: each role field (``target``, ``candidate`` …) -> the most recent output among the
    ids it names, None when none has run."""

    reads: dict[str, list[NodeOutput]] = field(default_factory=dict)
    history: dict[str, list[NodeOutput]] = field(default_factory=dict)
    roles: dict[str, NodeOutput | None] = field(default_factory=dict)

    @property
    def candidates(self) -> list[NodeOutput]:
        """Every read output, in ``reads`` order."""
        return [o for outs in self.reads.values() for o in outs]

    def role(self, name: str) -> NodeOutput:
        """The output behind role field ``name``; raises when none of its nodes has run (validation rules that
        out, so this is a bug, not a user error)."""
        output = self.roles.get(name)
        if output is None:
            raise CollabgraphError(f"no output to read as {name!r}")
        return output


def unrunnable(nodes: Sequence[Node], prefix: tuple[str | int, ...] = ()) -> list[ErrorItem]:
    """The nodes this version cannot run (custom kinds that cannot be resolved), each at its location
    (``nodes[3].kind``)."""
    errors: list[ErrorItem] = []
    for i, node in enumerate(nodes):
        try:
            if isinstance(node, CustomNode):
                custom_kind(node.impl)
            else:
                get_kind(node.kind)
        except CollabgraphError as exc:
            where = "impl" if isinstance(node, CustomNode) else "kind"
            errors.append(ErrorItem(format_loc((*prefix, "nodes", i, where)), str(exc)))
    return errors


def _patch_inputs(node: PatchNode, inputs: NodeInputs) -> tuple[NodeOutput | None, NodeOutput | None]:
    """A patch node's (localization, feedback): its ``feedback`` field's latest verify output when it has one.
    Without it, a ``localization`` that lists the verify node (``[verify, localize]``: the latest of them) serves
    as both: when that latest output is a verify's, it is the feedback and the localization is the latest
    ``localize`` output the node reads."""
    if node.feedback is not None:
        return inputs.roles.get("localization"), inputs.roles.get("feedback")
    latest = inputs.roles.get("localization")
    if latest is None or latest.kind != "verify":
        return latest, None
    located = [o for o in inputs.candidates if o.kind == "localize"]
    return (max(located, key=lambda o: o.round) if located else None), latest


def _model(ctx: NodeContext) -> str:
    if ctx.model is None:
        raise CollabgraphError(f"node {ctx.node_id!r} has no model")
    return ctx.model


async def run_kind(node: Node, ctx: NodeContext, inputs: NodeInputs) -> NodeOutput:
    """Run ``node``'s kind on ``inputs``: the agents' function with the node's config as keyword arguments."""
    if isinstance(node, GenerateNode):
        return await generate(
            ctx,
            model=_model(ctx),
            mode=node.mode,
            samples=node.samples,
            temperature=node.temperature,
            max_tokens=node.max_tokens,
            prompt=node.prompt,
        )
    if isinstance(node, CritiqueNode):
        return await critique(
            ctx,
            model=_model(ctx),
            candidate=inputs.role("target"),
            temperature=node.temperature,
            max_tokens=node.max_tokens,
            prompt=node.prompt,
        )
    if isinstance(node, RefineNode):
        return await refine(
            ctx,
            model=_model(ctx),
            candidate=inputs.role("candidate"),
            feedback=inputs.role("feedback"),
            temperature=node.temperature,
            max_tokens=node.max_tokens,
            prompt=node.prompt,
        )
    if isinstance(node, FuseNode):
        return await fuse(
            ctx,
            model=_model(ctx),
            candidates=inputs.candidates,
            temperature=node.temperature,
            max_tokens=node.max_tokens,
            prompt=node.prompt,
        )
    if isinstance(node, SelectNode):
        return await select(
            ctx,
            candidates=inputs.candidates,
            by=node.by,
            model=ctx.model,
            verifier=inputs.roles.get("verifier"),
            temperature=node.temperature,
            max_tokens=node.max_tokens,
            prompt=node.prompt,
        )
    if isinstance(node, VoteNode):
        return await vote(
            ctx,
            candidates=inputs.candidates,
            method=node.method,
            weights=node.weights,
            require_agreement=node.require_agreement,
        )
    if isinstance(node, VerifyNode):
        return await verify(ctx, check=node.check, target=inputs.role("target"), timeout_s=node.timeout_s)
    if isinstance(node, SpawnNode):
        return await spawn(
            ctx,
            width=node.width,
            mode=node.mode,
            model=ctx.model,
            temperature=node.temperature,
            max_tokens=node.max_tokens,
            prompt=node.prompt,
        )
    if isinstance(node, JoinNode):
        return await join(ctx, children=inputs.candidates, strategy=node.strategy)
    if isinstance(node, CustomNode):
        return await run_custom(ctx, impl=node.impl, inputs=inputs.history, config=node.config)
    if isinstance(node, LocalizeNode):
        return await localize(
            ctx,
            model=_model(ctx),
            top_k=node.top_k,
            granularity=node.granularity,
            temperature=node.temperature,
            max_tokens=node.max_tokens,
            prompt=node.prompt,
        )
    if isinstance(node, PatchNode):
        localization, feedback = _patch_inputs(node, inputs)
        return await patch(
            ctx,
            model=_model(ctx),
            localization=localization,
            samples=node.samples,
            feedback=feedback,
            temperature=node.temperature,
            max_tokens=node.max_tokens,
            prompt=node.prompt,
        )
    get_kind(node.kind)
    raise CollabgraphError(f"node kind {node.kind!r} cannot run")
