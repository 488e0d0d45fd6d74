"""``generate``: answer the task by chain of thought (``cot``) or program of thought (``pot``).

- ``cot`` sends the task's own prompt (or the node's ``prompt`` template) and extracts each sample's answer.
- ``pot`` asks for a Python program that prints the answer (template ``prompts/pot.txt``), runs each sample's
  program in the sandbox, and states what it printed in the task's answer format, so every text ends with an
  answer the task extracts and scores like any other.

``samples`` are one request with ``n=samples``. A child of a planned spawn (``ctx.subtask`` set) gets its
subtask appended to the prompt (``prompts/subtask.txt``); ``solve_subtask`` is that run. A call in which no
sample states an answer is retried once, then the node fails.
"""

from __future__ import annotations

from typing import Literal

from collabgraph.agents.meta import offline_meta, pot_meta
from collabgraph.agents.programs import run_programs
from collabgraph.agents.run import Malformed, NodeRun
from collabgraph.agents.templates import default_template, format_instructions, question_text, render
from collabgraph.agents.types import NodeContext, NodeOutput
from collabgraph.errors import CollabgraphError
from collabgraph.models.types import Completion
from collabgraph.tasks.types import Message

__all__ = ["GenerateMode", "generate", "generate_messages", "solve_subtask"]

GenerateMode = Literal["cot", "pot"]


def generate_messages(ctx: NodeContext, mode: GenerateMode = "cot", prompt: str | None = None) -> list[Message]:
    """The messages a ``generate`` node sends: the task's prompt (``cot``), the PoT template (``pot``), or the
    node's own ``prompt`` template; the subtask of a planned child is appended to the last message."""
    task, example = ctx.task, ctx.example
    if mode == "pot" and example.answer_format == "code":
        raise CollabgraphError(
            f"node {ctx.node_id!r}: mode 'pot' asks for a program that prints the answer, but task "
            f"{task.name!r} already answers with code; use mode 'cot'"
        )
    subtask = ctx.subtask or ""
    if prompt is None and mode == "cot":
        messages = list(task.prompt(example))
    else:
        kind = "pot" if mode == "pot" else "generate"
        template = prompt if prompt is not None else default_template("pot")
        question = question_text(task, example)
        content = render(
            kind,
            template,
            question=question,
            task_prompt=question,
            format_instructions=format_instructions(example),
            subtask=subtask,
        )
        messages = [Message(role="user", content=content)]
    if subtask and (prompt is None or "{subtask}" not in prompt):
        last = messages[-1]
        extra = render("subtask", default_template("subtask"), subtask=subtask)
        messages[-1] = Message(role=last.role, content=last.content + extra.rstrip("\n"))
    return messages


async def generate(
    ctx: NodeContext,
    *,
    model: str,
    mode: GenerateMode = "cot",
    samples: int = 1,
    temperature: float = 0.0,
    max_tokens: int | None = None,
    prompt: str | None = None,
) -> NodeOutput:
    """Answer the task ``samples`` times in one request; see the module docstring."""
    if samples < 1:
        raise CollabgraphError(f"node {ctx.node_id!r}: samples must be at least 1, got {samples}")
    run = NodeRun(ctx, "generate")
    messages = generate_messages(ctx, mode, prompt)
    task, example = ctx.task, ctx.example

    async def parse_cot(completions: list[Completion]) -> tuple[list[str], list[str | None]]:
        texts = [c.text for c in completions]
        answers = [task.extract(t, example) for t in texts]
        if all(a is None for a in answers):
            raise Malformed("no sample states a final answer")
        return texts, answers

    async def parse_pot(completions: list[Completion]) -> tuple[list[str], list[str | None]]:
        runs = await run_programs(run, [c.text for c in completions])
        texts = [f"{c.text.rstrip()}\n\n{r.statement}" for c, r in zip(completions, runs, strict=True)]
        answers = [r.answer for r in runs]
        if all(a is None for a in answers):
            raise Malformed("no program printed an answer (" + "; ".join(sorted({r.detail for r in runs})) + ")")
        return texts, answers

    async def body() -> NodeOutput:
        meta = pot_meta(task, example) if mode == "pot" else offline_meta(task, example, "answer")
        texts, answers = await run.ask(
            model=model,
            messages=messages,
            meta=meta,
            parse=parse_pot if mode == "pot" else parse_cot,
            n=samples,
            temperature=temperature,
            max_tokens=max_tokens,
        )
        answer = next((a for a in answers if a is not None), None)
        data = {"mode": mode, "subtask": ctx.subtask} if ctx.subtask else {"mode": mode}
        return run.output(texts=texts, answers=answers, answer=answer, data=data)

    return await run.guarded(body)


async def solve_subtask(
    ctx: NodeContext,
    *,
    model: str,
    subtask: str,
    mode: GenerateMode = "cot",
    samples: int = 1,
    temperature: float = 0.0,
    max_tokens: int | None = None,
    prompt: str | None = None,
) -> NodeOutput:
    """A planned spawn's child: ``generate`` with ``subtask`` added to its prompt."""
    child = ctx.model_copy(update={"subtask": subtask})
    return await generate(
        child, model=model, mode=mode, samples=samples, temperature=temperature, max_tokens=max_tokens, prompt=prompt
    )
