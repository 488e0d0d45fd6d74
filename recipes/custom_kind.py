"""A custom node kind, defined here and used in a graph: a confidence gate for a model cascade.

A small model answers five times. The ``confidence_gate`` kind (registered below, no change to collabgraph
needed) votes over those answers and accepts the winner when enough samples agree; otherwise the question is
escalated to a large model. Easy questions stay cheap, hard ones get the strong model (a FrugalGPT-style cascade).

A custom kind is an async function ``run(ctx, inputs, config) -> NodeOutput``: ``inputs`` maps each node it reads
to that node's outputs (latest last), ``config`` is the node's ``config`` validated by ``config_model``. Its
``verdict`` is what a ``{verdict: …, of: gate}`` condition reads.

    python recipes/custom_kind.py --task gsm8k --limit 20
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from collabgraph.agents import NodeContext, NodeOutput, register_kind
from collabgraph.graphs import END, Graph, GraphSpec, VerdictIs
from collabgraph.runs import majority

KIND = "confidence_gate"


class GateConfig(BaseModel):
    """The gate's settings, checked when the graph is validated (a typo is an error at ``nodes[1].config``)."""

    model_config = ConfigDict(extra="forbid")
    min_agreement: float = Field(default=0.8, gt=0.0, le=1.0, description="share of samples that must agree")


@register_kind(KIND, config_model=GateConfig)
async def confidence_gate(ctx: NodeContext, inputs: dict[str, list[NodeOutput]], config: GateConfig) -> NodeOutput:
    """Majority answer over the latest samples of every node read; accepted when its share reaches the threshold."""
    answers = [a for outputs in inputs.values() if outputs for a in outputs[-1].answers]
    found = [a for a in answers if a is not None]

    def same(a: str, b: str) -> bool:
        return ctx.task.same(a, b, ctx.example)

    winner = majority(found, same)
    share = sum(same(a, winner) for a in found) / len(answers) if winner is not None and answers else 0.0
    return NodeOutput(
        node_id=ctx.node_id,
        kind="custom",
        round=ctx.round,
        answers=[winner],
        answer=winner,
        verdict="accepted" if share >= config.min_agreement else "rejected",
        feedback=f"{share:.0%} of {len(answers)} samples agree on {winner!r}",
        data={"agreement": share},
    )


def build(small: str = "sim/llama-3.2-3b", large: str = "sim/llama-3.1-70b", min_agreement: float = 0.8) -> GraphSpec:
    """Five samples of ``small``, gated; below ``min_agreement`` the question goes to ``large``."""
    g = Graph("cascade", "A small model's samples pass a confidence gate; unsure questions escalate to a large model.")
    g.model("small", small).model("large", large)
    draft = g.generate("draft", model="small", samples=5, temperature=0.7)
    gate = g.custom("gate", impl=KIND, reads=[draft], config={"min_agreement": min_agreement})
    escalate = g.generate("escalate", model="large")
    g.edge(draft, gate)
    g.edge(gate, escalate, when=VerdictIs(verdict="rejected", of=gate))
    g.edge(gate, END)
    g.exit(escalate)
    return g.build()


if __name__ == "__main__":
    from collabgraph.cli.run_cmd import run_recipe

    run_recipe(build(), task="gsm8k")
