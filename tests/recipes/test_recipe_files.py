"""The shipped recipes: every YAML validates against the built-in pool (what a fresh checkout has), carries the
schema line and round-trips; the Python recipes build graphs equal to their YAML twins; every recipe runs on the
sim pool; each Python recipe runs as a script."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from collabgraph.errors import ConfigError
from collabgraph.graphs import SCHEMA_PATH, CustomNode, GenerateNode, GraphSpec, dump, load, loads
from collabgraph.graphs.result import GraphExampleResult
from collabgraph.graphs.runtime import run_graph
from collabgraph.models.gateway import Gateway
from collabgraph.models.pool import default_pool
from collabgraph.sandbox import LocalSandbox
from collabgraph.tasks import get_task
from tests.conftest import REPO_ROOT

RECIPES = REPO_ROOT / "recipes"
YAML_RECIPES = sorted(RECIPES.glob("*.yaml"))
TWINS = ["actor_critic", "best_of_n", "fusion_dag"]
PY_RECIPES = [*TWINS, "custom_kind"]
TASK_OF = {"spawn_join": "countdown"}
"""The task each recipe is run on (gsm8k unless named here)."""
RUN_ELSEWHERE = {"swe_pipeline"}
"""Recipes run by their own test module (swe_pipeline needs the swe_mini sources: tests/recipes/test_swe_pipeline.py)."""


def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"recipe_{name}", RECIPES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_recipes_are_all_there() -> None:
    assert [p.stem for p in YAML_RECIPES] == [
        "actor_critic",
        "best_of_n",
        "cot_pot",
        "fusion_dag",
        "spawn_join",
        "swe_pipeline",
    ]
    for name in PY_RECIPES:
        assert (RECIPES / f"{name}.py").is_file()


@pytest.mark.parametrize("path", YAML_RECIPES, ids=lambda p: p.stem)
def test_yaml_recipe_validates_and_round_trips(path: Path) -> None:
    first = path.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../collabgraph/graphs/schema/graph.schema.json"
    assert (path.parent / first.split("$schema=")[1]).resolve() == SCHEMA_PATH.resolve()
    spec = load(path, pool=default_pool())  # only built-in models: runs from a fresh checkout
    assert spec.name == path.stem and spec.description
    assert loads(dump(spec)) == spec


@pytest.mark.parametrize("name", TWINS)
def test_python_recipe_builds_its_yaml_twin(name: str) -> None:
    built = _module(name).build()
    assert isinstance(built, GraphSpec)
    assert built == load(RECIPES / f"{name}.yaml")
    assert dump(built) == dump(load(RECIPES / f"{name}.yaml"))


def test_python_recipes_take_other_models() -> None:
    spec = _module("best_of_n").build(model="sim/qwen2.5-7b", n=4)
    sample = spec.node("sample")
    assert spec.models == {"m": "sim/qwen2.5-7b"} and isinstance(sample, GenerateNode) and sample.samples == 4
    with pytest.raises(ConfigError, match="unknown model 'sim/nope'"):
        _module("actor_critic").build(critic="sim/nope")


def test_the_custom_kind_checks_its_config() -> None:
    module = _module("custom_kind")
    gate = module.build().node("gate")
    assert isinstance(gate, CustomNode) and gate.impl == module.KIND
    with pytest.raises(ConfigError) as info:
        module.build(min_agreement=2.0)
    assert [e.loc for e in info.value.errors] == ["nodes[1].config.min_agreement"]


async def _run(spec: GraphSpec, task_name: str, limit: int) -> list[GraphExampleResult]:
    task = get_task(task_name)
    async with Gateway(default_pool()) as gateway:
        examples = task.examples("test", limit, 0)
        return await run_graph(spec, task=task, examples=examples, gateway=gateway, sandbox=LocalSandbox())


@pytest.mark.parametrize("path", [p for p in YAML_RECIPES if p.stem not in RUN_ELSEWHERE], ids=lambda p: p.stem)
async def test_every_recipe_runs_on_the_sim_pool(path: Path) -> None:
    spec = load(path)
    results = await _run(spec, TASK_OF.get(path.stem, "gsm8k"), 3)
    assert len(results) == 3
    for result in results:
        assert result.error is None, result.error
        assert result.calls >= 1 and result.usage.cost_usd > 0 and result.latency_s > 0
        ran = set(result.nodes)
        assert ran >= set(spec.entries) and result.final_node in ran


async def test_the_custom_kind_gates_and_escalates() -> None:
    spec = _module("custom_kind").build()
    results = await _run(spec, "gsm8k", 12)
    assert all(r.error is None for r in results)
    gates = [o for r in results for o in r.trace if o.node_id == "gate"]
    assert len(gates) == 12 and all(0.0 <= g.data["agreement"] <= 1.0 for g in gates)
    verdicts = {g.verdict for g in gates}
    assert verdicts == {"accepted", "rejected"}  # on 12 questions a 3B model is sure of some and not of others
    escalated = {r.example_id for r in results if "escalate" in r.nodes}
    rejected = {r.example_id for r, g in zip(results, gates, strict=True) if g.verdict == "rejected"}
    assert escalated == rejected


def test_python_recipes_run_as_scripts(tmp_path: Path, call_cache_dir: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "COLLABGRAPH_CACHE": str(call_cache_dir)}
    procs = {}
    for name in PY_RECIPES:
        args = [str(RECIPES / f"{name}.py"), "--limit", "2", "--format", "json", "--out", str(tmp_path / name)]
        procs[name] = subprocess.Popen(
            [sys.executable, *args], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    for name, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"{name}: {stderr}"
        report = json.loads(stdout)
        assert report["n"] == 2 and report["errors"] == 0 and report["task"] == "gsm8k", name
        assert report["run_dir"] == str(tmp_path / name)
        manifest = json.loads((tmp_path / name / "manifest.json").read_text())
        assert manifest["command"][0].endswith(f"{name}.py")


def test_a_script_reports_bad_arguments(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run(
        [sys.executable, str(RECIPES / "best_of_n.py"), "--limit", "0"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 2 and "--limit must be at least 1, got 0" in proc.stderr
    proc = subprocess.run(
        [sys.executable, str(RECIPES / "best_of_n.py"), "--task", "gsm9k", "--out", str(tmp_path / "r")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 1 and "unknown task 'gsm9k'" in proc.stderr and "Traceback" not in proc.stderr
