"""DockerSandbox against the real daemon: results, the lock-down, hostile jobs, and that nothing is left behind.

One sandbox (with a warm pool of two) serves the module; after every test the only containers left with its
label are the two idle ones, and after the module none at all.
"""

from __future__ import annotations

import asyncio
import json
import socket
import textwrap
import threading
import time
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from docker_helpers import (
    SLACK_S,
    bridge_gateway,
    client,
    close_and_check,
    containers_of,
    exists,
    host_has,
    host_processes_in,
    host_processes_with,
    labels_for,
    processes_of,
    settled_to_pool,
)

from collabgraph.sandbox import DockerSandbox, ExecLimits, ExecResult, Sandbox

pytestmark = pytest.mark.docker

HOSTNAME = "import socket\nprint(socket.gethostname(), flush=True)\n"
"""Prepended to a job that must say which container it ran in (a container's hostname is its short id)."""


@pytest.fixture(scope="module")
def sandbox() -> Iterator[DockerSandbox]:
    box = DockerSandbox(pool_size=2)
    yield box
    close_and_check(box)


@pytest.fixture(autouse=True)
async def only_the_pool_is_left(sandbox: DockerSandbox) -> AsyncIterator[None]:
    """Before and after every test: the pool's idle containers and nothing else (checked by their label)."""
    await sandbox.start()
    await settled_to_pool(sandbox)
    yield
    await settled_to_pool(sandbox)


async def test_runs_code_and_reports_output(sandbox: DockerSandbox) -> None:
    result = await sandbox.exec(code="import sys\nprint('out')\nprint('err', file=sys.stderr)")
    assert result.exit_code == 0 and result.ok
    assert result.stdout == "out\n" and result.stderr == "err\n"
    assert not result.timed_out and not result.truncated and not result.oom_killed
    assert result.duration_s > 0


def test_is_a_sandbox(sandbox: DockerSandbox) -> None:
    checked: Sandbox = sandbox
    assert checked.name == "docker"


@pytest.mark.parametrize(
    ("code", "exit_code", "in_stderr"),
    [
        ("import sys\nsys.exit(3)", 3, ""),
        ("raise ValueError('broken on purpose')", 1, "ValueError: broken on purpose"),
        ("import os, signal\nos.kill(os.getpid(), signal.SIGTERM)", 128 + 15, ""),
        ("def f(:\n  pass", 1, "SyntaxError"),
    ],
)
async def test_exit_codes_and_stderr(sandbox: DockerSandbox, code: str, exit_code: int, in_stderr: str) -> None:
    result = await sandbox.exec(code=code)
    assert result.exit_code == exit_code
    assert in_stderr in result.stderr
    assert "Killed" not in result.stderr and "Terminated" not in result.stderr  # no notes of the sandbox's own
    assert not result.ok and not result.timed_out and not result.oom_killed


async def test_command_and_code_together(sandbox: DockerSandbox) -> None:
    result = await sandbox.exec(["python", "main.py", "a b", "c"], code="import sys; print(sys.argv[1:])")
    assert result.stdout == "['a b', 'c']\n", result.stderr


async def test_missing_program_is_exit_127(sandbox: DockerSandbox) -> None:
    name = "no-such-program-" + uuid.uuid4().hex[:8]
    result = await sandbox.exec([name])
    assert result.exit_code == 127 and name in result.stderr


async def test_files_are_readable_and_importable(sandbox: DockerSandbox) -> None:
    code = "import helper\nprint(open('data/deep/input.txt').read(), helper.VALUE)"
    files = {"data/deep/input.txt": "héllo", "helper.py": "VALUE = 42\n"}
    result = await sandbox.exec(code=code, files=files)
    assert result.stdout == "héllo 42\n", result.stderr


@pytest.mark.parametrize("path", ["../escape.txt", "/tmp/absolute.txt", "a/../../b.txt", ""])
async def test_file_paths_outside_the_work_dir_are_refused(sandbox: DockerSandbox, path: str) -> None:
    with pytest.raises(ValueError, match=r"files\[.*expected a relative path inside the work directory"):
        await sandbox.exec(code="pass", files={path: "x"})


async def test_needs_a_command_or_code(sandbox: DockerSandbox) -> None:
    with pytest.raises(ValueError, match=r"DockerSandbox\.exec needs a command or code"):
        await sandbox.exec()
    with pytest.raises(ValueError, match="command is an empty list"):
        await sandbox.exec([])


