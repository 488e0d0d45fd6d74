"""The CLI starts light: ``--help`` answers, and no heavy library is imported just to parse a command line."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO_ROOT, RunCli

HEAVY = ("litellm", "langgraph", "docker", "matplotlib", "math_verify", "optuna", "sympy", "numpy")


def _modules_after(code: str) -> set[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO_ROOT, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in HEAVY}


def test_help_lists_the_commands(run_cli: RunCli) -> None:
    proc = run_cli("--help")
    assert proc.returncode == 0, proc.stderr
    for command in ("models", "eval", "serve-sim", "vllm-serve"):
        assert command in proc.stdout


def test_eval_help_lists_its_options(run_cli: RunCli) -> None:
    proc = run_cli("eval", "--help")
    assert proc.returncode == 0, proc.stderr
    for option in ("--task", "--limit", "--samples", "--temperature", "--seed", "--api-base", "--models", "--format"):
        assert option in proc.stdout


def test_importing_the_cli_imports_no_heavy_library() -> None:
    assert _heavy(_modules_after("import collabgraph.cli.app")) == set()


def test_parsing_help_imports_no_heavy_library() -> None:
    code = (
        "from collabgraph.cli.app import app\n"
        "try:\n    app(['eval', '--help'], standalone_mode=False)\nexcept SystemExit:\n    pass"
    )
    assert _heavy(_modules_after(code)) == set()


def test_the_probe_does_see_heavy_imports() -> None:
    # Guards the two tests above against passing vacuously: a heavy import is visible to the probe.
    assert "numpy" in _heavy(_modules_after("import numpy"))
