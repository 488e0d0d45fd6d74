"""Budget accounting for candidates: estimate a design's cost per query before it runs, learn from what runs
measure, and repair or reject designs that would not fit.

As in the Agent-REINFORCE paper, a node's cost is prefill + decode FLOPs with the attention term
(``collabgraph.models.accounting``), and an edge costs because the predecessor's output lengthens the receiver's
prompt: a node's prompt is its own part (the question and its instructions) plus every completion it reads. The
estimator keeps, per (model, node kind), the mean own-prompt tokens, completion tokens per sample and latency per
call seen in runs, and starts from a calibration run of each model alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from collabgraph.errors import CollabgraphError
from collabgraph.graphs.result import GraphExampleResult
from collabgraph.graphs.spec import GraphSpec
from collabgraph.models.accounting import cost_usd, flops
from collabgraph.models.pool import ModelPool
from collabgraph.optimizers.base import Measures, Priors
from collabgraph.optimizers.design import Design, Slot
from collabgraph.optimizers.space import SearchSpace

__all__ = ["BudgetError", "CostModel", "Observation", "Repair", "alone", "measure", "repair"]

# A combining node's own prompt adds its instructions to the question; before any run has measured one, assume
# this many tokens of instructions per read candidate's framing (measured values replace it after the first run).
_FRAMING_TOKENS = 40.0
_KIND_OF_ROLE = {"assistant": "fuse", "fuser": "fuse", "select": "select", "vote": "vote", "critic": "critique"}


class BudgetError(CollabgraphError):
    """No graph of the space fits the budget: the message names the cheapest graph and its estimated cost."""


class Observation(NamedTuple):
    """One node run as the estimator learns from it: the model and node kind, its prompt tokens per request, the
    completion tokens of the nodes it read, its completion tokens per sample and its latency."""

    model: str
    kind: str
    prompt: float
    read: float
    completion: float
    latency: float


# How strongly the fitted share of read tokens that reach the prompt is pulled toward 1 (every read token lands in
# the prompt, as it does with real models), in squared tokens: a few runs that vary little cannot move it far.
_SHARE_PRIOR = 1e4


@dataclass
class _Stat:
    """Running sums for one (model, kind): prompt = own + share · read (least squares, ridge toward share 1), and
    mean completion tokens per sample and latency per run."""

    n: float = 0.0
    sr: float = 0.0
    sp: float = 0.0
    srr: float = 0.0
    srp: float = 0.0
    completion: float = 0.0
    latency: float = 0.0

    def add(self, o: Observation) -> None:
        self.n += 1
        self.sr += o.read
        self.sp += o.prompt
        self.srr += o.read * o.read
        self.srp += o.read * o.prompt
        self.completion += (o.completion - self.completion) / self.n
        self.latency += (o.latency - self.latency) / self.n

    @property
    def share(self) -> float:
        if not self.n:
            return 1.0
        sxx = self.srr - self.sr * self.sr / self.n
        sxy = self.srp - self.sr * self.sp / self.n
        return min(2.0, max(0.0, (sxy + _SHARE_PRIOR) / (sxx + _SHARE_PRIOR)))

    @property
    def own_prompt(self) -> float:
        return max(0.0, (self.sp - self.share * self.sr) / self.n) if self.n else 0.0


@dataclass
class CostModel:
    """Estimates a design's cost per query from token statistics per (model, kind)."""

    space: SearchSpace
    pool: ModelPool
    stats: dict[tuple[str, str], _Stat] = field(default_factory=dict)

    # -- learning -----------------------------------------------------------------------------------------------

    def observe(self, spec: GraphSpec, results: Sequence[GraphExampleResult]) -> list[Observation]:
        """Learn from a run of ``spec``: each node's own prompt (prompt tokens minus the completions it read),
        completion tokens per sample and latency per run. Returns what it learnt, so that a log can replay it."""
        kinds = {n.id: n.kind for n in spec.nodes}
        models = {n.id: spec.model_for(n.model_name) for n in spec.nodes if n.model_name}
        reads = {n.id: [r for _, ids in n.inputs() for r in ids] for n in spec.nodes}
        samples = {n.id: int(getattr(n, "samples", 1)) for n in spec.nodes}
        seen: list[Observation] = []
        for result in results:
            out_tokens = {nid: t.completion_tokens for nid, t in result.nodes.items()}
            for nid, totals in result.nodes.items():
                model = models.get(nid)
                if model is None or totals.calls == 0 or totals.runs == 0:
                    continue
                read = sum(out_tokens.get(r, 0) for r in reads.get(nid, [])) / totals.runs
                n = samples.get(nid, 1)
                requests = totals.runs * (1 if n == 1 or self.pool.get(model).supports_n else n)
                seen.append(
                    Observation(
                        model,
                        kinds[nid],
                        totals.prompt_tokens / requests,
                        read,
                        totals.completion_tokens / (totals.runs * n),
                        totals.latency_s / totals.runs,
                    )
                )
        self.apply(seen)
        return seen

    def apply(self, observations: Sequence[Observation]) -> None:
        """Learn from observations (from ``observe``, or replayed from a log)."""
        for o in observations:
            self.stats.setdefault((o.model, o.kind), _Stat()).add(o)

    # -- estimating ---------------------------------------------------------------------------------------------

    def _stat(self, model: str, kind: str) -> tuple[float, float, float, float]:
        """(own prompt tokens, share of read tokens in the prompt, completion tokens per sample, latency per run) of
        ``model`` as a ``kind`` node: measured, else the model's answering figures plus framing, else the first
        measured model's, else a guess of 200 / 200 tokens."""
        hit = self.stats.get((model, kind))
        if hit is not None and hit.n:
            return hit.own_prompt, hit.share, hit.completion, hit.latency
        base = self.stats.get((model, "generate"))
        if base is None or not base.n:
            known = [s for (m, k), s in sorted(self.stats.items()) if k == "generate" and s.n]
            base = known[0] if known else None
        own, completion = (base.own_prompt, base.completion) if base is not None else (200.0, 200.0)
        spec = self.pool.get(model)
        latency = spec.ttft_s + completion / spec.throughput_tok_s
        return own + (0.0 if kind == "generate" else _FRAMING_TOKENS), 1.0, completion, latency

    def estimate(self, design: Design) -> Measures:
        """The expected cost per query of ``design``."""
        c = design.canonical()
        st = c.structure()
        out_tokens: dict[int, float] = {}
        finish: dict[int, float] = {}
        total = Measures()
        tot_flops = tot_usd = tot_tokens = 0.0
        for j in st.kept:
            slot, ins = c.slots[j], st.inputs[j]
            start = max((finish[i] for i in ins), default=0.0)
            read = sum(out_tokens[i] for i in ins)
            if ins and slot.role == "vote":
                out_tokens[j], finish[j] = max((out_tokens[i] for i in ins), default=0.0), start
                continue
            spec = self.pool.get(slot.model)
            steps = ["critique", "refine"] if ins and slot.role == "critic" else [_kind(slot.role, bool(ins))]
            produced = 0.0
            latency = 0.0
            for kind in steps:
                own, share, completion, step_latency = self._stat(slot.model, kind)
                prompt = own + share * (read + (produced if kind == "refine" else 0.0))
                n = slot.samples if kind == "generate" else 1
                requests = 1 if spec.supports_n or n == 1 else n
                per_request = n // requests
                p, m = round(prompt), round(completion)
                tot_flops += requests * flops(spec, p, m, n=per_request)
                tot_usd += requests * cost_usd(spec, p, m * per_request)
                tot_tokens += requests * (p + m * per_request)
                produced = completion * n
                latency += step_latency
            out_tokens[j] = produced
            finish[j] = start + latency
        total = Measures(flops=tot_flops, usd=tot_usd, tokens=tot_tokens, latency_s=max(finish.values(), default=0.0))
        return total

    def cheapest(self) -> tuple[Design, Measures]:
        """The cheapest graph of the space under every budget measure at once: one model answering alone, the
        model whose estimate is smallest measured against the budget (the sum of each measure over its limit)."""
        limits = self.space.budget.limits() or {"flops": 1.0}
        best: tuple[float, Design, Measures] | None = None
        for model in self.space.models:
            for samples in sorted(self.space.limits.samples)[:1]:
                d = alone(self.space, model, samples)
                m = self.estimate(d)
                values = m.model_dump()
                score = sum(values[k] / cap for k, cap in limits.items())
                if best is None or score < best[0]:
                    best = (score, d, m)
        assert best is not None
        return best[1], best[2]


