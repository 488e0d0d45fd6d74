"""The offline metadata a node attaches to its calls: what the offline pools need to play their part.

Real providers never receive it (the gateway guarantees that); ``sim/`` reads the gold answer, the
distractors, the role and which candidates are right, and answers as a calibrated model would.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from collabgraph.models.types import Candidate, OfflineMeta, Role
from collabgraph.tasks.types import Example, Task

__all__ = ["CODE_META_KEYS", "offline_meta", "pot_meta", "reference_program"]

CODE_META_KEYS = ("prompt", "entry_point", "test")
"""What code tasks pass to the offline pools, so that simulated programs run the real tests."""

_PLAIN_NUMBER = re.compile(r"^\s*-?\d+(?:\.\d+)?\s*$")


def offline_meta(
    task: Task,
    example: Example,
    role: Role = "answer",
    candidates: Sequence[Candidate] = (),
    extra: Mapping[str, Any] | None = None,
) -> OfflineMeta:
    """The metadata of a call about ``example`` in ``role``, reading ``candidates`` (their ``correct`` flags
    computed by the caller, who holds the gold answer)."""
    more: dict[str, Any] = {}
    if example.answer_format == "code":
        more = {k: example.meta[k] for k in CODE_META_KEYS if k in example.meta}
    elif example.answer_format == "letter" and "options" in example.meta:
        # Wrong letters an offline model makes up must name an option the question has (some have fewer than 10).
        more = {"n_options": len(example.meta["options"])}
    if "mutation" in example.meta and "files" in example.meta:
        # Software repair (swe_mini): where the bug is and the repository's files, for localize and patch.
        mutation = example.meta["mutation"]
        more.update(location=f"{mutation['path']}::{mutation['function']}", files=list(example.meta["files"]))
    more.update(extra or {})
    return OfflineMeta(
        task=task.name,
        example_id=example.id,
        answer=example.answer,
        answer_format=example.answer_format,
        distractors=example.distractors,
        difficulty=example.difficulty,
        role=role,
        candidates=tuple(candidates),
        extra=more,
    )


def reference_program(answer: str) -> str:
    """A program that prints ``answer``: integers and terminating decimals as arithmetic (``print(18)``,
    ``print(5 / 2)``), anything else as a string literal (``print('1/3')``, ``print('(3+5)*3')``)."""
    if _PLAIN_NUMBER.match(answer):
        value = Fraction(answer.strip())
        if value.denominator == 1:
            return f"print({value.numerator})"
        return f"print({value.numerator} / {value.denominator})"
    return f"print({answer.strip()!r})"


def pot_meta(task: Task, example: Example) -> OfflineMeta:
    """The metadata of a program-of-thought request. The offline pools write programs only for code questions,
    so a PoT request is posed to them as one whose reference program prints the gold answer
    (``reference_program``): a simulated model writes that program when it is right and a mutant of it when it
    is wrong, and the sandbox really runs whichever it wrote. ``extra`` keeps the question's own format and
    gold answer (``pot_format``, ``pot_answer``)."""
    meta = offline_meta(
        task, example, "answer", extra={"pot_format": example.answer_format, "pot_answer": example.answer}
    )
    return meta.model_copy(update={"answer_format": "code", "answer": reference_program(example.answer)})
