"""``collabgraph sandbox build | check | exec`` implementations, called as the CLI calls them."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from collabgraph.cli import sandbox_cmd
from collabgraph.cli.sandbox_cmd import run_build, run_check, run_exec
from collabgraph.errors import CollabgraphError, UnknownNameError
from collabgraph.sandbox import BACKEND_ENV, DockerUnavailableError

EXEC_KEYS = ["exit_code", "stdout", "stderr", "timed_out", "oom_killed", "duration_s", "truncated"]


@pytest.fixture
def program(tmp_path: Path) -> Path:
    path = tmp_path / "job.py"
    path.write_text("import sys\nprint('out é')\nprint('err', file=sys.stderr)\nsys.exit(4)\n", encoding="utf-8")
    return path


@pytest.fixture
def no_daemon(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix:///tmp/no-docker-{uuid.uuid4().hex}.sock")
    monkeypatch.delenv(BACKEND_ENV, raising=False)


@pytest.mark.docker
def test_exec_json_has_exactly_the_result_keys(program: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = run_exec(program, backend="docker", fmt="json")
    payload = json.loads(capsys.readouterr().out)
    assert list(payload) == EXEC_KEYS
    assert payload["exit_code"] == 4 == status
    assert (payload["stdout"], payload["stderr"]) == ("out é\n", "err\n")
    assert payload["timed_out"] is payload["oom_killed"] is payload["truncated"] is False


@pytest.mark.docker
def test_exec_text_passes_the_output_through_and_says_how_it_ended(
    program: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_exec(program, backend="docker") == 4
    out, err = capsys.readouterr()
    assert out == "out é\n"
    assert err.startswith("err\n[docker] exit code 4 in ")


@pytest.mark.docker
def test_exec_reports_a_timeout_and_the_memory_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hang = tmp_path / "hang.py"
    hang.write_text("while True:\n    pass\n")
    assert run_exec(hang, backend="docker", timeout_s=1.0) == 137
    assert "timed out after 1 s" in capsys.readouterr().err
    hog = tmp_path / "hog.py"
    hog.write_text("b = []\nwhile True:\n    b.append(bytearray(10 * 1024 * 1024))\n")
    assert run_exec(hog, backend="docker", memory_mb=128, fmt="json") == 137
    assert json.loads(capsys.readouterr().out)["oom_killed"] is True


def test_exec_on_the_local_backend(program: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_exec(program, backend="local", fmt="json") == 4
    assert json.loads(capsys.readouterr().out)["stdout"] == "out é\n"


def test_exec_with_docker_but_no_daemon_says_how_to_start_it(program: Path, no_daemon: None) -> None:
    with pytest.raises(DockerUnavailableError, match=r"backend 'docker' is not available.*dockerd"):
        run_exec(program, backend="docker")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.py", r"missing\.py: no such file; expected a Python program"),
        (lambda d: d, r"is a directory; expected a Python program"),
        (lambda d: (d / "bin.py", (d / "bin.py").write_bytes(b"\xff\xfe print"))[0], r"bin\.py: not UTF-8 text"),
    ],
    ids=["missing", "directory", "binary"],
)
def test_exec_bad_files_are_explained(tmp_path: Path, make: Any, message: str) -> None:
    with pytest.raises(CollabgraphError, match=message):
        run_exec(make(tmp_path), backend="local")


@pytest.mark.parametrize(("timeout", "memory"), [(0.0, 512), (-1.0, 512), (1.0, 0)])
def test_exec_bad_limits_are_explained(program: Path, timeout: float, memory: int) -> None:
    with pytest.raises(CollabgraphError, match=r"bad limits \(.*greater than 0.*\); expected --timeout > 0"):
        run_exec(program, backend="local", timeout_s=timeout, memory_mb=memory)


def test_exec_unknown_backend_names_the_closest(program: Path) -> None:
    with pytest.raises(UnknownNameError, match="unknown sandbox backend 'lcoal'; did you mean: local"):
        run_exec(program, backend="lcoal")


@pytest.mark.docker
def test_check_reports_docker_with_latencies(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_check("json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["backend"] == "docker" and report["reason"] is None
    assert report["image"] == "collabgraph-sandbox:bookworm" and report["image_up_to_date"] is True
    assert report["cold_start_ms"] > 0 and report["warm_exec_ms"] > 0
    monkeypatch.setattr(sandbox_cmd, "_REPEATS", 1)  # the numbers were checked above; this is about the layout
    assert run_check("text") == 0
    text = capsys.readouterr().out
    assert text.startswith("backend: docker\nimage: collabgraph-sandbox:bookworm (sha256:")
    assert "\ncold start: " in text and "\nwarm exec: " in text


def test_check_without_docker_says_why_and_times_the_fallback(
    no_daemon: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_check("json") == 1
    report = json.loads(capsys.readouterr().out)
    assert report["backend"] == "local" and "Docker daemon is not reachable" in report["reason"]
    assert report["image"] is None and report["cold_start_ms"] > 0


@pytest.mark.docker
def test_build_skips_an_up_to_date_image(capsys: pytest.CaptureFixture[str]) -> None:
    run_build()
    out, err = capsys.readouterr()
    assert out.startswith("collabgraph-sandbox:bookworm: up to date (sha256:")
    assert "--force rebuilds it" in err


def test_build_unknown_method_names_the_closest() -> None:
    with pytest.raises(UnknownNameError, match="unknown image build method 'dockerfil'; did you mean: dockerfile"):
        run_build(method="dockerfil")