def _kind(role: str, has_inputs: bool) -> str:
    return _KIND_OF_ROLE[role] if has_inputs else "generate"


def alone(space: SearchSpace, model: str, samples: int = 1) -> Design:
    """The design in which ``model`` answers alone (``samples`` samples)."""
    slots = [Slot(model=space.models[0]) for _ in range(space.limits.nodes - 1)]
    return Design(slots=(*slots, Slot(model=model, samples=samples)))


def _usefulness(design: Design, inputs: Sequence[int], j: int, priors: Priors) -> tuple[float, float, int]:
    """How much slot ``j`` is worth keeping: a vote costs nothing, else its model's prior accuracy, then its size;
    among equals the earlier slot goes first."""
    slot = design.slots[j]
    acc = 1.0 if slot.role == "vote" and inputs else priors.accuracy.get(slot.model, 0.0)
    return (acc, priors.params_b.get(slot.model, 0.0), -j)


def measure(results: Sequence[GraphExampleResult]) -> Measures:
    """Mean cost per query of a run."""
    n = max(1, len(results))
    return Measures(
        flops=sum(r.usage.flops for r in results) / n,
        usd=sum(r.usage.cost_usd for r in results) / n,
        tokens=sum(r.usage.prompt_tokens + r.usage.completion_tokens for r in results) / n,
        latency_s=sum(r.latency_s for r in results) / n,
    )


