"""IRT calibration: abilities solve to the published accuracy, difficulty percentiles, stratified latents."""

from __future__ import annotations

import csv
import itertools
import json
import math
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from collabgraph.models.sim.irt import (
    ACCURACY_CLIP,
    DISCRIMINATION,
    PERCENTILE_CLIP,
    STRATA,
    Ability,
    difficulty,
    knowledge_latent,
    percentile,
    solve_theta,
    stratum,
    stratum_accuracies,
)
from collabgraph.settings import data_dir

accuracies = st.floats(min_value=0.01, max_value=0.99)


@given(accuracies)
@settings(max_examples=30, deadline=None)
def test_theta_reproduces_the_accuracy(accuracy: float) -> None:
    theta = solve_theta(accuracy)
    assert abs(sum(stratum_accuracies(theta)) / STRATA - accuracy) < 1e-6


def test_mean_accuracy_matches_the_normal_expectation() -> None:
    # E_{b~N(0,1)}[σ(a(θ − b))] by a fine independent quadrature over b.
    theta = solve_theta(0.63)
    bs = np.linspace(-8, 8, 200_001)
    density = np.exp(-(bs**2) / 2) / math.sqrt(2 * math.pi)
    expected = float(np.sum(density / (1 + np.exp(-DISCRIMINATION * (theta - bs)))) * (bs[1] - bs[0]))
    assert abs(expected - 0.63) < 1e-4


def test_abilities_order_like_accuracies_and_strata_get_harder() -> None:
    thetas = [solve_theta(a) for a in (0.1, 0.3, 0.5, 0.7, 0.9)]
    assert thetas == sorted(thetas)
    strata = stratum_accuracies(solve_theta(0.5))
    assert all(a > b for a, b in itertools.pairwise(strata))


def test_accuracies_outside_the_clip_are_clipped() -> None:
    assert solve_theta(1.0) == solve_theta(ACCURACY_CLIP[1])
    assert solve_theta(0.0) == solve_theta(ACCURACY_CLIP[0])
    assert math.isfinite(solve_theta(1.0))


def test_difficulty_is_the_normal_quantile_of_the_percentile() -> None:
    assert difficulty(0.5) == 0.0
    assert difficulty(0.8413447460685429) == difficulty(0.8413447460685429)
    assert abs(difficulty(0.8413447460685429) - 1.0) < 1e-9
    assert difficulty(0.0) == difficulty(PERCENTILE_CLIP) > -4
    assert difficulty(1.0) < 4


def test_percentile_uses_the_given_difficulty() -> None:
    assert percentile("gsm8k/test/3", 0.25) == 0.25
    assert percentile("x", 1.5) == 1.0  # out of range is clipped


def test_percentile_from_an_indexed_id_spreads_any_prefix_evenly() -> None:
    for n in (40, 164, 1000):
        xs = [percentile(f"HumanEval/{i}", None) for i in range(n)]
        counts = [sum(stratum(x) == j for x in xs) for j in range(STRATA)]
        # Van der Corput points: every stratum holds n/STRATA of them, give or take two.
        assert max(abs(c - n / STRATA) for c in counts) <= 2, counts
    # Different prefixes are rotated differently, the same prefix identically.
    assert percentile("a/1", None) != percentile("b/1", None)
    assert percentile("a/1", None) == percentile("a/1", None)


def test_percentile_of_other_ids_is_a_hash() -> None:
    xs = [percentile(f"math/{i}.json", None) for i in range(4000)]
    assert min(xs) >= 0.0 and max(xs) < 1.0
    assert abs(sum(xs) / len(xs) - 0.5) < 0.02


@given(accuracies, st.integers(min_value=300, max_value=3000), st.text(min_size=1, max_size=6))
@settings(max_examples=25, deadline=None)
def test_stratified_latents_hit_the_accuracy_on_an_even_grid(accuracy: float, n: int, model: str) -> None:
    """On n evenly spread questions the count is off by about one question per stratum at most."""
    ability = Ability.calibrated(accuracy, "test")
    xs = [i / (n - 1) for i in range(n)]
    right = sum(knowledge_latent(model, "t", x) < ability.p_correct(x) for x in xs)
    assert abs(right - accuracy * n) <= 2 * STRATA


