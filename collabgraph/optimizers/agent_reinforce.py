"""Agent-REINFORCE: search collaboration graphs by updating a probabilistic graph from the graphs it samples.

After Wang et al., "Generalizing Test-time Compute-optimal Scaling as an Optimizable Graph" (arXiv:2511.00086). The
search state is a ``GraphDistribution`` over the designs of ``limits.nodes`` slots: an independent Bernoulli per
edge ``i → j``, a categorical role per slot (slots 1 … nodes-1: slot 0 never has inputs), a categorical model and a
categorical sample count per slot. Each step samples a batch of designs from it (``ask``); after they are scored,
``tell`` updates it:

- **textual** (with an optimizer LLM: ``space.optimizer.model`` and a gateway): the LLM reads the current
  probabilities and every trial so far and answers with a JSON ``ProbabilityUpdate`` (``updates``), the "textual
  gradient". Invalid replies are re-asked up to ``space.optimizer.retries`` times with the validation error
  appended; still invalid, or a failed call, and the step is numeric instead. The reply is mixed in:
  ``p ← (1 − α)·p + α·p_llm`` with ``α = min(learning_rate, 1)``.
- **numeric** (REINFORCE, without an optimizer LLM or as the fallback): the score-function estimate on the
  logits, ``θ ← θ + lr · mean_k A_k ∇θ log p(x_k)``, with the advantage ``A_k = (r_k − b_k) / s`` (``b_k`` the
  mean reward of the batch's other trials, a leave-one-out baseline; for a batch of one, the mean of the earlier
  trials; ``s`` the standard deviation of every reward so far, at least REWARD_SCALE_FLOOR). Only the choices that shaped the graph that ran count (an edge into a dropped slot
  or the model of a vote node changed nothing); when the driver repaired a proposal to fit the budget, the
  repaired design's choices earned the reward, not the proposal's.

Every probability stays within [PROB_FLOOR, 1 − PROB_FLOOR] after every update: nothing is ever ruled out.

The initial distribution is built from priors, each a documented constant below: the models' single-model
accuracy on the task (stronger models likelier; the aggregator and output slots lean hard to the strongest), the
model family that does best on the task, smaller models for the answering slots under a compute budget, and a
preferred shape (width and depth each have a sweet spot, and deeper graphs want narrower layers), the paper's
three observations.

Determinism: given (space, seed, priors, tells) every ``ask`` is the same — the only randomness is the
optimizer's own ``random.Random(seed)``, and the optimizer LLM is called at temperature 0 with a fixed seed, so
the gateway's cache answers a replayed request with the reply it gave the first time.
"""

from __future__ import annotations

import json
import math
import random
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from collabgraph.errors import ConfigError, ErrorItem, closest
from collabgraph.models.pool import ModelPool
from collabgraph.models.types import Completion, OfflineMeta
from collabgraph.optimizers.base import Optimizer, Priors, Trial, require_positive
from collabgraph.optimizers.design import Design, Slot
from collabgraph.optimizers.space import Role, SearchSpace
from collabgraph.optimizers.updates import InvalidUpdate, ProbabilityUpdate, UpdateChoices, edge_key, parse_update

__all__ = [
    "AGGREGATOR_ACCURACY_WEIGHT",
    "ANSWER_ACCURACY_WEIGHT",
    "DEPTH_CURVATURE",
    "FAMILY_WEIGHT",
    "MAX_DRAWS",
    "OFF_TEMPLATE_EDGE_PROB",
    "OPTIMIZER_MAX_TOKENS",
    "PREFERRED_DEPTH",
    "PREFERRED_WIDTH",
    "PROB_FLOOR",
    "REWARD_SCALE_FLOOR",
    "ROLE_PRIOR_WEIGHTS",
    "SIZE_WEIGHT",
    "TEMPLATE_EDGE_PROB",
    "WIDTH_CURVATURE",
    "WIDTH_DEPTH_TRADEOFF",
    "AgentReinforce",
    "Choices",
    "CompletionClient",
    "GraphDistribution",
    "PriorShape",
    "UpdateKind",
    "prior_shape",
]

