"""Candidates as the reading kinds see them: every sample of every input node, with its answer and whether it
is right (which only the offline pools read)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from collabgraph.agents.types import NodeOutput
from collabgraph.models.types import Candidate
from collabgraph.tasks.types import Example, Task

__all__ = ["Sample", "correctness", "numbered", "offline_candidates", "primary", "samples_of"]

_MEMO_SIZE = 4096
_memo: WeakKeyDictionary[object, dict[tuple[str, str], bool]] = WeakKeyDictionary()


@dataclass(frozen=True)
class Sample:
    """One sample of one node's output: ``index`` is its position in that output's ``texts``."""

    node_id: str
    index: int
    text: str
    answer: str | None


def samples_of(outputs: Sequence[NodeOutput]) -> list[Sample]:
    """Every sample of every output that did not fail, in input order then sample order."""
    found: list[Sample] = []
    for out in outputs:
        if out.error is not None:
            continue
        for i, text in enumerate(out.texts):
            answer = out.answers[i] if i < len(out.answers) else None
            found.append(Sample(out.node_id, i, text, answer))
    return found


def primary(output: NodeOutput) -> Sample | None:
    """The sample that carries ``output.answer`` (the first whose answer it is), else its first sample; None
    when the output failed or has no text."""
    if output.error is not None or not output.texts:
        return None
    samples = samples_of([output])
    for sample in samples:
        if output.answer is not None and sample.answer == output.answer:
            return sample
    return samples[0]


async def correctness(task: Task, example: Example, sample: Sample) -> bool:
    """Whether ``sample`` is right against the gold answer: ``task.same`` on its answer, or for code (whose
    answers are programs) the task's own tests, run once per distinct program and remembered."""
    if example.answer_format != "code":
        return sample.answer is not None and task.same(sample.answer, example.answer, example)
    key = (example.id, hashlib.sha256(sample.text.encode()).hexdigest())
    try:
        memo = _memo.setdefault(task, {})
    except TypeError:  # an unhashable task object: nothing to remember it by
        memo = {}
    if key not in memo:
        if len(memo) >= _MEMO_SIZE:
            memo.clear()
        memo[key] = (await task.score(sample.text, example)).correct
    return memo[key]


async def offline_candidates(task: Task, example: Example, samples: Sequence[Sample]) -> tuple[Candidate, ...]:
    """The samples as ``OfflineMeta.candidates``: answer, whether it is right, text."""
    found = [Candidate(answer=s.answer, correct=await correctness(task, example, s), text=s.text) for s in samples]
    return tuple(found)


def numbered(samples: Sequence[Sample]) -> str:
    """The samples' texts as ``Candidate 1:`` … blocks, for a prompt."""
    return "\n\n".join(f"Candidate {i + 1}:\n{s.text.strip()}" for i, s in enumerate(samples))
