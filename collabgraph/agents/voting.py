"""Voting over extracted answers: equivalence classes, weights, and the CoT/PoT agreement filter.

Answers are grouped into classes by the task's ``same`` (math-aware: ``1/2`` and ``0.5`` vote together),
each class compared through its first member (``answer_classes``). A class's score is the sum of its members'
weights; the highest score wins, a tie going to the class whose first member comes first in ballot order (input
order, then sample order), so the result never depends on which branch finished first (``plurality``). Ballots
without an answer do not vote. The same two functions count maj@k in ``collabgraph.runs.metrics``, so a vote
node and a reported maj@k agree on every ballot.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from collabgraph.agents.samples import Sample

__all__ = ["Same", "Tally", "VoteClass", "answer_classes", "plurality", "tally"]

Same = Callable[[str, str], bool]
"""Whether two extracted answers are equivalent; a task's ``same`` bound to its example."""


@dataclass
class VoteClass:
    """Equivalent answers: ``answer`` is the first member's; ``members`` index the ballots."""

    answer: str
    members: list[int] = field(default_factory=list)
    score: float = 0.0
    nodes: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Tally:
    """The outcome of a vote: the classes in order of first appearance, the winning class (None when no
    ballot has an answer), and whether the agreement filter kept any class (None when it was not asked)."""

    classes: list[VoteClass]
    winner: VoteClass | None
    agreement: bool | None = None


def answer_classes(answers: Sequence[str | None], same: Same) -> list[tuple[str, list[int]]]:
    """``answers`` grouped into classes of equivalent ones, in order of first appearance: each class is its first
    member's answer and the indices of its members. An answer joins the first class whose first member it is
    ``same`` as; None (no answer extracted) joins none."""
    classes: list[tuple[str, list[int]]] = []
    for i, answer in enumerate(answers):
        if answer is None:
            continue
        for first, members in classes:
            if same(first, answer):
                members.append(i)
                break
        else:
            classes.append((answer, [i]))
    return classes


def plurality(scores: Sequence[float]) -> int | None:
    """The index of the highest of ``scores``, the first one on a tie (classes come in order of first appearance,
    so the class seen first wins); None when there are none."""
    best: int | None = None
    for i, score in enumerate(scores):  # strict > keeps the earliest on a tie
        if best is None or score > scores[best]:
            best = i
    return best


def _classes(ballots: Sequence[Sample], same: Same, weights: Mapping[str, float]) -> list[VoteClass]:
    return [
        VoteClass(
            answer,
            members,
            score=sum(weights.get(ballots[i].node_id, 1.0) for i in members),
            nodes={ballots[i].node_id for i in members},
        )
        for answer, members in answer_classes([ballot.answer for ballot in ballots], same)
    ]


def _best(classes: Sequence[VoteClass]) -> VoteClass | None:
    best = plurality([cls.score for cls in classes])
    return None if best is None else classes[best]


def tally(
    ballots: Sequence[Sample],
    same: Same,
    *,
    weights: Mapping[str, float] | None = None,
    require_agreement: bool = False,
) -> Tally:
    """Vote over ``ballots``; ``weights`` maps a node id to the weight of each of its answers (default 1).

    With ``require_agreement`` (collaborative verification: chain-of-thought answers checked against executed
    program-of-thought ones) only classes that hold answers from at least two different nodes compete; when no
    class does, the vote falls back to every class and ``agreement`` is False."""
    classes = _classes(ballots, same, weights or {})
    if not require_agreement:
        return Tally(classes, _best(classes))
    agreed = [cls for cls in classes if len(cls.nodes) >= 2]
    if agreed:
        return Tally(classes, _best(agreed), agreement=True)
    return Tally(classes, _best(classes), agreement=False)