UpdateKind = Literal["textual", "numeric"]

# ---- priors and step constants ----------------------------------------------------------------------------------

PROB_FLOOR = 0.01
"""No probability falls below this (nor, for an edge, above 1 − this): every design stays reachable."""

PREFERRED_WIDTH = 3
"""The width sweet spot: 2–3 parallel answerers feeding one aggregator beat one answerer (no diversity to combine)
and many (the aggregator drowns in them), the paper's second observation."""

PREFERRED_DEPTH = 2
"""The depth sweet spot: one layer of answerers and one aggregator; each further layer of aggregation adds cost
and loses as much as it gains."""

WIDTH_DEPTH_TRADEOFF = 1.0
"""Width and depth interact (the paper's third observation): each layer beyond PREFERRED_DEPTH lowers the
preferred width by this much (never below 1); a deep graph wants narrow layers."""

WIDTH_CURVATURE = 1.0
DEPTH_CURVATURE = 1.0
"""The prior score of a shape is ``−WIDTH_CURVATURE·(w − w*(d))² − DEPTH_CURVATURE·(d − PREFERRED_DEPTH)²``, with
``w*(d)`` the preferred width at depth d; the best-scoring shape that fits the space is the template."""

TEMPLATE_EDGE_PROB = 0.8
"""Initial probability of each edge of the template shape (consecutive layers fully connected)."""

OFF_TEMPLATE_EDGE_PROB = 0.1
"""Initial probability of every other edge: the search starts near the template, not on it."""

ANSWER_ACCURACY_WEIGHT = 6.0
"""Model logit per unit of single-model accuracy for slots that answer: 10 points more accurate is 1.8× as
likely. Moderate, because several weaker answerers can beat one strong one once an aggregator reads them."""

AGGREGATOR_ACCURACY_WEIGHT = 15.0
"""Model logit per unit of accuracy for the template's aggregator and output slots: 10 points more accurate is
4.5× as likely. The aggregator decides the answer, so it leans hard to the strongest model."""

FAMILY_WEIGHT = 3.0
"""Model logit per unit of its family's mean accuracy on the task, relative to the best family (the paper's first
observation: tasks prefer a model family). Models without a family are a family of their own."""

SIZE_WEIGHT = 0.5
"""Under a compute budget (flops, usd or latency), answering slots lose this much logit per tenfold more
parameters than the smallest model: small models in many nodes can beat one big model for the same FLOPs."""

ROLE_PRIOR_WEIGHTS: dict[Role, float] = {"fuser": 2.0, "assistant": 1.0, "critic": 1.0, "select": 1.0, "vote": 1.0}
"""Initial role weights of a slot (normalised over the space's roles): fusing the answers it reads is the
paper's aggregator and the likeliest role."""

MAX_DRAWS = 256
"""Draws ``ask`` makes for one design before it accepts a design already proposed (the space may be small)."""

REWARD_SCALE_FLOOR = 0.05
"""The numeric step divides advantages by the rewards' standard deviation, but by no less than this: when every
reward is nearly equal, their differences are noise and must not become a full step."""

OPTIMIZER_MAX_TOKENS = 4096
"""Completion tokens allowed to the optimizer LLM's reply (an update for 12 slots and 10 models fits)."""

_COMPUTE_BUDGETS = ("flops", "usd", "latency_s")

K = TypeVar("K")


class CompletionClient(Protocol):
    """What the optimizer needs of a gateway: ``collabgraph.models.Gateway.complete``."""

    async def complete(
        self,
        model: str,
        messages: Sequence[Mapping[str, str]],
        *,
        n: int = 1,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        seed: int = 0,
        meta: OfflineMeta | None = None,
    ) -> list[Completion]: ...


# ---- the prior shape --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PriorShape:
    """The template: ``layers`` of slot indices (sources first, the output slot last), each layer reading the
    whole layer before it."""

    width: int
    depth: int
    layers: tuple[tuple[int, ...], ...]

    def edges(self) -> set[tuple[int, int]]:
        return {(i, j) for a, b in zip(self.layers, self.layers[1:], strict=False) for i in a for j in b}

    def aggregators(self) -> set[int]:
        return {j for layer in self.layers[1:] for j in layer}


