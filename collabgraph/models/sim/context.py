"""Reactions to context: how a simulated model uses candidate answers (fuse, refine, select) and critiques one.

With ``c`` of the ``n`` candidates right, ``own`` the model's chance of solving the question alone
(``σ(a·(θ − b))``, per stratum), and ``v = σ(a·(θ − b) + VERIFY_BONUS_LOGIT)`` its chance of *recognising* a
worked right answer (the IRT curve shifted up: checking a worked answer is easier than producing one):

- fuse / refine: the model spots a right candidate with probability ``notice = 1 − (1 − v)^c``; failing that it
  follows the plurality of the candidates with probability ``1 − v`` (it cannot tell them apart) or solves the
  question itself (probability ``v``, success ``own``)::

      P(right) = notice + (1 − notice) · ((1 − v) · share + v · own)

  where ``share`` is 1 when the right answer is the candidates' strict plurality, 1/k when it ties with k − 1
  wrong answers, else 0. More right candidates → more often right; with none, a strong model still solves it.
- select: as fuse, except that a selector can only pick a candidate, so its own solving is replaced by picking
  a right one at random (``c / n``); with no right candidate it cannot be right.
- critique (of ``candidates[0]``), with skill ``s = own`` (locating an error is no easier than solving: even
  strong models find reasoning errors poorly, Tyen et al. 2023, arXiv:2311.08516): it flags a wrong candidate
  (a hit) with probability ``s + (1 − s) · CRITIC_BASE_FLAG_RATE`` and a right one (a false alarm) with
  probability ``(1 − s) · CRITIC_BASE_FLAG_RATE``: both follow ability, and a critic with no skill flags
  CRITIC_BASE_FLAG_RATE of everything.

The critique's text ends with exactly one verdict line: ``VERDICT: CORRECT`` or ``VERDICT: INCORRECT``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from collabgraph.models.sim.answers import same_answer
from collabgraph.models.types import Candidate

__all__ = [
    "CRITIC_BASE_FLAG_RATE",
    "DEFAULT_PLAN_STEPS",
    "VERDICT_CORRECT",
    "VERDICT_INCORRECT",
    "VERIFY_BONUS_LOGIT",
    "CandidateView",
    "critique_flag_probability",
    "critique_text",
    "fuse_probability",
    "plan_text",
    "select_probability",
]

VERIFY_BONUS_LOGIT = 1.0
"""How much easier recognising a right worked answer is than producing one, in IRT log-odds: a model that
solves a question half the time recognises a right answer to it 73 % of the time (fuse, refine, select). A
design choice, not fitted; the tests check its consequences (right candidates help, more so for stronger
models)."""

CRITIC_BASE_FLAG_RATE = 0.3
"""The share of answers a critic with no skill on the question flags as wrong anyway. Its false-alarm rate
falls from this value toward 0 as its skill grows; its hit rate rises from this value toward 1."""

VERDICT_CORRECT = "VERDICT: CORRECT"
VERDICT_INCORRECT = "VERDICT: INCORRECT"


@dataclass(frozen=True)
class CandidateView:
    """The candidates as a model sees them: how many are right, and how their answers group."""

    n: int
    right: int
    share: float
    """1 when the right answer is the strict plurality, 1/k when tied with k − 1 wrong answers, else 0."""
    plurality_wrong: str | None
    """The most common wrong answer among the candidates (first seen wins a tie), None when none is wrong."""
    plurality_wrong_index: int | None
    wrong_beats_right: bool
    """Whether the most common wrong answer has at least as many votes as the right one."""

    @classmethod
    def of(cls, candidates: Sequence[Candidate]) -> CandidateView:
        right = sum(1 for c in candidates if c.correct)
        groups: list[tuple[str, int, int]] = []  # (answer, votes, first index)
        for i, cand in enumerate(candidates):
            if cand.correct or cand.answer is None:
                continue
            for g, (answer, votes, first) in enumerate(groups):
                if same_answer(answer, cand.answer):
                    groups[g] = (answer, votes + 1, first)
                    break
            else:
                groups.append((cand.answer, 1, i))
        top = max((votes for _, votes, _ in groups), default=0)
        if right > top:
            share = 1.0
        elif right == top and right > 0:
            share = 1.0 / (1 + sum(1 for _, votes, _ in groups if votes == top))
        else:
            share = 0.0
        best = next(((a, i) for a, votes, i in groups if votes == top), None)
        return cls(
            n=len(candidates),
            right=right,
            share=share,
            plurality_wrong=best[0] if best else None,
            plurality_wrong_index=best[1] if best else None,
            wrong_beats_right=best is not None and top >= right,
        )


def _notice(v: float, right: int) -> float:
    return 1.0 - (1.0 - v) ** right


def fuse_probability(view: CandidateView, v: float, own: float) -> float:
    """P(right) of a fuser or refiner with verification skill ``v`` and solo accuracy ``own``."""
    notice = _notice(v, view.right)
    return notice + (1.0 - notice) * ((1.0 - v) * view.share + v * own)


def select_probability(view: CandidateView, v: float) -> float:
    """P(a selector picks a right candidate)."""
    if view.n == 0 or view.right == 0:
        return 0.0
    notice = _notice(v, view.right)
    return notice + (1.0 - notice) * ((1.0 - v) * view.share + v * view.right / view.n)


def critique_flag_probability(candidate_right: bool, skill: float) -> float:
    """P(the critic says INCORRECT): the hit rate for a wrong candidate, the false-alarm rate for a right one."""
    if candidate_right:
        return (1.0 - skill) * CRITIC_BASE_FLAG_RATE
    return skill + (1.0 - skill) * CRITIC_BASE_FLAG_RATE


_CRITIQUE_OK = (
    "The setup restates the problem correctly.",
    "The quantities are identified correctly.",
    "This step follows from the previous one.",
    "The intermediate computation checks out.",
    "The reasoning here is sound.",
    "The method chosen is appropriate for this problem.",
)


def critique_text(flag: bool, candidate_answer: str | None, own_answer: str | None, r: random.Random) -> str:
    """Step-level feedback on a candidate, ending with the verdict line. A flagged candidate gets a faulty
    step that names its answer and, when the critic's own answer differs, what the critic gets instead."""
    steps = r.randint(2, 4)
    pool = list(_CRITIQUE_OK)
    r.shuffle(pool)
    lines = [f"Step {i + 1}: {pool[i % len(pool)]}" for i in range(steps)]
    if flag:
        shown = candidate_answer if candidate_answer is not None else "no final answer"
        fault = f"Step {steps + 1}: This step is wrong; the conclusion {shown} does not follow from the work above."
        if own_answer is not None and (candidate_answer is None or not same_answer(own_answer, candidate_answer)):
            fault += f" Redoing it, I get {own_answer}."
        lines.append(fault)
        lines.append(VERDICT_INCORRECT)
    else:
        lines.append(f"Step {steps + 1}: The final answer is consistent with every step.")
        lines.append(VERDICT_CORRECT)
    return "\n".join(lines)


