"""Running a graph into a run directory, in-process, on the real sim pool through the real gateway and SQLite cache:
what each file holds, resuming after a crash without paying twice, which changes make another run, and a model
that fails mid-graph."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from collabgraph.errors import ConfigError
from collabgraph.graphs import Graph, GraphSpec, load
from collabgraph.graphs.compile import graph_hash
from collabgraph.models.cache import CallCache
from collabgraph.models.pool import default_pool, load_pool
from collabgraph.runs import RunDir, RunDirError, read_jsonl
from collabgraph.runs.graph_run import GraphRun, prepare_run, run_graph_to_dir
from collabgraph.tasks import get_task
from collabgraph.tasks.types import Task
from tests.conftest import REPO_ROOT

ACTOR_CRITIC = REPO_ROOT / "recipes" / "actor_critic.yaml"

Runner = Callable[..., Coroutine[Any, Any, GraphRun]]


@pytest.fixture(scope="module")
def gsm8k() -> Task:
    return get_task("gsm8k")


@pytest.fixture
def cache(tmp_path: Path) -> CallCache:
    return CallCache(tmp_path / "calls.sqlite")


@pytest.fixture
def run(cache: CallCache, tmp_path: Path) -> Runner:
    """``run_graph_to_dir`` with this test's call cache, runs under ``tmp_path/runs``."""

    async def go(spec: GraphSpec, task: Task, **kwargs: Any) -> GraphRun:
        kwargs.setdefault("root", tmp_path / "runs")
        kwargs.setdefault("command", ["collabgraph", "run", "test"])
        return await run_graph_to_dir(spec, task, cache=cache, **kwargs)

    return go


def _events(path: Path, event: str | None = None) -> list[dict[str, Any]]:
    found = read_jsonl(path / "events.jsonl")
    return [e for e in found if event is None or e["event"] == event]


async def test_a_run_writes_manifest_events_results_and_summary(run: Runner, gsm8k: Task) -> None:
    spec = load(ACTOR_CRITIC)
    done = await run(spec, gsm8k, limit=6, seed=3)
    where = done.run_dir
    assert where.parent.name == "runs" and where.name.startswith("actor_critic-gsm8k-")
    assert sorted(p.name for p in where.iterdir()) == [
        "events.jsonl",
        "manifest.json",
        "results.jsonl",
        "summary.json",
    ]
    manifest = json.loads((where / "manifest.json").read_text())
    assert manifest["schema"] == "collabgraph.run/v1"
    assert (manifest["task"], manifest["split"], manifest["limit"], manifest["seed"]) == ("gsm8k", "test", 6, 3)
    assert manifest["graph"]["name"] == "actor_critic" and manifest["graph"]["hash"] == graph_hash(spec)
    assert load(json.dumps(manifest["graph"]["spec"]) + "\n") == spec  # the spec itself, loadable again
    assert set(manifest["models"]) == {"sim/llama-3.1-8b", "sim/llama-3.1-70b"}
    assert manifest["models"]["sim/llama-3.1-70b"]["litellm_id"] == "sim/llama-3.1-70b"
    assert manifest["versions"]["collabgraph"] and manifest["versions"]["python"] and manifest["platform"]
    assert manifest["command"] == ["collabgraph", "run", "test"] and manifest["started_at"].endswith("+00:00")

    ids = [ex.id for ex in gsm8k.examples("test", 6, 3)]
    results = read_jsonl(where / "results.jsonl")
    assert sorted(r["example_id"] for r in results) == sorted(ids)
    assert [r.example_id for r in done.results] == ids  # the returned results come in example order

    events = _events(where)
    assert events[0]["event"] == "run_start" and events[0]["pending"] == 6
    assert events[-1]["event"] == "run_finish" and events[-1]["new_examples"] == 6
    assert sorted(e["example_id"] for e in _events(where, "example_start")) == sorted(ids)
    assert sorted(e["example_id"] for e in _events(where, "example_finish")) == sorted(ids)
    calls = _events(where, "call")
    assert len(calls) == sum(r.calls for r in done.results)
    assert {c["example_id"] for c in calls} == set(ids)
    assert {c["role"] for c in calls} >= {"answer", "critique"}
    assert all(c["cached"] == 0 and c["usage"]["completion_tokens"] > 0 for c in calls)
    # every example's events come in order: start, its calls, finish
    for example_id in ids:
        mine = [e["event"] for e in events if e.get("example_id") == example_id]
        assert mine[0] == "example_start" and mine[-1] == "example_finish" and set(mine[1:-1]) == {"call"}

    summary = json.loads((where / "summary.json").read_text())
    assert summary == done.summary.to_json()
    assert summary["n"] == 6 and summary["new_examples"] == 6 and summary["resumed"] is False
    assert summary["accuracy"] == sum(r.correct for r in done.results) / 6
    assert summary["mean_calls"] == pytest.approx(len(calls) / 6)
    nodes = {row["node"]: row for row in summary["nodes"]}
    assert list(nodes) == ["actor", "critic", "refine"] or list(nodes) == ["actor", "critic"]
    assert nodes["actor"]["kind"] == "generate" and nodes["critic"]["model"] == "sim/llama-3.1-70b"
    assert sum(row["tokens"] for row in nodes.values()) == pytest.approx(summary["mean_tokens"])
    assert sum(row["cost_usd"] for row in nodes.values()) == pytest.approx(summary["mean_cost_usd"])
    # a sequential graph: the nodes' times make up the whole critical path
    assert sum(row["latency_share"] for row in nodes.values()) == pytest.approx(1.0)


