"""Item response theory for the simulator: question difficulty, model ability, and who gets what right.

Each question has a difficulty percentile ``x`` in [0, 1] (0 easiest) and a difficulty ``b = Φ⁻¹(x)``, so the
difficulties of a task are standard normal. A model has an ability ``θ`` per task and answers a question of
difficulty ``b`` correctly with probability ``σ(a·(θ − b))``. ``θ`` is solved by bisection so that the mean of
that probability over the task, ``E_{b~N(0,1)}[σ(a·(θ − b))]``, equals the model's published accuracy.
Because every model sees the same ``b``, hard questions are hard for all of them: errors correlate.

Variance reduction. A single model's realized accuracy on N questions would wander by about
``sqrt(p·(1 − p)/N)`` (2.9 points at N = 300) if each question were an independent coin flip. Instead the
percentile axis is cut into ``STRATA`` equal strata; in stratum ``j`` the model is right on a fraction
``p̄_j`` (the stratum's mean of the IRT curve) of it, laid out as one arc of the stratum, starting at an offset
drawn per (model, task, stratum). Whether a question is right is therefore still "random" per model (the arc
lands anywhere), but over any set of questions whose percentiles are evenly spread — a whole task, whose
percentiles are distinct ranks, or ids numbered 0..N−1 (see ``percentile``) — the count is off by at most about
one question per stratum, so the realized accuracy lands within ``≈ sqrt(STRATA)/(2N)`` of the target
instead of ``sqrt(p(1 − p)/N)``. Two models' arcs have independent offsets, so their errors correlate only
through the shared difficulty, as the IRT model intends.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from collabgraph.models.sim.draws import normal_ppf, unit

__all__ = [
    "ACCURACY_CLIP",
    "DISCRIMINATION",
    "PERCENTILE_CLIP",
    "QUADRATURE_POINTS",
    "STRATA",
    "Ability",
    "difficulty",
    "knowledge_latent",
    "percentile",
    "solve_theta",
    "stratum",
    "stratum_accuracies",
]

DISCRIMINATION = 1.8
"""The IRT slope ``a``. Fitted on real data: for each of the 29 models recorded on all 12,032 MMLU-Pro questions
(``mmlu_pro/model_predictions.csv``), the maximum-likelihood ``a`` of ``σ(a·(θ − Φ⁻¹(x)))`` where ``x`` is the
question's percentile by how many of the *other* 28 models got it wrong; the median over the 29 models is
1.8 (range 1.1–2.2). ``tests/models/sim/test_irt.py`` refits it."""

STRATA = 8
"""Equal strata of the difficulty percentile used for variance reduction (see the module docstring). More
strata follow the IRT curve more finely; fewer make the realized accuracy tighter (error ≈ sqrt(STRATA)/(2N))."""

QUADRATURE_POINTS = 64
"""Midpoint-rule points per stratum for a stratum's mean accuracy ``p̄_j`` (error far below 0.1 point)."""

PERCENTILE_CLIP = 1e-4
"""Percentiles are clipped to [PERCENTILE_CLIP, 1 − PERCENTILE_CLIP] before ``Φ⁻¹`` so that ``b`` stays finite
(|b| ≤ 3.72)."""

ACCURACY_CLIP = (0.001, 0.999)
"""Published accuracies are clipped into this range before solving for ``θ`` (0 or 1 would need an infinite
ability); only ``sim/oracle`` is always right."""

_THETA_BRACKET = (-20.0, 20.0)
_BISECTION_STEPS = 80

_TRAILING_INDEX = re.compile(r"^(.*?)(\d+)$")


def _radical_inverse(n: int) -> float:
    """The base-2 van der Corput value of ``n``: 0, 0.5, 0.25, 0.75, 0.125, … (evenly spread for any prefix)."""
    out, denom = 0.0, 1.0
    while n:
        denom *= 2.0
        n, bit = divmod(n, 2)
        out += bit / denom
    return out


