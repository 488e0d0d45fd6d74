"""``collabgraph run`` as a user runs it: a subprocess of ``python -m collabgraph`` on the shipped recipes, the real
offline pools, real data, the real call cache; killed with SIGKILL and resumed; over HTTP with an API key that
must never reach the run directory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from collabgraph.runs import read_jsonl
from tests.conftest import REPO_ROOT, RunCli
from tests.helpers import assert_secret_free, cli_json, start_serve_sim

SECRET = "sk-test-SECRET-run-0a1b2c3d4e5f"
RECIPES = REPO_ROOT / "recipes"
REQUIRED = {
    "graph",
    "task",
    "n",
    "accuracy",
    "ci95",
    "mean_cost_usd",
    "mean_tokens",
    "mean_flops",
    "mean_latency_s",
    "run_dir",
    "errors",
    "new_examples",
}


def _cli(*args: str, cwd: Path, cache: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The command run from ``cwd`` (where the default ``runs/`` directory goes)."""
    full = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "COLLABGRAPH_CACHE": str(cache),
        "COLUMNS": "200",
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "collabgraph", *args],
        capture_output=True, text=True, env=full, cwd=cwd, timeout=300, check=False,
    )  # fmt: skip


def test_json_run_resumes_in_its_own_directory_and_holds_no_key(tmp_path: Path, call_cache_dir: Path) -> None:
    args = ("run", str(RECIPES / "best_of_n.yaml"), "--task", "gsm8k", "--limit", "4", "--format", "json")
    env = {"OPENAI_API_KEY": SECRET, "ANTHROPIC_API_KEY": SECRET}
    proc = _cli(*args, cwd=tmp_path, cache=call_cache_dir, env=env)
    report = cli_json(proc)
    assert set(report) >= REQUIRED
    assert (report["graph"], report["task"], report["n"]) == ("best_of_n", "gsm8k", 4)
    assert report["errors"] == 0 and report["new_examples"] == 4 and report["resumed"] is False
    low, high = report["ci95"]
    assert 0.0 <= low <= report["accuracy"] <= high <= 1.0
    assert report["mean_tokens"] > 0 and report["mean_flops"] > 0 and report["mean_latency_s"] > 0
    assert [row["node"] for row in report["nodes"]] == ["sample", "vote"]
    run_dir = tmp_path / report["run_dir"]
    assert report["run_dir"].startswith("runs/best_of_n-gsm8k-") and run_dir.is_dir()
    assert json.loads((run_dir / "summary.json").read_text()) == report
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["command"] == ["collabgraph", *args]

    again = cli_json(_cli(*args, cwd=tmp_path, cache=call_cache_dir, env=env))  # the same command: the same run
    assert again["run_dir"] == report["run_dir"] and again["new_examples"] == 0 and again["resumed"] is True
    assert again["accuracy"] == report["accuracy"] and again["n"] == 4

    # Another command (one more example) pointed at that directory is refused, not mixed in.
    other = _cli(*args[:-4], "--limit", "5", "--out", str(run_dir), cwd=tmp_path, cache=call_cache_dir)
    assert other.returncode == 1
    assert f"{run_dir} holds another run ('best_of_n' on 'gsm8k'" in other.stderr and "--out" in other.stderr
    assert other.stdout == ""
    assert len(read_jsonl(run_dir / "results.jsonl")) == 4
    assert_secret_free(SECRET, tmp_path / "runs", proc.stdout, proc.stderr)


def test_text_mode_with_an_alias_override(run_cli: RunCli, tmp_path: Path) -> None:
    out = tmp_path / "r"
    proc = run_cli(
        "run", str(RECIPES / "actor_critic.yaml"), "--task", "gsm8k", "--limit", "3", "--set",
        "critic=sim/qwen2.5-72b", "--out", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    for part in ("actor_critic", "gsm8k (test split, 3 examples, seed 0)", "accuracy", "95% CI", "critical path"):
        assert part in text, part
    table = text[text.index("per node") :]
    for part in ("node", "kind", "model", "calls", "tokens", "cost", "latency", "of path"):
        assert part in table.splitlines()[1], part
    assert "critique" in table and "sim/qwen2.5-72b" in table and "sim/llama-3.1-70b" not in table
    assert str(out) in text
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["models"]) == {"sim/llama-3.1-8b", "sim/qwen2.5-72b"}
    assert manifest["graph"]["spec"]["models"] == {"actor": "sim/llama-3.1-8b", "critic": "sim/qwen2.5-72b"}


def _interrupt_after(
    args: list[str], results: Path, done: int, sig: signal.Signals, cache: Path
) -> subprocess.CompletedProcess[str]:
    """Start the command, send ``sig`` once ``done`` results are recorded, and return how it ended."""
    env = {**os.environ, "COLLABGRAPH_CACHE": str(cache)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "collabgraph", *args],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while len(read_jsonl(results)) < done:
            assert proc.poll() is None, "the run ended before it could be interrupted"
            assert time.monotonic() < deadline, "no results after 120 s"
            time.sleep(0.05)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def test_ctrl_c_keeps_what_finished_and_says_how_to_resume(tmp_path: Path, call_cache_dir: Path) -> None:
    out = tmp_path / "stopped"
    args = [
        "run", str(RECIPES / "actor_critic.yaml"), "--task", "gsm8k", "--limit", "20", "--concurrency", "1",
        "--out", str(out),
    ]  # fmt: skip
    proc = _interrupt_after(args, out / "results.jsonl", 2, signal.SIGINT, call_cache_dir)
    assert proc.returncode == 130
    kept = read_jsonl(out / "results.jsonl")
    assert f"interrupted: {len(kept)} of 20 examples kept in {out}; run the same command to resume" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    events = read_jsonl(out / "events.jsonl")
    assert events[-1]["event"] == "run_stop" and "Cancelled" in events[-1]["reason"]


