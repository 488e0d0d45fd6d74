"""Deterministic randomness for the simulator: every draw is a SHA-256 of its named inputs, never ``hash()``.

A draw depends only on the strings and numbers it is given, so the same (seed, model, question, sample index)
gives the same sample in every process, on every machine, whatever the batching.
"""

from __future__ import annotations

import hashlib
import math
import random
from statistics import NormalDist

__all__ = ["UNIT_CLIP", "mix_latent", "normal_ppf", "rng", "unit"]

UNIT_CLIP = 1e-12
"""Uniforms are kept inside [UNIT_CLIP, 1 - UNIT_CLIP] so that their normal quantile is finite."""

_NORMAL = NormalDist()


def _digest(parts: tuple[object, ...]) -> bytes:
    # The separator cannot appear inside repr() of a str or int, so ("a|b",) and ("a", "b") never collide.
    key = "\x1f".join(repr(p) for p in parts)
    return hashlib.sha256(key.encode("utf-8")).digest()


def unit(*parts: object) -> float:
    """A uniform number in (0, 1) determined by ``parts``."""
    value = int.from_bytes(_digest(parts)[:8], "big") / 2.0**64
    return min(max(value, UNIT_CLIP), 1.0 - UNIT_CLIP)


def rng(*parts: object) -> random.Random:
    """A ``random.Random`` seeded from ``parts`` (for choosing words and lengths of text)."""
    return random.Random(int.from_bytes(_digest(parts)[:16], "big"))


def normal_ppf(u: float) -> float:
    """The standard normal quantile of ``u`` (clipped into the open unit interval)."""
    return _NORMAL.inv_cdf(min(max(u, UNIT_CLIP), 1.0 - UNIT_CLIP))


def mix_latent(shared: float, noise: float, noise_share: float) -> float:
    """Blend a shared uniform with a per-sample uniform, keeping the result uniform.

    Both are mapped to normal scores and combined as ``sqrt(1 - s) * z_shared + sqrt(s) * z_noise`` with
    ``s = noise_share`` in [0, 1]; the sum is again standard normal, so the blend is uniform whatever ``s`` is.
    ``s = 0`` returns ``shared`` itself (every sample alike); ``s = 1`` returns ``noise`` (samples independent).
    """
    if noise_share <= 0.0:
        return shared
    if noise_share >= 1.0:
        return noise
    z = math.sqrt(1.0 - noise_share) * normal_ppf(shared) + math.sqrt(noise_share) * normal_ppf(noise)
    return _NORMAL.cdf(z)
