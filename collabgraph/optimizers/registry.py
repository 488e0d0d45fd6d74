"""Optimizers by name, as ``collabgraph optimize --optimizer NAME`` and a search space's ``optimizer.name`` give it."""

from __future__ import annotations

from typing import Any

from collabgraph.errors import UnknownNameError
from collabgraph.optimizers.base import Optimizer
from collabgraph.optimizers.exhaustive import Exhaustive
from collabgraph.optimizers.random_search import RandomSearch
from collabgraph.optimizers.reinforce import Reinforce
from collabgraph.optimizers.space import OPTIMIZER_NAMES, SearchSpace
from collabgraph.optimizers.tpe import TPE

__all__ = ["make_optimizer"]


def make_optimizer(name: str, space: SearchSpace, *, seed: int, batch: int, **extra: Any) -> Optimizer:
    """A fresh optimizer ``name`` over ``space``. ``extra`` carries what ``agent-reinforce`` needs (``priors``,
    ``gateway``, ``pool``); the baselines ignore it, so a driver may pass the same arguments whatever the name.
    Raises ``UnknownNameError`` (with the nearest names) for a name that is none of ``OPTIMIZER_NAMES``."""
    match name:
        case "random":
            return RandomSearch(space, seed=seed, batch=batch)
        case "exhaustive":
            return Exhaustive(space, seed=seed, batch=batch)
        case "tpe":
            return TPE(space, seed=seed, batch=batch)
        case "reinforce":
            return Reinforce(space, seed=seed, batch=batch)
        case "agent-reinforce":
            from collabgraph.optimizers.agent_reinforce import AgentReinforce

            return AgentReinforce(space, seed=seed, batch=batch, **extra)
    raise UnknownNameError("optimizer", name, OPTIMIZER_NAMES)