def test_a_run_killed_midway_resumes_without_paying_twice(
    run_cli: RunCli, tmp_path: Path, call_cache_dir: Path
) -> None:
    out = tmp_path / "killed"
    args = [
        "run", str(RECIPES / "actor_critic.yaml"), "--task", "gsm8k", "--limit", "20", "--concurrency", "1",
        "--out", str(out), "--format", "json",
    ]  # fmt: skip
    results = out / "results.jsonl"
    _interrupt_after(args, results, 3, signal.SIGKILL, call_cache_dir)
    kept = {r["example_id"] for r in read_jsonl(results)}
    assert 3 <= len(kept) < 20
    events_before = len(read_jsonl(out / "events.jsonl"))

    report = cli_json(run_cli(*args))
    assert report["n"] == 20 and report["errors"] == 0
    assert report["new_examples"] == 20 - len(kept) and report["resumed"] is True
    ids = [r["example_id"] for r in read_jsonl(results)]
    assert len(ids) == len(set(ids)) == 20  # every example once: none lost, none duplicated
    assert results.read_bytes().count(b"\n") == 20

    events = read_jsonl(out / "events.jsonl")
    second = events[events_before:]
    assert second[0]["event"] == "run_resume" and second[0]["done"] == len(kept)
    calls = [e for e in second if e["event"] == "call"]
    assert calls and {c["example_id"] for c in calls} <= set(ids) - kept  # only the examples still missing
    # Nothing is paid twice: what the two runs paid (cached samples cost nothing) is at most what the results
    # account for, each call counted once at the price it was first paid.
    paid = sum(e["usage"]["cost_usd"] for e in events if e["event"] == "call")
    accounted = sum(r["usage"]["cost_usd"] for r in read_jsonl(results))
    assert paid <= accounted * (1 + 1e-9)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("critc=sim/llama-3.1-8b", ["no model alias 'critc'", "did you mean 'critic'", "aliases: actor, critic"]),
        ("critic=sim/llama-3.1-80b", ["unknown model 'sim/llama-3.1-80b'", "sim/llama-3.1-70b"]),
        ("critic", ["--set critic", "expected ALIAS=MODEL"]),
    ],
)
def test_bad_set_says_what_is_wrong(run_cli: RunCli, tmp_path: Path, value: str, expected: list[str]) -> None:
    proc = run_cli(
        "run", str(RECIPES / "actor_critic.yaml"), "--task", "gsm8k", "--limit", "2", "--set", value,
        "--out", str(tmp_path / "r"),
    )  # fmt: skip
    assert proc.returncode == 1
    for fragment in expected:
        assert fragment in proc.stderr, fragment
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert not (tmp_path / "r").exists()


def test_invalid_graph_names_file_and_location(run_cli: RunCli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((RECIPES / "actor_critic.yaml").read_text().replace("model: critic,", "model: critc,"))
    proc = run_cli("run", str(bad), "--task", "gsm8k", "--limit", "2", "--out", str(tmp_path / "r"))
    assert proc.returncode == 1
    assert str(bad) in proc.stderr and "nodes[1].model" in proc.stderr and "critic" in proc.stderr
    assert not (tmp_path / "r").exists()


def test_unknown_task_and_split_are_named(run_cli: RunCli, tmp_path: Path) -> None:
    graph = str(RECIPES / "best_of_n.yaml")
    proc = run_cli("run", graph, "--task", "gsm9k", "--out", str(tmp_path / "a"))
    assert proc.returncode == 1 and "unknown task 'gsm9k'" in proc.stderr and "gsm8k" in proc.stderr
    proc = run_cli("run", graph, "--task", "gsm8k", "--split", "tset", "--out", str(tmp_path / "b"))
    assert proc.returncode == 1 and "unknown split 'tset'" in proc.stderr and "test" in proc.stderr


@pytest.fixture
def serve_sim(tmp_path: Path) -> Iterator[str]:
    """``collabgraph serve-sim`` in a subprocess on a free port; yields its base URL."""
    with start_serve_sim(tmp_path) as base:
        yield base


def test_a_key_sent_over_http_never_reaches_the_run_directory(
    run_cli: RunCli, tmp_path: Path, serve_sim: str, call_cache_dir: Path
) -> None:
    entry = {
        "litellm_id": "hosted_vllm/sim/llama-3.1-8b",
        "api_base": serve_sim,
        "api_key_env": "COLLABGRAPH_TEST_KEY",
        "offline": True,
        "params_b": 8,
    }
    pool = tmp_path / "pool.yaml"
    pool.write_text(json.dumps({"schema": "collabgraph.models/v1", "models": {"served-8b": entry}}))
    out = tmp_path / "served"
    env: dict[str, str | None] = {"COLLABGRAPH_TEST_KEY": SECRET, "OPENAI_API_KEY": SECRET}
    proc = run_cli(
        "run", str(RECIPES / "best_of_n.yaml"), "--task", "gsm8k", "--limit", "3", "--models", str(pool),
        "--set", "m=served-8b", "--out", str(out), "--format", "json", env=env,
    )  # fmt: skip
    report = cli_json(proc)
    assert report["n"] == 3 and report["errors"] == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["models"]["served-8b"]["api_key_env"] == "COLLABGRAPH_TEST_KEY"  # the variable's name only
    calls = [e for e in read_jsonl(out / "events.jsonl") if e["event"] == "call"]
    assert len(calls) == 3 and all(c["model"] == "served-8b" and c["requests"] == 1 for c in calls)
    assert_secret_free(SECRET, out, call_cache_dir, proc.stdout, proc.stderr)