async def test_the_job_is_locked_down(sandbox: DockerSandbox) -> None:
    code = textwrap.dedent(
        """
        import json, os
        status = dict(line.split(":\\t", 1) for line in open("/proc/self/status").read().splitlines())
        mounts = {fields[1]: fields[3].split(",") for fields in (l.split() for l in open("/proc/mounts"))}
        print(json.dumps({
            "uid": os.getuid(), "gid": os.getgid(), "cwd": os.getcwd(),
            "caps": [status[k].strip() for k in ("CapEff", "CapPrm", "CapBnd")],
            "no_new_privs": status["NoNewPrivs"].strip(),
            "interfaces": sorted(os.listdir("/sys/class/net")),
            "root": mounts["/"], "work": mounts["/work"],
        }))
        """
    )
    seen = json.loads((await sandbox.exec(code=code)).stdout)
    assert (seen["uid"], seen["gid"], seen["cwd"]) == (65534, 65534, "/work")
    assert seen["caps"] == ["0000000000000000"] * 3
    assert seen["no_new_privs"] == "1"
    assert seen["interfaces"] == ["lo"]
    assert "ro" in seen["root"] and "rw" in seen["work"]


async def test_containers_are_created_with_every_restriction(sandbox: DockerSandbox) -> None:
    idle = containers_of(sandbox)[0]
    host = client().api.inspect_container(idle)["HostConfig"]
    assert host["NetworkMode"] == "none" and host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"] and "no-new-privileges" in host["SecurityOpt"]
    assert host["Memory"] == host["MemorySwap"] == 512 * 1024 * 1024
    assert host["NanoCpus"] == 1_000_000_000 and host["PidsLimit"] == 64 + 1
    assert set(host["Tmpfs"]) == {"/work", "/tmp"}
    assert client().api.inspect_container(idle)["Config"]["User"] == "65534:65534"


