"""LocalSandbox against real subprocesses: results, limits, isolation of the environment, clean-up."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import resource
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collabgraph.sandbox import ExecLimits, LocalSandbox, Sandbox
from collabgraph.sandbox import local as local_module

SLACK_S = 3.0
"""Allowance over a timeout for a loaded machine; the sandbox itself kills within milliseconds."""


@pytest.fixture
def sandbox() -> LocalSandbox:
    return LocalSandbox()


def _gone(pid: int) -> bool:
    """Whether a process is dead: no such pid, or a zombie (killed and waiting for its parent to reap it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


async def _wait_gone(pid: int, within_s: float = 5.0) -> bool:
    for _ in range(int(within_s / 0.05)):
        if _gone(pid):
            return True
        await asyncio.sleep(0.05)
    return _gone(pid)


def _exists(path: str) -> bool:
    return Path(path).exists()


async def test_runs_code_and_reports_output(sandbox: LocalSandbox) -> None:
    result = await sandbox.exec(code="import sys\nprint('out')\nprint('err', file=sys.stderr)")
    assert result.exit_code == 0 and result.ok
    assert result.stdout == "out\n"
    assert result.stderr == "err\n"
    assert not result.timed_out and not result.truncated and not result.oom_killed
    assert result.duration_s > 0


async def test_is_a_sandbox(sandbox: LocalSandbox) -> None:
    checked: Sandbox = sandbox
    assert checked.name == "local"


@pytest.mark.parametrize(
    ("code", "exit_code", "in_stderr"),
    [
        ("import sys\nsys.exit(3)", 3, ""),
        ("raise ValueError('broken on purpose')", 1, "ValueError: broken on purpose"),
        ("import sys\nprint('bad input', file=sys.stderr)\nsys.exit(2)", 2, "bad input"),
        ("import os, signal\nos.kill(os.getpid(), signal.SIGTERM)", 128 + 15, ""),
        ("def f(:\n  pass", 1, "SyntaxError"),
    ],
)
async def test_exit_codes_and_stderr(sandbox: LocalSandbox, code: str, exit_code: int, in_stderr: str) -> None:
    result = await sandbox.exec(code=code)
    assert result.exit_code == exit_code
    assert in_stderr in result.stderr
    assert not result.ok and not result.timed_out


async def test_command_runs_with_this_interpreter(sandbox: LocalSandbox) -> None:
    result = await sandbox.exec(["python3", "-c", "import sys; print(sys.executable)"])
    assert result.stdout.strip() == sys.executable


async def test_command_and_code_together_run_the_command_beside_main_py(sandbox: LocalSandbox) -> None:
    result = await sandbox.exec(["python3", "main.py", "arg"], code="import sys; print(sys.argv[1:])")
    assert result.stdout == "['arg']\n"


async def test_missing_program_is_exit_127(sandbox: LocalSandbox) -> None:
    result = await sandbox.exec(["no-such-program-" + uuid.uuid4().hex])
    assert result.exit_code == 127
    assert "no-such-program-" in result.stderr


async def test_files_are_readable_and_importable(sandbox: LocalSandbox) -> None:
    code = textwrap.dedent(
        """
        import helper
        print(open("data/input.txt").read(), helper.VALUE)
        """
    )
    result = await sandbox.exec(code=code, files={"data/input.txt": "héllo", "helper.py": "VALUE = 42\n"})
    assert result.stdout == "héllo 42\n", result.stderr


@pytest.mark.parametrize("path", ["../escape.txt", "/tmp/absolute.txt", "a/../../b.txt", ""])
async def test_file_paths_outside_the_work_dir_are_refused(sandbox: LocalSandbox, path: str) -> None:
    with pytest.raises(ValueError, match="expected a relative path inside the work directory"):
        await sandbox.exec(code="pass", files={path: "x"})


async def test_needs_a_command_or_code(sandbox: LocalSandbox) -> None:
    with pytest.raises(ValueError, match="needs a command or code"):
        await sandbox.exec()
    with pytest.raises(ValueError, match="command is an empty list"):
        await sandbox.exec([])


async def test_host_environment_does_not_leak(sandbox: LocalSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    secret_name = f"COLLABGRAPH_TEST_SECRET_{uuid.uuid4().hex[:8].upper()}"
    secret_value = uuid.uuid4().hex
    monkeypatch.setenv(secret_name, secret_value)
    monkeypatch.setenv("OPENAI_API_KEY", secret_value)
    code = "import json, os\nprint(json.dumps({'env': dict(os.environ), 'cwd': os.getcwd()}))"
    result = await sandbox.exec(code=code)
    seen = json.loads(result.stdout)
    assert secret_name not in seen["env"] and "OPENAI_API_KEY" not in seen["env"]
    assert secret_value not in result.stdout
    assert set(seen["env"]) <= {"PATH", "LANG", "HOME", "TMPDIR", "COLLABGRAPH_SANDBOX_JOB", "LC_CTYPE"}
    assert seen["env"]["HOME"] == seen["cwd"]


async def test_infinite_loop_times_out(sandbox: LocalSandbox) -> None:
    result = await sandbox.exec(code="while True:\n    pass", limits=ExecLimits(timeout_s=1.0))
    assert result.timed_out and not result.ok
    assert result.exit_code == 128 + 9
    assert 1.0 <= result.duration_s < 1.0 + SLACK_S


async def test_sleep_forever_times_out(sandbox: LocalSandbox) -> None:
    result = await sandbox.exec(code="import time\ntime.sleep(10**6)", limits=ExecLimits(timeout_s=1.0))
    assert result.timed_out and not result.ok
    assert result.duration_s < 1.0 + SLACK_S


async def test_output_before_a_timeout_is_kept(sandbox: LocalSandbox) -> None:
    code = "import time\nprint('started', flush=True)\ntime.sleep(10**6)"
    result = await sandbox.exec(code=code, limits=ExecLimits(timeout_s=1.0))
    assert result.timed_out and result.stdout == "started\n"


async def test_100_mb_of_stdout_is_truncated_at_the_cap(sandbox: LocalSandbox) -> None:
    code = "import sys\nchunk = 'x' * 1_000_000\nfor _ in range(100):\n    sys.stdout.write(chunk)\nprint('done', file=sys.stderr)"
    result = await sandbox.exec(code=code, limits=ExecLimits(timeout_s=60.0, output_bytes=1_000_000))
    assert result.truncated
    assert len(result.stdout) == 1_000_000
    # The job ran to its end: it was never blocked on a full pipe.
    assert result.exit_code == 0 and not result.timed_out and result.stderr == "done\n"


async def test_stderr_is_capped_too(sandbox: LocalSandbox) -> None:
    code = "import sys\nsys.stderr.write('e' * 50_000)"
    result = await sandbox.exec(code=code, limits=ExecLimits(output_bytes=1000))
    assert result.truncated and result.stderr == "e" * 1000 and result.stdout == ""


async def test_truncation_inside_a_multibyte_character_still_decodes(sandbox: LocalSandbox) -> None:
    result = await sandbox.exec(code="print('é' * 100)", limits=ExecLimits(output_bytes=5))
    assert result.truncated
    assert result.stdout.startswith("éé")


async def test_memory_bomb_is_stopped_and_reported(sandbox: LocalSandbox) -> None:
    code = "blocks = []\nwhile True:\n    blocks.append(bytearray(10 * 1024 * 1024))"
    result = await sandbox.exec(code=code, limits=ExecLimits(memory_mb=256, timeout_s=30.0))
    assert not result.ok and not result.timed_out
    assert result.oom_killed
    assert "MemoryError" in result.stderr
    # The host is fine: the next job runs normally.
    after = await sandbox.exec(code="print(sum(range(10)))")
    assert after.ok and after.stdout == "45\n"


async def test_a_single_huge_allocation_is_refused(sandbox: LocalSandbox) -> None:
    result = await sandbox.exec(code="x = bytearray(4 * 1024**3)", limits=ExecLimits(memory_mb=256))
    assert result.oom_killed and result.exit_code == 1


async def test_rlimits_are_applied(sandbox: LocalSandbox) -> None:
    code = textwrap.dedent(
        """
        import json, resource
        names = ["RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_CORE"]
        print(json.dumps({n: resource.getrlimit(getattr(resource, n)) for n in names}))
        """
    )
    result = await sandbox.exec(code=code, limits=ExecLimits(memory_mb=300, timeout_s=4.5, cpus=2.0))
    seen = json.loads(result.stdout)
    assert seen["RLIMIT_AS"] == [300 * 1024 * 1024] * 2
    assert seen["RLIMIT_CPU"][0] == 10  # ceil(4.5 * 2) + 1
    assert seen["RLIMIT_FSIZE"][0] == 256 * 1024 * 1024
    assert seen["RLIMIT_CORE"] == [0, 0]
    # The host's own limits are untouched.
    assert resource.getrlimit(resource.RLIMIT_AS)[0] != 300 * 1024 * 1024


async def test_background_processes_do_not_outlive_the_job(sandbox: LocalSandbox) -> None:
    code = textwrap.dedent(
        """
        import os, subprocess
        same_group = subprocess.Popen(["sleep", "300"])
        own_session = subprocess.Popen(["sleep", "300"], start_new_session=True)
        if os.fork() == 0:  # a daemon: double fork, the parent exits at once
            if os.fork() == 0:
                os.setsid()
                import time
                time.sleep(300)
            os._exit(0)
        print(same_group.pid, own_session.pid)
        """
    )
    result = await sandbox.exec(code=code)
    assert result.ok, result.stderr
    pids = [int(p) for p in result.stdout.split()]
    assert len(pids) == 2
    for pid in pids:
        assert await _wait_gone(pid), f"process {pid} outlived its job"


async def test_a_background_process_holding_the_pipe_does_not_hang_the_job(sandbox: LocalSandbox) -> None:
    code = "import subprocess\nsubprocess.Popen(['sleep', '300'])\nprint('main done')"
    result = await sandbox.exec(code=code, limits=ExecLimits(timeout_s=30.0))
    assert result.ok and result.stdout == "main done\n"
    assert result.duration_s < SLACK_S


async def test_work_dir_is_removed(sandbox: LocalSandbox) -> None:
    code = textwrap.dedent(
        """
        import os
        os.makedirs("locked/inner")
        open("locked/inner/f.txt", "w").write("x")
        os.chmod("locked/inner", 0o500)
        os.chmod("locked", 0o500)
        print(os.getcwd())
        """
    )
    result = await sandbox.exec(code=code)
    assert result.ok, result.stderr
    assert not _exists(result.stdout.strip())


async def test_cancellation_kills_the_job_and_removes_its_work_dir(sandbox: LocalSandbox, tmp_path: Path) -> None:
    report = tmp_path / "pids.json"
    code = textwrap.dedent(
        f"""
        import json, os, subprocess, time
        child = subprocess.Popen(["sleep", "300"])
        with open({str(report)!r} + ".part", "w") as fh:
            json.dump({{"pid": os.getpid(), "child": child.pid, "cwd": os.getcwd()}}, fh)
        os.rename({str(report)!r} + ".part", {str(report)!r})
        time.sleep(300)
        """
    )
    job = asyncio.create_task(sandbox.exec(code=code, limits=ExecLimits(timeout_s=120.0)))
    for _ in range(200):
        if report.exists():
            break
        await asyncio.sleep(0.05)
    assert report.exists(), "the job never started"
    seen = json.loads(report.read_text())
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    assert not _exists(seen["cwd"])
    assert await _wait_gone(seen["pid"]), "the job's process survived cancellation"
    assert await _wait_gone(seen["child"]), "the job's child survived cancellation"


async def test_concurrent_jobs_are_independent(sandbox: LocalSandbox) -> None:
    results = await asyncio.gather(
        *(sandbox.exec(code=f"import os\nprint({i}, os.getcwd())", files={"i.txt": str(i)}) for i in range(8))
    )
    outs = [r.stdout.split() for r in results]
    assert [int(o[0]) for o in outs] == list(range(8))
    assert len({o[1] for o in outs}) == 8
    assert not any(_exists(o[1]) for o in outs)


def test_says_it_is_not_a_security_boundary(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    assert LocalSandbox.__doc__ is not None and "Not a security boundary" in LocalSandbox.__doc__
    monkeypatch.setattr(local_module, "_warned", False)
    with caplog.at_level(logging.WARNING, logger="collabgraph.sandbox.local"):
        LocalSandbox()
        LocalSandbox()
    warnings = [r for r in caplog.records if "NOT a security boundary" in r.getMessage()]
    assert len(warnings) == 1


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=5000), max_size=12),
    cap=st.integers(min_value=1, max_value=20_000),
)
def test_capture_keeps_exactly_the_first_cap_bytes(sizes: list[int], cap: int) -> None:
    data = b"".join(bytes([65 + i % 26]) * n for i, n in enumerate(sizes))
    capture = local_module._Capture(cap)
    for start in range(0, len(data), 777):
        capture.feed(data[start : start + 777])
    assert bytes(capture.kept) == data[:cap]
    assert capture.truncated == (len(data) > cap)
    assert capture.tail == data[-4096:]
