"""Temperature and the Zipf law of wrong answers (refitted on the recorded MMLU-Pro wrong letters)."""

from __future__ import annotations

import csv
import itertools
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from collabgraph.models.sim.sampling import (
    GOLDEN_STEP,
    NOISE_FOLDS,
    TEMPERATURE_HALF_NOISE,
    ZIPF_EXPONENT,
    noise_share,
    sample_latent,
    sample_noise,
    zipf_index,
    zipf_weights,
)
from collabgraph.settings import data_dir


def test_noise_share_grows_with_temperature() -> None:
    temps = [0.0, 0.2, 0.5, 0.7, 1.0, 1.5, 2.0]
    shares = [noise_share(t) for t in temps]
    assert shares[0] == 0.0
    assert shares == sorted(shares) and len(set(shares)) == len(shares)
    assert noise_share(TEMPERATURE_HALF_NOISE) == pytest.approx(0.5)
    assert shares[-1] < 1.0


@given(st.floats(min_value=0, max_value=1), st.integers(min_value=0, max_value=100))
def test_temperature_zero_returns_the_shared_latent(shared: float, k: int) -> None:
    assert sample_latent(shared, 0.0, k, "seed", "model") == shared


def test_sample_noise_spreads_the_samples_of_a_question() -> None:
    noises = sorted(sample_noise(0.3, k, 0, "m", "t", "answer") for k in range(50))
    gaps = [b - a for a, b in itertools.pairwise(noises)]
    # A golden-ratio sequence: 50 points leave no gap wider than about 3/50 (independent draws: ~8/50).
    assert max(gaps) < 0.06
    assert pytest.approx(0.6180339887) == GOLDEN_STEP
    assert NOISE_FOLDS > 1


def test_sample_latents_stay_calibrated_at_temperature() -> None:
    """For a question the model knows with probability p, the share of right samples is p at any temperature."""
    shared = [(i + 0.5) / 400 for i in range(400)]  # evenly spread shared latents
    for temperature in (0.3, 0.7, 1.5):
        for p in (0.2, 0.5, 0.8):
            right = [sample_latent(s, temperature, k, "seed", "m") < p for s in shared for k in range(4)]
            assert abs(sum(right) / len(right) - p) < 0.02


def test_zipf_weights_and_index() -> None:
    w = zipf_weights(9)
    assert sum(w) == pytest.approx(1.0)
    assert all(a > b for a, b in itertools.pairwise(w))
    assert zipf_index(0.0, 9) == 0
    assert zipf_index(0.999999, 9) == 8
    assert zipf_index(0.5, 1) == 0
    draws = Counter(zipf_index((i + 0.5) / 10_000, 9) for i in range(10_000))
    assert draws[0] / 10_000 == pytest.approx(w[0], abs=1e-3)
    with pytest.raises(ValueError, match="at least one option"):
        zipf_index(0.5, 0)


def test_zipf_exponent_matches_the_recorded_mmlu_pro_wrong_answers() -> None:
    """Refit: the sorted rank-share of wrong letters, simulated under ZIPF_EXPONENT, matches the data's."""
    root = Path(data_dir()) / "mmlu_pro"
    with (root / "questions.jsonl").open() as fh:
        gold = {str(json.loads(line)["question_id"]): json.loads(line)["answer"] for line in fh}
    with (root / "model_predictions.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    models = [k[: -len(":pred")] for k in rows[0] if k.endswith(":pred")]
    real = np.zeros(9)
    sizes = []
    for row in rows:
        wrong = Counter(
            row[f"{m}:pred"] for m in models if row[f"{m}:pred"] and row[f"{m}:pred"] != gold[row["question_id"]]
        )
        if sum(wrong.values()) >= 6:
            counts = sorted(wrong.values(), reverse=True)[:9]
            real[: len(counts)] += counts
            sizes.append(sum(wrong.values()))
    real /= real.sum()
    rng = np.random.default_rng(0)
    simulated = np.zeros(9)
    weights = np.array(zipf_weights(9))
    for n in rng.choice(sizes, 3000):
        simulated += np.sort(np.bincount(rng.choice(9, n, p=weights), minlength=9))[::-1]
    simulated /= simulated.sum()
    assert abs(simulated[0] - real[0]) < 0.03  # the most popular mistake takes about half the wrong votes
    assert float(np.abs(simulated - real).sum()) < 0.08
    assert pytest.approx(1.45) == ZIPF_EXPONENT


def test_folding_the_shared_latent_into_the_noise_tightens_calibration(monkeypatch: pytest.MonkeyPatch) -> None:
    """NOISE_FOLDS against independent-looking noise (0 folds plus a per-question shift), on 164 evenly
    spread questions × 2 samples at T = 0.7, over 60 synthetic models: the realized accuracies wander less."""
    from collabgraph.models.sim import sampling
    from collabgraph.models.sim.irt import Ability, knowledge_latent, percentile

    def rms(folded: bool) -> float:
        monkeypatch.setattr(sampling, "NOISE_FOLDS", NOISE_FOLDS if folded else 0)
        deviations = []
        for m in range(60):
            accuracy = 0.3 + 0.6 * m / 60
            ability = Ability.calibrated(accuracy, "test")
            right = 0
            for i in range(164):
                x = percentile(f"HumanEval/{i}", None)
                shared = knowledge_latent(f"m{m}", "t", x)
                key = ("seed", f"m{m}") if folded else ("seed", f"m{m}", i)  # unfolded: a shift per question
                right += sum(sample_latent(shared, 0.7, k, *key) < ability.p_correct(x) for k in range(2))
            deviations.append(right / 328 - accuracy)
        return float(np.sqrt(np.mean(np.square(deviations))))

    assert rms(True) < 0.85 * rms(False)
