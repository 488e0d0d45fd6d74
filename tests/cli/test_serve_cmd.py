"""``collabgraph serve-sim`` and ``collabgraph vllm-serve`` as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml

from collabgraph.cli import serve_cmd
from collabgraph.errors import CollabgraphError
from collabgraph.models.pool import ModelSpec, default_pool
from collabgraph.models.server import served_models
from tests.conftest import REPO_ROOT, RunCli


def test_serve_sim_serves_until_ctrl_c_and_prints_a_pool_entry_for_it(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "collabgraph", "serve-sim", "--port", "0", "--seed", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        banner = []
        for line in proc.stdout:
            banner.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        text = "".join(banner)
        base_url = text.split(" at ", 1)[1].split()[0]
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        with urllib.request.urlopen(f"{base_url}/models", timeout=10) as resp:
            ids = [m["id"] for m in json.load(resp)["data"]]
        assert "replay/Meta-Llama-3_1-70B-Instruct" in ids

        snippet = text[text.index("schema:") : text.index("Press Ctrl-C")]
        (name, entry), *_ = yaml.safe_load(snippet)["models"].items()
        spec = ModelSpec.model_validate(entry)
        assert name == "serve-sim/replay/Meta-Llama-3_1-70B-Instruct"
        assert spec.litellm_id == "hosted_vllm/replay/Meta-Llama-3_1-70B-Instruct"
        assert spec.api_base == base_url and spec.offline and spec.supports_n

        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert "serve-sim: stopped" in err


def test_serve_sim_on_a_busy_port_says_to_pick_another(run_cli: RunCli) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("serve-sim", "--port", str(port), timeout=60)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "pick another --port" in result.stderr


def test_serve_sim_refuses_a_fail_rate_above_one() -> None:
    # The CLI bounds --fail-rate too; this is the check behind it, for callers that skip the CLI.
    with pytest.raises(CollabgraphError, match=r"serve-sim: fail_rate must be in \[0, 1\], got 1.5"):
        serve_cmd.run_serve_sim(
            host="127.0.0.1", port=0, latency_scale=0, fixed_latency=0, fail_rate=1.5, hang_s=0, seed=0,
            models=None, data_dir=None,
        )  # fmt: skip


def test_the_banner_lists_the_served_models_and_the_options() -> None:
    pool = default_pool()
    served = served_models(pool)
    banner = serve_cmd.serve_sim_banner(pool, "http://127.0.0.1:1/v1", served, "fail rate 0.3")
    assert banner.startswith(f"serve-sim: {len(served)} offline models (sim/, replay/) at http://127.0.0.1:1/v1")
    assert "[fail rate 0.3]" in banner
    assert "curl http://127.0.0.1:1/v1/models" in banner


def test_vllm_serve_dry_run_prints_the_command_and_a_loadable_pool_entry(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli(
        "vllm-serve", "Qwen/Qwen2.5-0.5B-Instruct", "--port", "8011", "--seed", "5", "--dummy-weights", "--dry-run",
        "--", "--max-model-len", "2048",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    first, rest = result.stdout.split("\n", 1)
    assert first == (
        "command: vllm serve Qwen/Qwen2.5-0.5B-Instruct --host 127.0.0.1 --port 8011 --seed 5 "
        "--enable-prefix-caching --generation-config vllm --load-format dummy --max-model-len 2048"
    )
    pool_file = tmp_path / "pool.yaml"
    pool_file.write_text(rest[rest.index("schema:") :])
    check = run_cli("models", "list", "--models", str(pool_file), "--format", "json")
    assert check.returncode == 0, check.stderr
    assert "vllm/Qwen/Qwen2.5-0.5B-Instruct" in check.stdout


def test_vllm_serve_without_vllm_exits_1_with_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from collabgraph.models.vllm import VllmNotInstalledError

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(VllmNotInstalledError, match=r"pip install 'collabgraph\[vllm\]'"):
        serve_cmd.run_vllm_serve(
            model="Qwen/Qwen2.5-0.5B-Instruct", port=8000, host="127.0.0.1", seed=0, dummy_weights=False,
            dry_run=False, extra=[],
        )  # fmt: skip


def test_vllm_serve_execs_the_server_after_printing_the_entry(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    execs: list[tuple[str, list[str]]] = []
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object())
    monkeypatch.setattr(serve_cmd.os, "execv", lambda path, argv: execs.append((path, argv)))
    serve_cmd.run_vllm_serve(
        model="/models/tiny", port=8002, host="127.0.0.1", seed=1, dummy_weights=True, dry_run=False, extra=[]
    )
    ((path, argv),) = execs
    assert path == argv[0]
    assert argv[-7:] == [
        "--seed",
        "1",
        "--enable-prefix-caching",
        "--generation-config",
        "vllm",
        "--load-format",
        "dummy",
    ]
    assert "serve" in argv and "/models/tiny" in argv
    out = capsys.readouterr().out
    assert "api_base: http://127.0.0.1:8002/v1" in out and "vllm/tiny:" in out
