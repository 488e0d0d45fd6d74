"""Shared helpers for the optimizer tests: search spaces, a Hypothesis strategy of small spaces, the driver's
ask/tell loop against a synthetic reward, and the invariant every proposed design must satisfy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from collabgraph.optimizers.base import Optimizer, Trial
from collabgraph.optimizers.design import Design
from collabgraph.optimizers.space import ROLES, SearchSpace

MODELS = ["sim/llama-3.2-1b", "sim/llama-3.1-8b", "sim/qwen2.5-7b", "sim/llama-3.1-70b"]

RewardFn = Callable[[Design], float]


def make_space(
    *,
    nodes: int = 3,
    models: list[str] | None = None,
    roles: list[str] | None = None,
    samples: list[int] | None = None,
    width: int | None = None,
    depth: int | None = None,
    **settings: Any,
) -> SearchSpace:
    """A search space over gsm8k as a user would write it (``settings``: the ``optimizer`` section)."""
    limits: dict[str, Any] = {"nodes": nodes, "samples": samples or [1], "width": width, "depth": depth}
    return SearchSpace.model_validate(
        {
            "schema": "collabgraph.search/v1",
            "name": "test-space",
            "task": {"name": "gsm8k", "dev": 10},
            "models": models or MODELS[:2],
            "roles": roles or ["assistant", "fuser"],
            "limits": limits,
            "optimizer": settings,
        }
    )


@st.composite
def spaces(draw: st.DrawFn, max_nodes: int = 4) -> SearchSpace:
    """Small search spaces: 1 … ``max_nodes`` slots, 1 … 3 models, any roles with ``assistant``, some sample
    counts, width / depth limits or none."""
    extra_roles = draw(st.lists(st.sampled_from([r for r in ROLES if r != "assistant"]), unique=True))
    return make_space(
        nodes=draw(st.integers(1, max_nodes)),
        models=draw(st.lists(st.sampled_from(MODELS), min_size=1, max_size=3, unique=True)),
        roles=["assistant", *extra_roles],
        samples=draw(st.lists(st.sampled_from([1, 2, 3, 5]), min_size=1, max_size=2, unique=True)),
        width=draw(st.none() | st.integers(1, 3)),
        depth=draw(st.none() | st.integers(1, 3)),
    )


async def run_loop(
    optimizer: Optimizer,
    reward_fn: RewardFn,
    evaluations: int,
    *,
    max_asks: int | None = None,
    until: str | None = None,
) -> list[Trial]:
    """Drive ``optimizer`` as the driver does until ``evaluations`` distinct graphs have been evaluated, the graph
    with key ``until`` has been, it is exhausted, or ``max_asks`` batches (default ``10 * evaluations + 10``) were
    asked; returns every trial told, in order. A new graph is evaluated (status ok, accuracy ``reward_fn(design)``) and numbered by evaluation order
    (0, 1, …); a graph already evaluated is told back from the log (same number and accuracy, the design asked)."""
    log: dict[str, Trial] = {}
    told: list[Trial] = []
    for _ in range(max_asks if max_asks is not None else 10 * evaluations + 10):
        if len(log) >= evaluations or until in log or optimizer.exhausted:
            break
        batch: list[Trial] = []
        for design in optimizer.ask():
            key = design.key()
            if key in log:
                batch.append(log[key].model_copy(update={"design": design}))
            else:
                log[key] = Trial(number=len(log), design=design, key=key, status="ok", accuracy=reward_fn(design))
                batch.append(log[key])
        await optimizer.tell(batch)
        told += batch
    return told


def evaluations_to_find(trials: list[Trial], key: str) -> int | None:
    """How many distinct evaluations it took to evaluate the graph ``key`` (None if it never was)."""
    return next((t.number + 1 for t in trials if t.key == key), None)


def problems(design: Design, space: SearchSpace, *, raw: bool = True) -> list[str]:
    """What about ``design`` is outside ``space`` (empty when it is a valid proposal).

    The graph it decodes to must fit: width / depth limits, edges ``i < j < nodes``, every kept slot's model in the
    space, every answering slot's sample count in the space, every combining role in the space (``fuser`` also when
    ``assistant`` is: an assistant with inputs is a fuser). With ``raw``, every slot's decision values must be
    among the space's choices too (the samplers draw them there; canonical designs reset unused slots)."""
    out = list(design.within_limits(space))
    if len(design.slots) != space.limits.nodes:
        out.append(f"{len(design.slots)} slots, the space has {space.limits.nodes}")
    if list(design.edges) != sorted(set(design.edges)):
        out.append(f"edges not sorted and distinct: {design.edges}")
    for i, j in design.edges:
        if not 0 <= i < j < space.limits.nodes:
            out.append(f"edge {i}->{j} out of range")
    canonical = design.canonical()
    for j, ins in canonical.structure().inputs.items():
        slot = canonical.slots[j]
        if slot.model not in space.models:
            out.append(f"kept slot {j}: model {slot.model} not in the space")
        if not ins and slot.samples not in space.limits.samples:
            out.append(f"kept slot {j}: samples {slot.samples} not in the space")
        if ins and slot.role not in {*space.roles, "fuser"}:
            out.append(f"kept slot {j}: role {slot.role} not in the space")
    if raw:
        for j, slot in enumerate(design.slots):
            if (
                slot.role not in space.roles
                or slot.model not in space.models
                or slot.samples not in space.limits.samples
            ):
                out.append(f"slot {j}: {slot.role} {slot.model} x{slot.samples} not among the space's choices")
    return out
