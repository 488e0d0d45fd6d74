"""Random search: designs drawn uniformly over the decision variables, each distinct graph proposed once.

Every slot draws its role among ``space.roles``, its model among ``space.models`` and its sample count among
``space.limits.samples``; every pair ``i < j`` carries an edge with probability 1/2. A draw that breaks the width /
depth limits, or decodes to a graph already proposed (same ``Design.key()``), is redrawn: sampling without
replacement over distinct graphs. Because many draws decode to the same small graph, the distribution over graphs is
not uniform: it is the one the decision variables induce, as in the usual random-search baseline.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from collabgraph.optimizers.base import Optimizer, Trial, require_positive
from collabgraph.optimizers.design import Design, Slot
from collabgraph.optimizers.space import SearchSpace

__all__ = ["RandomSearch", "edge_pairs", "sample_design"]


def edge_pairs(nodes: int) -> list[tuple[int, int]]:
    """Every possible edge ``(i, j)``, ``i < j < nodes``, sorted (so edges picked in this order stay sorted)."""
    return [(i, j) for i in range(nodes) for j in range(i + 1, nodes)]


def sample_design(space: SearchSpace, rng: random.Random) -> Design:
    """One design drawn uniformly over the decision variables (limits not checked)."""
    slots = tuple(
        Slot(role=rng.choice(space.roles), model=rng.choice(space.models), samples=rng.choice(space.limits.samples))
        for _ in range(space.limits.nodes)
    )
    edges = tuple(p for p in edge_pairs(space.limits.nodes) if rng.random() < 0.5)
    return Design(slots=slots, edges=edges)


class RandomSearch(Optimizer):
    """Uniform random search without replacement over distinct graphs.

    Each design gets at most ``max_tries`` draws to find a graph within the limits that was not proposed before.
    When none does (the space is nearly used up, or the limits reject almost every draw) it proposes the last draw
    within the limits, a repeat the driver answers from its log, or, if no draw fit, that draw without its edges (a
    single-node graph always fits); an event says so. It never loops forever, and it ignores what it is told."""

    name = "random"

    def __init__(self, space: SearchSpace, *, seed: int, batch: int, max_tries: int = 1000) -> None:
        super().__init__()
        require_positive(batch=batch, max_tries=max_tries)
        self.space = space
        self.batch = batch
        self.max_tries = max_tries
        self._rng = random.Random(seed)
        self._proposed: set[str] = set()

    def ask(self) -> list[Design]:
        return [self._draw() for _ in range(self.batch)]

    async def tell(self, trials: Sequence[Trial]) -> None:
        """Random search learns nothing from its trials."""

    def _draw(self) -> Design:
        last = sample_design(self.space, self._rng)
        fitting: Design | None = None
        for attempt in range(self.max_tries):
            if attempt:
                last = sample_design(self.space, self._rng)
            if last.within_limits(self.space):
                continue
            key = self.outcome_key(last)
            if key is None:
                continue  # over budget even when repaired: it would be rejected
            fitting = last
            if key not in self._proposed:
                self._proposed.add(key)
                return last
        design = fitting if fitting is not None else Design(slots=last.slots)
        self._proposed.add(design.key())
        self.events.append(
            {
                "event": "fallback",
                "kind": "random",
                "reason": f"no new graph within the limits in {self.max_tries} draws; proposing "
                + ("a repeat" if fitting is not None else "a single-node graph"),
            }
        )
        return design
