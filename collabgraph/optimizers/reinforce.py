"""Numeric REINFORCE on edges, after GPTSwarm (Zhuge et al. 2024, "GPTSwarm: Language Agents as Optimizable
Graphs"): the graph is a distribution — an independent Bernoulli per possible edge ``i → j`` with probability
``sigmoid(logit)`` — and each step moves the edge logits along the score-function estimate of the gradient of the
expected reward.

As in GPTSwarm only the edges learn. Each slot also holds categorical logits over roles, models and sample counts
(the parameters Agent-REINFORCE learns as well); here they stay at zero, so every design draws its slots uniformly.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import TypeVar

from collabgraph.optimizers.base import Optimizer, Trial, require_positive
from collabgraph.optimizers.design import Design, Slot
from collabgraph.optimizers.random_search import edge_pairs
from collabgraph.optimizers.space import Role, SearchSpace

__all__ = ["LOGIT_BOUND", "Reinforce"]

LOGIT_BOUND = 6.0
"""Edge logits stay in ``[-6, 6]`` (probabilities 0.0025 … 0.9975), so no edge is ever ruled in or out for good."""


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


T = TypeVar("T")


def _categorical(rng: random.Random, choices: Sequence[T], logits: Sequence[float]) -> T:
    top = max(logits)
    weights = [math.exp(v - top) for v in logits]
    u = rng.random() * sum(weights)
    for choice, w in zip(choices, weights, strict=True):
        u -= w
        if u < 0:
            return choice
    return choices[-1]


class Reinforce(Optimizer):
    """GPTSwarm-style edge optimisation.

    ``ask`` draws ``batch`` designs: slots uniformly (their logits are frozen at zero), each edge from its
    Bernoulli; a draw that breaks the width / depth limits is redrawn, up to ``max_tries`` times, and then proposed
    without its edges (a single-node graph always fits). ``tell`` takes one gradient-ascent step on the edge logits:

        logit_e += learning_rate · mean_k (reward_k − baseline) · (x_ke − p_e),   clipped to [−6, 6]

    where ``x_ke`` is 1 when design ``k`` has edge ``e`` and ``p_e`` the probability it was drawn with. The baseline
    is the mean reward of all previous batches (the batch's own mean on the first step). Repeated graphs are kept:
    each draw is one sample of the policy."""

    name = "reinforce"

    def __init__(self, space: SearchSpace, *, seed: int, batch: int, max_tries: int = 1000) -> None:
        super().__init__()
        require_positive(batch=batch, max_tries=max_tries)
        self.space = space
        self.batch = batch
        self.max_tries = max_tries
        self.learning_rate = space.optimizer.learning_rate
        self.pairs = edge_pairs(space.limits.nodes)
        self.edge_logits = [0.0] * len(self.pairs)
        nodes = space.limits.nodes
        self.role_logits = [[0.0] * len(space.roles) for _ in range(nodes)]
        self.model_logits = [[0.0] * len(space.models) for _ in range(nodes)]
        self.samples_logits = [[0.0] * len(space.limits.samples) for _ in range(nodes)]
        self._rng = random.Random(seed)
        self._reward_sum = 0.0
        self._reward_count = 0

    def edge_probabilities(self) -> dict[tuple[int, int], float]:
        """Each possible edge's current probability."""
        return {p: _sigmoid(v) for p, v in zip(self.pairs, self.edge_logits, strict=True)}

    def ask(self) -> list[Design]:
        return [self._draw() for _ in range(self.batch)]

    async def tell(self, trials: Sequence[Trial]) -> None:
        if not trials:
            return
        rewards = [t.reward for t in trials]
        mean = sum(rewards) / len(rewards)
        baseline = self._reward_sum / self._reward_count if self._reward_count else mean
        probs = [_sigmoid(v) for v in self.edge_logits]
        for e, pair in enumerate(self.pairs):
            grad = sum(
                (r - baseline) * ((pair in t.design.edges) - probs[e]) for r, t in zip(rewards, trials, strict=True)
            )
            step = self.edge_logits[e] + self.learning_rate * grad / len(trials)
            self.edge_logits[e] = min(LOGIT_BOUND, max(-LOGIT_BOUND, step))
        self._reward_sum += sum(rewards)
        self._reward_count += len(rewards)
        self.events.append(
            {
                "event": "update",
                "kind": "reinforce",
                "baseline": baseline,
                "mean_reward": mean,
                "edges": {f"{i}-{j}": round(p, 4) for (i, j), p in self.edge_probabilities().items()},
            }
        )

    def _sample(self) -> Design:
        space, rng = self.space, self._rng
        slots = []
        for j in range(space.limits.nodes):
            role: Role = _categorical(rng, space.roles, self.role_logits[j])
            model = _categorical(rng, space.models, self.model_logits[j])
            samples = _categorical(rng, space.limits.samples, self.samples_logits[j])
            slots.append(Slot(role=role, model=model, samples=samples))
        edges = tuple(p for p, v in zip(self.pairs, self.edge_logits, strict=True) if rng.random() < _sigmoid(v))
        return Design(slots=tuple(slots), edges=edges)

    def _draw(self) -> Design:
        design = self._sample()
        for _ in range(self.max_tries - 1):
            if not design.within_limits(self.space):
                return design
            design = self._sample()
        if not design.within_limits(self.space):
            return design
        self.events.append(
            {
                "event": "fallback",
                "kind": "reinforce",
                "reason": f"no draw within the limits in {self.max_tries} tries; proposing a single-node graph",
            }
        )
        return Design(slots=design.slots)