async def test_host_environment_does_not_leak(sandbox: DockerSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"COLLABGRAPH_TEST_SECRET_{uuid.uuid4().hex[:8].upper()}"
    value = uuid.uuid4().hex
    monkeypatch.setenv(name, value)
    monkeypatch.setenv("OPENAI_API_KEY", value)
    result = await sandbox.exec(code="import json, os\nprint(json.dumps(dict(os.environ)))")
    seen = json.loads(result.stdout)
    assert name not in seen and "OPENAI_API_KEY" not in seen and value not in result.stdout
    assert set(seen) <= {"PATH", "LANG", "HOME", "TMPDIR", "HOSTNAME", "PWD"}
    assert seen["HOME"] == "/work"


@pytest.mark.parametrize(
    "body", ["while True:\n    pass", "import time\ntime.sleep(10**6)"], ids=["infinite-loop", "sleep-forever"]
)
async def test_a_job_past_its_timeout_is_killed(sandbox: DockerSandbox, body: str) -> None:
    timeout = 1.5
    started = time.perf_counter()
    result = await sandbox.exec(code=HOSTNAME + body, limits=ExecLimits(timeout_s=timeout))
    waited = time.perf_counter() - started
    assert result.timed_out and not result.ok and result.exit_code == 128 + 9
    assert timeout <= result.duration_s < timeout + SLACK_S
    assert waited < timeout + SLACK_S
    # The kill happened before the result came back: the container is gone, and nothing of it runs on the host.
    container = result.stdout.split()[0]
    assert not [cid for cid in containers_of(sandbox) if cid.startswith(container)]
    assert host_processes_in(container) == []


async def test_output_before_a_timeout_is_kept(sandbox: DockerSandbox) -> None:
    code = "import time\nprint('started', flush=True)\ntime.sleep(10**6)"
    result = await sandbox.exec(code=code, limits=ExecLimits(timeout_s=1.0))
    assert result.timed_out and result.stdout == "started\n"


async def test_100_mb_of_stdout_is_capped_without_buffering_it(sandbox: DockerSandbox) -> None:
    code = "import sys\nchunk = 'x' * 1_000_000\nfor _ in range(100):\n    sys.stdout.write(chunk)\nprint('done', file=sys.stderr)"
    tracemalloc.start()
    try:
        result = await sandbox.exec(code=code, limits=ExecLimits(timeout_s=60.0, output_bytes=1_000_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.truncated and len(result.stdout) == 1_000_000
    assert result.exit_code == 0 and not result.timed_out and result.stderr == "done\n"
    assert peak < 20_000_000, f"reading the output took {peak / 1e6:.0f} MB"


async def test_stderr_is_capped_too(sandbox: DockerSandbox) -> None:
    result = await sandbox.exec(code="import sys\nsys.stderr.write('e' * 50_000)", limits=ExecLimits(output_bytes=1000))
    assert result.truncated and result.stderr == "e" * 1000 and result.stdout == ""


async def test_memory_bomb_is_oom_killed(sandbox: DockerSandbox) -> None:
    code = HOSTNAME + "blocks = []\nwhile True:\n    blocks.append(bytearray(10 * 1024 * 1024))"
    result = await sandbox.exec(code=code, limits=ExecLimits(memory_mb=256, timeout_s=30.0))
    assert result.oom_killed and not result.ok and not result.timed_out
    assert result.exit_code == 128 + 9
    after = await sandbox.exec(code="print(sum(range(10)))")
    assert after.ok and after.stdout == "45\n"
    await sandbox.settle()
    assert not exists(result.stdout.split()[0])


async def test_a_failure_that_is_not_memory_is_not_reported_as_oom(sandbox: DockerSandbox) -> None:
    result = await sandbox.exec(code="import os\nos.kill(os.getpid(), 9)")
    assert result.exit_code == 128 + 9 and not result.oom_killed and not result.timed_out


async def test_fork_bomb_is_contained(sandbox: DockerSandbox) -> None:
    code = HOSTNAME + textwrap.dedent(
        """
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
        """
    )
    result = await sandbox.exec(code=code, limits=ExecLimits(timeout_s=3.0))
    assert not result.ok and result.timed_out
    container = result.stdout.split()[0]
    assert host_processes_in(container) == []
    after = await sandbox.exec(code="print('fine')")
    assert after.ok and after.stdout == "fine\n"


async def test_the_process_limit_holds(sandbox: DockerSandbox) -> None:
    code = textwrap.dedent(
        """
        import subprocess
        children = []
        try:
            for _ in range(200):
                children.append(subprocess.Popen(["sleep", "30"]))
        except OSError as exc:
            print(len(children), type(exc).__name__)
        """
    )
    result = await sandbox.exec(code=code, limits=ExecLimits(pids=20, timeout_s=20.0))
    started, error = result.stdout.split()
    assert int(started) < 20 and error == "BlockingIOError", result.stderr


async def test_writing_outside_the_work_dir_fails(sandbox: DockerSandbox) -> None:
    token = uuid.uuid4().hex[:8]
    targets = [f"/escape-{token}", f"/etc/escape-{token}", f"/usr/lib/escape-{token}", f"/var/escape-{token}"]
    code = textwrap.dedent(
        f"""
        import errno, json
        seen = {{}}
        for path in {[*targets, "/work/inside", "/tmp/inside", "inside-relative"]!r}:
            try:
                with open(path, "w") as fh:
                    fh.write("x")
                seen[path] = "ok"
            except OSError as exc:
                seen[path] = errno.errorcode[exc.errno]
        print(json.dumps(seen))
        """
    )
    seen = json.loads((await sandbox.exec(code=code)).stdout)
    for path in targets:
        assert seen[path] in ("EROFS", "EACCES"), (path, seen[path])
    assert not any(map(host_has, targets))  # nothing appeared on the host either
    assert seen["/work/inside"] == seen["/tmp/inside"] == seen["inside-relative"] == "ok"


async def test_no_network_even_to_this_machine(sandbox: DockerSandbox) -> None:
    gateway = bridge_gateway()
    accepted: list[str] = []
    listener = socket.socket()
    listener.bind((gateway, 0))
    listener.listen()
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        deadline = time.monotonic() + 60  # stops itself whatever happens
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                conn, peer = listener.accept()
            except TimeoutError:
                continue
            accepted.append(peer[0])
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    connect = f"import socket\nsocket.create_connection(({gateway!r}, {port}), timeout=3).close()\nprint('connected')"
    try:
        result = await sandbox.exec(code=connect)
        # The same program in a container on Docker's bridge does reach the listener: the test can fail.
        control = await asyncio.to_thread(
            client().containers.run,
            sandbox.image,
            ["python3", "-c", connect],
            network_mode="bridge",
            remove=True,
            labels=labels_for(sandbox),
        )
    finally:
        stop.set()
        thread.join()
        listener.close()
    assert not result.ok and "connected" not in result.stdout
    assert "Network is unreachable" in result.stderr or "OSError" in result.stderr, result.stderr
    assert control == b"connected\n"
    assert len(accepted) == 1  # the control's connection only


async def test_background_processes_do_not_outlive_the_job(sandbox: DockerSandbox) -> None:
    token = f"collabgraph-leftover-{uuid.uuid4().hex[:8]}"
    first = textwrap.dedent(
        f"""
        import os, socket, subprocess
        sleeper = ["python3", "-c", "import time; time.sleep(300)", {token!r}]
        subprocess.Popen(sleeper)
        subprocess.Popen(sleeper, start_new_session=True)
        if os.fork() == 0:  # a daemon: double fork, the parent exits at once
            if os.fork() == 0:
                os.setsid()
                os.execvp("python3", sleeper)
            os._exit(0)
        for path in ("/tmp/left-behind", "left-behind"):
            open(path, "w").write({token!r})
        print(socket.gethostname())
        """
    )
    second = textwrap.dedent(
        f"""
        import json, os, socket
        running = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if {token!r}.encode() in open(f"/proc/{{pid}}/cmdline", "rb").read():
                    running.append(pid)
            except OSError:
                pass
        files = [p for p in ("/tmp/left-behind", "left-behind") if os.path.exists(p)]
        print(json.dumps({{"host": socket.gethostname(), "running": running, "files": files}}))
        """
    )
    one = await sandbox.exec(code=first)
    assert one.ok, one.stderr
    two = json.loads((await sandbox.exec(code=second)).stdout)
    assert two["host"] != one.stdout.strip()
    assert two["running"] == [] and two["files"] == []
    await sandbox.settle()
    assert host_processes_with(token) == []


async def test_killing_pid_1_changes_nothing(sandbox: DockerSandbox) -> None:
    code = textwrap.dedent(
        """
        import os, signal, time
        for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1):
            os.kill(1, sig)
        time.sleep(0.2)
        print("survived:", open("/proc/1/cmdline").read().split("\\0")[0])
        """
    )
    result = await sandbox.exec(code=code)
    assert result.ok and result.stdout == "survived: sh\n", result.stderr


async def test_killing_everything_it_can_is_contained(sandbox: DockerSandbox) -> None:
    result = await sandbox.exec(
        code="import os, time\nos.kill(-1, 9)\ntime.sleep(0.5)", limits=ExecLimits(timeout_s=20)
    )
    assert not result.ok and not result.timed_out and not result.oom_killed
    after = await sandbox.exec(code="print('fine')")
    assert after.ok


async def test_cancelling_the_caller_removes_the_container(sandbox: DockerSandbox) -> None:
    job = asyncio.create_task(sandbox.exec(code="import time\ntime.sleep(10**6)", limits=ExecLimits(timeout_s=120)))
    running = None
    for _ in range(200):
        running = next((cid for cid in containers_of(sandbox) if "main.py" in processes_of(cid)), None)
        if running:
            break
        await asyncio.sleep(0.05)
    assert running is not None, "the job never started"
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    assert not exists(running)


async def test_concurrent_jobs_get_their_own_containers(sandbox: DockerSandbox) -> None:
    results: list[ExecResult] = await asyncio.gather(
        *(sandbox.exec(code=HOSTNAME + "print(open('i.txt').read())", files={"i.txt": str(i)}) for i in range(6))
    )
    hosts = [r.stdout.split()[0] for r in results]
    assert [r.stdout.split()[1] for r in results] == [str(i) for i in range(6)]
    assert len(set(hosts)) == 6


async def test_other_limits_get_a_container_of_their_own(sandbox: DockerSandbox) -> None:
    idle = {cid[:12] for cid in containers_of(sandbox)}
    code = HOSTNAME + textwrap.dedent(
        """
        import os
        for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
            if os.path.exists(path):
                print(open(path).read().strip())
        """
    )
    result = await sandbox.exec(code=code, limits=ExecLimits(memory_mb=300))
    host, limit = result.stdout.split()
    assert int(limit) == 300 * 1024 * 1024
    assert host not in idle
    assert {cid[:12] for cid in containers_of(sandbox)} >= idle  # the pool was not touched
