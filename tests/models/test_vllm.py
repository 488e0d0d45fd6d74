"""The vLLM command line and pool entry collabgraph prints, and the error when vLLM is missing."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

from collabgraph.errors import CollabgraphError
from collabgraph.models import vllm
from collabgraph.models.pool import ModelSpec, load_pool
from collabgraph.models.vllm import (
    VllmNotInstalledError,
    build_vllm_command,
    vllm_argv,
    vllm_pool_entry,
    vllm_pool_name,
    vllm_pool_yaml,
)

QWEN = "Qwen/Qwen2.5-0.5B-Instruct"


def test_the_command_pins_prefix_caching_sampling_defaults_and_seed() -> None:
    assert build_vllm_command(QWEN, host="127.0.0.1", port=8000, seed=7) == [
        "vllm",
        "serve",
        QWEN,
        "--host",
        "127.0.0.1",
        "--port",
        "8000",
        "--seed",
        "7",
        "--enable-prefix-caching",
        "--generation-config",
        "vllm",
    ]


def test_dummy_weights_and_extra_flags_come_last() -> None:
    command = build_vllm_command(
        "/models/tiny", host="0.0.0.0", port=8001, seed=0, dummy_weights=True, extra=["--max-model-len", "2048"]
    )
    assert command[2] == "/models/tiny"
    assert command[-4:] == ["--load-format", "dummy", "--max-model-len", "2048"]


@pytest.mark.parametrize(
    ("model", "port", "message"),
    [
        (QWEN, 0, "--port must be in 1..65535, got 0"),
        (QWEN, 70000, "--port must be in 1..65535, got 70000"),
        (" ", 8000, "MODEL must name a Hugging Face model id or a local model directory"),
    ],
)
def test_bad_arguments_are_refused_with_what_is_expected(model: str, port: int, message: str) -> None:
    with pytest.raises(CollabgraphError, match=message):
        build_vllm_command(model, host="127.0.0.1", port=port, seed=0)


def test_the_pool_entry_reaches_the_server_through_hosted_vllm() -> None:
    entry = vllm_pool_entry(QWEN, "127.0.0.1", 8000)
    assert entry == {"litellm_id": f"hosted_vllm/{QWEN}", "api_base": "http://127.0.0.1:8000/v1", "supports_n": True}
    assert vllm_pool_entry(QWEN, "0.0.0.0", 9)["api_base"] == "http://127.0.0.1:9/v1"
    assert vllm_pool_entry(QWEN, "::1", 9)["api_base"] == "http://[::1]:9/v1"
    spec = ModelSpec.model_validate(entry)
    assert spec.provider == "hosted_vllm" and spec.supports_n and not spec.offline


def test_pool_names_use_the_hf_id_or_the_directory_name(tmp_path: Path) -> None:
    assert vllm_pool_name(QWEN) == f"vllm/{QWEN}"
    assert vllm_pool_name(str(tmp_path / "tiny-llama")) == "vllm/tiny-llama"


def test_the_printed_pool_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "pool.yaml"
    path.write_text(vllm_pool_yaml(QWEN, "127.0.0.1", 8000))
    pool = load_pool(path, with_default=False)
    assert pool.names() == [f"vllm/{QWEN}"]
    assert yaml.safe_load(path.read_text())["schema"] == "collabgraph.models/v1"


def test_without_vllm_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(VllmNotInstalledError) as info:
        vllm_argv(build_vllm_command(QWEN, host="127.0.0.1", port=8000, seed=0))
    assert "pip install 'collabgraph[vllm]'" in str(info.value)
    assert "--dry-run" in str(info.value)


def test_with_vllm_the_argv_runs_this_environments_vllm(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object())
    command = build_vllm_command(QWEN, host="127.0.0.1", port=8000, seed=0)
    # No vllm script anywhere: fall back to the CLI module under this interpreter.
    monkeypatch.setattr(vllm.shutil, "which", lambda name: None)
    monkeypatch.setattr(vllm.sys, "executable", str(tmp_path / "python"))
    assert vllm_argv(command) == [str(tmp_path / "python"), "-m", "vllm.entrypoints.cli.main", *command[1:]]
    # The script installed beside the interpreter (a virtual environment's bin/) wins.
    (tmp_path / "vllm").write_text("#!/bin/sh\n")
    assert vllm_argv(command) == [str(tmp_path / "vllm"), *command[1:]]
