"""Sandbox throughput and latency: HumanEval canonical solutions verified per second.

- DockerSandbox's warm pool (a fresh container per test, started ahead of time) against one ``docker run --rm``
  per test with the same restrictions and limits (target: at least 3× the throughput);
- the same work through ``llm-sandbox`` (PyPI) as the peer, one session per test, where it is installed and runs
  offline with the local image (it is not a dependency of collabgraph: ``pip install llm-sandbox`` to include it);
- cold start and warm exec latency in milliseconds.

Every program must pass in every mode (the same work is done), and all modes run at the same concurrency. The
machine's load is printed too: container start and removal are CPU work for the daemon, so on a busy machine
they, not the sandbox, set the pace of every mode and the ratios shrink.

    COLLABGRAPH_DATA=../shared/data .venv/bin/python benchmarks/sandbox.py [--limit N] [--concurrency C]
        [--pool-size P] [--skip-peer]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from collabgraph.sandbox import DEFAULT_IMAGE, DockerSandbox, ExecLimits, docker_unavailable_reason
from collabgraph.sandbox.containers import GROUP_LABEL, LABEL, connect, labelled_containers, remove_container
from collabgraph.tasks.code import humaneval_program
from collabgraph.tasks.humaneval import HumanEvalTask

LIMITS = ExecLimits(timeout_s=10.0, memory_mb=512, cpus=1.0, pids=64)
LATENCY_REPEATS = 5


@dataclass(frozen=True)
class Throughput:
    name: str
    passed: int
    total: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.total / self.seconds

    def line(self) -> str:
        return (
            f"  {self.name:<44} {self.passed:>3}/{self.total} passed  {self.seconds:7.1f} s  "
            f"{self.per_second:6.2f} tests/s"
        )


def programs(limit: int | None) -> list[str]:
    """The HumanEval check programs with the canonical solutions, as the official harness runs them."""
    task = HumanEvalTask(sandbox=DockerSandbox(pool_size=0))
    return [
        humaneval_program(ex.meta["prompt"], ex.answer, ex.meta["test"], ex.meta["entry_point"])
        for ex in task.examples(limit=limit, seed=0)
    ]


async def bounded(jobs: Sequence[Callable[[], Awaitable[bool]]], concurrency: int) -> int:
    slots = asyncio.Semaphore(concurrency)

    async def one(job: Callable[[], Awaitable[bool]]) -> bool:
        async with slots:
            return await job()

    return sum(await asyncio.gather(*(one(job) for job in jobs)))


async def through_pool(progs: list[str], concurrency: int, pool_size: int) -> Throughput:
    async with DockerSandbox(pool_size=pool_size, pool_limits=LIMITS, concurrency=concurrency) as sandbox:
        await sandbox.start()  # a pool is warm before work arrives: that is its point
        started = time.perf_counter()
        results = await asyncio.gather(*(sandbox.exec(code=p, limits=LIMITS) for p in progs))
        seconds = time.perf_counter() - started
    return Throughput(f"warm pool (DockerSandbox, pool {pool_size})", sum(r.ok for r in results), len(progs), seconds)


def docker_run_argv(group: str) -> list[str]:
    """``docker run --rm`` with the restrictions and limits DockerSandbox applies; the program comes on stdin."""
    tmpfs = "rw,nosuid,nodev,size={},uid=65534,gid=65534"
    return [
        "docker", "run", "--rm", "-i",
        "--network", "none", "--read-only",
        "--tmpfs", f"/work:{tmpfs.format('256m')},exec", "--tmpfs", f"/tmp:{tmpfs.format('64m')},noexec",
        "--user", "65534:65534", "--workdir", "/work",
        "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
        "--memory", f"{LIMITS.memory_mb}m", "--memory-swap", f"{LIMITS.memory_mb}m",
        "--cpus", str(LIMITS.cpus), "--pids-limit", str(LIMITS.pids + 2),
        "--ulimit", "nofile=1024:1024", "--ulimit", "core=0:0",
        "--label", f"{LABEL}=1", "--label", f"{GROUP_LABEL}={group}",
        DEFAULT_IMAGE, "python3", "-",
    ]  # fmt: skip


async def docker_run_once(argv: list[str], program: str) -> bool:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        await asyncio.wait_for(proc.communicate(program.encode()), timeout=LIMITS.timeout_s + 30)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return False
    return proc.returncode == 0


async def through_docker_run(progs: list[str], concurrency: int) -> Throughput:
    group = uuid.uuid4().hex[:16]
    argv = docker_run_argv(group)
    started = time.perf_counter()
    passed = await bounded([lambda p=p: docker_run_once(argv, p) for p in progs], concurrency)  # type: ignore[misc]
    seconds = time.perf_counter() - started
    client = connect()
    for cid in labelled_containers(client, group=group):  # only after a timeout
        remove_container(client, cid)
    return Throughput("docker run --rm per test (same limits)", passed, len(progs), seconds)


def peer_unavailable() -> str | None:
    try:
        import llm_sandbox  # noqa: F401
    except ImportError:
        return "llm-sandbox is not installed (`pip install llm-sandbox` to compare with it)"
    return None


def llm_sandbox_once(program: str) -> bool:
    from llm_sandbox import SandboxSession

    with SandboxSession(
        lang="python",
        image=DEFAULT_IMAGE,
        keep_template=True,  # never remove the local image
        skip_environment_setup=True,  # no virtualenv or pip: offline, and the same work as the others
        runtime_configs={
            "network_mode": "none",
            "mem_limit": f"{LIMITS.memory_mb}m",
            "memswap_limit": f"{LIMITS.memory_mb}m",
            "nano_cpus": round(LIMITS.cpus * 1e9),
            "pids_limit": LIMITS.pids + 2,
            # Its containers run the image's command on a TTY as PID 1, which ignores SIGTERM, so each session's
            # `stop` would wait Docker's 10 s grace period; an init process makes stop immediate (in its favour).
            "init": True,
            "labels": {LABEL: "1"},
        },
    ) as session:
        result = session.run(program)
    return int(result.exit_code) == 0


async def through_llm_sandbox(progs: list[str], concurrency: int) -> Throughput:
    from importlib.metadata import version

    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(concurrency) as pool:
        started = time.perf_counter()
        done = await asyncio.gather(*(loop.run_in_executor(pool, llm_sandbox_once, p) for p in progs))
        seconds = time.perf_counter() - started
    return Throughput(f"llm-sandbox {version('llm-sandbox')} (session per test)", sum(done), len(progs), seconds)


async def latencies() -> tuple[float, float, float]:
    """Median milliseconds: a job in a container started for it, in a warm one, and a bare ``docker run --rm``."""

    async def timed(sandbox: DockerSandbox) -> float:
        started = time.perf_counter()
        result = await sandbox.exec(code="pass")
        assert result.ok, result.stderr
        return (time.perf_counter() - started) * 1000

    cold, warm, run = [], [], []
    async with DockerSandbox(pool_size=0) as fresh:
        for _ in range(LATENCY_REPEATS):
            cold.append(await timed(fresh))
    async with DockerSandbox(pool_size=1) as pooled:
        for _ in range(LATENCY_REPEATS):
            await pooled.settle()
            warm.append(await timed(pooled))
    argv = docker_run_argv(uuid.uuid4().hex[:16])
    for _ in range(LATENCY_REPEATS):
        started = time.perf_counter()
        assert await docker_run_once(argv, "pass")
        run.append((time.perf_counter() - started) * 1000)
    return statistics.median(cold), statistics.median(warm), statistics.median(run)


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="HumanEval problems (default: all 164)")
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2, help="jobs at once, every mode")
    parser.add_argument("--pool-size", type=int, default=None, help="warm containers (default: 2 × concurrency)")
    parser.add_argument("--skip-peer", action="store_true", help="leave llm-sandbox out")
    args = parser.parse_args(argv)
    reason = docker_unavailable_reason()
    if reason is not None:
        print(f"sandbox benchmark skipped: {reason}")
        return 1
    pool_size = args.pool_size or 2 * args.concurrency
    progs = programs(args.limit)
    print(f"HumanEval canonical solutions verified per second: {len(progs)} programs, concurrency {args.concurrency}")
    print(f"  machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start")
    pool = await through_pool(progs, args.concurrency, pool_size)
    print(pool.line(), flush=True)
    run = await through_docker_run(progs, args.concurrency)
    print(run.line(), flush=True)
    peer: Throughput | None = None
    skipped = "--skip-peer" if args.skip_peer else peer_unavailable()
    if skipped is None:
        try:
            peer = await through_llm_sandbox(progs, args.concurrency)
            print(peer.line(), flush=True)
        except Exception as exc:  # the peer's own failure is reported, not fatal to the benchmark
            skipped = f"llm-sandbox failed: {type(exc).__name__}: {exc}"
    if skipped is not None:
        print(f"  llm-sandbox: not measured: {skipped}")
    ok = pool.passed == run.passed == len(progs) and (peer is None or peer.passed == len(progs))
    ratio = pool.per_second / run.per_second
    print(f"ratio warm pool / docker run --rm: {ratio:.2f}x (target >= 3x)")
    if peer is not None:
        print(f"ratio warm pool / llm-sandbox: {pool.per_second / peer.per_second:.2f}x")
    cold, warm, bare = await latencies()
    print(
        f"latency (median of {LATENCY_REPEATS}, python3 -c pass): cold start {cold:.0f} ms, warm exec {warm:.0f} ms "
        f"(cold / warm {cold / warm:.1f}x), docker run --rm {bare:.0f} ms"
    )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    if not ok:
        print("error: not every program passed in every mode, so the modes did not do the same work")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