async def test_running_again_resumes_and_pays_for_nothing(run: Runner, gsm8k: Task) -> None:
    spec = load(ACTOR_CRITIC)
    first = await run(spec, gsm8k, limit=5)
    again = await run(spec, gsm8k, limit=5)
    assert again.run_dir == first.run_dir
    assert again.summary.new_examples == 0 and again.summary.resumed is True
    assert again.summary.accuracy == first.summary.accuracy and again.summary.n == 5
    assert len(read_jsonl(first.run_dir / "results.jsonl")) == 5
    assert [e["event"] for e in _events(first.run_dir)][-2:] == ["run_resume", "run_finish"]
    assert len(_events(first.run_dir, "call")) == sum(r.calls for r in first.results)  # no call the second time


async def test_a_result_cut_short_by_a_crash_is_run_again_from_the_cache(run: Runner, gsm8k: Task) -> None:
    spec = load(ACTOR_CRITIC)
    first = await run(spec, gsm8k, limit=5)
    path = first.run_dir / "results.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    lost = json.loads(lines[-1])["example_id"]
    path.write_bytes(b"".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])  # the crash hit mid-write
    calls_before = len(_events(first.run_dir, "call"))
    again = await run(spec, gsm8k, limit=5)
    assert again.summary.new_examples == 1 and again.summary.n == 5
    records = read_jsonl(path)
    assert sorted(r["example_id"] for r in records) == sorted(r.example_id for r in first.results)
    assert path.read_bytes().count(b"\n") == 5  # the partial line is gone, not glued to the new one
    new_calls = _events(first.run_dir, "call")[calls_before:]
    assert new_calls and {c["example_id"] for c in new_calls} == {lost}
    # the calls were paid for in the first run: the cache serves every sample, nothing is paid again
    assert all(c["cached"] == len(c["samples"]) and c["usage"]["cost_usd"] == 0 for c in new_calls)
    assert again.summary.accuracy == first.summary.accuracy


async def test_a_changed_command_is_another_run(run: Runner, gsm8k: Task, tmp_path: Path) -> None:
    spec = load(ACTOR_CRITIC)
    pool = default_pool()
    base = prepare_run(spec, gsm8k, limit=4, root=tmp_path / "runs", pool=pool).run_dir.path
    assert prepare_run(spec, gsm8k, limit=4, root=tmp_path / "runs", pool=pool).run_dir.path == base
    other_graph = spec.model_copy(update={"models": {**spec.models, "critic": "sim/qwen2.5-72b"}})
    changed = [
        prepare_run(spec, gsm8k, limit=5, root=tmp_path / "runs"),
        prepare_run(spec, gsm8k, limit=4, seed=1, root=tmp_path / "runs"),
        prepare_run(spec, gsm8k, limit=4, split="dev", root=tmp_path / "runs"),
        prepare_run(other_graph, gsm8k, limit=4, root=tmp_path / "runs"),
    ]
    paths = {p.run_dir.path for p in changed}
    assert len(paths) == 4 and base not in paths


