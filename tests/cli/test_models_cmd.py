"""``collabgraph models list`` run as a user runs it: the built-in pool, a user pool file, and bad pool files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import RunCli

SECRET = "sk-test-SECRET-models-0123456789"

USER_POOL = """\
schema: collabgraph.models/v1
models:
  my-gpt:
    litellm_id: openai/gpt-4o-mini
    api_key_env: OPENAI_API_KEY
    family: gpt-4o
    params_b: 8
    price_in: 0.15
    price_out: 0.6
    scores:
      gsm8k: {accuracy: 0.93, source: "https://openai.com/index/gpt-4o-mini-advancing-cost-efficient-intelligence/"}
"""


def _entries(run_cli: RunCli, *args: str) -> dict[str, dict[str, object]]:
    proc = run_cli("models", "list", "--format", "json", *args)
    assert proc.returncode == 0, proc.stderr
    entries = json.loads(proc.stdout)
    assert isinstance(entries, list)
    return {e["name"]: e for e in entries}


def test_json_lists_the_builtin_offline_pools(run_cli: RunCli) -> None:
    entries = _entries(run_cli)
    assert "sim/llama-3.1-8b" in entries and "sim/oracle" in entries
    assert "replay/Meta-Llama-3_1-70B-Instruct" in entries
    sim = entries["sim/llama-3.1-8b"]
    assert set(sim) >= {"name", "litellm_id", "provider", "family", "params_b", "price_in", "price_out", "scores"}
    assert sim["provider"] == "sim" and sim["params_b"] == pytest.approx(8, abs=0.1)
    scores = sim["scores"]
    assert isinstance(scores, dict) and scores and all(0.0 <= v <= 1.0 for v in scores.values())
    assert sum(name.startswith("replay/") for name in entries) >= 29


def test_table_shows_models_prices_and_scores(run_cli: RunCli) -> None:
    proc = run_cli("models", "list")
    assert proc.returncode == 0, proc.stderr
    for text in ("model", "provider", "$/Mtok", "sim/llama-3.1-8b", "replay/Meta-Llama-3_1-70B-Instruct"):
        assert text in proc.stdout


def test_a_user_pool_is_added_and_only_the_key_variable_name_is_shown(run_cli: RunCli, tmp_path: Path) -> None:
    pool = tmp_path / "pool.yaml"
    pool.write_text(USER_POOL)
    env: dict[str, str | None] = {"OPENAI_API_KEY": SECRET}
    entries = _entries(run_cli, "--models", str(pool))
    mine = entries["my-gpt"]
    assert (mine["provider"], mine["api_key_env"], mine["price_out"]) == ("openai", "OPENAI_API_KEY", 0.6)
    assert mine["scores"] == {"gsm8k": 0.93}
    assert "sim/llama-3.1-8b" in entries  # added to the built-in pool, not replacing it
    for fmt in ("json", "table"):
        proc = run_cli("models", "list", "--models", str(pool), "--format", fmt, env=env)
        assert proc.returncode == 0, proc.stderr
        assert SECRET not in proc.stdout + proc.stderr
    assert "OPENAI_API_KEY" in proc.stdout


def test_a_malformed_pool_file_names_the_location(run_cli: RunCli, tmp_path: Path) -> None:
    pool = tmp_path / "bad.yaml"
    pool.write_text(USER_POOL.replace("params_b: 8", "params_b: eight"))
    proc = run_cli("models", "list", "--models", str(pool))
    assert proc.returncode == 1
    assert "models.my-gpt.params_b" in proc.stderr and "number" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_a_missing_pool_file_is_a_clear_error(run_cli: RunCli, tmp_path: Path) -> None:
    proc = run_cli("models", "list", "--models", str(tmp_path / "nope.yaml"))
    assert proc.returncode == 1
    assert "nope.yaml" in proc.stderr and "no such file" in proc.stderr