def test_stratified_latents_beat_independent_draws() -> None:
    n, deviations, coin = 300, [], []
    for m in range(40):
        accuracy = 0.2 + 0.6 * (m / 40)
        ability = Ability.calibrated(accuracy, "test")
        xs = [(i + 0.5) / n for i in range(n)]
        right = sum(knowledge_latent(f"m{m}", "t", x) < ability.p_correct(x) for x in xs)
        deviations.append(right / n - accuracy)
        coin.append(accuracy * (1 - accuracy) / n)
    rms = math.sqrt(sum(d * d for d in deviations) / len(deviations))
    # Independent coin flips would wander by about 2.7 points rms here; the strata keep it under a third.
    assert rms < math.sqrt(sum(coin) / len(coin)) / 3


def test_latents_of_two_models_are_independent_given_the_difficulty() -> None:
    """Within a stratum two models' right arcs overlap, on average over model pairs, as much as independent
    draws would; the shared difficulty alone makes them agree more than unrelated models."""
    xs = [(i + 0.5) / 2000 for i in range(2000)]
    ability = Ability.calibrated(0.5, "test")
    p = [ability.p_correct(x) for x in xs]
    expected = sum(q * q for q in p) / len(xs)
    overlaps = []
    for pair in range(40):
        both = sum(
            knowledge_latent(f"a{pair}", "t", x) < q and knowledge_latent(f"b{pair}", "t", x) < q
            for x, q in zip(xs, p, strict=True)
        )
        overlaps.append(both / len(xs))
    assert abs(sum(overlaps) / len(overlaps) - expected) < 0.01
    assert expected > 0.25 + 0.05  # E[p²] > E[p]²: errors correlate through difficulty


def _mmlu_pro_matrix() -> np.ndarray:
    root = Path(data_dir()) / "mmlu_pro"
    gold = {}
    with (root / "questions.jsonl").open() as fh:
        for line in fh:
            row = json.loads(line)
            gold[str(row["question_id"])] = row["answer"]
    with (root / "model_predictions.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    models = [k[: -len(":pred")] for k in rows[0] if k.endswith(":pred")]
    return np.array([[r[f"{m}:pred"] == gold[r["question_id"]] for m in models] for r in rows], dtype=float)


def test_discrimination_is_what_the_mmlu_pro_matrix_says() -> None:
    """Refit ``a`` on the recorded models (leave-one-out difficulty percentiles), as DISCRIMINATION says; every
    third of the 29 models keeps the test quick (their median is 1.8 as well)."""
    correct = _mmlu_pro_matrix()
    n, models = correct.shape
    rng = np.random.default_rng(0)
    fitted = []
    for j in range(0, models, 3):
        others = correct.sum(axis=1) - correct[:, j]
        order = np.lexsort((rng.random(n), -others))  # easiest (most others right) first, random ties
        x = np.empty(n)
        x[order] = (np.arange(n) + 0.5) / n
        b = np.array([difficulty(v) for v in x])
        y = correct[:, j]
        best = (-np.inf, 0.0)
        for a in np.arange(1.0, 3.01, 0.1):
            lo, hi = -10.0, 10.0
            for _ in range(40):
                t = (lo + hi) / 2
                lo, hi = (t, hi) if (1 / (1 + np.exp(-a * (t - b)))).mean() < y.mean() else (lo, t)
            p = np.clip(1 / (1 + np.exp(-a * (t - b))), 1e-9, 1 - 1e-9)
            ll = float((y * np.log(p) + (1 - y) * np.log(1 - p)).sum())
            best = max(best, (ll, float(a)))
        fitted.append(best[1])
    assert abs(float(np.median(fitted)) - DISCRIMINATION) <= 0.15
