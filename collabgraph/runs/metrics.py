"""Accuracy statistics: confidence intervals, pass@k and majority voting (maj@k).

Every function here is pure and deterministic; the evaluation engine and the optimizers share them so that a
number printed by ``collabgraph eval`` means the same thing as one in a search report. Majority voting is the
vote node's own (``collabgraph.agents.voting``), so maj@k counts exactly what a majority vote node would answer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from statistics import fmean, variance

from collabgraph.agents.voting import Same, answer_classes, plurality

__all__ = ["cluster_ci", "maj_at_k", "majority", "majority_index", "pass_at_k", "wilson_ci"]


def _equal(a: str, b: str) -> bool:
    return a == b


def wilson_ci(successes: float, n: float, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion ``successes / n``.

    Unlike the normal approximation it stays inside [0, 1] and is not degenerate at 0 % or 100 %, which
    matters for small evaluations. ``n`` may be fractional (an effective sample size, see ``cluster_ci``).
    With ``n == 0`` nothing is known and the interval is [0, 1].
    """
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    if n == 0:
        return (0.0, 1.0)
    return _wilson(successes / n, n, z)


def _wilson(p: float, n: float, z: float) -> tuple[float, float]:
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denom
    half = z * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denom
    # The exact interval always contains p; min/max only absorb floating-point rounding at p = 0 or 1.
    low = min(max(0.0, centre - half), p)
    high = max(min(1.0, centre + half), p)
    return (low, high)


def cluster_ci(per_example_means: Sequence[float], samples: int | None = None, z: float = 1.96) -> tuple[float, float]:
    """Confidence interval for accuracy when each example was sampled K > 1 times.

    The K samples of one example are correlated (same question, same model), so the unit of sampling is the
    example, not the sample: treating the n·K samples as independent would give an interval far too narrow.
    The interval is Wilson's at the effective sample size ``n_eff = p(1−p) / (s² / n)``, where ``s²`` is the
    variance of the per-example mean correctness (the design effect of cluster sampling). ``n_eff`` is clamped
    to ``[n, n·K]``: K correlated samples carry at least the information of one and at most that of K
    independent ones (without ``samples`` the upper bound is dropped, except that a zero variance then falls
    back to ``n``).
    """
    n = len(per_example_means)
    if n == 0:
        return (0.0, 1.0)
    if any(not 0.0 <= m <= 1.0 for m in per_example_means):
        raise ValueError("per-example means must lie in [0, 1]")
    p = fmean(per_example_means)
    upper = float(n * samples) if samples is not None else math.inf
    s2 = variance(per_example_means) if n > 1 else 0.0
    if p in (0.0, 1.0):
        n_eff = float(n)
    elif s2 == 0.0:
        n_eff = upper if math.isfinite(upper) else float(n)
    else:
        n_eff = min(max(p * (1.0 - p) * n / s2, float(n)), upper)
    return _wilson(p, n_eff, z)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Chen et al. 2021, "Evaluating Large Language Models Trained on Code"): the probability
    that at least one of k samples drawn without replacement from n samples, c of them correct, is correct:
    ``1 − C(n−c, k) / C(n, k)``. Computed exactly with integers, so pass@1 is exactly ``c / n``."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    return float(1 - Fraction(math.comb(n - c, k), math.comb(n, k)))


def majority_index(answers: Sequence[str | None], same: Same = _equal) -> int | None:
    """Index of the first-seen member of the largest class of equivalent answers; None when no answer exists.

    Answers are grouped into classes by ``same`` (math-aware for math tasks: ``1/2`` and ``0.5`` vote
    together); unextracted answers (None) do not vote. Ties go to the class seen first, so the result is
    deterministic for a given order."""
    classes = answer_classes(answers, same)
    best = plurality([len(members) for _, members in classes])
    return None if best is None else classes[best][1][0]


def majority(answers: Sequence[str | None], same: Same = _equal) -> str | None:
    """The majority answer (self-consistency vote) of ``answers``; see ``majority_index`` for the rules."""
    i = majority_index(answers, same)
    return None if i is None else answers[i]


def maj_at_k(answers: Sequence[str | None], correct: Sequence[bool], k: int | None = None, same: Same = _equal) -> bool:
    """Whether the majority vote over the first ``k`` samples (all when None) is correct.

    ``correct[i]`` is sample i's verdict against the gold answer; the vote is correct when the winning
    class's first member is (its members are equivalent, so they share the verdict)."""
    if len(answers) != len(correct):
        raise ValueError(f"{len(answers)} answers but {len(correct)} verdicts")
    k = len(answers) if k is None else k
    if not 1 <= k <= len(answers):
        raise ValueError(f"need 1 <= k <= {len(answers)}, got k={k}")
    i = majority_index(answers[:k], same)
    return i is not None and correct[i]
