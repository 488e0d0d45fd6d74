"""``critique``: step-level feedback on a candidate and a verdict, accepted or rejected.

The critic sees the problem and the candidate's solution (template ``prompts/critique.txt``) and ends with
``VERDICT: CORRECT`` or ``VERDICT: INCORRECT`` (read by ``parse_verdict``, which also accepts what real models
write instead). No readable verdict → one retry, then the node fails. The output carries the verdict, the
critique as ``feedback`` and the candidate's answer as ``answer`` (what the verdict is about), so a graph that
stops when the critic accepts ends with the accepted answer.
"""

from __future__ import annotations

from collabgraph.agents.meta import offline_meta
from collabgraph.agents.parsing import parse_verdict
from collabgraph.agents.run import Malformed, NodeRun
from collabgraph.agents.samples import offline_candidates, primary
from collabgraph.agents.templates import user_message
from collabgraph.agents.types import NodeContext, NodeOutput, Verdict
from collabgraph.models.types import Completion

__all__ = ["critique"]


async def critique(
    ctx: NodeContext,
    *,
    model: str,
    candidate: NodeOutput,
    temperature: float = 0.0,
    max_tokens: int | None = None,
    prompt: str | None = None,
) -> NodeOutput:
    """Critique ``candidate``'s answer (its primary sample); see the module docstring."""
    run = NodeRun(ctx, "critique")
    shown = primary(candidate)
    if shown is None:
        return run.failure(f"critique: nothing to critique: candidate {candidate.node_id!r} " + _why(candidate))
    task, example = ctx.task, ctx.example
    messages = user_message("critique", prompt, task, example, candidate=shown.text.strip())

    async def parse(completions: list[Completion]) -> tuple[str, Verdict]:
        text = completions[0].text
        verdict = parse_verdict(text)
        if verdict is None:
            raise Malformed("no verdict line (expected 'VERDICT: CORRECT' or 'VERDICT: INCORRECT')")
        return text, verdict

    async def body() -> NodeOutput:
        meta = offline_meta(task, example, "critique", await offline_candidates(task, example, [shown]))
        text, verdict = await run.ask(
            model=model,
            messages=messages,
            meta=meta,
            parse=parse,
            temperature=temperature,
            max_tokens=max_tokens,
        )
        return run.output(
            texts=[text],
            answers=[None],
            answer=shown.answer,
            verdict=verdict,
            feedback=text,
            data={"candidate": candidate.node_id, "candidate_round": candidate.round, "candidate_sample": shown.index},
        )

    return await run.guarded(body)


def _why(output: NodeOutput) -> str:
    return f"failed: {output.error}" if output.error is not None else "has no text"
