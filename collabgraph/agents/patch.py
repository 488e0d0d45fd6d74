"""``patch``: write a unified diff that fixes the bug (template ``prompts/patch.txt``), the second step of the
SWE repair pipeline (localize → patch → verify with check ``patch``).

The patcher reads the issue and repository (the task's prompt), the ranked locations of a ``localize`` node
when one is given, and — in the repair loop — a previous ``verify`` node's output as ``feedback``: the diff it
checked and the test output it recorded (``prompts/patch_feedback.txt``). ``samples`` are one request with
``n=samples``; each sample's answer is the diff the task extracts. No diff in any sample → one retry, then
the node fails.

For the offline pools: the top location it was given (``localized``) and, after feedback, how many failed
attempts it has read (``attempt``: this node's round − 1).
"""

from __future__ import annotations

from typing import Any

from collabgraph.agents.meta import offline_meta
from collabgraph.agents.run import Malformed, NodeRun
from collabgraph.agents.templates import default_template, render, user_message
from collabgraph.agents.types import NodeContext, NodeOutput
from collabgraph.errors import CollabgraphError
from collabgraph.models.types import Completion

__all__ = ["feedback_section", "localization_text", "patch"]


def localization_text(localization: NodeOutput | None) -> str:
    """The ranked locations a patcher is shown, one per line; a note when there are none."""
    if localization is None or localization.error is not None:
        return "(no localization: find the bug yourself)"
    locations = localization.data.get("locations") or ([localization.answer] if localization.answer else [])
    return "\n".join(f"{i}. {loc}" for i, loc in enumerate(locations, 1)) or "(no localization: find the bug yourself)"


def feedback_section(feedback: NodeOutput | None) -> str:
    """What the patcher is told of its previous attempt: empty on a first attempt or after a passing one."""
    if feedback is None or feedback.error is not None or feedback.passed or feedback.feedback is None:
        return ""
    previous = feedback.answer or "(no diff)\n"
    return render("patch_feedback", default_template("patch_feedback"), candidate=previous, feedback=feedback.feedback)


async def patch(
    ctx: NodeContext,
    *,
    model: str,
    localization: NodeOutput | None = None,
    samples: int = 1,
    feedback: NodeOutput | None = None,
    temperature: float = 0.0,
    max_tokens: int | None = None,
    prompt: str | None = None,
) -> NodeOutput:
    """Write ``samples`` candidate diffs in one request; see the module docstring."""
    if samples < 1:
        raise CollabgraphError(f"node {ctx.node_id!r}: samples must be at least 1, got {samples}")
    run = NodeRun(ctx, "patch")
    task, example = ctx.task, ctx.example
    notes = feedback_section(feedback)
    messages = user_message(
        "patch", prompt, task, example, localization=localization_text(localization), feedback=notes
    )

    async def parse(completions: list[Completion]) -> tuple[list[str], list[str | None]]:
        texts = [c.text for c in completions]
        answers = [task.extract(t, example) for t in texts]
        if all(a is None for a in answers):
            raise Malformed("no sample holds a unified diff")
        return texts, answers

    async def body() -> NodeOutput:
        extra: dict[str, Any] = {}
        if localization is not None and localization.error is None and localization.answer:
            extra["localized"] = localization.answer
        if notes:
            extra["attempt"] = max(ctx.round - 1, 1)
        meta = offline_meta(task, example, "patch", extra=extra)
        texts, answers = await run.ask(
            model=model,
            messages=messages,
            meta=meta,
            parse=parse,
            n=samples,
            temperature=temperature,
            max_tokens=max_tokens,
        )
        answer = next((a for a in answers if a is not None), None)
        return run.output(texts=texts, answers=answers, answer=answer, data={"attempt": extra.get("attempt", 0)})

    return await run.guarded(body)
