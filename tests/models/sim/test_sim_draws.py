"""Deterministic draws: SHA-256 uniforms and the latent blend that keeps uniformity."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st

from collabgraph.models.sim.draws import UNIT_CLIP, mix_latent, normal_ppf, rng, unit

unit_floats = st.floats(min_value=0.0, max_value=1.0)


def test_unit_is_a_pure_function_of_its_parts() -> None:
    assert unit("a", 1, "b") == unit("a", 1, "b")
    assert unit("a", 1, "b") != unit("a", 1, "c")
    # Parts are kept apart: joining them differently is a different draw.
    assert unit("a|b") != unit("a", "b")
    assert unit(1) != unit("1")


def test_unit_is_the_same_in_another_process() -> None:
    code = "from collabgraph.models.sim.draws import unit; print(repr(unit('seed', 3, 'm')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert float(out) == unit("seed", 3, "m")


@given(st.lists(st.text(max_size=8) | st.integers(), max_size=4))
def test_unit_stays_inside_the_open_interval(parts: list[object]) -> None:
    u = unit(*parts)
    assert UNIT_CLIP <= u <= 1 - UNIT_CLIP


def test_units_are_uniform() -> None:
    draws = [unit("uniformity", i) for i in range(20_000)]
    # Each tenth of [0, 1] holds 10 % of the draws (binomial sd 0.2 %).
    for decile in range(10):
        share = sum(decile / 10 <= d < (decile + 1) / 10 for d in draws) / len(draws)
        assert abs(share - 0.1) < 0.01


def test_rng_is_seeded_by_its_parts() -> None:
    assert rng("x", 1).random() == rng("x", 1).random()
    assert rng("x", 1).random() != rng("x", 2).random()


@given(unit_floats, unit_floats)
def test_mix_endpoints(shared: float, noise: float) -> None:
    assert mix_latent(shared, noise, 0.0) == shared
    assert mix_latent(shared, noise, 1.0) == noise
    assert 0.0 <= mix_latent(shared, noise, 0.5) <= 1.0


def test_mix_keeps_uniformity_and_moves_toward_noise() -> None:
    n = 4000
    pairs = [(unit("s", i), unit("n", i)) for i in range(n)]
    for share in (0.2, 0.5, 0.8):
        mixed = sorted(mix_latent(s, z, share) for s, z in pairs)
        # Kolmogorov–Smirnov distance to the uniform law (critical value at 1 % is 1.63/sqrt(n) = 0.026).
        ks = max(max(abs((i + 1) / n - m), abs(i / n - m)) for i, m in enumerate(mixed))
        assert ks < 0.026

    # The more noise, the less a sample's latent follows the shared one.
    def corr(share: float) -> float:
        xs = [s for s, _ in pairs]
        ys = [mix_latent(s, z, share) for s, z in pairs]
        mx, my = sum(xs) / n, sum(ys) / n
        cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
        return cov / (sum((x - mx) ** 2 for x in xs) * sum((y - my) ** 2 for y in ys)) ** 0.5

    assert corr(0.1) > corr(0.5) > corr(0.9) > 0


def test_normal_ppf_is_finite_at_the_edges() -> None:
    assert normal_ppf(0.0) < -6 < 6 < normal_ppf(1.0)
    assert abs(normal_ppf(0.5)) < 1e-12