_PLAN_STEPS: dict[str, tuple[str, ...]] = {
    "code": (
        "Read the function signature and docstring and list the required behaviour.",
        "Identify the edge cases (empty input, single element, negative values).",
        "Write the main loop or expression that computes the result.",
        "Handle the edge cases explicitly.",
        "Check the implementation against the docstring examples.",
    ),
    "letter": (
        "Identify the concept the question is about.",
        "Recall the relevant definition or principle.",
        "Eliminate the options that contradict it.",
        "Compare the remaining options against the details in the question.",
        "Choose the option that fits every detail.",
    ),
    "expression": (
        "List the numbers and the target.",
        "Look for a product or sum close to the target.",
        "Combine the remaining numbers to close the gap.",
        "Check that every number is used exactly once.",
        "Verify the arithmetic of the final expression.",
    ),
    "default": (
        "Extract the given quantities and what is asked.",
        "Set up the relationships between the quantities.",
        "Compute the intermediate values.",
        "Combine them into the final result.",
        "Check the result against the conditions of the problem.",
    ),
}

DEFAULT_PLAN_STEPS = 3
"""Subtasks in a plan when the request's ``meta.extra["subtasks"]`` does not say how many (1 to 5)."""


def plan_text(answer_format: str, steps: int) -> str:
    """A plain numbered list of ``steps`` subtasks (1 to 5) for the question's kind."""
    bank = _PLAN_STEPS.get(answer_format, _PLAN_STEPS["default"])
    chosen = bank[: max(1, min(steps, len(bank)))]
    return "\n".join(f"{i + 1}. {step}" for i, step in enumerate(chosen))
