"""Properties of running graphs: random valid graphs (the spec layer's strategies) compile and run on a scripted
model, and their results do not depend on which branch finishes first."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings

from collabgraph.agents.types import NodeContext, NodeOutput
from collabgraph.graphs import GraphSpec, register_kind
from collabgraph.graphs.compile import compile_graph
from collabgraph.graphs.result import GraphExampleResult
from collabgraph.graphs.runtime import run_example
from collabgraph.tasks import get_task
from tests.graphs.custom_kinds import EchoConfig
from tests.graphs.helpers import fixture_pool
from tests.graphs.scripted import ScriptedGateway, ScriptedSandbox
from tests.graphs.strategies import graph_data

TASK = get_task("gsm8k")
EXAMPLE = TASK.examples(limit=1)[0]


async def echo(ctx: NodeContext, inputs: dict[str, list[NodeOutput]], config: EchoConfig) -> NodeOutput:
    """A runnable stand-in for the strategies' ``echo`` kind: the latest answer it reads, ``times`` times."""
    latest = [outs[-1] for outs in inputs.values() if outs]
    answer = next((o.answer for o in reversed(latest) if o.answer is not None), None)
    return NodeOutput(
        node_id=ctx.node_id, kind="custom", texts=[f"{config.prefix}{answer}"] * config.times, answer=answer
    )


register_kind("scripted-echo", echo, config_model=EchoConfig)


def runnable(data: dict[str, Any]) -> dict[str, Any]:
    """A generated graph made runnable on gsm8k: the SWE kinds (which this version cannot run) become generate
    nodes, every check ``pot`` (unit tests and patches need code tasks), ``echo`` the runnable kind above; prompt templates (random text, which the
    agents refuse) and recursion limits (random, often too low) are dropped."""
    nodes = []
    for node in data["nodes"]:
        node = {k: v for k, v in node.items() if k != "prompt"}
        if node["kind"] in ("localize", "patch"):
            keep = ("id", "model", "temperature", "max_tokens", "reads", "join", "description", "samples")
            node = {"kind": "generate", **{k: v for k, v in node.items() if k in keep}}
        elif node["kind"] == "verify":
            node["check"] = "pot"
        elif node["kind"] == "custom":
            node["impl"] = "scripted-echo"
        elif node["kind"] == "spawn" and isinstance(node["child"], dict):
            node["child"] = {"graph": runnable(node["child"]["graph"])}
        nodes.append(node)
    limits = {k: v for k, v in data.get("limits", {}).items() if k != "recursion_limit"}
    return {**data, "nodes": nodes, "limits": limits}


# Sandbox runs report their wall time; the scripted sandbox takes none, so a fixed clock keeps latencies exact.
_STILL_CLOCK = SimpleNamespace(perf_counter=lambda: 0.0)


async def run(spec: GraphSpec, delay_seed: int | None) -> tuple[GraphExampleResult, ScriptedGateway]:
    gateway = ScriptedGateway(delay_seed=delay_seed, latency_s=0.5)
    with (
        mock.patch("collabgraph.agents.programs.time", _STILL_CLOCK),
        mock.patch("collabgraph.agents.verify.time", _STILL_CLOCK),
    ):
        result = await run_example(
            compile_graph(spec, fixture_pool()),
            task=TASK,
            example=EXAMPLE,
            gateway=gateway,
            sandbox=ScriptedSandbox(),
        )
    return result, gateway


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph_data(max_stages=4).map(runnable))
def test_random_graphs_run_and_do_not_depend_on_which_branch_finishes_first(data: dict[str, Any]) -> None:
    spec = GraphSpec.model_validate(data)

    async def check() -> None:
        plain, gateway = await run(spec, None)
        assert plain.error is None, plain.error
        assert plain.final_node is not None
        assert plain.calls == len(gateway.calls) == sum(t.calls for t in plain.nodes.values())
        assert plain.latency_s <= sum(o.latency_s for o in plain.trace) + 1e-9
        keys = {n.id for n in spec.nodes} | {f"{n.id}.child" for n in spec.nodes if n.kind == "spawn"}
        assert {o.node_id for o in plain.trace} <= keys
        for seed in (1, 2):
            shuffled, _ = await run(spec, seed)
            assert shuffled == plain

    asyncio.run(check())
