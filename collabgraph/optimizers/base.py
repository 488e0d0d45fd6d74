"""The ask/tell interface every optimizer implements, and what the driver tells them.

As in Optuna, the driver owns evaluation, caching, logging and resume; an optimizer owns only its search state.
``ask`` proposes a batch of designs; ``tell`` hands back one ``Trial`` per proposed design, in order. An optimizer
must be deterministic given its seed and what it was told: that is how an interrupted search resumes (the driver
replays the log into a fresh optimizer, and every decision comes out the same).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from collabgraph.optimizers.design import Design

__all__ = ["Measures", "Optimizer", "Priors", "Trial", "TrialStatus", "require_positive"]

TrialStatus = Literal["ok", "over_budget", "rejected"]


class Measures(BaseModel):
    """Cost per query (means over examples): FLOPs, US dollars, prompt + completion tokens, critical-path seconds."""

    model_config = ConfigDict(frozen=True)
    flops: float = 0.0
    usd: float = 0.0
    tokens: float = 0.0
    latency_s: float = 0.0

    def over(self, limits: dict[str, float]) -> dict[str, float]:
        """The measures above their limit (name → value)."""
        values = self.model_dump()
        return {k: values[k] for k, cap in limits.items() if values[k] > cap * (1 + 1e-9)}


class Priors(BaseModel):
    """What an optimizer may know before searching: each model's single-model dev accuracy on the task, where it
    came from (``pool`` for a published score in the pool file, ``measured`` for a single-model run), and each
    model's size and family."""

    model_config = ConfigDict(frozen=True)
    accuracy: dict[str, float]
    source: dict[str, Literal["pool", "measured"]] = Field(default_factory=dict)
    params_b: dict[str, float] = Field(default_factory=dict)
    family: dict[str, str] = Field(default_factory=dict)


class Trial(BaseModel):
    """One proposed design and what became of it.

    ``design`` is what the optimizer asked for; ``evaluated`` is what ran (the repaired design when the estimate was
    over budget and dropping nodes fixed it; None when it was rejected). ``status``: ``ok`` (ran, measured within
    budget), ``over_budget`` (ran, but measured over budget), ``rejected`` (estimated over budget and not
    repairable, or outside the width / depth limits; never ran). ``reward`` is what optimizers maximise: the dev
    accuracy when ``ok``, else 0."""

    model_config = ConfigDict(frozen=True)
    number: int
    design: Design
    evaluated: Design | None = None
    key: str | None = None
    status: TrialStatus
    repaired: bool = False
    reason: str = ""
    estimate: Measures | None = None
    measured: Measures | None = None
    accuracy: float | None = None
    examples: int = 0
    errors: int = 0

    @property
    def feasible(self) -> bool:
        return self.status == "ok"

    @property
    def reward(self) -> float:
        return self.accuracy if self.status == "ok" and self.accuracy is not None else 0.0


def require_positive(**sizes: int) -> None:
    """Raise ValueError naming the first of ``sizes`` (``batch``, ``max_tries`` …) that is below 1."""
    for name, value in sizes.items():
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")


class Optimizer(ABC):
    """Proposes designs and learns from their trials. ``events`` collects what the optimizer wants logged (which
    update it used, an optimizer LLM's reply, a fallback and why); the driver drains it after every ``tell``."""

    name: str = ""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.preview: Callable[[Design], str | None] | None = None
        """Set by the driver: the key of the graph that would run for a design once the budget repair is applied,
        or None when the design would be rejected. Samplers use it to skip proposals that cannot teach anything
        new; it depends only on what was told, so replays stay deterministic."""

    def outcome_key(self, design: Design) -> str | None:
        """The key of the graph that would run for ``design`` (see ``preview``); its own key without a driver."""
        return self.preview(design) if self.preview is not None else design.key()

    @property
    def exhausted(self) -> bool:
        """True when the optimizer has nothing left to propose (exhaustive search at the end of its space)."""
        return False

    @abstractmethod
    def ask(self) -> list[Design]:
        """The next batch of designs to evaluate (non-empty unless ``exhausted``)."""

    @abstractmethod
    async def tell(self, trials: Sequence[Trial]) -> None:
        """The outcome of the last ``ask``: one trial per design, in the order asked."""

    def drain_events(self) -> list[dict[str, Any]]:
        out, self.events = self.events, []
        return out
