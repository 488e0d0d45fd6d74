"""Calls, retries and accounting: the cache over the real gateway, the one retry of a malformed output, usage
and critical-path latency summed over a node's calls."""

from __future__ import annotations

from pathlib import Path

from collabgraph.agents import critique
from collabgraph.models import CallCache, Gateway, default_pool
from collabgraph.models.types import Usage
from collabgraph.tasks import GSM8KTask
from tests.agents.helpers import GatewayCall, MakeCtx, ScriptedCall, output


async def test_a_rerun_is_served_by_the_cache(gsm8k: GSM8KTask, tmp_path: Path, make_ctx: MakeCtx) -> None:
    example = gsm8k.examples(limit=1)[0]
    gateway = Gateway(pool=default_pool(), cache=CallCache(tmp_path / "calls.sqlite"))
    outs = []
    for _ in range(2):
        ctx = make_ctx("c", gsm8k, example, call=GatewayCall(gateway))
        outs.append(await critique(ctx, model="sim/llama-3.1-8b", candidate=output("a", [example.answer])))
    assert [o.trace[0].cached for o in outs] == [0, 1]
    assert outs[0].verdict == outs[1].verdict and outs[0].usage == outs[1].usage


async def test_a_malformed_output_is_retried_once_with_new_samples(gsm8k: GSM8KTask, make_ctx: MakeCtx) -> None:
    example = gsm8k.examples(limit=1)[0]
    script = ScriptedCall(["Looks fine to me.", "Step 1: ok.\nVERDICT: CORRECT"], latency_s=0.25)
    ctx = make_ctx("critic", gsm8k, example, call=script)
    out = await critique(ctx, model="m", candidate=output("a", [example.answer]), temperature=0.2)
    assert out.error is None and out.verdict == "accepted"
    assert [c.temperature for c in script.seen] == [0.2, 0.7]
    assert out.calls == 2 and [e.texts[0] for e in out.trace] == list(script.script)
    # Sequential calls: their latencies add, and so does what they cost.
    assert out.latency_s == 0.5 == out.usage.latency_s
    assert out.usage == Usage(prompt_tokens=20, completion_tokens=10, cost_usd=0.002, flops=2.0, latency_s=0.5)


async def test_a_second_malformed_output_fails_the_node_with_its_trace(gsm8k: GSM8KTask, make_ctx: MakeCtx) -> None:
    example = gsm8k.examples(limit=1)[0]
    script = ScriptedCall(["Looks fine to me.", "Probably right."])
    out = await critique(make_ctx("critic", gsm8k, example, call=script), model="m", candidate=output("a", ["1"]))
    assert out.error == (
        "critique: malformed model output after a retry: no verdict line "
        "(expected 'VERDICT: CORRECT' or 'VERDICT: INCORRECT')"
    )
    assert out.verdict is None and out.calls == 2 and len(out.trace) == 2
    assert out.round == 1 and out.node_id == "critic" and out.kind == "critique"
