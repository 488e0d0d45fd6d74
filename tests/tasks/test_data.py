"""Data files: resolution under the data directory, checksummed fetching from a local HTTP server, clear errors."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from collabgraph.errors import CollabgraphError
from collabgraph.settings import data_dir
from collabgraph.tasks import DataFileError, data_file
from collabgraph.tasks.data import SOURCES, source_url

SHARED = data_dir()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server on 127.0.0.1 serving a directory laid out like the data directory."""
    root = tmp_path / "mirror"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


def _put(root: Path, relpath: str, content: bytes) -> None:
    (root / relpath).parent.mkdir(parents=True, exist_ok=True)
    (root / relpath).write_bytes(content)


def test_existing_file_resolves_without_fetching(tmp_path: Path) -> None:
    _put(tmp_path, "game24/24.csv", b"anything")
    assert data_file("game24/24.csv", tmp_path, online=False) == tmp_path.resolve() / "game24/24.csv"


def test_env_data_dir_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _put(tmp_path, "gsm8k/test.jsonl", b"x")
    monkeypatch.setenv("COLLABGRAPH_DATA", str(tmp_path))
    assert data_file("gsm8k/test.jsonl", online=False) == tmp_path.resolve() / "gsm8k/test.jsonl"


def test_registry_matches_the_shared_data() -> None:
    for relpath, src in SOURCES.items():
        path = SHARED / relpath
        assert path.stat().st_size == src.bytes, relpath
        assert hashlib.sha256(path.read_bytes()).hexdigest() == src.sha256, relpath


def test_fetch_from_mirror_verifies_and_moves_into_place(mirror: tuple[str, Path], tmp_path: Path) -> None:
    url, root = mirror
    content = (SHARED / "game24/24.csv").read_bytes()
    _put(root, "game24/24.csv", content)
    target_dir = tmp_path / "data"
    path = data_file("game24/24.csv", target_dir, base_url=url)
    assert path.read_bytes() == content
    assert sorted(p.name for p in path.parent.iterdir()) == ["24.csv"]


def test_mirror_from_environment(mirror: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url, root = mirror
    _put(root, "mmlu_pro/model_predictions.csv", (SHARED / "mmlu_pro/model_predictions.csv").read_bytes())
    monkeypatch.setenv("COLLABGRAPH_DATA_URL", url + "/")
    path = data_file("mmlu_pro/model_predictions.csv", tmp_path / "data")
    assert path.stat().st_size == SOURCES["mmlu_pro/model_predictions.csv"].bytes


def test_checksum_mismatch_leaves_nothing(mirror: tuple[str, Path], tmp_path: Path) -> None:
    url, root = mirror
    _put(root, "game24/24.csv", b"Rank,Puzzles\n1,1 1 4 6\n")
    target_dir = tmp_path / "data"
    with pytest.raises(DataFileError, match=r"checksum mismatch for data file 'game24/24.csv'.*nothing was saved"):
        data_file("game24/24.csv", target_dir, base_url=url)
    assert list((target_dir / "game24").iterdir()) == []


def test_http_error_says_what_to_set(mirror: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = mirror
    with pytest.raises(DataFileError) as info:
        data_file("gsm8k/test.jsonl", tmp_path / "data", base_url=url)
    msg = str(info.value)
    assert "'gsm8k/test.jsonl'" in msg and "failed" in msg and "HTTP 404" in msg
    assert "--data-dir" in msg and "COLLABGRAPH_DATA" in msg
    assert list((tmp_path / "data" / "gsm8k").iterdir()) == []


def test_offline_and_missing_names_file_and_settings(tmp_path: Path) -> None:
    with pytest.raises(CollabgraphError) as info:
        data_file("gsm8k/test.jsonl", tmp_path, online=False)
    msg = str(info.value)
    assert "'gsm8k/test.jsonl'" in msg and str(tmp_path.resolve()) in msg
    assert "--data-dir" in msg and "COLLABGRAPH_DATA" in msg
    assert "raw.githubusercontent.com/openai/grade-school-math/3101c7d" in msg


def test_offline_environment_forbids_fetching(
    mirror: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, root = mirror
    _put(root, "game24/24.csv", (SHARED / "game24/24.csv").read_bytes())
    monkeypatch.setenv("COLLABGRAPH_OFFLINE", "1")
    with pytest.raises(DataFileError, match="COLLABGRAPH_OFFLINE"):
        data_file("game24/24.csv", tmp_path, base_url=url)
    assert not (tmp_path / "game24").exists()


def test_derived_file_without_mirror_says_where_it_comes_from(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLLABGRAPH_DATA_URL", raising=False)
    with pytest.raises(DataFileError) as info:
        data_file("mmlu_pro/model_predictions.csv", tmp_path)
    msg = str(info.value)
    assert "TIGER-AI-Lab/MMLU-Pro" in msg and "eval_results/*.zip" in msg and "COLLABGRAPH_DATA_URL" in msg


def test_unknown_file_lists_known_files(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match=r"(?s)'gsm8k/tset.jsonl'.*known data files: .*gsm8k/test.jsonl"):
        data_file("gsm8k/tset.jsonl", tmp_path)


def test_unwritable_data_dir(mirror: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = mirror
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(DataFileError, match=r"cannot write data file 'game24/24.csv'.*writable directory"):
        data_file("game24/24.csv", blocker, base_url=url)


def test_upstream_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLLABGRAPH_DATA_URL", raising=False)
    assert source_url("game24/24.csv") == (
        "https://raw.githubusercontent.com/princeton-nlp/tree-of-thought-llm/"
        "ab400345c5ea39d28ea6d7d3be0e417b11113c87/src/tot/data/24/24.csv"
    )
    assert source_url("mmlu_pro/questions.jsonl") is None
    assert source_url("nope.txt") is None
    assert source_url("mmlu_pro/questions.jsonl", "http://m/") == "http://m/mmlu_pro/questions.jsonl"
