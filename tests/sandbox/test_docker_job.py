"""The parts of a Docker job that need no daemon: argv, the files archive, the output capture and the frame
decoder."""

from __future__ import annotations

import io
import struct
import tarfile
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collabgraph.sandbox.containers import JOB_FILE
from collabgraph.sandbox.job import Capture, FrameDecoder, argv_for, job_archive


def test_code_runs_as_python3_main_py() -> None:
    assert argv_for(None, "print(1)", "X") == ["python3", "main.py"]


def test_python_means_python3() -> None:
    assert argv_for(["python", "-c", "pass"], None, "X") == ["python3", "-c", "pass"]
    assert argv_for(["sh", "-c", "python"], None, "X") == ["sh", "-c", "python"]


def test_misuse_is_refused_with_the_callers_name() -> None:
    with pytest.raises(ValueError, match=r"^Box\.exec needs a command or code; got neither$"):
        argv_for(None, None, "Box")
    with pytest.raises(ValueError, match=r"^Box\.exec: command is an empty list; expected an argv list"):
        argv_for([], None, "Box")


@pytest.mark.parametrize("path", ["../x", "/abs", "a/../../b", "", ".", "a/.."])
def test_paths_outside_the_work_dir_are_refused(path: str) -> None:
    with pytest.raises(ValueError, match=r"files\[.*\]: expected a relative path inside the work directory"):
        job_archive(["true"], {path: "x"}, None, "Box")


def _read(archive: bytes) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            if member.isdir():
                out[member.name + "/"] = member.mode
            else:
                handle = tar.extractfile(member)
                assert handle is not None
                out[member.name] = handle.read().decode("utf-8")
    return out


def test_code_becomes_main_py_and_parents_are_created_first() -> None:
    archive = job_archive(["python3", "main.py"], {"a/b/c.txt": "deep"}, "print(1)", "Box")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        names = tar.getnames()
    assert names == ["work/a", "work/a/b", "work/a/b/c.txt", "work/main.py", JOB_FILE.lstrip("/")]
    assert _read(archive)["work/main.py"] == "print(1)"


@pytest.mark.parametrize(
    "argv", [["python3", "main.py"], ["sh", "-c", "echo 'quoted' \"$HOME\"; ls"], ["prog", "a b", "", "x\ny", "$(id)"]]
)
def test_the_argv_travels_shell_quoted(argv: list[str]) -> None:
    import shlex

    quoted = _read(job_archive(argv, {}, None, "Box"))[JOB_FILE.lstrip("/")]
    assert shlex.split(quoted) == argv


_segment = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-é", min_size=1, max_size=8).filter(
    lambda s: s not in (".", "..")
)
_paths = st.lists(_segment, min_size=1, max_size=3).map("/".join)


@settings(max_examples=60, deadline=None)
@given(files=st.dictionaries(_paths, st.text(max_size=200), max_size=6))
def test_every_file_arrives_with_its_content(files: dict[str, str]) -> None:
    # A path that is also another path's directory cannot be both; skip such draws.
    dirs = {"/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/") + 1)}
    if dirs & set(files):
        return
    seen = _read(job_archive(["true"], files, None, "Box"))
    assert seen.pop(JOB_FILE.lstrip("/")) == "true"
    assert {k.removeprefix("work/"): v for k, v in seen.items() if not k.endswith("/")} == files
    assert {k.removeprefix("work/")[:-1] for k in seen if k.endswith("/")} == dirs


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=5000), max_size=12),
    cap=st.integers(min_value=1, max_value=20_000),
)
def test_capture_keeps_exactly_the_first_cap_bytes(sizes: list[int], cap: int) -> None:
    data = b"".join(bytes([65 + i % 26]) * n for i, n in enumerate(sizes))
    capture = Capture(cap)
    for start in range(0, len(data), 777):
        capture.feed(data[start : start + 777])
    assert bytes(capture.kept) == data[:cap]
    assert capture.truncated == (len(data) > cap)


def test_capture_cut_inside_a_character_still_decodes() -> None:
    capture = Capture(5)
    capture.feed("ééé".encode())
    assert capture.text().startswith("éé") and capture.truncated


@settings(max_examples=60, deadline=None)
@given(
    frames=st.lists(st.tuples(st.sampled_from([1, 2]), st.binary(max_size=300)), max_size=10),
    cut=st.integers(min_value=1, max_value=50),
)
def test_frames_are_demultiplexed_however_the_bytes_arrive(frames: list[tuple[int, bytes]], cut: int) -> None:
    wire = b"".join(struct.pack(">BxxxL", stream, len(payload)) + payload for stream, payload in frames)
    decoder = FrameDecoder()
    out, err = Capture(10_000), Capture(10_000)
    for start in range(0, len(wire), cut):
        decoder.feed(wire[start : start + cut], out, err)
    assert bytes(out.kept) == b"".join(p for s, p in frames if s == 1)
    assert bytes(err.kept) == b"".join(p for s, p in frames if s == 2)
    assert decoder.pending == 0
