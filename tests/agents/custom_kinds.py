"""Custom node kinds used by the registry tests (reached through the allow-list as ``module:attr``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from collabgraph.agents import NodeContext, NodeOutput


class ShoutConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    times: int = Field(default=1, ge=1)


async def shout(ctx: NodeContext, inputs: dict[str, list[NodeOutput]], config: ShoutConfig) -> NodeOutput:
    """Repeat the latest answer of every read node ``times`` times."""
    answers = [outs[-1].answer or "" for outs in inputs.values()]
    text = " ".join(a.upper() * config.times for a in answers)
    return NodeOutput(node_id=ctx.node_id, kind="custom", texts=[text], answers=[text], answer=text)


shout.config_model = ShoutConfig  # type: ignore[attr-defined]


class Counter:
    """A class-style kind: its ``run`` is a static method; no config model, so the config arrives as a dict."""

    @staticmethod
    async def run(ctx: NodeContext, inputs: dict[str, list[NodeOutput]], config: dict[str, object]) -> NodeOutput:
        return NodeOutput(node_id=ctx.node_id, kind="custom", answer=str(len(inputs)), data={"config": config})


async def broken(ctx: NodeContext, inputs: dict[str, list[NodeOutput]], config: object) -> NodeOutput:
    raise KeyError("missing")


async def wrong_type(ctx: NodeContext, inputs: dict[str, list[NodeOutput]], config: object) -> str:
    return "not a node output"


NOT_A_KIND = 42
