"""Run directories: where one run of a graph on a task keeps everything it did, so it can be inspected and resumed.

A run directory holds

- ``manifest.json``: what was run (versions, seed, task, graph and its hash, the model pool entries used, the
  command line); written once, when the run starts;
- ``events.jsonl``: an append-only log, one JSON object per line, flushed per event (every model call, every
  example start and finish, every run start and finish);
- ``results.jsonl``: one line per finished example, appended as each finishes;
- ``summary.json``: the aggregate report, rewritten when a run (or a resumed run) ends.

A process killed mid-write leaves at most one partial line at the end of a log. Readers skip it and writers cut
it off before appending, so a resumed run re-runs that example and never glues a new line onto half an old one.
Nothing here reads the environment: API keys cannot reach a run directory (pool entries carry only the *name*
of the variable holding a key, and ``public_model_entry`` redacts parameters that look like credentials).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from collabgraph.errors import CollabgraphError
from collabgraph.models.pool import ModelSpec

__all__ = [
    "EVENTS",
    "MANIFEST",
    "RESULTS",
    "SUMMARY",
    "JsonlWriter",
    "RunDir",
    "RunDirError",
    "public_model_entry",
    "read_jsonl",
    "repair_tail",
    "run_key",
    "slug",
]

MANIFEST = "manifest.json"
EVENTS = "events.jsonl"
RESULTS = "results.jsonl"
SUMMARY = "summary.json"

FSYNC_INTERVAL_S = 1.0
"""A log is flushed to the OS after every line (a killed process loses nothing) and fsynced to disk at most this
often and on close (a power cut loses at most this much): a sync per model call would dominate fast runs."""

REDACTED = "<redacted>"
_SECRET_PARAM = re.compile(r"key|token|secret|passw|auth|header|cookie|credential", re.IGNORECASE)


class RunDirError(CollabgraphError):
    """A run directory that cannot be used: it holds a different run, or its manifest is unreadable."""


def run_key(parts: Mapping[str, Any]) -> str:
    """A short stable hash of what identifies a run (graph hash, task, split, limit, seed, models): the same
    command gives the same key, so it finds the same directory; any change gives another."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def slug(text: str) -> str:
    """``text`` made safe as part of a directory name (letters, digits, ``.``, ``_`` and ``-``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "run"


def _redact_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{REDACTED}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _redact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: REDACTED if _SECRET_PARAM.search(str(k)) else _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


def public_model_entry(spec: ModelSpec) -> dict[str, Any]:
    """A pool entry as a run directory may record it: ``api_key_env`` stays a variable *name*; extra litellm
    parameters whose name suggests a credential (headers, tokens …) and user:password in ``api_base`` are
    replaced by ``<redacted>``; published scores (long citations) are left out."""
    data = spec.model_dump(mode="json", exclude={"scores", "notes"})
    if data.get("api_base"):
        data["api_base"] = _redact_url(str(data["api_base"]))
    data["params"] = _redact(data.get("params", {}))
    return data


def repair_tail(path: Path) -> int:
    """Cut a partial last line (no final newline: a write cut short) off a JSONL file; returns the bytes removed."""
    if not path.is_file():
        return 0
    with path.open("rb+") as f:
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return 0
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return 0
        # Walk back to the last newline in blocks: a partial line may be longer than one block.
        end = size
        keep = 0
        while end > 0:
            start = max(0, end - 65536)
            f.seek(start)
            block = f.read(end - start)
            cut = block.rfind(b"\n")
            if cut >= 0:
                keep = start + cut + 1
                break
            end = start
        f.truncate(keep)
        return size - keep


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every complete JSON object in a JSONL file, in order. A line that does not parse is skipped: the last one
    may be a write cut short by a crash; an earlier one can only be damage, which must not lose the rest."""
    if not path.is_file():
        return []
    out: list[dict[str, Any]] = []
    with path.open("rb") as f:
        for raw in f:
            if not raw.endswith(b"\n"):
                break  # a partial last line: the record it was writing is not there
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if isinstance(record, dict):
                out.append(record)
    return out