def preferred_width(depth: int) -> float:
    """The width the prior likes best at this depth (see WIDTH_DEPTH_TRADEOFF)."""
    return max(1.0, PREFERRED_WIDTH - WIDTH_DEPTH_TRADEOFF * (depth - PREFERRED_DEPTH))


def shape_score(width: int, depth: int) -> float:
    """The prior score of a graph ``width`` wide and ``depth`` deep (0 at the sweet spot, lower elsewhere)."""
    return -WIDTH_CURVATURE * (width - preferred_width(depth)) ** 2 - DEPTH_CURVATURE * (depth - PREFERRED_DEPTH) ** 2


def prior_shape(space: SearchSpace) -> PriorShape:
    """The best-scoring shape that fits the space's nodes, width and depth limits: ``depth − 1`` layers of
    ``width`` answerers/aggregators and one output slot, placed on the last slots (ties: fewer nodes)."""
    n = space.limits.nodes
    max_w = space.limits.width or n
    max_d = space.limits.depth or n
    shapes = [(1, 1)] + [(w, d) for d in range(2, max_d + 1) for w in range(1, max_w + 1) if w * (d - 1) + 1 <= n]
    width, depth = max(shapes, key=lambda s: (shape_score(*s), -s[0] * s[1]))
    layers: list[tuple[int, ...]] = [(n - 1,)]
    for k in range(1, depth):
        end = n - 1 - width * (k - 1)
        layers.insert(0, tuple(range(end - width, end)))
    return PriorShape(width=width, depth=depth, layers=tuple(layers))


# ---- the distribution -------------------------------------------------------------------------------------------


def _floored(probs: dict[K, float]) -> dict[K, float]:
    """``probs`` normalised with every entry at least PROB_FLOOR (entries below it are raised to it and the rest
    scaled down to make room)."""
    total = sum(probs.values())
    q = {k: (v / total if total > 0 else 1.0 / len(probs)) for k, v in probs.items()}
    if len(q) == 1:
        return {k: 1.0 for k in q}
    floor = min(PROB_FLOOR, 0.5 / len(q))
    low: set[K] = set()
    while True:
        newly = {k for k, v in q.items() if k not in low and v < floor}
        if not newly:
            return q
        low |= newly
        rest = sum(v for k, v in q.items() if k not in low)
        room = 1.0 - floor * len(low)
        q = {k: (floor if k in low else v * room / rest) for k, v in q.items()}


def _clip(p: float) -> float:
    return min(max(p, PROB_FLOOR), 1.0 - PROB_FLOOR)


def _pick(dist: Mapping[K, float], u: float) -> K:
    acc = 0.0
    last: K | None = None
    for choice, p in dist.items():
        acc += p
        last = choice
        if u < acc:
            return choice
    assert last is not None
    return last


def _softmax(logits: dict[K, float]) -> dict[K, float]:
    top = max(logits.values())
    exps = {k: math.exp(v - top) for k, v in logits.items()}
    total = sum(exps.values())
    return {k: v / total for k, v in exps.items()}


