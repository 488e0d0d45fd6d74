"""Accuracy statistics: Wilson and example-clustered intervals, unbiased pass@k, majority vote and maj@k."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collabgraph.agents import Sample, tally
from collabgraph.runs import cluster_ci, maj_at_k, majority, majority_index, pass_at_k, wilson_ci


@st.composite
def counts(draw: st.DrawFn) -> tuple[int, int]:
    n = draw(st.integers(min_value=1, max_value=5000))
    return draw(st.integers(min_value=0, max_value=n)), n


@given(counts())
def test_wilson_contains_estimate_and_stays_in_unit_interval(sc: tuple[int, int]) -> None:
    s, n = sc
    low, high = wilson_ci(s, n)
    assert 0.0 <= low <= s / n <= high <= 1.0


@given(counts())
def test_wilson_is_never_degenerate(sc: tuple[int, int]) -> None:
    s, n = sc
    low, high = wilson_ci(s, n)
    assert high - low > 0.0


def test_wilson_matches_a_textbook_value() -> None:
    # 81 of 263 (Newcombe 1998, Table I): 0.2553 .. 0.3662 at z = 1.96.
    low, high = wilson_ci(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


def test_wilson_narrows_with_more_data() -> None:
    small = wilson_ci(30, 60)
    large = wilson_ci(300, 600)
    assert large[1] - large[0] < small[1] - small[0]


def test_wilson_without_data_knows_nothing() -> None:
    assert wilson_ci(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(("s", "n"), [(-1, 10), (11, 10), (1, -1)])
def test_wilson_rejects_impossible_counts(s: int, n: int) -> None:
    with pytest.raises(ValueError, match="successes <= n"):
        wilson_ci(s, n)


per_example_means = st.lists(st.integers(min_value=0, max_value=8).map(lambda c: c / 8), min_size=1, max_size=200)


@given(per_example_means)
def test_cluster_ci_contains_estimate_and_stays_in_unit_interval(means: list[float]) -> None:
    low, high = cluster_ci(means, samples=8)
    p = math.fsum(means) / len(means)
    assert 0.0 <= low <= high <= 1.0
    assert low <= p + 1e-12 and p - 1e-12 <= high


@given(per_example_means)
def test_cluster_ci_lies_between_one_and_k_independent_samples(means: list[float]) -> None:
    n = len(means)
    p = math.fsum(means) / n
    low, high = cluster_ci(means, samples=8)
    widest = wilson_ci(p * n, n)
    narrowest = wilson_ci(p * n * 8, n * 8)
    assert high - low <= widest[1] - widest[0] + 1e-9
    assert high - low >= narrowest[1] - narrowest[0] - 1e-9


def test_cluster_ci_is_wider_when_samples_agree_within_examples() -> None:
    # Same accuracy 0.5; samples that always agree carry the information of one sample per example.
    agreeing = cluster_ci([1.0, 0.0] * 50, samples=4)
    mixed = cluster_ci([0.5, 0.5, 0.25, 0.75] * 25, samples=4)
    assert agreeing[1] - agreeing[0] > mixed[1] - mixed[0]
    assert agreeing == pytest.approx(wilson_ci(50, 100))


def test_cluster_ci_rejects_means_outside_unit_interval() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        cluster_ci([0.5, 1.5])


@st.composite
def nck(draw: st.DrawFn) -> tuple[int, int, int]:
    n = draw(st.integers(min_value=1, max_value=60))
    c = draw(st.integers(min_value=0, max_value=n))
    k = draw(st.integers(min_value=1, max_value=n))
    return n, c, k


@given(nck())
def test_pass_at_k_is_monotone_in_k_and_c(args: tuple[int, int, int]) -> None:
    n, c, k = args
    value = pass_at_k(n, c, k)
    assert 0.0 <= value <= 1.0
    if k < n:
        assert pass_at_k(n, c, k + 1) >= value
    if c < n:
        assert pass_at_k(n, c + 1, k) >= value


@given(counts())
def test_pass_at_1_is_the_fraction_correct(sc: tuple[int, int]) -> None:
    c, n = sc
    assert pass_at_k(n, c, 1) == c / n


def test_pass_at_k_matches_the_combinatorial_definition() -> None:
    # 10 samples, 3 correct, k = 5: 1 - C(7,5)/C(10,5) = 1 - 21/252.
    assert pass_at_k(10, 3, 5) == pytest.approx(1 - 21 / 252)
    assert pass_at_k(10, 0, 10) == 0.0
    assert pass_at_k(10, 6, 5) == 1.0  # fewer than k wrong samples: some draw must be right


@pytest.mark.parametrize(("n", "c", "k"), [(5, 6, 1), (5, 2, 0), (5, 2, 6), (5, -1, 1)])
def test_pass_at_k_rejects_impossible_arguments(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError, match="need 0 <= c <= n"):
        pass_at_k(n, c, k)


def _same_number(a: str, b: str) -> bool:
    return float(a) == float(b)


def test_majority_groups_equivalent_answers() -> None:
    # "0.5" and ".50" vote together (2 votes) and beat "1" and "2" (1 each): equivalence classes, not strings.
    assert majority(["1", "0.5", ".50", "2"], same=_same_number) == "0.5"
    assert majority(["1", "0.5", ".50", "2"]) == "1"  # string equality: four classes of one, first wins


def test_majority_breaks_ties_by_first_seen_and_ignores_missing_answers() -> None:
    assert majority([None, "7", "3", "3", "7"]) == "7"
    assert majority_index([None, "7", "3", "3", "7"]) == 1
    assert majority([None, None]) is None
    assert majority([]) is None


@given(
    st.lists(st.sampled_from(["1", "1.0", "2", "3", " 2"]), min_size=1, max_size=30),
    st.randoms(use_true_random=False),
)
def test_majority_is_invariant_to_order_when_there_is_a_strict_winner(answers: list[str], rng: random.Random) -> None:
    def same(a: str, b: str) -> bool:
        return float(a) == float(b)

    classes: dict[float, int] = {}
    for a in answers:
        classes[float(a)] = classes.get(float(a), 0) + 1
    top = sorted(classes.values(), reverse=True)
    shuffled = answers[:]
    rng.shuffle(shuffled)
    first, second = majority(answers, same), majority(shuffled, same)
    assert first is not None and second is not None
    if len(top) == 1 or top[0] > top[1]:
        assert same(first, second)
        assert classes[float(first)] == top[0]


@given(st.lists(st.sampled_from(["1", "1.0", "2", "3", " 2", None]), max_size=30))
def test_majority_index_picks_what_an_unweighted_vote_node_picks(answers: list[str | None]) -> None:
    ballots = [Sample("node", i, "", answer) for i, answer in enumerate(answers)]
    winner = tally(ballots, _same_number).winner
    assert majority_index(answers, _same_number) == (None if winner is None else winner.members[0])


def test_maj_at_k_votes_over_the_first_k_samples() -> None:
    answers = ["5", "4", "4", "5", "5"]
    correct = [True, False, False, True, True]
    assert maj_at_k(answers, correct) is True
    assert maj_at_k(answers, correct, k=3) is False
    assert maj_at_k(answers, correct, k=1) is True
    assert maj_at_k([None, None], [False, False]) is False


def test_maj_at_k_rejects_mismatched_or_out_of_range_arguments() -> None:
    with pytest.raises(ValueError, match="2 answers but 1 verdicts"):
        maj_at_k(["1", "2"], [True])
    with pytest.raises(ValueError, match="1 <= k <= 2"):
        maj_at_k(["1", "2"], [True, False], k=3)