@dataclass(frozen=True)
class Repair:
    """The outcome of fitting a design to the budget: the design that fits, in the proposal's slot numbers (None
    when none does), whether nodes were dropped, which (``"[1] assistant sim/llama-3.2-1b"``), and the estimate of
    what will run (or of the last design tried)."""

    design: Design | None
    repaired: bool
    dropped: tuple[str, ...]
    estimate: Measures
    over: Mapping[str, float]


def repair(design: Design, costs: CostModel, priors: Priors) -> Repair:
    """Fit ``design`` to the budget. Over budget, drop the least useful node — the kept non-output slot on the model
    with the lowest prior accuracy, smallest first — and try again, until it fits or only the output is left. The
    repaired design keeps the proposal's slot numbers, so an optimizer can credit the choices that really ran."""
    limits = costs.space.budget.limits()
    st = design.structure()
    current = Design(slots=design.slots, edges=tuple(sorted((i, j) for j in st.kept for i in st.inputs[j])))
    dropped: list[str] = []
    while True:
        est = costs.estimate(current)
        over = est.over(limits)
        if not over:
            return Repair(current, bool(dropped), tuple(dropped), est, {})
        st = current.structure()
        out = len(current.slots) - 1
        candidates = [j for j in st.kept if j != out]
        if not candidates:
            return Repair(None, bool(dropped), tuple(dropped), est, over)
        victim = min(candidates, key=lambda j: _usefulness(current, st.inputs[j], j, priors))
        role, model, _ = current.label(victim, bool(st.inputs[victim]))
        dropped.append(f"[{victim}] {role}{' ' + model if model else ''}")
        edges = {(i, k) for i, k in current.edges if victim not in (i, k)}
        # Re-wire: the victim's readers read what it read, so the graph stays connected through it.
        edges |= {(i, k) for i, v in current.edges if v == victim for vv, k in current.edges if vv == victim}
        current = Design(slots=current.slots, edges=tuple(sorted(edges)))
