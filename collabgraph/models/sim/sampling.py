"""How samples of one model on one question vary: temperature, and which wrong answer a wrong sample gives."""

from __future__ import annotations

from collections.abc import Sequence

from collabgraph.models.sim.draws import mix_latent, unit

__all__ = ["TEMPERATURE_HALF_NOISE", "ZIPF_EXPONENT", "noise_share", "sample_latent", "zipf_index", "zipf_weights"]

TEMPERATURE_HALF_NOISE = 1.0
"""The temperature at which half of a sample's latent variance is per-sample noise and half is shared by all
samples of the model on the question (``noise_share(T) = T² / (T² + TEMPERATURE_HALF_NOISE²)``). At T = 0 every
sample is the greedy one; at T = 0.7 about a third of the variance is noise; at high T samples are nearly
independent draws with the model's per-question accuracy."""

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


def sample_latent(shared: float, temperature: float, *noise_key: object) -> float:
    """A sample's uniform latent: the shared per-question latent blended with per-sample noise keyed by
    ``noise_key`` (seed, model, question, sample index, …); exactly ``shared`` at temperature 0."""
    share = noise_share(temperature)
    if share == 0.0:
        return shared
    return mix_latent(shared, unit("sample-noise", *noise_key), share)


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