@dataclass(frozen=True)
class Choices:
    """The choices of a design that shaped the graph that ran: edges into kept slots (on or off), roles of
    combining slots, models of slots that call one, sample counts of answering slots."""

    edges: dict[tuple[int, int], bool]
    roles: dict[int, Role]
    models: dict[int, str]
    samples: dict[int, int]

    @classmethod
    def of(cls, design: Design) -> Choices:
        st = design.structure()
        raw = set(design.edges)
        slots = design.slots
        return cls(
            edges={(i, j): (i, j) in raw for j in st.kept for i in range(j)},
            roles={j: slots[j].role for j in st.kept if st.inputs[j]},
            models={j: slots[j].model for j in st.kept if not (st.inputs[j] and slots[j].role == "vote")},
            samples={j: slots[j].samples for j in st.kept if not st.inputs[j]},
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON form the optimizer LLM reads (keys as ``ProbabilityUpdate``'s; an edge is 0 or 1)."""
        return {
            "edges": {edge_key(i, j): int(on) for (i, j), on in self.edges.items()},
            "roles": {str(j): r for j, r in self.roles.items()},
            "models": {str(j): m for j, m in self.models.items()},
            "samples": {str(j): str(s) for j, s in self.samples.items()},
        }


@dataclass
class GraphDistribution:
    """Independent Bernoulli edges and categorical role / model / samples per slot (see the module docstring).
    Mutated in place by ``mix`` (textual step) and ``reinforce`` (numeric step)."""

    nodes: int
    edges: dict[tuple[int, int], float]
    roles: dict[int, dict[Role, float]]
    models: dict[int, dict[str, float]]
    samples: dict[int, dict[int, float]]

    @classmethod
    def from_priors(cls, space: SearchSpace, priors: Priors) -> GraphDistribution:
        """The initial distribution (see the constants of this module for each prior)."""
        n = space.limits.nodes
        shape = prior_shape(space)
        template = shape.edges()
        aggregators = shape.aggregators()
        edges = {
            (i, j): TEMPLATE_EDGE_PROB if (i, j) in template else OFF_TEMPLATE_EDGE_PROB
            for j in range(n)
            for i in range(j)
        }
        role_weights = {r: ROLE_PRIOR_WEIGHTS[r] for r in space.roles}
        answer = _model_prior(space, priors, aggregator=False)
        aggregate = _model_prior(space, priors, aggregator=True)
        uniform = {s: 1.0 for s in space.limits.samples}
        dist = cls(
            nodes=n,
            edges=edges,
            roles={j: dict(role_weights) for j in range(1, n)},
            models={j: dict(aggregate if j in aggregators else answer) for j in range(n)},
            samples={j: dict(uniform) for j in range(n)},
        )
        dist._clean()
        return dist

    def _clean(self) -> None:
        self.edges = {e: _clip(p) for e, p in self.edges.items()}
        self.roles = {j: _floored(d) for j, d in self.roles.items()}
        self.models = {j: _floored(d) for j, d in self.models.items()}
        self.samples = {j: _floored(d) for j, d in self.samples.items()}

    # -- sampling ---------------------------------------------------------------------------------------------

    def sample(self, rng: random.Random) -> Design:
        """One design drawn from the distribution (a fixed number of draws from ``rng`` per design)."""
        edges = tuple(e for e, p in self.edges.items() if rng.random() < p)
        slots = []
        for j in range(self.nodes):
            role: Role = _pick(self.roles[j], rng.random()) if j in self.roles else "assistant"
            slots.append(
                Slot(role=role, model=_pick(self.models[j], rng.random()), samples=_pick(self.samples[j], rng.random()))
            )
        return Design(slots=tuple(slots), edges=tuple(sorted(edges)))

    def mode(self) -> Design:
        """The most likely design: each edge on when its probability is above 1/2, each slot's likeliest choices
        (ties: the first listed)."""

        def top(d: Mapping[K, float]) -> K:
            return max(d, key=lambda k: d[k])

        slots = [
            Slot(
                role=top(self.roles[j]) if j in self.roles else "assistant",
                model=top(self.models[j]),
                samples=top(self.samples[j]),
            )
            for j in range(self.nodes)
        ]
        return Design(slots=tuple(slots), edges=tuple(sorted(e for e, p in self.edges.items() if p > 0.5)))

    def to_json(self) -> dict[str, Any]:
        """Every probability, as a ``ProbabilityUpdate`` with all keys filled in (rounded to 4 decimals)."""
        return {
            "edges": {edge_key(i, j): round(p, 4) for (i, j), p in self.edges.items()},
            "roles": {str(j): {r: round(p, 4) for r, p in d.items()} for j, d in self.roles.items()},
            "models": {str(j): {m: round(p, 4) for m, p in d.items()} for j, d in self.models.items()},
            "samples": {str(j): {str(s): round(p, 4) for s, p in d.items()} for j, d in self.samples.items()},
        }

    # -- updates ----------------------------------------------------------------------------------------------

    def mix(self, update: ProbabilityUpdate, step: float) -> None:
        """The textual step: ``p ← (1 − step)·p + step·p_update`` for everything the update names (a named
        distribution's unlisted choices count as 0), then the floors."""
        a = min(max(step, 0.0), 1.0)
        for key, p in update.edges.items():
            i, j = (int(x) for x in key.split("->"))
            self.edges[(i, j)] = (1 - a) * self.edges[(i, j)] + a * p
        for slot, d in update.roles.items():
            self.roles[int(slot)] = _mixed(self.roles[int(slot)], {r: d.get(r, 0.0) for r in self.roles[int(slot)]}, a)
        for slot, d in update.models.items():
            self.models[int(slot)] = _mixed(
                self.models[int(slot)], {m: d.get(m, 0.0) for m in self.models[int(slot)]}, a
            )
        for slot, d in update.samples.items():
            cur = self.samples[int(slot)]
            self.samples[int(slot)] = _mixed(cur, {s: d.get(str(s), 0.0) for s in cur}, a)
        self._clean()

    def reinforce(self, scored: Sequence[tuple[Choices, float]], lr: float) -> None:
        """The numeric step: ``θ ← θ + lr · (1/B) Σ_k A_k ∇θ log p(x_k)`` over the logits of the choices that
        shaped each graph (``scored``: each trial's choices and its advantage ``A_k``), then the floors."""
        if not scored:
            return
        scale = lr / len(scored)
        for (i, j), p in list(self.edges.items()):
            grad = sum(a * ((1.0 if c.edges[(i, j)] else 0.0) - p) for c, a in scored if (i, j) in c.edges)
            logit = math.log(p / (1 - p)) + scale * grad
            self.edges[(i, j)] = 1 / (1 + math.exp(-logit))
        self.roles = {j: _reinforced(d, [(c.roles.get(j), a) for c, a in scored], scale) for j, d in self.roles.items()}
        self.models = {
            j: _reinforced(d, [(c.models.get(j), a) for c, a in scored], scale) for j, d in self.models.items()
        }
        self.samples = {
            j: _reinforced(d, [(c.samples.get(j), a) for c, a in scored], scale) for j, d in self.samples.items()
        }
        self._clean()


def _mixed(old: dict[K, float], new: dict[K, float], a: float) -> dict[K, float]:
    total = sum(new.values())
    return {k: (1 - a) * old[k] + a * new[k] / total for k in old}


def _reinforced(dist: dict[K, float], picks: list[tuple[K | None, float]], scale: float) -> dict[K, float]:
    logits = {k: math.log(p) for k, p in dist.items()}
    for picked, a in picks:
        if picked not in dist:
            continue  # the choice did not shape that graph (or is not one of this slot's choices)
        for k, p in dist.items():
            logits[k] += scale * a * ((1.0 if k == picked else 0.0) - p)
    return _softmax(logits)


def _model_prior(space: SearchSpace, priors: Priors, *, aggregator: bool) -> dict[str, float]:
    """The initial model distribution of an answering (``aggregator`` False) or aggregating slot."""
    known = [priors.accuracy[m] for m in space.models if m in priors.accuracy]
    fill = statistics.fmean(known) if known else 0.5
    acc = {m: priors.accuracy.get(m, fill) for m in space.models}
    family = {m: priors.family.get(m) or m for m in space.models}
    family_acc = {f: statistics.fmean(acc[m] for m in space.models if family[m] == f) for f in set(family.values())}
    best_family = max(family_acc.values())
    weight = AGGREGATOR_ACCURACY_WEIGHT if aggregator else ANSWER_ACCURACY_WEIGHT
    logits = {m: weight * acc[m] + FAMILY_WEIGHT * (family_acc[family[m]] - best_family) for m in space.models}
    limits = space.budget.limits()
    sizes = {m: priors.params_b[m] for m in space.models if priors.params_b.get(m, 0.0) > 0}
    if not aggregator and sizes and any(k in limits for k in _COMPUTE_BUDGETS):
        smallest = min(sizes.values())
        penalty = {m: SIZE_WEIGHT * math.log10(s / smallest) for m, s in sizes.items()}
        typical = statistics.median(penalty.values())
        logits = {m: v - penalty.get(m, typical) for m, v in logits.items()}
    return _softmax(logits)


# ---- the optimizer ----------------------------------------------------------------------------------------------

_SYSTEM = """You are the optimizer of Agent-REINFORCE. You tune a probability distribution over multi-LLM \
collaboration graphs so that the graphs sampled from it answer a task more accurately within a compute budget. \
You read the current probabilities and the results of every graph tried so far, and you reply with new \
probabilities as one JSON object: your update is the gradient step of a REINFORCE search written in words."""

_INSIGHTS = f"""What is known about such graphs (use it, but trust the results more):
1. Tasks prefer a model family, and a strong aggregator matters most: the slot that writes the final answer \
should be a strong model. Under a FLOPs budget, several small models answering in parallel can beat one big one.
2. Width and depth each have a sweet spot: about {PREFERRED_WIDTH} parallel answerers feeding one aggregator \
beats one answerer or many; more than {PREFERRED_DEPTH} layers rarely pays.
3. Width and depth interact: a deeper graph wants narrower layers."""

_REPLY = """Reply with one JSON object (no other JSON), with any of these keys; what you leave out keeps its \
current probabilities:
  "edges":   {"i->j": p}                  P(slot j reads slot i's answer), for i < j
  "roles":   {"j": {"<role>": p, ...}}   slot j's role distribution (slots 1 and up)
  "models":  {"j": {"<model>": p, ...}}  slot j's model distribution
  "samples": {"j": {"<count>": p, ...}}  slot j's sample-count distribution
  "rationale": "one or two sentences"
Each distribution sums to 1 and uses only the names listed above; every p is between 0 and 1. Move probability \
toward what scored well and away from what failed or went over budget."""


class AgentReinforce(Optimizer):
    """Agent-REINFORCE (see the module docstring). ``gateway`` (a ``collabgraph.models.Gateway``, or anything with
    its ``complete``) and ``space.optimizer.model`` make the update textual; without either it is numeric.
    ``pool``, when given (else the gateway's), is checked for the optimizer model."""

    name = "agent-reinforce"

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int,
        batch: int,
        priors: Priors,
        gateway: CompletionClient | None = None,
        pool: ModelPool | None = None,
    ) -> None:
        super().__init__()
        require_positive(batch=batch)
        self.space = space
        self.seed = seed
        self.batch = batch
        self.priors = priors
        self.gateway = gateway
        self.model = space.optimizer.model
        pool = pool if pool is not None else getattr(gateway, "pool", None)
        if self.model is not None and isinstance(pool, ModelPool) and self.model not in pool:
            hint = closest(self.model, pool.names())
            raise ConfigError(
                "search space",
                [
                    ErrorItem(
                        "optimizer.model",
                        f"no model {self.model!r} in the pool",
                        f"did you mean {hint[0]}?" if hint else None,
                    )
                ],
            )
        self.choices = UpdateChoices.of(space)
        self.distribution = GraphDistribution.from_priors(space, priors)
        self.trials: list[Trial] = []
        self._rows: list[str] = []  # each trial's table row and JSON, made once: trials never change
        self._told: list[dict[str, Any]] = []
        self._rng = random.Random(seed)
        self._proposed: set[str] = set()
        self._asks = 0
        self._steps = 0

    @property
    def update_kind(self) -> UpdateKind:
        """``textual`` when an optimizer LLM updates the distribution (falling back to a numeric step when it
        fails), ``numeric`` when the REINFORCE estimate does."""
        return "textual" if self.model is not None and self.gateway is not None else "numeric"

    # -- ask ----------------------------------------------------------------------------------------------------

    def ask(self) -> list[Design]:
        """``batch`` designs drawn from the distribution within the width / depth limits, each not proposed
        before when MAX_DRAWS draws can find one; the first batch starts with the prior mode (the best guess)."""
        out: list[Design] = []
        if self._asks == 0:
            mode = self.distribution.mode()
            key = self.outcome_key(mode) if not mode.within_limits(self.space) else None
            if key is not None:  # the best guess, unless the budget would reject it outright
                out.append(mode)
                self._proposed.add(key)
        while len(out) < self.batch:
            out.append(self._draw())
        self._asks += 1
        return out

    def _draw(self) -> Design:
        fitting: Design | None = None
        last: Design | None = None
        for _ in range(MAX_DRAWS):
            last = self.distribution.sample(self._rng)
            if last.within_limits(self.space):
                continue
            key = self.outcome_key(last)
            if key is None:
                continue  # over budget even when repaired: it would be rejected
            if key not in self._proposed:
                self._proposed.add(key)
                return last
            fitting = fitting or last
        if fitting is None:
            assert last is not None
            fitting = last.model_copy(update={"edges": ()})  # one node: within any limits
        self._proposed.add(fitting.key())
        return fitting

    # -- tell ---------------------------------------------------------------------------------------------------

    async def tell(self, trials: Sequence[Trial]) -> None:
        """Record the trials and update the distribution (textually when an optimizer LLM is set, else — or when
        it fails — numerically); logs one ``update`` event, plus one ``update_attempt`` per rejected reply."""
        earlier = [t.reward for t in self.trials]
        self.trials.extend(trials)
        for t in trials:
            self._proposed.add(t.key or t.design.key())
            self._rows.append(_row(t, self.space.budget.limits()))
            self._told.append(
                {"number": t.number, "reward": t.reward, "status": t.status, "choices": Choices.of(_ran(t)).to_json()}
            )
        self._steps += 1
        event: dict[str, Any] = {
            "event": "update",
            "step": self._steps,
            "kind": "numeric",
            "attempts": 0,
            "error": None,
        }
        if self.update_kind == "textual":
            update, attempts, error = await self._textual_update()
            event.update(attempts=attempts, error=error)
            if update is not None:
                self.distribution.mix(update, self.space.optimizer.learning_rate)
                event.update(kind="textual", rationale=update.rationale)
        if event["kind"] == "numeric":
            self._numeric_update(trials, earlier)
        event["distribution"] = self.distribution.to_json()
        self.events.append(event)

    def _numeric_update(self, trials: Sequence[Trial], earlier: list[float]) -> None:
        rewards = [t.reward for t in trials]
        if not rewards or (len(rewards) == 1 and not earlier):
            return  # nothing to compare with
        total = sum(rewards)
        scale = max(statistics.pstdev([*earlier, *rewards]), REWARD_SCALE_FLOOR)
        scored = []
        for t in trials:
            # Leave-one-out baseline: the mean of the batch's other rewards (a batch of one: the earlier trials').
            baseline = (total - t.reward) / (len(rewards) - 1) if len(rewards) > 1 else statistics.fmean(earlier)
            scored.append((Choices.of(_ran(t)), (t.reward - baseline) / scale))
        self.distribution.reinforce(scored, self.space.optimizer.learning_rate)

    async def _textual_update(self) -> tuple[ProbabilityUpdate | None, int, str | None]:
        """Ask the optimizer LLM, re-asking after invalid replies; (update or None, attempts, last error)."""
        assert self.gateway is not None and self.model is not None
        messages = [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": self._prompt()}]
        error: str | None = None
        retries = self.space.optimizer.retries
        for attempt in range(retries + 1):
            try:
                replies = await self.gateway.complete(
                    self.model,
                    messages,
                    n=1,
                    temperature=0.0,
                    max_tokens=OPTIMIZER_MAX_TOKENS,
                    seed=self.seed,
                    meta=self._meta(attempt),
                )
                text = replies[0].text if replies else ""
            except Exception as exc:  # the search must never die of its optimizer LLM: fall back to numeric
                error = f"optimizer model call failed: {type(exc).__name__}: {exc}"
                self.events.append(
                    {"event": "update_attempt", "step": self._steps, "attempt": attempt + 1, "error": error}
                )
                return None, attempt + 1, error
            try:
                return parse_update(text, self.choices), attempt + 1, None
            except InvalidUpdate as exc:
                error = str(exc)
            self.events.append({"event": "update_attempt", "step": self._steps, "attempt": attempt + 1, "error": error})
            messages = [
                *messages,
                {"role": "assistant", "content": text},
                {
                    "role": "user",
                    "content": f"That reply is not a valid update: {error}\nReply again with the corrected JSON "
                    "object only.",
                },
            ]
        return None, retries + 1, error

    def _meta(self, attempt: int) -> OfflineMeta:
        """What an offline optimizer model (the sim's ``optimize`` role) reads instead of the prompt."""
        return OfflineMeta(
            task=self.space.task.name,
            example_id=f"optimizer-step-{self._steps}",
            answer="",
            answer_format="json",
            role="optimize",
            extra={
                "attempt": attempt,
                "current": self.distribution.to_json(),
                "trials": list(self._told),
            },
        )

    def _prompt(self) -> str:
        space, priors = self.space, self.priors
        limits = space.budget.limits()
        budget = ", ".join(f"{k} ≤ {v:.4g}" for k, v in limits.items()) or "none"
        models = "\n".join(
            f"  {m}: "
            + (f"single-model accuracy {priors.accuracy[m]:.3f}" if m in priors.accuracy else "accuracy unknown")
            + (f", {priors.params_b[m]:g}B parameters" if m in priors.params_b else "")
            + (f", family {priors.family[m]}" if m in priors.family else "")
            for m in space.models
        )
        rows = "\n".join(self._rows)
        n = space.limits.nodes
        return f"""Task: {space.task.name} (objective: {space.objective}; reward = dev accuracy when within budget, \
else 0). Budget per query: {budget}.

A graph has {n} slots, 0 to {n - 1}; slot {n - 1} writes the final answer. Edge i->j (i < j) means slot j reads \
slot i's answer; slots with no path to slot {n - 1} are dropped. A slot without inputs answers the question itself \
(its sample count = how many answers it draws); a slot with inputs combines them as its role says: fuser (and \
assistant) writes one answer from them, critic critiques its latest input and refines it, vote takes the majority \
answer (no model), select has a judge pick one.
Roles: {", ".join(space.roles)}. Sample counts: {", ".join(map(str, space.limits.samples))}. Width limit: \
{space.limits.width or "none"}; depth limit: {space.limits.depth or "none"}.
Models:
{models}

{_INSIGHTS}

Current probabilities:
{json.dumps(self.distribution.to_json())}

Trials so far:
| # | graph | status | dev accuracy | cost per query (measured / limit) |
|---|---|---|---|---|
{rows}

{_REPLY}"""


def _ran(t: Trial) -> Design:
    """The design whose choices earned the trial's reward: the repaired one when the driver repaired it to fit the
    budget (the proposal itself did not fit), else the one proposed (with its raw choices)."""
    return t.evaluated if t.repaired and t.evaluated is not None else t.design


def _row(t: Trial, limits: dict[str, float]) -> str:
    """A trial's row of the table the optimizer LLM reads."""
    return (
        f"| {t.number} | {(t.evaluated or t.design).describe()}{' (repaired)' if t.repaired else ''} | "
        f"{t.status}{': ' + t.reason if t.reason else ''} | "
        f"{'-' if t.accuracy is None else f'{t.accuracy:.3f}'} | {_cost(t, limits)} |"
    )


def _cost(trial: Trial, limits: dict[str, float]) -> str:
    measures = trial.measured or trial.estimate
    if measures is None:
        return "-"
    values = measures.model_dump()
    tag = "" if trial.measured is not None else "estimated "
    if limits:
        return tag + ", ".join(f"{k} {values[k]:.3g} / {cap:.3g}" for k, cap in limits.items())
    return tag + f"flops {measures.flops:.3g}, usd {measures.usd:.3g}"
