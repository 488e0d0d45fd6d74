"""``collabgraph optimize`` as a user runs it: JSON and text output, the rerun, kill -9 and resume, the best graph
reproduced by ``collabgraph run``, and the errors a user can cause."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, RunCli
from tests.helpers import start_serve_sim

SPACE = """\
schema: collabgraph.search/v1
name: cli-tiny
task: {name: gsm8k, dev: 10, test: 15, seed: 0}
models: [sim/llama-3.2-1b, sim/llama-3.2-3b, sim/llama-3.1-8b]
roles: [assistant, fuser, vote]
limits: {nodes: 3, width: 2}
budget: {flops: 3.0e13}
concurrency: 4
optimizer: {name: random, evaluations: 5, batch: 2}
"""


@pytest.fixture
def space_file(tmp_path: Path) -> Path:
    path = tmp_path / "space.yaml"
    path.write_text(SPACE)
    return path


def _json(proc: subprocess.CompletedProcess[str]) -> dict:  # type: ignore[type-arg]
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def _events(run_dir: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines() if line.strip()]


@pytest.mark.timeout(300)
def test_json_output_rerun_and_reproduction(run_cli: RunCli, space_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "search"
    first = _json(
        run_cli("optimize", str(space_file), "--evaluations", "4", "--seed", "2", "--out", str(out), "--format", "json")
    )
    assert {"optimizer", "evaluations", "new_evaluations", "best", "pareto", "run_dir"} <= set(first)
    assert first["optimizer"] == "random" and first["evaluations"] == first["new_evaluations"] == 4
    best = first["best"]
    assert {"graph", "dev_accuracy", "test_accuracy", "mean_cost_usd", "mean_latency_s", "mean_flops"} <= set(best)
    assert best["mean_flops"] <= 3.0e13 and isinstance(first["pareto"], list) and first["pareto"]
    assert first["run_dir"] == str(out)

    again = _json(
        run_cli("optimize", str(space_file), "--evaluations", "4", "--seed", "2", "--out", str(out), "--format", "json")
    )
    assert again["new_evaluations"] == 0 and again["best"] == best

    # The best graph is a graph file `collabgraph run` accepts, and it scores the same on the same test examples.
    ran = _json(
        run_cli(
            "run",
            best["graph"],
            "--task",
            "gsm8k",
            "--split",
            "test",
            "--limit",
            "15",
            "--seed",
            "0",
            "--out",
            str(tmp_path / "rerun"),
            "--format",
            "json",
        )
    )
    assert ran["accuracy"] == pytest.approx(best["test_accuracy"])


@pytest.mark.timeout(300)
def test_text_output_shows_the_best_graph_and_the_front(run_cli: RunCli, space_file: Path, tmp_path: Path) -> None:
    proc = run_cli(
        "optimize", str(space_file), "--optimizer", "tpe", "--evaluations", "3", "--out", str(tmp_path / "s")
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for fragment in (
        "search cli-tiny on gsm8k",
        "evaluations  3 (3 new in this run)",
        "best graph",
        "dev accuracy",
        "test accuracy",
        "reproduce",
        "collabgraph run",
        "Pareto front (accuracy vs flops)",
    ):
        assert fragment in proc.stdout, fragment


def test_an_infeasible_budget_is_a_clear_error(run_cli: RunCli, space_file: Path, tmp_path: Path) -> None:
    space_file.write_text(SPACE.replace("flops: 3.0e13", "flops: 1.0e9"))
    proc = run_cli("optimize", str(space_file), "--out", str(tmp_path / "s"))
    assert proc.returncode == 1
    assert "no graph of 'cli-tiny' fits the budget: the cheapest, [2] assistant sim/llama-3.2-1b" in proc.stderr
    assert "raise the budget" in proc.stderr and "Traceback" not in proc.stderr


def test_an_unknown_model_is_reported_at_its_location(run_cli: RunCli, space_file: Path) -> None:
    space_file.write_text(SPACE.replace("sim/llama-3.2-3b", "sim/llama-3.2-3"))
    proc = run_cli("optimize", str(space_file))
    assert proc.returncode == 1
    assert "models[1]: no model 'sim/llama-3.2-3' in the pool" in proc.stderr
    assert "did you mean sim/llama-3.2-3b?" in proc.stderr


def test_an_unknown_optimizer_is_a_usage_error(run_cli: RunCli, space_file: Path) -> None:
    proc = run_cli("optimize", str(space_file), "--optimizer", "bayes")
    assert proc.returncode == 2
    assert "agent-reinforce" in proc.stderr and "tpe" in proc.stderr


@pytest.mark.timeout(300)
def test_kill_9_then_the_same_command_resumes_without_losing_or_repeating(
    run_cli: RunCli, space_file: Path, tmp_path: Path, call_cache_dir: Path
) -> None:
    # The reference: one uninterrupted search with a cache of its own.
    ref = _json(
        run_cli(
            "optimize",
            str(space_file),
            "--evaluations",
            "6",
            "--out",
            str(tmp_path / "ref"),
            "--format",
            "json",
            env={"COLLABGRAPH_CACHE": str(tmp_path / "ref-cache")},
        )
    )
    out = tmp_path / "killed"
    args = [
        sys.executable,
        "-m",
        "collabgraph",
        "optimize",
        str(space_file),
        "--evaluations",
        "6",
        "--out",
        str(out),
        "--format",
        "json",
    ]
    env = {**os.environ, "COLLABGRAPH_CACHE": str(call_cache_dir)}
    proc = subprocess.Popen(args, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        path = out / "events.jsonl"
        if path.exists() and sum('"event":"trial"' in line for line in path.read_text().splitlines()) >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the search finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    resumed = _json(run_cli("optimize", str(space_file), "--evaluations", "6", "--out", str(out), "--format", "json"))
    assert resumed["resumed"] and resumed["evaluations"] == 6 and 0 < resumed["new_evaluations"] < 6
    assert (
        resumed["best"]["key"] == ref["best"]["key"] and resumed["best"]["dev_accuracy"] == ref["best"]["dev_accuracy"]
    )
    trials = [e["number"] for e in _events(out) if e["event"] == "trial"]
    assert trials == list(range(len(trials)))  # nothing lost, nothing logged twice

    def paid(run_dir: Path) -> int:
        return sum(len(e["samples"]) - e["cached"] for e in _events(run_dir) if e["event"] == "call")

    assert paid(out) == paid(tmp_path / "ref")  # no call was paid for twice across the kill


@pytest.mark.timeout(300)
def test_the_optimizer_llm_can_be_a_model_behind_an_openai_compatible_server(
    run_cli: RunCli, space_file: Path, tmp_path: Path
) -> None:
    # serve-sim stands for a vLLM server: the textual gradient comes back over real HTTP, validated and applied.
    with start_serve_sim(tmp_path) as base:
        entry = {"litellm_id": "hosted_vllm/sim/llama-3.1-70b", "api_base": base, "offline": True, "params_b": 70}
        (tmp_path / "pool.yaml").write_text(
            json.dumps({"schema": "collabgraph.models/v1", "models": {"served-70b": entry}})
        )
        space_file.write_text(
            SPACE.replace("optimizer: {name: random, evaluations: 5, batch: 2}", "pool: pool.yaml\n"
                          "optimizer: {name: agent-reinforce, evaluations: 4, batch: 2, model: served-70b}")
        )  # fmt: skip
        out = tmp_path / "search"
        result = _json(run_cli("optimize", str(space_file), "--out", str(out), "--format", "json"))
    assert result["optimizer"] == "agent-reinforce" and result["update"] == "textual"
    log = _events(out)
    updates = [e for e in log if e["event"] == "optimizer" and e["type"] == "update"]
    assert updates and all(u["kind"] == "textual" for u in updates)
    asked = [e for e in log if e["event"] == "call" and e["model"] == "served-70b"]
    assert asked and all(c["trial"] is None and c["requests"] >= 1 for c in asked)  # the optimizer's own calls
