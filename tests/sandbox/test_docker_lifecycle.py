"""Container lifecycle against the real daemon: the warm pool, cold starts, cancellation, closing, interpreter
exit, the stale-container sweeper, event-loop changes and the errors that say what to do."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from docker_helpers import client, close_and_check, containers_of, exists

from collabgraph.errors import CollabgraphError
from collabgraph.sandbox import DockerSandbox, DockerUnavailableError, ExecLimits, WarmPool, sweep_stale_containers
from collabgraph.sandbox import pool as pool_module
from collabgraph.sandbox.containers import (
    GROUP_LABEL,
    LABEL,
    OWNER_LABEL,
    Container,
    ContainerSpec,
    create_container,
    owner_id,
    remove_container,
)

docker = pytest.mark.docker


@pytest.fixture
def cold() -> Iterator[DockerSandbox]:
    box = DockerSandbox(pool_size=0)
    yield box
    close_and_check(box)


@docker
async def test_without_a_pool_each_job_starts_its_own_container(cold: DockerSandbox) -> None:
    result = await cold.exec(code="print('cold')")
    assert result.ok and result.stdout == "cold\n"
    await cold.settle()
    assert containers_of(cold) == []


@docker
async def test_cancelling_during_the_container_start_removes_it(cold: DockerSandbox) -> None:
    job = asyncio.create_task(cold.exec(code="print('never')"))
    await asyncio.sleep(0.05)
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    await cold.settle()
    assert containers_of(cold) == []


@docker
async def test_the_pool_hands_out_each_container_once_and_refills() -> None:
    spec = ContainerSpec.for_limits(
        "collabgraph-sandbox:bookworm", ExecLimits(), group=uuid.uuid4().hex[:16], lifetime_s=300
    )
    docker_client = client()
    removed: list[str] = []
    with ThreadPoolExecutor(4) as executor:

        def discard(cid: str) -> None:
            removed.append(cid)
            remove_container(docker_client, cid)

        pool = WarmPool(docker_client, spec, 2, executor, discard)
        first = await pool.acquire(need_s=10)
        second = await pool.acquire(need_s=10)
        third = await pool.acquire(need_s=10)
        assert len({first.id, second.id, third.id}) == 3
        await pool.wait_filled()
        assert pool.idle == 2
        for container in (first, second, third):
            remove_container(docker_client, container.id)
        for cid in pool.close():
            discard(cid)
        await pool.wait_filled()
        with pytest.raises(CollabgraphError, match="warm pool is closed"):
            await pool.acquire(need_s=10)
        with pytest.raises(ValueError, match="not below the containers' lifetime of 300 s"):
            await WarmPool(docker_client, spec, 1, executor, discard).acquire(need_s=300)
    remaining = [
        cid for cid in docker_client.api.containers(all=True, filters={"label": f"{GROUP_LABEL}={spec.group}"})
    ]
    for entry in remaining:
        remove_container(docker_client, entry["Id"])
    assert len(removed) == 2


@docker
async def test_a_pool_that_cannot_start_containers_says_why() -> None:
    spec = ContainerSpec.for_limits("collabgraph-sandbox:no-such-tag", ExecLimits(), group="g", lifetime_s=300)
    with ThreadPoolExecutor(2) as executor:
        pool = WarmPool(client(), spec, 1, executor, lambda cid: None)
        with pytest.raises(DockerUnavailableError, match="not built; build it with `collabgraph sandbox build`"):
            await pool.acquire(need_s=10)
        pool.close()
        await pool.wait_filled()


def test_pool_size_must_be_positive() -> None:
    spec = ContainerSpec.for_limits("image", ExecLimits(), group="g", lifetime_s=300)
    with ThreadPoolExecutor(1) as executor, pytest.raises(ValueError, match="size must be 1 or more, got 0"):
        WarmPool(None, spec, 0, executor, lambda cid: None)


@docker
def test_a_container_that_gets_no_job_within_its_lifetime_exits() -> None:
    spec = ContainerSpec.for_limits(
        "collabgraph-sandbox:bookworm", ExecLimits(), group=uuid.uuid4().hex[:16], lifetime_s=1
    )
    docker_client = client()
    container = create_container(docker_client, spec)
    try:
        exit_code = docker_client.api.wait(container.id, timeout=30)["StatusCode"]
        assert exit_code == 125
    finally:
        remove_container(docker_client, container.id)


async def test_the_pool_never_hands_out_a_container_near_the_end_of_its_lifetime(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = ContainerSpec.for_limits("image", ExecLimits(), group="g", lifetime_s=300)
    lifetimes = iter([5.0, 200.0, 200.0, 200.0])

    def start(client: object, spec: ContainerSpec) -> Container:
        return Container(uuid.uuid4().hex, spec, time.monotonic() + next(lifetimes))

    monkeypatch.setattr(pool_module, "create_container", start)
    removed: list[str] = []
    with ThreadPoolExecutor(2) as executor:
        pool = WarmPool(None, spec, 1, executor, removed.append)
        await pool.wait_filled()
        expiring = pool._ready[0]
        taken = await pool.acquire(need_s=30)
        assert isinstance(expiring, Container) and taken.id != expiring.id
        assert removed == [expiring.id] and taken.remaining_s() > 30
        pool.close()
        await pool.wait_filled()


@docker
async def test_concurrency_limits_jobs_running_at_once() -> None:
    box = DockerSandbox(pool_size=2, concurrency=1)
    code = "import time\nstart = time.time()\ntime.sleep(0.4)\nprint(start, time.time())"
    try:
        results = await asyncio.gather(*(box.exec(code=code) for _ in range(2)))
    finally:
        await box.aclose()
    (_, first_end), (second_start, _) = sorted(tuple(map(float, r.stdout.split())) for r in results)
    assert first_end <= second_start, "the two jobs overlapped"


@docker
async def test_aclose_removes_everything_and_the_sandbox_can_start_again() -> None:
    box = DockerSandbox(pool_size=2)
    await box.start()
    assert len(containers_of(box)) == 2
    await box.aclose()
    assert containers_of(box) == []
    result = await box.exec(code="print('again')")
    assert result.stdout == "again\n"
    await box.aclose()
    assert containers_of(box) == []


@docker
def test_one_sandbox_serves_one_event_loop_after_another() -> None:
    box = DockerSandbox(pool_size=1)
    first = asyncio.run(box.exec(code="print(1)"))
    second = asyncio.run(box.exec(code="print(2)"))
    assert (first.stdout, second.stdout) == ("1\n", "2\n")
    close_and_check(box)


@docker
def test_containers_are_removed_at_interpreter_exit() -> None:
    script = textwrap.dedent(
        """
        import asyncio
        from collabgraph.sandbox import DockerSandbox

        box = DockerSandbox(pool_size=2)

        async def main() -> None:
            result = await box.exec(code="print('hi')")
            await box.start()
            print(box.group, result.stdout.strip(), flush=True)

        asyncio.run(main())
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    group, said = done.stdout.split()
    assert said == "hi" and "Traceback" not in done.stderr, done.stderr
    assert client().api.containers(all=True, filters={"label": f"{GROUP_LABEL}={group}"}) == []


