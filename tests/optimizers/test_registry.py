"""make_optimizer: every optimizer by its name, the same arguments whatever the name, and a helpful unknown name."""

from __future__ import annotations

import subprocess
import sys

import pytest

from collabgraph.errors import UnknownNameError
from collabgraph.optimizers import TPE, Exhaustive, RandomSearch, Reinforce, make_optimizer
from collabgraph.optimizers.base import Optimizer, Priors
from collabgraph.optimizers.space import OPTIMIZER_NAMES
from tests.optimizers.loop import MODELS, make_space

PRIORS = Priors(accuracy={MODELS[0]: 0.3, MODELS[1]: 0.6})


@pytest.mark.parametrize(
    ("name", "cls"), [("random", RandomSearch), ("exhaustive", Exhaustive), ("tpe", TPE), ("reinforce", Reinforce)]
)
def test_each_baseline_by_name_ignoring_what_agent_reinforce_needs(name: str, cls: type[Optimizer]) -> None:
    space = make_space(nodes=3)
    optimizer = make_optimizer(name, space, seed=1, batch=3, priors=PRIORS, gateway=None, pool=None)
    assert type(optimizer) is cls
    assert optimizer.name == name
    assert len(optimizer.ask()) == 3
    # The same name, seed and space give the same optimizer.
    again = make_optimizer(name, space, seed=1, batch=3)
    assert again.ask() == make_optimizer(name, space, seed=1, batch=3).ask()


def test_agent_reinforce_gets_the_extra_arguments() -> None:
    optimizer = make_optimizer("agent-reinforce", make_space(nodes=3), seed=0, batch=2, priors=PRIORS)
    assert optimizer.name == "agent-reinforce"
    assert len(optimizer.ask()) == 2


def test_every_name_a_search_space_accepts_is_made() -> None:
    space = make_space(nodes=2)
    made = {make_optimizer(n, space, seed=0, batch=1, priors=PRIORS).name for n in OPTIMIZER_NAMES}
    assert made == set(OPTIMIZER_NAMES)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("tpee", "unknown optimizer 'tpee'; did you mean: tpe?"),
        ("agent_reinforce", "unknown optimizer 'agent_reinforce'; did you mean: agent-reinforce, reinforce?"),
        ("zzz", "unknown optimizer 'zzz'; known: agent-reinforce, exhaustive, random, reinforce, tpe"),
    ],
)
def test_an_unknown_name_lists_the_nearest(name: str, message: str) -> None:
    with pytest.raises(UnknownNameError) as info:
        make_optimizer(name, make_space(), seed=0, batch=1)
    assert str(info.value) == message


def test_importing_the_optimizers_does_not_import_optuna() -> None:
    code = "import sys, collabgraph.optimizers; print('optuna' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
