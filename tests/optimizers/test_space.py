"""Search space files: valid ones load with their pool; every bad input names its location, line and a fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from collabgraph.errors import ConfigError
from collabgraph.graphs.diagnostics import LocatedError
from collabgraph.optimizers import SearchSpace, load_space, loads_space
from tests.conftest import REPO_ROOT

GOOD = """\
schema: collabgraph.search/v1
name: tiny
task: {name: gsm8k, dev: 10, test: 20}
models: [sim/llama-3.2-1b, sim/llama-3.1-8b]
roles: [assistant, fuser, vote]
limits: {nodes: 3, width: 2, depth: 2}
budget: {flops: 2.0e13, usd: 0.01}
"""


def _errors(text: str) -> list[LocatedError]:
    with pytest.raises(ConfigError) as info:
        loads_space(text, "space.yaml")
    return [e for e in info.value.errors if isinstance(e, LocatedError)]


def test_a_good_space_loads_with_defaults_filled_in() -> None:
    space, pool = loads_space(GOOD)
    assert isinstance(space, SearchSpace)
    assert space.task.seed == 0 and space.limits.samples == [1]
    assert space.budget.limits() == {"flops": 2.0e13, "usd": 0.01}
    assert space.optimizer.name == "agent-reinforce" and space.optimizer.model is None
    assert "sim/llama-3.1-8b" in pool


@pytest.mark.parametrize("recipe", sorted((REPO_ROOT / "recipes" / "search").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_search_recipe_loads(recipe: Path) -> None:
    space, pool = load_space(recipe)
    assert all(m in pool for m in space.models)


def test_an_unknown_model_is_reported_at_its_index_with_the_nearest_name() -> None:
    (err,) = _errors(GOOD.replace("sim/llama-3.1-8b]", "sim/llama-3.1-8]"))
    assert err.loc == "models[1]" and err.line == 4
    assert "no model 'sim/llama-3.1-8'" in err.msg and err.hint == "did you mean sim/llama-3.1-8b?"


def test_an_unknown_role_is_reported_at_its_index() -> None:
    (err,) = _errors(GOOD.replace("fuser, vote", "fuser, voter"))
    assert err.loc == "roles[2]" and err.line == 5
    assert "vote" in (err.hint or "") + err.msg


def test_an_unknown_task_names_the_closest() -> None:
    (err,) = _errors(GOOD.replace("name: gsm8k", "name: gsm8"))
    assert err.loc == "task.name" and err.hint == "did you mean gsm8k?"


def test_an_unknown_optimizer_model_is_an_error_at_its_field() -> None:
    (err,) = _errors(GOOD + "optimizer: {model: sim/llama-70b}\n")
    assert err.loc == "optimizer.model" and err.line == 8


@pytest.mark.parametrize(
    ("change", "loc", "fragment"),
    [
        (("flops: 2.0e13", "flops: -1"), "budget.flops", "greater than 0"),
        (("nodes: 3", "nodes: 0"), "limits.nodes", "greater than or equal to 1"),
        (("dev: 10", "dev: ten"), "task.dev", "integer"),
        (("roles: [assistant, fuser, vote]", "roles: [fuser, vote]"), "roles", "must include 'assistant'"),
        (
            ("models: [sim/llama-3.2-1b, sim/llama-3.1-8b]", "models: [sim/llama-3.2-1b, sim/llama-3.2-1b]"),
            "models",
            "listed twice",
        ),
        (("budget:", "budgets:"), "budgets", "budget"),
    ],
)
def test_bad_values_are_located(change: tuple[str, str], loc: str, fragment: str) -> None:
    errors = _errors(GOOD.replace(*change))
    assert any(e.loc == loc and fragment in f"{e.msg} {e.hint}" for e in errors), [str(e) for e in errors]


def test_the_wrong_schema_says_which_is_expected() -> None:
    (err,) = _errors(GOOD.replace("collabgraph.search/v1", "collabgraph.graph/v1"))
    assert err.loc == "schema" and "expected 'collabgraph.search/v1'" in err.msg and err.line == 1


def test_not_yaml_and_not_a_mapping() -> None:
    (err,) = _errors("schema: [unclosed\n")
    assert "not valid YAML" in err.msg
    (err,) = _errors("- a list\n")
    assert err.loc == "<root>"


def test_a_missing_file() -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_space(Path("/nonexistent/space.yaml"))


def test_a_pool_file_relative_to_the_space(tmp_path: Path) -> None:
    (tmp_path / "pool.yaml").write_text(
        "schema: collabgraph.models/v1\nmodels:\n  mine/small:\n    litellm_id: openai/gpt-4o-mini\n"
    )
    space_file = tmp_path / "space.yaml"
    space_file.write_text(GOOD.replace("models: [", "pool: pool.yaml\nmodels: [mine/small, "))
    space, pool = load_space(space_file)
    assert "mine/small" in pool and space.models[0] == "mine/small"


def test_generate_is_another_name_for_the_assistant_role() -> None:
    space, _ = loads_space(GOOD.replace("roles: [assistant, fuser, vote]", "roles: [generate, fuser]"))
    assert space.roles == ["assistant", "fuser"]