@docker
def test_the_sweeper_removes_containers_of_dead_processes_only() -> None:
    docker_client = client()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    group = uuid.uuid4().hex[:16]

    def container(owner: str) -> str:
        labels = {LABEL: "1", GROUP_LABEL: group, OWNER_LABEL: owner}
        cid: str = docker_client.api.create_container("collabgraph-sandbox:bookworm", ["true"], labels=labels)["Id"]
        return cid

    orphan = container(f"{owner_id().split(':')[0]}:{dead.pid}:")
    alive = container(owner_id(1))  # PID 1 of this machine outlives the test
    mine = container(owner_id())
    try:
        removed = sweep_stale_containers(docker_client)
        assert not exists(orphan)
        assert orphan in removed or not removed  # another process's sweep may have been first
        assert exists(alive) and exists(mine)
    finally:
        for cid in (orphan, alive, mine):
            remove_container(docker_client, cid)


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="pool_size must be 0 \\(no pool\\) or more, got -1"):
        DockerSandbox(pool_size=-1)
    with pytest.raises(ValueError, match="concurrency must be 1 or more, got 0"):
        DockerSandbox(concurrency=0)
    with pytest.raises(ValueError, match="lifetime_s must be at least 60, got 10"):
        DockerSandbox(lifetime_s=10)


@docker
async def test_a_missing_image_says_how_to_build_it() -> None:
    box = DockerSandbox("collabgraph-sandbox:no-such-tag")
    with pytest.raises(DockerUnavailableError, match=r"'collabgraph-sandbox:no-such-tag' is not built.*sandbox build"):
        await box.exec(code="pass")


async def test_an_unreachable_daemon_says_how_to_start_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix:///tmp/no-docker-{uuid.uuid4().hex}.sock")
    box = DockerSandbox()
    with pytest.raises(DockerUnavailableError, match=r"Docker daemon is not reachable.*dockerd.*sandbox build"):
        await box.exec(code="pass")
