"""Reactions to context: candidate views, fuse / select / critique probabilities, critique and plan text."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collabgraph.models.sim.context import (
    CRITIC_BASE_FLAG_RATE,
    DEFAULT_PLAN_STEPS,
    VERDICT_CORRECT,
    VERDICT_INCORRECT,
    VERIFY_BONUS_LOGIT,
    CandidateView,
    critique_flag_probability,
    critique_text,
    fuse_probability,
    plan_text,
    select_probability,
)
from collabgraph.models.sim.irt import Ability
from collabgraph.models.types import Candidate

probability = st.floats(min_value=0.0, max_value=1.0)


def cands(*answers: str, gold: str = "18") -> tuple[Candidate, ...]:
    return tuple(Candidate(answer=a, correct=a == gold) for a in answers)


def test_candidate_view_groups_answers() -> None:
    view = CandidateView.of(cands("18", "26", "26.0", "9"))
    assert (view.n, view.right, view.share) == (4, 1, 0.0)
    assert view.plurality_wrong == "26" and view.plurality_wrong_index == 1 and view.wrong_beats_right
    tied = CandidateView.of(cands("18", "26"))
    assert tied.share == 0.5 and tied.wrong_beats_right
    ahead = CandidateView.of(cands("18", "18", "26"))
    assert ahead.share == 1.0 and not ahead.wrong_beats_right
    none_wrong = CandidateView.of(cands("18"))
    assert none_wrong.plurality_wrong is None and not none_wrong.wrong_beats_right
    abstain = CandidateView.of((Candidate(answer=None, correct=False),))
    assert abstain.plurality_wrong is None and abstain.share == 0.0


@given(probability, probability)
def test_more_right_candidates_never_hurt_a_fuser(v: float, own: float) -> None:
    views = [CandidateView.of(cands(*(["18"] * r + ["26"] * (4 - r)))) for r in range(5)]
    probs = [fuse_probability(view, v, own) for view in views]
    assert all(a <= b + 1e-12 for a, b in itertools.pairwise(probs))
    assert 0.0 <= probs[0] <= own + 1e-12  # all-wrong candidates can only mislead
    assert probs[-1] >= max(own, 1 - (1 - v) ** 4) - 1e-12


def test_a_strong_fuser_solves_even_when_every_candidate_is_wrong() -> None:
    view = CandidateView.of(cands("26", "26", "9"))
    assert fuse_probability(view, v=0.95, own=0.9) > 0.8
    assert fuse_probability(view, v=0.1, own=0.9) < 0.1


def test_select_probability() -> None:
    assert select_probability(CandidateView.of(cands("26", "9")), 1.0) == 0.0
    assert select_probability(CandidateView.of(cands("18", "18")), 0.0) == pytest.approx(1.0)
    one = CandidateView.of(cands("18", "26", "9"))
    assert select_probability(one, 0.2) < select_probability(one, 0.8)


@given(probability, probability)
def test_critic_hits_and_false_alarms_follow_skill(v1: float, v2: float) -> None:
    low, high = sorted((v1, v2))
    assert critique_flag_probability(False, high) >= critique_flag_probability(False, low)  # hit rate
    assert critique_flag_probability(True, high) <= critique_flag_probability(True, low)  # false alarms
    assert critique_flag_probability(False, 0.0) == critique_flag_probability(True, 0.0) == CRITIC_BASE_FLAG_RATE
    assert critique_flag_probability(False, 1.0) == 1.0 and critique_flag_probability(True, 1.0) == 0.0


def test_verify_bonus_makes_checking_easier_than_solving() -> None:
    ability = Ability.calibrated(0.5, "test")
    x = 0.5  # the median question: solving it is σ(a·θ)
    solve = ability.p_with_bonus(x, 0.0)
    verify = ability.p_with_bonus(x, VERIFY_BONUS_LOGIT)
    assert verify > solve
    assert math.log(verify / (1 - verify)) - math.log(solve / (1 - solve)) == pytest.approx(VERIFY_BONUS_LOGIT)


def test_critique_text_ends_with_the_verdict() -> None:
    flagged = critique_text(True, "26", "18", random.Random(0))
    assert flagged.splitlines()[-1] == VERDICT_INCORRECT
    assert "26" in flagged and "I get 18" in flagged
    same = critique_text(True, "26", "26", random.Random(0))
    assert "I get" not in same
    passed = critique_text(False, "18", "18", random.Random(0))
    assert passed.splitlines()[-1] == VERDICT_CORRECT
    assert all(line.startswith("Step ") for line in passed.splitlines()[:-1])


def test_default_plan_length() -> None:
    assert len(plan_text("gsm8k", DEFAULT_PLAN_STEPS).splitlines()) == DEFAULT_PLAN_STEPS == 3


def test_plan_text_is_a_numbered_list() -> None:
    plan = plan_text("gsm8k", 3)
    assert [line[:3] for line in plan.splitlines()] == ["1. ", "2. ", "3. "]
    assert len(plan_text("code", 9).splitlines()) == 5
    assert len(plan_text("letter", 0).splitlines()) == 1
