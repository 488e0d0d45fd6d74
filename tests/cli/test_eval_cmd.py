"""``collabgraph eval`` run as a user runs it (a subprocess of ``python -m collabgraph``), through the real gateway,
the real offline pools, real data and, for HTTP, real servers on 127.0.0.1."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from collabgraph.cli.eval_cmd import render_text
from collabgraph.models.server import FaultInjector
from collabgraph.runs import ExampleResult, summarise
from tests.conftest import RunCli
from tests.helpers import EVAL_SUMMARY_FIELDS, assert_secret_free, cli_json, free_port, start_serve_sim

SECRET = "sk-test-SECRET-eval-9f8e7d6c5b4a"


def _sane(report: dict[str, Any], n: int) -> None:
    assert set(report) >= EVAL_SUMMARY_FIELDS
    assert report["n"] == n
    low, high = report["ci95"]
    assert 0.0 <= low <= report["accuracy"] <= high <= 1.0
    assert report["mean_prompt_tokens"] > 0 and report["mean_completion_tokens"] > 0
    assert report["mean_latency_s"] > 0 and report["mean_flops"] > 0 and report["mean_cost_usd"] >= 0


def test_sim_eval_json_is_complete_and_a_rerun_is_all_cached(run_cli: RunCli, call_cache_dir: Path) -> None:
    args = ("eval", "sim/llama-3.1-8b", "--task", "gsm8k", "--limit", "30", "--format", "json")
    env: dict[str, str | None] = {"OPENAI_API_KEY": SECRET}
    first = cli_json(run_cli(*args, env=env))
    _sane(first, 30)
    assert (first["model"], first["task"], first["split"], first["samples"], first["seed"]) == (
        "sim/llama-3.1-8b",
        "gsm8k",
        "test",
        1,
        0,
    )
    assert first["errors"] == 0 and first["cached_calls"] == 0
    assert "maj_at_k" not in first and "pass_at_k" not in first
    assert 0.5 <= first["accuracy"] <= 1.0  # Llama 3.1 8B scores about 0.85 on GSM8K
    proc = run_cli(*args, env=env)
    second = cli_json(proc)
    assert second["cached_calls"] == 30
    assert second["accuracy"] == first["accuracy"] and second["ci95"] == first["ci95"]
    assert second["mean_flops"] == first["mean_flops"]
    assert_secret_free(SECRET, call_cache_dir, proc.stdout + proc.stderr)


def test_several_samples_add_maj_and_pass_at_k(run_cli: RunCli) -> None:
    report = cli_json(
        run_cli(
            "eval",
            "sim/llama-3.1-8b",
            "--task",
            "gsm8k",
            "--limit",
            "30",
            "--samples",
            "4",
            "--temperature",
            "0.7",
            "--format",
            "json",
        )
    )
    _sane(report, 30)
    assert report["samples"] == 4 and report["k"] == 4
    assert report["accuracy"] - 1e-9 <= report["pass_at_k"] <= 1.0
    assert 0.0 <= report["maj_at_k"] <= report["pass_at_k"]


def test_text_mode_prints_a_report_and_no_cache_writes_no_cache(run_cli: RunCli, call_cache_dir: Path) -> None:
    proc = run_cli("eval", "sim/oracle", "--task", "gsm8k", "--limit", "5", "--samples", "2", "--no-cache")
    assert proc.returncode == 0, proc.stderr
    for text in ("sim/oracle", "gsm8k (test split, 5 examples)", "accuracy", "1.000", "maj@2", "pass@2", "FLOP"):
        assert text in proc.stdout
    assert "cached calls" in proc.stdout and "0 of 5" in proc.stdout
    assert list(call_cache_dir.iterdir()) == []  # --no-cache neither reads nor writes the call cache


def test_text_report_lists_the_first_failures_and_omits_accounting_when_nothing_succeeded(
    capsys: pytest.CaptureFixture[str],
) -> None:
    failed = [
        ExampleResult(example_id=f"gsm8k/test/{i}", answers=[None], correct=[False], error=f"model 'dead' failed ({i})")
        for i in range(7)
    ]
    render_text(summarise(failed, model="dead", task="gsm8k", split="test", samples=1, temperature=0.0, seed=0))
    out = capsys.readouterr().out
    assert re.search(r"^errors +7 *$", out, re.MULTILINE) and "failed examples (first 5 of 7):" in out
    assert "gsm8k/test/4: model 'dead' failed (4)" in out and "gsm8k/test/5" not in out
    assert "tokens / example" not in out and "FLOPs" not in out


def test_unknown_model_names_the_closest(run_cli: RunCli) -> None:
    proc = run_cli("eval", "sim/llama-3.1-8x", "--task", "gsm8k", "--limit", "3")
    assert proc.returncode == 1
    assert "unknown model 'sim/llama-3.1-8x'" in proc.stderr and "sim/llama-3.1-8b" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_unknown_task_lists_the_tasks(run_cli: RunCli) -> None:
    proc = run_cli("eval", "sim/llama-3.1-8b", "--task", "gsm9k", "--limit", "3")
    assert proc.returncode == 1
    assert "unknown task 'gsm9k'" in proc.stderr
    for name in ("gsm8k", "math500", "mmlu_pro", "humaneval", "countdown", "game24"):
        assert name in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_split_names_the_valid_ones(run_cli: RunCli) -> None:
    proc = run_cli("eval", "sim/llama-3.1-8b", "--task", "gsm8k", "--split", "tset")
    assert proc.returncode == 1
    assert "unknown split 'tset'" in proc.stderr and "test" in proc.stderr


BAD_POOLS = {
    "wrong type": (
        "schema: collabgraph.models/v1\nmodels:\n  foo:\n    litellm_id: openai/x\n    layers: many\n",
        ["models.foo.layers", "integer"],
    ),
    "unknown field": (
        "schema: collabgraph.models/v1\nmodels:\n  foo:\n    litellm_id: openai/x\n    layer: 32\n",
        ["models.foo.layer", "line 5", "unknown field 'layer'", "did you mean 'layers'"],
    ),
    "invalid yaml": ("schema: collabgraph.models/v1\nmodels:\n  foo: [unclosed\n", ["line", "not valid YAML"]),
    "wrong schema": ("schema: collabgraph.models/v0\nmodels: {}\n", ["schema", "collabgraph.models/v1"]),
}


@pytest.mark.parametrize("case", sorted(BAD_POOLS))
def test_malformed_pool_file_gives_location_and_reason(run_cli: RunCli, tmp_path: Path, case: str) -> None:
    text, expected = BAD_POOLS[case]
    pool = tmp_path / "bad.yaml"
    pool.write_text(text)
    proc = run_cli("eval", "sim/llama-3.1-8b", "--task", "gsm8k", "--limit", "3", "--models", str(pool))
    assert proc.returncode == 1
    assert str(pool) in proc.stderr
    for fragment in expected:
        assert fragment in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_data_says_what_to_set(run_cli: RunCli, tmp_path: Path) -> None:
    empty = tmp_path / "empty-data"
    empty.mkdir()
    env: dict[str, str | None] = {"COLLABGRAPH_DATA": str(empty), "COLLABGRAPH_OFFLINE": "1"}
    proc = run_cli("eval", "sim/llama-3.1-8b", "--task", "gsm8k", "--limit", "3", env=env)
    assert proc.returncode == 1
    assert "gsm8k/test.jsonl" in proc.stderr and "COLLABGRAPH_DATA" in proc.stderr and "--data-dir" in proc.stderr
    assert "Traceback" not in proc.stderr


# 12,032 calls through the whole gateway path: about a minute alone, several on a loaded shared machine.
@pytest.mark.timeout(1200)
def test_replay_reproduces_the_recorded_mmlu_pro_accuracy(run_cli: RunCli) -> None:
    report = cli_json(
        run_cli("eval", "replay/Meta-Llama-3_1-70B-Instruct", "--task", "mmlu_pro", "--format", "json", timeout=1100)
    )
    assert report["n"] == 12032 and report["errors"] == 0
    assert round(report["accuracy"], 3) == 0.628


def _pool_file(tmp_path: Path, name: str, entry: dict[str, Any]) -> Path:
    pool = tmp_path / "pool.yaml"
    pool.write_text(json.dumps({"schema": "collabgraph.models/v1", "models": {name: entry}}))  # JSON is YAML
    return pool


def test_a_model_that_always_fails_finishes_with_an_error_per_example(run_cli: RunCli, tmp_path: Path) -> None:
    port = free_port()  # nothing listens there: every connection is refused
    pool = _pool_file(tmp_path, "dead", {"litellm_id": "hosted_vllm/dead", "api_base": f"http://127.0.0.1:{port}/v1"})
    env: dict[str, str | None] = {"COLLABGRAPH_MAX_RETRIES": "2", "COLLABGRAPH_BACKOFF_BASE_S": "0.01"}
    report = cli_json(
        run_cli("eval", "dead", "--task", "gsm8k", "--limit", "6", "--models", str(pool), "--format", "json", env=env)
    )
    assert report["n"] == 6 and report["errors"] == 6 and report["accuracy"] == 0.0
    assert len(report["error_examples"]) == 5  # the first few messages; the count covers all six
    assert all("'dead' failed after 3 attempt(s)" in m for m in report["error_examples"])


def test_a_missing_api_key_variable_stops_the_run_and_names_it(run_cli: RunCli, tmp_path: Path) -> None:
    pool = _pool_file(
        tmp_path, "my-gpt", {"litellm_id": "openai/gpt-4o-mini", "api_key_env": "COLLABGRAPH_TEST_NO_KEY"}
    )
    env: dict[str, str | None] = {"COLLABGRAPH_TEST_NO_KEY": None}
    proc = run_cli(
        "eval", "my-gpt", "--task", "gsm8k", "--limit", "3", "--models", str(pool), "--format", "json", env=env
    )
    assert proc.returncode == 1
    assert "environment variable COLLABGRAPH_TEST_NO_KEY is not set" in proc.stderr
    assert proc.stdout == "" and "Traceback" not in proc.stderr


def test_bad_gateway_settings_in_the_environment_are_named(run_cli: RunCli) -> None:
    env: dict[str, str | None] = {"COLLABGRAPH_MAX_RETRIES": "lots"}
    proc = run_cli("eval", "sim/oracle", "--task", "gsm8k", "--limit", "1", env=env)
    assert proc.returncode == 1
    assert "COLLABGRAPH_MAX_RETRIES: expected an integer, got 'lots'" in proc.stderr


FAULT_SEED = 5


def test_the_flaky_server_meets_every_kind_of_fault_within_the_first_calls() -> None:
    # serve-sim draws faults in arrival order from this seed, so the 20 first attempts below meet at least
    # these: the retry test cannot pass without retrying 429s, 500s and the 503 that ends a hang.
    injector = FaultInjector(0.3, FAULT_SEED)
    faults = [injector.draw() for _ in range(20)]
    assert {"rate_limit", "server_error", "hang"} <= set(faults)


@pytest.fixture
def serve_sim(tmp_path: Path) -> Iterator[str]:
    """``collabgraph serve-sim --fail-rate 0.3 --seed FAULT_SEED`` in a subprocess on a free port; yields its base
    URL. Its injected hangs last 0.5 s and end in a 503, which the client retries like the 429s and 500s."""
    with start_serve_sim(tmp_path, "--fail-rate", "0.3", "--seed", str(FAULT_SEED), "--hang-s", "0.5") as base:
        yield base


def test_against_a_flaky_server_every_call_completes_through_retries(
    run_cli: RunCli, tmp_path: Path, serve_sim: str, call_cache_dir: Path
) -> None:
    pool = _pool_file(
        tmp_path,
        "served-8b",
        {
            "litellm_id": "hosted_vllm/sim/llama-3.1-8b",
            "api_base": serve_sim,
            "api_key_env": "COLLABGRAPH_TEST_KEY",
            "offline": True,
            "params_b": 8,
        },
    )
    env: dict[str, str | None] = {
        "COLLABGRAPH_TEST_KEY": SECRET,
        "OPENAI_API_KEY": SECRET,
        # Injected faults (429, 500, a 0.5 s hang ending in 503) are retried; backoff kept short.
        "COLLABGRAPH_TIMEOUT_S": "8",
        "COLLABGRAPH_BACKOFF_BASE_S": "0.05",
    }
    proc = run_cli(
        "eval", "served-8b", "--task", "gsm8k", "--limit", "20", "--models", str(pool), "--format", "json", env=env
    )
    report = cli_json(proc)
    assert report["n"] == 20 and report["errors"] == 0, report.get("error_examples")
    _sane(report, 20)
    # --api-base reaches the same server for a built-in sim model (no cache: the pool-file run stored these).
    args = ("eval", "sim/llama-3.1-8b", "--task", "gsm8k", "--limit", "20", "--format", "json")
    via_flag = cli_json(run_cli(*args, "--api-base", serve_sim, "--no-cache", env=env))
    assert via_flag["errors"] == 0 and via_flag["cached_calls"] == 0
    # The same model answers the same over HTTP as through the in-process litellm provider.
    direct = cli_json(run_cli(*args))
    assert report["accuracy"] == via_flag["accuracy"] == direct["accuracy"]
    assert report["mean_completion_tokens"] == direct["mean_completion_tokens"]
    assert_secret_free(SECRET, call_cache_dir, proc.stdout, proc.stderr)