def percentile(example_id: str, given: float | None) -> float:
    """The question's difficulty percentile: ``given`` (the task's percentile rank) when known.

    Otherwise one derived from the id alone: for ids ending in an index (``HumanEval/17``,
    ``countdown/0/17``) the van der Corput value of the index, rotated by a SHA-256 of the prefix, so that
    questions 0..N−1 of a task have evenly spread percentiles (low discrepancy, which keeps the variance
    reduction working on them); for any other id a uniform number from a SHA-256 of the id.
    """
    if given is not None:
        return min(max(float(given), 0.0), 1.0)
    m = _TRAILING_INDEX.match(example_id)
    if m:
        prefix, index = m.group(1), int(m.group(2))
        return (_radical_inverse(index) + unit("percentile-rotation", prefix)) % 1.0
    return unit("percentile", example_id)


def difficulty(x: float) -> float:
    """The IRT difficulty ``b = Φ⁻¹(x)`` of a percentile (clipped by PERCENTILE_CLIP)."""
    return normal_ppf(min(max(x, PERCENTILE_CLIP), 1.0 - PERCENTILE_CLIP))


def stratum(x: float) -> int:
    """The stratum (0 … STRATA−1) holding percentile ``x``."""
    return min(int(x * STRATA), STRATA - 1)


def _sigmoid(t: float) -> float:
    if t >= 0:
        return 1.0 / (1.0 + math.exp(-t))
    e = math.exp(t)
    return e / (1.0 + e)


@lru_cache(maxsize=1)
def _quadrature_b() -> tuple[tuple[float, ...], ...]:
    """Difficulties at the midpoints of QUADRATURE_POINTS sub-intervals of each stratum."""
    width = 1.0 / (STRATA * QUADRATURE_POINTS)
    return tuple(
        tuple(difficulty((j * QUADRATURE_POINTS + i + 0.5) * width) for i in range(QUADRATURE_POINTS))
        for j in range(STRATA)
    )


def stratum_accuracies(theta: float, a: float = DISCRIMINATION) -> tuple[float, ...]:
    """``p̄_j``: the mean of ``σ(a·(θ − b))`` over each stratum of percentiles, easiest stratum first."""
    return tuple(sum(_sigmoid(a * (theta - b)) for b in bs) / len(bs) for bs in _quadrature_b())


def _mean_accuracy(theta: float, a: float) -> float:
    return sum(stratum_accuracies(theta, a)) / STRATA


@lru_cache(maxsize=4096)
def solve_theta(accuracy: float, a: float = DISCRIMINATION) -> float:
    """The ability ``θ`` whose mean accuracy over standard-normal difficulties equals ``accuracy``
    (bisection; the mean is increasing in ``θ``). ``accuracy`` is clipped by ACCURACY_CLIP."""
    target = min(max(accuracy, ACCURACY_CLIP[0]), ACCURACY_CLIP[1])
    lo, hi = _THETA_BRACKET
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        if _mean_accuracy(mid, a) < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def knowledge_latent(model: str, task: str, x: float) -> float:
    """The per-(model, question) uniform latent: the question's position within its stratum, measured from
    the start of the model's "right" arc (an offset drawn per model, task and stratum). The model knows the
    question when the latent is below the stratum's accuracy ``p̄_j``."""
    j = stratum(x)
    offset = unit("stratum-offset", model, task, j)
    return (x * STRATA - j - offset) % 1.0


@dataclass(frozen=True)
class Ability:
    """A model's calibrated ability on one task.

    ``accuracy`` is the figure it was calibrated to; ``source`` says where it came from (the pool entry's
    citation, or how a fallback was derived); ``strata`` are the per-stratum accuracies ``p̄_j``."""

    accuracy: float
    theta: float
    source: str
    strata: tuple[float, ...]

    @classmethod
    def calibrated(cls, accuracy: float, source: str) -> Ability:
        """The ability whose expected accuracy over the task is ``accuracy``."""
        theta = solve_theta(accuracy)
        return cls(accuracy=accuracy, theta=theta, source=source, strata=stratum_accuracies(theta))

    def p_correct(self, x: float) -> float:
        """The chance of answering a question at percentile ``x`` alone: its stratum's accuracy."""
        return self.strata[stratum(x)]

    def logit(self, x: float) -> float:
        """``a·(θ − b)`` for the question at percentile ``x`` (the IRT log-odds of solving it)."""
        return DISCRIMINATION * (self.theta - difficulty(x))

    def p_with_bonus(self, x: float, bonus_logit: float) -> float:
        """``σ(a·(θ − b) + bonus)``: the IRT curve shifted by ``bonus_logit`` (used for verification skill)."""
        return _sigmoid(self.logit(x) + bonus_logit)
