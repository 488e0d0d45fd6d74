"""How samples of one model on one question vary: temperature, and which wrong answer a wrong sample gives."""

from __future__ import annotations

from collections.abc import Sequence

from collabgraph.models.sim.draws import mix_latent, unit

__all__ = [
    "GOLDEN_STEP",
    "NOISE_FOLDS",
    "TEMPERATURE_HALF_NOISE",
    "ZIPF_EXPONENT",
    "noise_share",
    "sample_latent",
    "sample_noise",
    "zipf_index",
    "zipf_weights",
]

TEMPERATURE_HALF_NOISE = 1.0
"""The temperature at which half of a sample's latent variance is per-sample noise and half is shared by all
samples of the model on the question (``noise_share(T) = T² / (T² + TEMPERATURE_HALF_NOISE²)``). At T = 0 every
sample is the greedy one; at T = 0.7 about a third of the variance is noise; at high T samples are nearly
independent draws with the model's per-question accuracy."""

GOLDEN_STEP = (5**0.5 - 1) / 2
"""The step of the per-sample noise sequence (the golden ratio's fractional part: the most evenly spreading
step of any Kronecker sequence)."""

NOISE_FOLDS = 13
"""How many times the shared latent is folded into the per-sample noise (see ``sample_noise``). Measured on
164 evenly spread questions × 2 samples at T = 0.7 over 60 synthetic models: the rms gap between realized and
target accuracy falls from 1.24 points (a noise shift drawn per question) to 0.95; 7 and 29 folds do no better
(``tests/models/sim/test_sim_sampling.py`` re-measures it)."""

ZIPF_EXPONENT = 1.45
"""Wrong answers of one question are drawn with probability ∝ rank^−s over its ranked plausible wrong answers
(most popular first), the same law for every model, so that wrong votes pile up on a few popular mistakes.
Fitted on real data: over the MMLU-Pro questions that at least six of the 29 recorded models got wrong, the
rank-frequency of their wrong letters (sorted per question) is matched best by s = 1.45 when simulated the same
way (sorting included) over nine wrong options; the most popular wrong letter takes half of the wrong votes."""


def noise_share(temperature: float) -> float:
    """The fraction of a sample's latent variance that is independent per sample at this temperature."""
    if temperature <= 0.0:
        return 0.0
    t2 = temperature * temperature
    return t2 / (t2 + TEMPERATURE_HALF_NOISE * TEMPERATURE_HALF_NOISE)


def sample_noise(shared: float, index: int, *key: object) -> float:
    """The per-sample noise uniform of sample ``index`` of a question whose shared latent is ``shared``.

    ``(NOISE_FOLDS · shared + shift(key) + index · GOLDEN_STEP) mod 1``, with ``key`` = (seed, model, task,
    role). Two variance reductions in one: over the samples of one question it is a golden-ratio (Kronecker)
    sequence, so any run of samples spreads evenly over [0, 1] (consecutive samples are nearly antithetic);
    over questions it is the shared latent folded NOISE_FOLDS times, so it inherits the shared latent's even
    spread (see ``irt``) instead of adding independent noise per question. Each sample's noise is still
    uniform, and (shared, noise) pairs fill the unit square evenly, so the blend keeps the calibration."""
    return (NOISE_FOLDS * shared + unit("sample-noise", *key) + index * GOLDEN_STEP) % 1.0


def sample_latent(shared: float, temperature: float, index: int, *key: object) -> float:
    """Sample ``index``'s uniform latent: the shared per-question latent blended with the sample's noise
    (``sample_noise(shared, index, *key)``) by ``noise_share(temperature)``; exactly ``shared`` at T = 0."""
    share = noise_share(temperature)
    if share == 0.0:
        return shared
    return mix_latent(shared, sample_noise(shared, index, *key), share)


def zipf_weights(count: int, exponent: float = ZIPF_EXPONENT) -> list[float]:
    """Normalised weights ∝ rank^−exponent for ranks 1..count."""
    raw = [(rank + 1) ** -exponent for rank in range(count)]
    total = sum(raw)
    return [w / total for w in raw]


def zipf_index(u: float, count: int, exponent: float = ZIPF_EXPONENT) -> int:
    """The rank (0-based) that the uniform ``u`` selects under the Zipf law over ``count`` options."""
    if count <= 0:
        raise ValueError("zipf_index needs at least one option")
    acc = 0.0
    weights: Sequence[float] = zipf_weights(count, exponent)
    for i, w in enumerate(weights):
        acc += w
        if u < acc:
            return i
    return count - 1
