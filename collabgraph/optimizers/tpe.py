"""TPE: Optuna's Tree-structured Parzen Estimator over the decision variables, through Optuna's ask/tell API.

Each design is one Optuna trial with categorical parameters named ``slot{j}.role``, ``slot{j}.model``,
``slot{j}.samples`` and ``edge{i}-{j}`` (``True`` / ``False``). Rejected and over-budget trials are told as complete
with reward 0 (``Trial.reward``), not as failed: Optuna's TPE ignores failed trials, so it would keep sampling the
regions whose graphs break the budget; a zero teaches it to leave them.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from collabgraph.optimizers.base import Optimizer, Trial, require_positive
from collabgraph.optimizers.design import Design, Slot
from collabgraph.optimizers.random_search import edge_pairs
from collabgraph.optimizers.space import SearchSpace

if TYPE_CHECKING:
    import optuna

__all__ = ["TPE"]


class TPE(Optimizer):
    """Optuna's multivariate ``TPESampler`` (seeded, in-memory study) proposing designs.

    Optuna does not deduplicate, and many parameter sets decode to the same graph, so each design gets up to
    ``max_tries`` Optuna trials: one that decodes to a graph already told is told its known reward at once and
    another is asked; one that breaks the width / depth limits is told 0 (the driver would reject it); one that
    repeats a graph already in this batch is marked failed. If every try misses, the last try within the limits is
    proposed anyway (a repeat the driver answers from its log), or, when none was, the last try without its edges
    (a single-node graph always fits)."""

    name = "tpe"

    def __init__(self, space: SearchSpace, *, seed: int, batch: int, max_tries: int = 50) -> None:
        super().__init__()
        require_positive(batch=batch, max_tries=max_tries)
        import optuna

        optuna.logging.set_verbosity(optuna.logging.ERROR)
        with warnings.catch_warnings():
            # ``multivariate`` is marked experimental; it has been stable since Optuna 2.2.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True)
        self.space = space
        self.batch = batch
        self.max_tries = max_tries
        self._study = optuna.create_study(direction="maximize", sampler=sampler)
        self._pairs = edge_pairs(space.limits.nodes)
        self._known: dict[str, float] = {}
        self._pending: list[tuple[Design, optuna.trial.Trial]] = []

    def ask(self) -> list[Design]:
        if self._pending:
            raise RuntimeError("ask() called again before tell() answered the previous batch")
        batch_keys: set[str] = set()
        for _ in range(self.batch):
            design, trial = self._propose(batch_keys)
            batch_keys.add(design.key())
            self._pending.append((design, trial))
        return [d for d, _ in self._pending]

    async def tell(self, trials: Sequence[Trial]) -> None:
        if len(trials) != len(self._pending):
            raise ValueError(f"told {len(trials)} trials for a batch of {len(self._pending)}")
        for (design, trial), told in zip(self._pending, trials, strict=True):
            if told.design.key() != design.key():
                raise ValueError(f"trial {told.number} is not the design asked: {told.design.describe()}")
            self._study.tell(trial, told.reward)
            self._known[design.key()] = told.reward
        self._pending = []

    def _propose(self, batch_keys: set[str]) -> tuple[Design, optuna.trial.Trial]:
        from optuna.trial import TrialState

        fitting: Design | None = None
        trial = self._study.ask()
        design = self._suggest(trial)
        for attempt in range(self.max_tries):
            if attempt:
                trial = self._study.ask()
                design = self._suggest(trial)
            if design.within_limits(self.space):
                self._study.tell(trial, 0.0)
                continue
            fitting = design
            key = design.key()
            if key in self._known:
                self._study.tell(trial, self._known[key])
            elif key in batch_keys:
                self._study.tell(trial, state=TrialState.FAIL)
            else:
                return design, trial
        # Every try missed: propose a fallback through an enqueued trial, so Optuna records the design it gets.
        fallback = fitting if fitting is not None else Design(slots=design.slots)
        self._study.enqueue_trial(self._params(fallback))
        trial = self._study.ask()
        self.events.append(
            {
                "event": "fallback",
                "kind": "tpe",
                "reason": f"no new graph within the limits in {self.max_tries} trials; proposing "
                + ("a repeat" if fitting is not None else "a single-node graph"),
            }
        )
        return self._suggest(trial), trial

    def _suggest(self, trial: optuna.trial.Trial) -> Design:
        limits = self.space.limits
        slots = tuple(
            Slot(
                role=trial.suggest_categorical(f"slot{j}.role", list(self.space.roles)),
                model=trial.suggest_categorical(f"slot{j}.model", list(self.space.models)),
                samples=trial.suggest_categorical(f"slot{j}.samples", list(limits.samples)),
            )
            for j in range(limits.nodes)
        )
        edges = tuple((i, j) for i, j in self._pairs if trial.suggest_categorical(f"edge{i}-{j}", [False, True]))
        return Design(slots=slots, edges=edges)

    def _params(self, design: Design) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for j, slot in enumerate(design.slots):
            params |= {f"slot{j}.role": slot.role, f"slot{j}.model": slot.model, f"slot{j}.samples": slot.samples}
        present = set(design.edges)
        params |= {f"edge{i}-{j}": (i, j) in present for i, j in self._pairs}
        return params
