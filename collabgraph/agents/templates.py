"""Prompt templates: the defaults in ``agents/prompts/*.txt`` and users' replacements (a node's ``prompt``).

Templates are Python format strings with named fields (``{question}``); literal braces are doubled (``{{``).
Each kind fills a fixed set of fields, listed in ``TEMPLATE_FIELDS``; a template naming any other field is
refused before a model is called, with the fields it may use.
"""

from __future__ import annotations

import string
from functools import cache
from importlib import resources

from collabgraph.errors import CollabgraphError, closest
from collabgraph.tasks.types import AnswerFormat, Example, Message, Task

__all__ = [
    "FORMAT_INSTRUCTIONS",
    "TEMPLATE_FIELDS",
    "PromptTemplateError",
    "check_template",
    "default_template",
    "format_instructions",
    "question_text",
    "render",
    "user_message",
]

TEMPLATE_FIELDS: dict[str, frozenset[str]] = {
    "generate": frozenset({"question", "task_prompt", "format_instructions", "subtask"}),
    "pot": frozenset({"question", "task_prompt", "format_instructions", "subtask"}),
    "subtask": frozenset({"subtask"}),
    "critique": frozenset({"question", "candidate", "format_instructions"}),
    "refine": frozenset({"question", "candidate", "feedback", "format_instructions"}),
    "fuse": frozenset({"question", "candidates", "count", "format_instructions"}),
    "select": frozenset({"question", "candidates", "count"}),
    "plan": frozenset({"question", "width"}),
    "spawn": frozenset({"question", "width"}),
    "localize": frozenset({"question", "top_k", "granularity"}),
    "patch": frozenset({"question", "localization", "feedback"}),
    "patch_feedback": frozenset({"candidate", "feedback"}),
}
"""The fields each template may use. ``question`` is the task's prompt as the model would see it (the
problem with its answer-format instructions); ``task_prompt`` the same; ``format_instructions`` a sentence on
how to state the final answer; ``candidate`` / ``candidates`` the solutions read (numbered ``Candidate 1:``…);
``count`` how many there are; ``feedback`` the critique's text; ``subtask`` a planned child's part of the work
(empty otherwise); ``width`` how many subtasks to plan; ``top_k`` / ``granularity`` how many locations to
list and whether as files or functions; ``localization`` the ranked locations a patcher reads (or a note
that there are none) and, for ``patch``, ``feedback`` the previous attempt and its test output
(``patch_feedback``, empty on a first attempt). Keyed by node kind (``spawn`` plans), so a graph
validator can check a node's ``prompt`` with ``check_template(node.kind, node.prompt)``."""

FORMAT_INSTRUCTIONS: dict[AnswerFormat, str] = {
    "gsm8k": "End your response with the final numeric answer on its own line as `#### <number>`.",
    "boxed": "End your response with the final answer written as $\\boxed{<answer>}$.",
    "letter": 'End your response with "The answer is (X)" where X is the letter of the correct option.',
    "expression": "End your response with the expression on its own last line as `Answer: <expression>`.",
    "code": "Reply with the complete function (its signature, the imports it needs and its body) in a single "
    "```python code block.",
}
"""How each answer format asks for the final answer; what the task's extractor reads back."""


class PromptTemplateError(CollabgraphError):
    """A prompt template that cannot be filled: an unknown field, or a stray brace."""


@cache
def default_template(name: str) -> str:
    """The built-in template ``agents/prompts/<name>.txt``."""
    return resources.files("collabgraph.agents").joinpath("prompts", f"{name}.txt").read_text(encoding="utf-8")


def check_template(kind: str, template: str) -> None:
    """Raise ``PromptTemplateError`` when ``template`` cannot be filled by ``kind`` (the message lists the
    fields it may use and the closest one to an unknown field)."""
    allowed = TEMPLATE_FIELDS[kind]
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise PromptTemplateError(
            f"{kind} prompt template: {exc} (write literal braces as '{{{{' and '}}}}')"
        ) from None
    for name in fields:
        base = name.split(".", 1)[0].split("[", 1)[0]
        if base not in allowed:
            near = closest(base, allowed)
            hint = f"; did you mean {{{near[0]}}}?" if near else ""
            shown = "{" + name + "}" if name else "{}"
            raise PromptTemplateError(
                f"{kind} prompt template uses {shown}, which is not filled{hint} "
                f"(fields: {', '.join('{' + f + '}' for f in sorted(allowed))}; write literal braces as '{{{{')"
            )


def render(kind: str, template: str, **values: object) -> str:
    """``template`` filled with ``values`` (checked first with ``check_template``)."""
    check_template(kind, template)
    return template.format(**values)


def question_text(task: Task, example: Example) -> str:
    """The problem as the task poses it (every non-system message of its prompt), to quote in other prompts."""
    return "\n\n".join(m.content for m in task.prompt(example) if m.role != "system")


def format_instructions(example: Example) -> str:
    """How ``example``'s final answer must be stated."""
    return FORMAT_INSTRUCTIONS[example.answer_format]


def user_message(kind: str, prompt: str | None, task: Task, example: Example, **values: object) -> list[Message]:
    """The one user message of a kind that reads other nodes' work: ``prompt`` (default: the built-in template
    named ``kind``) filled with ``question`` (as the task poses it), ``format_instructions`` and ``values``."""
    content = render(
        kind,
        prompt if prompt is not None else default_template(kind),
        question=question_text(task, example),
        format_instructions=format_instructions(example),
        **values,
    )
    return [Message(role="user", content=content)]
