"""Exhaustive search: every distinct graph of a small space, in ``enumerate_designs`` order — the ground truth the
other optimizers are measured against."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from collabgraph.errors import CollabgraphError
from collabgraph.optimizers.base import Optimizer, Trial, require_positive
from collabgraph.optimizers.design import Design, enumerate_designs
from collabgraph.optimizers.space import SearchSpace

__all__ = ["EXHAUSTIVE_CAP", "EXHAUSTIVE_MAX_NODES", "Exhaustive", "SpaceTooLargeError"]

EXHAUSTIVE_CAP = 20_000
"""The most graphs exhaustive search accepts by default."""

EXHAUSTIVE_MAX_NODES = 6
"""The most slots exhaustive search accepts: enumerating walks all 2^(n(n-1)/2) edge sets, however few graphs the
width / depth limits leave: 2^15 at 6 slots (seconds), 2^21 at 7 (minutes), 2^28 at 8 (hours)."""


class SpaceTooLargeError(CollabgraphError):
    """A search space too large to enumerate; the message says how large and how to shrink it."""

    def __init__(self, space: SearchSpace, what: str) -> None:
        self.space = space
        super().__init__(
            f"exhaustive search refused: the search space {space.name!r} {what} "
            f"({space.limits.nodes} nodes, {len(space.models)} models, {len(space.roles)} roles, "
            f"{len(space.limits.samples)} sample counts); use fewer nodes or models (or tighter limits.width / "
            "limits.depth), or a sampling optimizer: random, tpe, reinforce, agent-reinforce"
        )


class Exhaustive(Optimizer):
    """Proposes ``enumerate_designs(space)`` in order, ``batch`` at a time, then reports ``exhausted``.

    Raises ``SpaceTooLargeError`` when the space holds more than ``cap`` graphs or more than
    ``EXHAUSTIVE_MAX_NODES`` slots. ``seed`` is accepted for a uniform interface; the order does not depend on it."""

    name = "exhaustive"

    def __init__(self, space: SearchSpace, *, seed: int, batch: int, cap: int = EXHAUSTIVE_CAP) -> None:
        super().__init__()
        require_positive(batch=batch)
        if space.limits.nodes > EXHAUSTIVE_MAX_NODES:
            raise SpaceTooLargeError(
                space, f"has {space.limits.nodes} nodes (at most {EXHAUSTIVE_MAX_NODES} can be enumerated)"
            )
        designs = list(itertools.islice(enumerate_designs(space), cap + 1))
        if len(designs) > cap:
            raise SpaceTooLargeError(space, f"holds more than {cap:,} distinct graphs (the cap)")
        self.space = space
        self.batch = batch
        self.designs = designs
        self._next = 0

    @property
    def total(self) -> int:
        """How many graphs the space holds."""
        return len(self.designs)

    @property
    def exhausted(self) -> bool:
        return self._next >= len(self.designs)

    def ask(self) -> list[Design]:
        out = self.designs[self._next : self._next + self.batch]
        self._next += len(out)
        return out

    async def tell(self, trials: Sequence[Trial]) -> None:
        """Exhaustive search learns nothing from its trials."""
