"""Sandbox jobs on a repository tree: run pytest on chosen tests, apply a patch (``git apply``, then
``patch -p1 --fuzz``), in the order a job lists them. One driver program serves building, checking and scoring.

The driver runs pytest with the sandbox's own interpreter (``sys.executable``), so the same job works in the
Docker image and in LocalSandbox; bytecode is never written, so a module patched within the same second as
its first import is not served stale from ``__pycache__``."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from collabgraph.sandbox import ExecLimits, Sandbox

__all__ = ["JobError", "PytestRun", "StepResult", "parse_summary", "patch_step", "pytest_step", "run_steps"]

_DRIVER = r"""
import json, os, subprocess, sys
env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0", COLUMNS="240")
steps = json.load(open("cg_job.json"))
results = []
for step in steps:
    if step["op"] == "pytest":
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=" + step["tb"], "-rA", "--"]
        done = subprocess.run(argv + step["args"], capture_output=True, text=True, env=env)
        results.append({"rc": done.returncode, "out": done.stdout[-step["keep"]:] + done.stderr[-2000:]})
    else:
        open("cg_fix.patch", "w").write(step["patch"])
        how, out = None, ""
        for cmd, name in ((["git", "apply", "--whitespace=nowarn", "cg_fix.patch"], "git apply"),
                          (["patch", "-p1", "--batch", "--forward", "--fuzz=3", "-i", "cg_fix.patch"], "patch")):
            done = subprocess.run(cmd, capture_output=True, text=True)
            out += name + ": " + (done.stdout + done.stderr).strip()[-1000:] + "\n"
            if done.returncode == 0:
                how = name
                break
        results.append({"rc": 0 if how else 1, "out": how or out})
        if how is None:
            break
print("CG_RESULTS=" + json.dumps(results))
"""


class JobError(RuntimeError):
    """The driver itself did not report (timed out, killed, or crashed)."""


class StepResult(BaseModel):
    """What one step did: pytest's exit code and output tail; for a patch, 0 and how it applied, or 1 and why
    not."""

    model_config = ConfigDict(frozen=True)
    rc: int
    out: str


class PytestRun(BaseModel):
    """The outcome of each test id in pytest's ``-rA`` short summary, and each failure's one-line message."""

    model_config = ConfigDict(frozen=True)
    passed: tuple[str, ...]
    failed: dict[str, str]
    errors: tuple[str, ...]


def pytest_step(
    args: list[str] | tuple[str, ...], tb: Literal["short", "line", "no"] = "short", keep: int = 400_000
) -> dict[str, Any]:
    """A step that runs pytest on ``args`` (test paths or ids), keeping the last ``keep`` characters of output."""
    return {"op": "pytest", "args": list(args), "tb": tb, "keep": keep}


def patch_step(patch: str) -> dict[str, Any]:
    """A step that applies ``patch``; a patch that applies neither way ends the job."""
    return {"op": "apply", "patch": patch}


async def run_steps(
    sandbox: Sandbox, tree: dict[str, str], steps: list[dict[str, Any]], limits: ExecLimits
) -> list[StepResult]:
    """Run ``steps`` in one sandbox job on ``tree``; raises JobError when the job gives no result."""
    files = {**tree, "cg_job.json": json.dumps(steps)}
    result = await sandbox.exec(code=_DRIVER, files=files, limits=limits)
    marker = result.stdout.rfind("CG_RESULTS=")
    if marker < 0:
        why = "timed out" if result.timed_out else f"exit code {result.exit_code}"
        raise JobError(f"sandbox job gave no result ({why}): {result.stderr[-500:]}")
    return [StepResult(**item) for item in json.loads(result.stdout[marker + len("CG_RESULTS=") :].splitlines()[0])]


_SUMMARY = re.compile(r"^(PASSED|FAILED|ERROR) (\S+)(?: - (.*))?$", re.MULTILINE)


def parse_summary(output: str) -> PytestRun:
    """The per-test outcomes in pytest ``-rA`` output."""
    passed: list[str] = []
    failed: dict[str, str] = {}
    errors: list[str] = []
    for outcome, test_id, message in _SUMMARY.findall(output):
        if outcome == "PASSED":
            passed.append(test_id)
        elif outcome == "FAILED":
            failed[test_id] = message
        else:
            errors.append(test_id)
    return PytestRun(passed=tuple(passed), failed=failed, errors=tuple(errors))