class JsonlWriter:
    """Append JSON objects to a file, one per line, each flushed as it is written (see ``FSYNC_INTERVAL_S``).

    Opening it first cuts off a partial last line a crash may have left."""

    def __init__(self, path: Path) -> None:
        self.path = path
        repair_tail(path)
        self._file = path.open("a", encoding="utf-8")
        self._synced = time.monotonic()

    def write(self, record: Mapping[str, Any]) -> None:
        """Append ``record`` as one line and flush it."""
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=str)
        self._file.write(line + "\n")
        self._file.flush()
        now = time.monotonic()
        if now - self._synced >= FSYNC_INTERVAL_S:
            os.fsync(self._file.fileno())
            self._synced = now

    def close(self) -> None:
        """Sync and close the file (idempotent)."""
        if not self._file.closed:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _write_json_atomic(path: Path, payload: Mapping[str, Any]) -> None:
    """Write ``payload`` so that readers see the old file or the new one, never half of it."""
    text = json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False, default=str) + "\n"
    # Opened with mode "x" rather than mkstemp, so the file gets the usual permissions (umask), not 0600.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with tmp.open("x", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


class RunDir:
    """One run directory (see the module docstring for its files)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    @property
    def events_path(self) -> Path:
        return self.path / EVENTS

    @property
    def results_path(self) -> Path:
        return self.path / RESULTS

    @property
    def summary_path(self) -> Path:
        return self.path / SUMMARY

    def read_manifest(self) -> dict[str, Any] | None:
        """The manifest, or None when the directory holds no run yet."""
        if not self.manifest_path.is_file():
            return None
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise RunDirError(f"{self.manifest_path}: not valid JSON ({exc}); delete the run directory") from None
        if not isinstance(data, dict):
            raise RunDirError(f"{self.manifest_path}: expected a JSON object; delete the run directory")
        return data

    def start(self, manifest: Mapping[str, Any]) -> bool:
        """Create the directory and write ``manifest``, or check that an existing run is the same one (same
        ``run_key``). Returns True when an earlier run is being resumed; raises ``RunDirError`` when the
        directory holds a different run."""
        existing = self.read_manifest()
        if existing is None:
            self.path.mkdir(parents=True, exist_ok=True)
            _write_json_atomic(self.manifest_path, manifest)
            return False
        if existing.get("run_key") != manifest.get("run_key"):
            theirs = f"{existing.get('graph', {}).get('name')!r} on {existing.get('task')!r}"
            raise RunDirError(
                f"{self.path} holds another run ({theirs}, run key {existing.get('run_key')}; this one is "
                f"{manifest.get('run_key')}): choose another --out, or delete that directory to start over"
            )
        return True

    def completed(self) -> dict[str, dict[str, Any]]:
        """Results already recorded, by example id (the first record of an id wins)."""
        out: dict[str, dict[str, Any]] = {}
        for record in read_jsonl(self.results_path):
            example_id = record.get("example_id")
            if isinstance(example_id, str):
                out.setdefault(example_id, record)
        return out

    def events(self) -> Iterator[dict[str, Any]]:
        """Every complete event recorded so far."""
        yield from read_jsonl(self.events_path)

    def event_log(self) -> JsonlWriter:
        """An appender for ``events.jsonl``."""
        self.path.mkdir(parents=True, exist_ok=True)
        return JsonlWriter(self.events_path)

    def result_log(self) -> JsonlWriter:
        """An appender for ``results.jsonl``."""
        self.path.mkdir(parents=True, exist_ok=True)
        return JsonlWriter(self.results_path)

    def write_summary(self, summary: Mapping[str, Any]) -> None:
        """Replace ``summary.json`` atomically."""
        _write_json_atomic(self.summary_path, summary)

    def read_summary(self) -> dict[str, Any] | None:
        """The last summary written, or None."""
        if not self.summary_path.is_file():
            return None
        data = json.loads(self.summary_path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else None
