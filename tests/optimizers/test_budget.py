"""Budget repair as an invariant: whatever the design and the budget, a repaired design fits its estimate, keeps
the output and only drops nodes; a rejection means even the output alone does not fit."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from collabgraph.models.pool import default_pool
from collabgraph.optimizers import CostModel, Design, Priors, alone, repair
from tests.optimizers.test_design import SPACE, designs

POOL = default_pool()
PRIORS = Priors(
    accuracy={"sim/llama-3.2-1b": 0.44, "sim/llama-3.1-8b": 0.84},
    params_b={"sim/llama-3.2-1b": 1.24, "sim/llama-3.1-8b": 8.03},
)


@given(designs(), st.floats(min_value=1e11, max_value=1e14))
@settings(max_examples=120, deadline=None)
def test_repair_fits_or_rejects(design: Design, flops: float) -> None:
    space = SPACE.model_copy(update={"budget": SPACE.budget.model_copy(update={"flops": flops})})
    costs = CostModel(space, POOL)
    fit = repair(design, costs, PRIORS)
    out = len(design.slots) - 1
    if fit.design is None:
        # Rejected only when the output slot answering alone is over: the last thing repair tries.
        assert fit.over and costs.estimate(fit_alone(design)).flops > flops
        return
    assert costs.estimate(fit.design).flops <= flops * (1 + 1e-9)
    kept, before = set(fit.design.structure().kept), set(design.structure().kept)
    assert out in kept and kept <= before
    # Each drop removes its node (a critic re-wired to several inputs reads only the latest: maybe more go).
    assert len(before - kept) >= len(fit.dropped)
    assert fit.repaired == bool(fit.dropped)
    # Same slots as proposed: what ran can be credited to the proposal's choices.
    assert all(fit.design.slots[j] == design.slots[j] for j in kept)


def fit_alone(design: Design) -> Design:
    last = design.slots[-1]
    return alone(SPACE, last.model, last.samples)
