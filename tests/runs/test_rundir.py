"""Run directories: crash-tolerant JSONL logs, resume identity, atomic summaries, and secrets kept out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collabgraph.models.pool import ModelSpec
from collabgraph.runs.rundir import (
    REDACTED,
    JsonlWriter,
    RunDir,
    RunDirError,
    public_model_entry,
    read_jsonl,
    repair_tail,
    run_key,
    slug,
)

records = st.lists(
    st.dictionaries(st.text(min_size=1, max_size=5), st.one_of(st.integers(), st.text(max_size=20)), max_size=4),
    max_size=8,
)


def _write_lines(path: Path, items: list[dict[str, Any]]) -> bytes:
    data = b"".join(json.dumps(r).encode() + b"\n" for r in items)
    path.write_bytes(data)
    return data


def test_run_key_is_stable_and_sensitive() -> None:
    parts = {"graph_hash": "abc", "task": "gsm8k", "split": "test", "limit": 10, "seed": 0}
    assert run_key(parts) == run_key(dict(reversed(parts.items())))
    assert len(run_key(parts)) == 10
    for field, other in [("graph_hash", "abd"), ("task", "math500"), ("limit", 11), ("seed", 1), ("split", "dev")]:
        assert run_key({**parts, field: other}) != run_key(parts), field


def test_slug_keeps_directory_names_safe() -> None:
    assert slug("best_of_n") == "best_of_n"
    assert slug("my graph/v2") == "my_graph_v2"
    assert slug("../..") == "run"


@settings(max_examples=60, deadline=None)
@given(items=records, new=records, cut=st.integers(min_value=0, max_value=10_000))
def test_a_write_cut_short_loses_only_its_own_line(
    tmp_path_factory: pytest.TempPathFactory, items: list[dict[str, Any]], new: list[dict[str, Any]], cut: int
) -> None:
    path = tmp_path_factory.mktemp("jsonl") / "log.jsonl"
    data = _write_lines(path, items)
    cut = min(cut, len(data))
    path.write_bytes(data[:cut])
    complete = data[:cut].count(b"\n")
    assert read_jsonl(path) == items[:complete]
    with JsonlWriter(path) as log:  # resumes after a crash: the partial line is cut off first
        for r in new:
            log.write(r)
    assert read_jsonl(path) == items[:complete] + new
    assert path.read_bytes().endswith(b"\n") or not (items[:complete] + new)


def test_repair_tail_cuts_a_partial_line_longer_than_a_block(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_bytes(b'{"a": 1}\n' + b'{"b": "' + b"x" * 200_000)
    assert repair_tail(path) == 200_007
    assert path.read_bytes() == b'{"a": 1}\n'
    assert repair_tail(path) == 0
    path.write_bytes(b'{"only": "partial')
    assert repair_tail(path) == 17 and path.read_bytes() == b""
    assert repair_tail(tmp_path / "missing.jsonl") == 0


def test_read_jsonl_skips_a_damaged_line_but_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_bytes(b'{"a": 1}\nnot json\n[1, 2]\n{"b": 2}\n')
    assert read_jsonl(path) == [{"a": 1}, {"b": 2}]
    assert read_jsonl(tmp_path / "missing.jsonl") == []


def test_writer_flushes_every_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log = JsonlWriter(path)
    log.write({"event": "call", "n": 1})
    # Without closing: another reader (a resumed run, `tail -f`) sees the line already.
    assert read_jsonl(path) == [{"event": "call", "n": 1}]
    log.close()
    log.close()


def _manifest(key: str, name: str = "g") -> dict[str, Any]:
    return {"run_key": key, "graph": {"name": name}, "task": "gsm8k"}


def test_start_creates_then_resumes_the_same_run(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "runs" / "g-gsm8k-abc")
    assert run.read_manifest() is None
    assert run.start(_manifest("abc")) is False
    assert run.read_manifest() == _manifest("abc")
    assert run.start(_manifest("abc")) is True


def test_a_different_run_in_the_same_directory_is_refused(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    run.start(_manifest("abc", "best_of_n"))
    with pytest.raises(RunDirError) as info:
        run.start(_manifest("xyz", "actor_critic"))
    message = str(info.value)
    assert "another run" in message and "'best_of_n'" in message and "--out" in message
    assert "abc" in message and "xyz" in message


def test_an_unreadable_manifest_says_what_to_do(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    run.manifest_path.write_text("{not json")
    with pytest.raises(RunDirError, match=r"not valid JSON.*delete the run directory"):
        run.read_manifest()
    run.manifest_path.write_text("[1]")
    with pytest.raises(RunDirError, match="expected a JSON object"):
        run.read_manifest()


def test_completed_keeps_the_first_result_of_each_example(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    _write_lines(
        run.results_path,
        [{"example_id": "a", "v": 1}, {"example_id": "b", "v": 2}, {"example_id": "a", "v": 3}, {"other": 1}],
    )
    with run.results_path.open("ab") as f:
        f.write(b'{"example_id": "c", "v"')  # the crash hit while "c" was being written
    assert run.completed() == {"a": {"example_id": "a", "v": 1}, "b": {"example_id": "b", "v": 2}}


def test_summary_is_replaced_whole(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    assert run.read_summary() is None
    run.write_summary({"n": 1})
    run.write_summary({"n": 2, "accuracy": 0.5})
    assert run.read_summary() == {"n": 2, "accuracy": 0.5}
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]  # no temporary file left behind


def test_public_model_entry_keeps_key_names_and_drops_credentials() -> None:
    spec = ModelSpec(
        name="openai/gpt-4o",
        litellm_id="openai/gpt-4o",
        api_base="https://user:hunter2@api.example.com:8443/v1",
        api_key_env="OPENAI_API_KEY",
        params={"extra_headers": {"X-Trace": "1"}, "top_p": 0.9, "nested": {"access_token": "abc"}},
        notes="long text",
    )
    entry = public_model_entry(spec)
    assert entry["api_key_env"] == "OPENAI_API_KEY"
    assert entry["api_base"] == f"https://{REDACTED}@api.example.com:8443/v1"
    assert entry["params"] == {"extra_headers": REDACTED, "top_p": 0.9, "nested": {"access_token": REDACTED}}
    assert "hunter2" not in json.dumps(entry) and "scores" not in entry and "notes" not in entry
    plain = public_model_entry(ModelSpec(name="sim/x", litellm_id="sim/x", api_base="http://127.0.0.1:8808/v1"))
    assert plain["api_base"] == "http://127.0.0.1:8808/v1"
