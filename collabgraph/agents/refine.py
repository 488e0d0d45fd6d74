"""``refine``: revise a candidate given a critique's feedback (template ``prompts/refine.txt``).

The reviser sees the problem, the candidate's solution and the feedback, and writes a complete new solution
in the task's answer format. No answer in it → one retry, then the node fails.

What the reviser reads, for the offline pools: the candidate, and — when the feedback rejected it and
proposes a different answer of its own (a critic that redid the faulty step) — that proposal as a second
candidate, so a simulated reviser can take up a strong critic's correction as a real one would.
"""

from __future__ import annotations

from collabgraph.agents.meta import offline_meta
from collabgraph.agents.run import Malformed, NodeRun
from collabgraph.agents.samples import Sample, offline_candidates, primary
from collabgraph.agents.templates import user_message
from collabgraph.agents.types import NodeContext, NodeOutput
from collabgraph.models.types import Completion

__all__ = ["feedback_text", "refine"]


def feedback_text(feedback: NodeOutput) -> str | None:
    """What a reviser is told: the critique's ``feedback``, else its first text; None when it failed."""
    if feedback.error is not None:
        return None
    if feedback.feedback is not None:
        return feedback.feedback
    return feedback.texts[0] if feedback.texts else None


async def refine(
    ctx: NodeContext,
    *,
    model: str,
    candidate: NodeOutput,
    feedback: NodeOutput,
    temperature: float = 0.0,
    max_tokens: int | None = None,
    prompt: str | None = None,
) -> NodeOutput:
    """Revise ``candidate``'s primary sample given ``feedback``; see the module docstring."""
    run = NodeRun(ctx, "refine")
    shown = primary(candidate)
    notes = feedback_text(feedback)
    if shown is None:
        return run.failure(
            f"refine: candidate {candidate.node_id!r} has nothing to revise ({candidate.error or 'no text'})"
        )
    if notes is None:
        return run.failure(f"refine: feedback {feedback.node_id!r} has no feedback ({feedback.error or 'no text'})")
    task, example = ctx.task, ctx.example
    messages = user_message("refine", prompt, task, example, candidate=shown.text.strip(), feedback=notes.strip())

    async def parse(completions: list[Completion]) -> tuple[str, str]:
        text = completions[0].text
        answer = task.extract(text, example)
        if answer is None:
            raise Malformed("the revised solution states no final answer")
        return text, answer

    read = [shown]
    proposal = task.extract(notes, example) if feedback.verdict == "rejected" else None
    if proposal is not None and (shown.answer is None or not task.same(proposal, shown.answer, example)):
        read.append(Sample(feedback.node_id, 0, notes, proposal))

    async def body() -> NodeOutput:
        meta = offline_meta(task, example, "refine", await offline_candidates(task, example, read))
        text, answer = await run.ask(
            model=model,
            messages=messages,
            meta=meta,
            parse=parse,
            temperature=temperature,
            max_tokens=max_tokens,
        )
        return run.output(
            texts=[text],
            answers=[answer],
            answer=answer,
            data={"candidate": candidate.node_id, "feedback": feedback.node_id, "verdict": feedback.verdict},
        )

    return await run.guarded(body)