async def test_a_changed_pool_entry_is_another_run(gsm8k: Task, tmp_path: Path) -> None:
    spec = load(ACTOR_CRITIC)
    pool_file = tmp_path / "pool.yaml"
    entry = {"litellm_id": "sim/llama-3.1-70b", "offline": True, "params_b": 70, "price_in": 5.0, "price_out": 5.0}
    pool_file.write_text(json.dumps({"schema": "collabgraph.models/v1", "models": {"sim/llama-3.1-70b": entry}}))
    plain = prepare_run(spec, gsm8k, limit=3, root=tmp_path / "runs")
    repriced = prepare_run(spec, gsm8k, limit=3, root=tmp_path / "runs", pool=load_pool(pool_file))
    assert plain.run_dir.path != repriced.run_dir.path


async def test_out_holding_another_run_is_refused(run: Runner, gsm8k: Task, tmp_path: Path) -> None:
    spec = load(ACTOR_CRITIC)
    out = tmp_path / "mine"
    prepare_run(spec, gsm8k, limit=3, out=out)
    with pytest.raises(RunDirError, match="holds another run"):
        prepare_run(spec, gsm8k, limit=4, out=out)


async def test_a_result_from_another_version_is_named(gsm8k: Task, tmp_path: Path) -> None:
    spec = load(ACTOR_CRITIC)
    prepared = prepare_run(spec, gsm8k, limit=2, out=tmp_path / "r")
    example_id = prepared.examples[0].id
    prepared.run_dir.results_path.write_text(json.dumps({"example_id": example_id, "usage": "lots"}) + "\n")
    with pytest.raises(RunDirError, match=rf"the result of '{example_id}' does not read back.*delete the run"):
        prepare_run(spec, gsm8k, limit=2, out=tmp_path / "r")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_model_failing_mid_graph_fails_its_examples_and_the_run_goes_on(
    run: Runner, gsm8k: Task, tmp_path: Path
) -> None:
    dead = {"litellm_id": "hosted_vllm/dead", "api_base": f"http://127.0.0.1:{_free_port()}/v1"}  # nothing listens
    pool_file = tmp_path / "pool.yaml"
    pool_file.write_text(json.dumps({"schema": "collabgraph.models/v1", "models": {"dead": dead}}))
    g = Graph("dies_midway").model("ok", "sim/llama-3.1-8b").model("broken", "dead")
    a = g.generate("first", model="ok")
    b = g.critique("critic", model="broken", target=a)
    g.edge(a, b).exit(b)
    pool = load_pool(pool_file)
    done = await run(g.build(pool), gsm8k, limit=3, pool=pool, gateway_options={"max_retries": 0, "timeout_s": 5})
    assert done.summary.n == 3 and done.summary.errors == 3 and done.summary.accuracy == 0.0
    assert all(r.error is not None and "'dead' failed" in r.error for r in done.results)
    assert all(r.nodes["first"].calls == 1 for r in done.results)  # what ran before the failure is kept
    failed_calls = [c for c in _events(done.run_dir, "call") if c["error"]]
    assert len(failed_calls) == 3 and {c["model"] for c in failed_calls} == {"dead"}
    assert RunDir(done.run_dir).read_summary() is not None


async def test_a_graph_that_cannot_run_writes_nothing(gsm8k: Task, tmp_path: Path) -> None:
    g = Graph("unknown_kind")
    g.exit(g.custom("c", impl="no_such_kind"))
    with pytest.raises(ConfigError) as info:
        prepare_run(g.build(), gsm8k, limit=2, root=tmp_path / "runs")
    assert [e.loc for e in info.value.errors] == ["nodes[0].impl"]
    assert "no custom kind named 'no_such_kind'" in str(info.value)
    assert not (tmp_path / "runs").exists()
