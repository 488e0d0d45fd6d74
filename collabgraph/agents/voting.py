"""Voting over extracted answers: equivalence classes, weights, and the CoT/PoT agreement filter.

Answers are grouped into classes by the task's ``same`` (math-aware: ``1/2`` and ``0.5`` vote together),
each class compared through its first member. A class's score is the sum of its members' weights; the
highest score wins, a tie going to the class whose first member comes first in ballot order (input order,
then sample order), so the result never depends on which branch finished first. Ballots without an answer
do not vote.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from collabgraph.agents.samples import Sample

__all__ = ["Tally", "VoteClass", "tally"]

Same = Callable[[str, str], bool]


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


def _classes(ballots: Sequence[Sample], same: Same, weights: Mapping[str, float]) -> list[VoteClass]:
    classes: list[VoteClass] = []
    for i, ballot in enumerate(ballots):
        if ballot.answer is None:
            continue
        for cls in classes:
            if same(cls.answer, ballot.answer):
                break
        else:
            cls = VoteClass(ballot.answer)
            classes.append(cls)
        cls.members.append(i)
        cls.score += weights.get(ballot.node_id, 1.0)
        cls.nodes.add(ballot.node_id)
    return classes


def _best(classes: Sequence[VoteClass]) -> VoteClass | None:
    best: VoteClass | None = None
    for cls in classes:  # strict > keeps the earliest class on a tie
        if best is None or cls.score > best.score:
            best = cls
    return best


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
