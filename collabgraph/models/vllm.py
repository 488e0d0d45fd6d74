"""vLLM: the command line collabgraph starts its OpenAI-compatible server with, and the pool entry that
points collabgraph at it.

The flags, as vLLM's engine-argument reference documents them
(https://docs.vllm.ai/en/stable/configuration/engine_args/, checked for this module):

- ``--enable-prefix-caching`` ("Whether to enable prefix caching", default None, i.e. vLLM decides per model):
  the ``n`` samples of a prompt, and graph nodes that share a prompt's prefix, reuse its KV cache.
- ``--generation-config vllm``: the default ``auto`` loads the model's ``generation_config.json`` and merges its
  sampling defaults (temperature, top_p, top_k …) into every request; "If set to "vllm", no generation config is
  loaded, vLLM defaults will be used", so a request samples exactly as collabgraph asked, whatever the model.
- ``--seed S``: "Random seed for reproducibility" (default 0).
- ``--load-format dummy``: ""dummy" will initialize the weights with random values, which is mainly for
  profiling" — the whole serving path with only a model's config and tokenizer, no weight download.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from collabgraph.errors import CollabgraphError
from collabgraph.models.pool import POOL_SCHEMA

__all__ = [
    "VLLM_INSTALL_HINT",
    "VllmNotInstalledError",
    "build_vllm_command",
    "vllm_argv",
    "vllm_pool_entry",
    "vllm_pool_name",
    "vllm_pool_yaml",
]

VLLM_INSTALL_HINT = "pip install 'collabgraph[vllm]'"
_ANY_ADDRESS = {"0.0.0.0", "::", ""}


class VllmNotInstalledError(CollabgraphError):
    """vLLM is not importable in this environment."""

    def __init__(self) -> None:
        super().__init__(
            f"vLLM is not installed in this Python environment ({sys.executable}); install the extra with "
            f"`{VLLM_INSTALL_HINT}` (it needs Linux and a CUDA GPU), or use --dry-run to print the command"
        )


def _check(model: str, port: int) -> None:
    if not model.strip():
        raise CollabgraphError("vllm-serve: MODEL must name a Hugging Face model id or a local model directory")
    if not 1 <= port <= 65535:
        raise CollabgraphError(f"vllm-serve: --port must be in 1..65535, got {port}")


def build_vllm_command(
    model: str, *, host: str, port: int, seed: int, dummy_weights: bool = False, extra: Sequence[str] = ()
) -> list[str]:
    """``vllm serve MODEL …`` with the flags collabgraph relies on (see the module docstring); ``extra`` flags
    come last, so one of them overrides a flag set here."""
    _check(model, port)
    command = ["vllm", "serve", model, "--host", host, "--port", str(port), "--seed", str(seed)]
    command += ["--enable-prefix-caching", "--generation-config", "vllm"]
    if dummy_weights:
        command += ["--load-format", "dummy"]
    return [*command, *extra]


def _client_host(host: str) -> str:
    # A server bound to every interface is reached locally through the loopback address.
    if host in _ANY_ADDRESS:
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def vllm_pool_name(model: str) -> str:
    """The pool name for a served model: ``vllm/<HF id>``, or ``vllm/<directory name>`` for a local path."""
    local = model.startswith(("/", ".", "~")) or Path(model).expanduser().is_dir()
    return f"vllm/{Path(model).name if local else model}"


def vllm_pool_entry(model: str, host: str, port: int) -> dict[str, Any]:
    """The pool entry (``models: {name: entry}``) that reaches ``vllm serve MODEL`` on ``host:port``."""
    _check(model, port)
    return {
        "litellm_id": f"hosted_vllm/{model}",
        "api_base": f"http://{_client_host(host)}:{port}/v1",
        "supports_n": True,
    }


def vllm_pool_yaml(model: str, host: str, port: int) -> str:
    """A complete pool file holding the entry, ready for ``--models``."""
    pool = {"schema": POOL_SCHEMA, "models": {vllm_pool_name(model): vllm_pool_entry(model, host, port)}}
    return yaml.safe_dump(pool, sort_keys=False)


def vllm_argv(command: Sequence[str]) -> list[str]:
    """``command`` (starting ``vllm``) as an argv to exec: the ``vllm`` script of this environment, else
    ``python -m vllm.entrypoints.cli.main``. Raises ``VllmNotInstalledError`` when vLLM is not importable."""
    if importlib.util.find_spec("vllm") is None:
        raise VllmNotInstalledError()
    beside_python = Path(sys.executable).with_name("vllm")
    script = str(beside_python) if beside_python.is_file() else shutil.which("vllm")
    if script:
        return [script, *command[1:]]
    # The module the ``vllm`` script runs; it calls main() under ``__main__`` too.
    return [sys.executable, "-m", "vllm.entrypoints.cli.main", *command[1:]]
