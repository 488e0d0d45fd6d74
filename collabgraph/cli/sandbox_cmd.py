"""``collabgraph sandbox build | check | exec``: build the sandbox image, report what runs jobs here and how
fast, run one Python file in the sandbox."""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from collabgraph.cli.output import print_json
from collabgraph.errors import CollabgraphError, UnknownNameError
from collabgraph.sandbox import (
    BACKENDS,
    DEFAULT_IMAGE,
    DockerSandbox,
    ExecLimits,
    ExecResult,
    LocalSandbox,
    Sandbox,
    build_image,
    docker_unavailable_reason,
    resolve_backend,
)
from collabgraph.sandbox.image import BUILD_METHODS, RECIPE_LABEL, recipe_id

__all__ = ["run_build", "run_check", "run_exec"]

_PROBE = "pass"
"""The job timed by ``check``: a Python start-up and nothing else."""
_REPEATS = 3


def run_build(force: bool = False, method: str = "auto") -> None:
    """Build the sandbox image unless it is up to date (``force`` rebuilds); progress on stderr, one summary
    line on stdout. ``method``: auto, dockerfile or debootstrap."""
    if method not in BUILD_METHODS:
        raise UnknownNameError("image build method", method, BUILD_METHODS)
    report = build_image(force=force, method=method, log=_note)
    what = "up to date" if report.method == "existing" else f"built with {report.method} in {report.seconds:g} s"
    print(f"{report.image}: {what} ({report.image_id[:19]}, {report.size_mb:g} MB)", flush=True)


def run_check(fmt: str = "text") -> int:
    """Report the backend ``auto`` chooses here, the image, and cold-start and warm-exec latency (median of 3
    runs of ``python3 -c pass``). Returns the exit status: 0 when Docker is usable, 1 when it is not (the
    report then says why and times the local fallback)."""
    reason = docker_unavailable_reason(DEFAULT_IMAGE)
    report: dict[str, Any] = {"backend": "docker" if reason is None else "local", "reason": reason}
    if reason is None:
        report.update(_image_facts(DEFAULT_IMAGE))
        cold, warm = asyncio.run(_docker_latency())
    else:
        report.update(image=None, image_id=None, image_size_mb=None, image_up_to_date=None, daemon_version=None)
        cold, warm = asyncio.run(_local_latency())
    report.update(cold_start_ms=round(cold, 1), warm_exec_ms=round(warm, 1))
    if fmt == "json":
        print_json(report)
    else:
        _print_check(report)
    return 0 if reason is None else 1


def run_exec(
    file: Path,
    backend: str = "auto",
    timeout_s: float = 10.0,
    memory_mb: int = 512,
    fmt: str = "text",
) -> int:
    """Run one Python file as ``main.py`` in the sandbox and print its ExecResult: in JSON, exactly the keys
    exit_code, stdout, stderr, timed_out, oom_killed, duration_s, truncated; in text, the job's stdout and stderr
    on ours and a status line on stderr. Returns the job's exit code as the exit status."""
    if backend not in BACKENDS:
        raise UnknownNameError("sandbox backend", backend, BACKENDS)
    code = _read_program(file)
    try:
        limits = ExecLimits(timeout_s=timeout_s, memory_mb=memory_mb)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise CollabgraphError(
            f"sandbox exec: bad limits ({problems}); expected --timeout > 0 and --memory > 0"
        ) from exc
    chosen = resolve_backend(backend)
    result = asyncio.run(_exec_once(chosen, code, limits))
    if fmt == "json":
        print_json(result.model_dump())
    else:
        sys.stdout.write(result.stdout)
        sys.stdout.flush()
        sys.stderr.write(result.stderr)
        _note(_status_line(chosen, result, limits))
    return max(0, min(255, result.exit_code))


def _note(line: str) -> None:
    """A line for the human at the terminal (stderr), never mixed into results on stdout."""
    print(line, file=sys.stderr, flush=True)


def _read_program(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CollabgraphError(f"sandbox exec: {file}: no such file; expected a Python program") from None
    except IsADirectoryError:
        raise CollabgraphError(f"sandbox exec: {file}: is a directory; expected a Python program") from None
    except UnicodeDecodeError as exc:
        raise CollabgraphError(f"sandbox exec: {file}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise CollabgraphError(f"sandbox exec: {file}: {exc.strerror or exc}") from None


async def _exec_once(backend: str, code: str, limits: ExecLimits) -> ExecResult:
    if backend == "local":
        return await LocalSandbox().exec(code=code, limits=limits)
    async with DockerSandbox(pool_size=0) as sandbox:
        return await sandbox.exec(code=code, limits=limits)


def _status_line(backend: str, result: ExecResult, limits: ExecLimits) -> str:
    parts = [f"[{backend}] exit code {result.exit_code} in {result.duration_s:.2f} s"]
    if result.timed_out:
        parts.append(f"timed out after {limits.timeout_s:g} s")
    if result.oom_killed:
        parts.append(f"killed: out of memory ({limits.memory_mb} MB)")
    if result.truncated:
        parts.append(f"output truncated at {limits.output_bytes:,} bytes")
    return ", ".join(parts)


def _image_facts(image: str) -> dict[str, Any]:
    from collabgraph.sandbox.containers import connect

    client = connect(image)
    info = client.api.inspect_image(image)
    labels = info["Config"].get("Labels") or {}
    return {
        "image": image,
        "image_id": info["Id"],
        "image_size_mb": round(info.get("Size", 0) / 1e6, 1),
        "image_up_to_date": labels.get(RECIPE_LABEL) == recipe_id(),
        "daemon_version": client.version().get("Version"),
    }


async def _timed(sandbox: Sandbox) -> float:
    started = time.perf_counter()
    result = await sandbox.exec(code=_PROBE)
    if not result.ok:
        raise CollabgraphError(f"sandbox check: the probe job failed (exit code {result.exit_code}): {result.stderr}")
    return (time.perf_counter() - started) * 1000


async def _docker_latency() -> tuple[float, float]:
    """Median milliseconds to run the probe in a container started for it, and in one of the warm pool."""
    cold, warm = [], []
    async with DockerSandbox(pool_size=0) as fresh:
        for _ in range(_REPEATS):
            cold.append(await _timed(fresh))
    async with DockerSandbox(pool_size=1) as pooled:
        for _ in range(_REPEATS):
            await pooled.settle()
            warm.append(await _timed(pooled))
    return statistics.median(cold), statistics.median(warm)


async def _local_latency() -> tuple[float, float]:
    sandbox = LocalSandbox()
    times = [await _timed(sandbox) for _ in range(_REPEATS + 1)]
    return times[0], statistics.median(times[1:])


def _print_check(report: dict[str, Any]) -> None:
    lines = [f"backend: {report['backend']}"]
    if report["reason"]:
        lines.append(f"docker: not usable: {report['reason']}")
    else:
        freshness = "up to date" if report["image_up_to_date"] else "stale: rebuild with `collabgraph sandbox build`"
        lines.append(
            f"image: {report['image']} ({report['image_id'][:19]}, {report['image_size_mb']:g} MB, {freshness})"
        )
        lines.append(f"daemon: Docker {report['daemon_version']}")
    lines.append(f"cold start: {report['cold_start_ms']:.0f} ms")
    lines.append(f"warm exec: {report['warm_exec_ms']:.0f} ms")
    print("\n".join(lines), flush=True)
