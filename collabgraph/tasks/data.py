"""Data files: resolved under the data directory, fetched from their official public location when missing.

Every file a task reads is listed in ``SOURCES`` with its size and sha256 (the same facts as the shared data
MANIFEST). A missing file is downloaded, when the machine is online, to a temporary file beside its target,
checked, then moved into place, so a failed or corrupt download never leaves a partial file behind.

``COLLABGRAPH_DATA_URL`` (or ``base_url=``) names a mirror laid out like the data directory
(``{base_url}/gsm8k/test.jsonl``); it is how tests fetch from a local server, and the only way to fetch the
MMLU-Pro tables, which are reductions of upstream archives rather than files upstream serves byte for byte.
``COLLABGRAPH_OFFLINE=1`` forbids any download.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from collabgraph.errors import CollabgraphError
from collabgraph.settings import data_dir as resolve_data_dir

__all__ = ["SOURCES", "DataFileError", "FileSource", "data_file", "source_url"]

_RAW = "https://raw.githubusercontent.com"
_DOWNLOAD_TIMEOUT_S = 60.0


class DataFileError(CollabgraphError):
    """A data file is missing and could not be fetched, or a fetched file failed its checksum."""


@dataclass(frozen=True)
class FileSource:
    """Where a data file comes from. ``source_path`` is None for files derived from upstream archives."""

    bytes: int
    sha256: str
    source_repo: str
    commit: str
    source_path: str | None
    origin: str = ""


_GSM8K = ("openai/grade-school-math", "3101c7d5072418e28b9008a6636bde82a006892c")
_MMLU_PRO = ("TIGER-AI-Lab/MMLU-Pro", "f418b116db00b065c2aea046518d8fcf74d39872")

SOURCES: dict[str, FileSource] = {
    "gsm8k/test.jsonl": FileSource(
        749738,
        "3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14",
        *_GSM8K,
        "grade_school_math/data/test.jsonl",
    ),
    "gsm8k/train.jsonl": FileSource(
        4166206,
        "17f347dc51477c50d4efb83959dbb7c56297aba886e5544ee2aaed3024813465",
        *_GSM8K,
        "grade_school_math/data/train.jsonl",
    ),
    "gsm8k/example_model_solutions.jsonl": FileSource(
        2563513,
        "4bc62db838f8418365d51c627bd66294cbdca9fb7f01519cb13f0dce8c51580b",
        *_GSM8K,
        "grade_school_math/data/example_model_solutions.jsonl",
    ),
    "math500/test.jsonl": FileSource(
        446564,
        "35dc41080a3680858b27fa7e0533d2d547825316fc5dafe5d316f4ccc5a06132",
        "ZubinGou/math-evaluation-harness",
        "db77bc6bb2a17c90ed2d63e88ebd8c40a82858c5",
        "data/math_oai/test.jsonl",
    ),
    "humaneval/HumanEval.jsonl.gz": FileSource(
        44877,
        "b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef",
        "openai/human-eval",
        "6d43fb980f9fee3c892a914eda09951f772ad10d",
        "data/HumanEval.jsonl.gz",
    ),
    "humaneval/HumanEvalPlus.jsonl.gz": FileSource(
        925932,
        "272720b90ac375502c8ed23cd791c2a93dfb22a911641a494da74a426c09f101",
        "evalplus/humanevalplus_release",
        "200defce9e3429d28ca215b6dd061c0f7f31c18b",
        "HumanEvalPlus.jsonl.gz",
    ),
    "game24/24.csv": FileSource(
        48235,
        "b9f12b3e36d987a3c714c4cef17d89a137d7c59da26532fcfb93b4821d8111b5",
        "princeton-nlp/tree-of-thought-llm",
        "ab400345c5ea39d28ea6d7d3be0e417b11113c87",
        "src/tot/data/24/24.csv",
    ),
    "routellm/gsm8k_responses.csv": FileSource(
        1291062,
        "1f38ed03db354a020f71e92022383dc3cf37bbf2694dea4daaeea7b6c43fe57b",
        "lm-sys/RouteLLM",
        "0b64fdafe049e596a3f5657c219329f24af24198",
        "routellm/evals/gsm8k/gsm8k_responses.csv",
    ),
    "mmlu_pro/questions.jsonl": FileSource(
        9361851,
        "1a7ae2519608d421b190215bc1ef1f5d3892a224a4e4d52b227007068a817f6f",
        *_MMLU_PRO,
        None,
        "the question fields of the per-model result archives eval_results/*.zip",
    ),
    "mmlu_pro/model_predictions.csv": FileSource(
        2125157,
        "21f53f932233e4a58781c12f1a93d248a23d7b755a16c50f6fb58b1e2d435b92",
        *_MMLU_PRO,
        None,
        "the predicted letters and output lengths in the per-model result archives eval_results/*.zip",
    ),
}


def source_url(relpath: str, base_url: str | None = None) -> str | None:
    """Where ``relpath`` is fetched from: the mirror when one is set, else upstream; None when nothing serves it."""
    src = SOURCES.get(relpath)
    if src is None:
        return None
    base = base_url or os.environ.get("COLLABGRAPH_DATA_URL")
    if base:
        return f"{base.rstrip('/')}/{relpath}"
    if src.source_path is None:
        return None
    return f"{_RAW}/{src.source_repo}/{src.commit}/{src.source_path}"


def _is_offline(online: bool | None) -> bool:
    if online is not None:
        return not online
    return os.environ.get("COLLABGRAPH_OFFLINE", "").strip().lower() in {"1", "true", "yes"}


def _missing_message(relpath: str, root: Path, why: str) -> str:
    lines = [
        f"data file {relpath!r} is missing from the data directory {root} ({why}).",
        "Point collabgraph at a directory that holds it with --data-dir DIR or COLLABGRAPH_DATA=DIR",
    ]
    src = SOURCES.get(relpath)
    if src is None:
        lines.append(f"(known data files: {', '.join(sorted(SOURCES))})")
    elif src.source_path is not None:
        upstream = f"{_RAW}/{src.source_repo}/{src.commit}/{src.source_path}"
        lines.append(f"or allow fetching (online, COLLABGRAPH_OFFLINE unset) so that it is downloaded from {upstream}")
    else:
        lines.append(
            "or set COLLABGRAPH_DATA_URL to a mirror of the data directory: this file is derived from "
            f"{src.origin} of github.com/{src.source_repo} at commit {src.commit[:12]}, which upstream does not "
            "serve as a file"
        )
    return "\n".join(lines) + "."


def _download(url: str, root: Path, relpath: str, src: FileSource) -> None:
    target = root / relpath
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as exc:
        raise DataFileError(
            f"cannot write data file {relpath!r} into {target.parent}: {exc.strerror or exc}. "
            "Set --data-dir or COLLABGRAPH_DATA to a writable directory."
        ) from exc
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        size = 0
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT_S) as resp:
            while chunk := resp.read(1 << 16):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        if digest.hexdigest() != src.sha256 or size != src.bytes:
            raise DataFileError(
                f"checksum mismatch for data file {relpath!r} fetched from {url}: expected sha256 {src.sha256} "
                f"({src.bytes} bytes), got {digest.hexdigest()} ({size} bytes); nothing was saved."
            )
        os.replace(tmp, target)
    except urllib.error.HTTPError as exc:
        raise DataFileError(
            _missing_message(relpath, root, f"fetching {url} failed: HTTP {exc.code} {exc.reason}")
        ) from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DataFileError(_missing_message(relpath, root, f"fetching {url} failed: {reason}")) from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def data_file(
    relpath: str,
    data_dir: str | Path | None = None,
    *,
    online: bool | None = None,
    base_url: str | None = None,
) -> Path:
    """The path of data file ``relpath`` (``"gsm8k/test.jsonl"``) under the data directory, fetching it if missing.

    ``online=None`` fetches unless ``COLLABGRAPH_OFFLINE`` is set; ``online=False`` never fetches. Raises
    DataFileError naming the file and what to set when it is missing and cannot be fetched, or when a fetched
    file's sha256 differs from the recorded one.
    """
    root = resolve_data_dir(data_dir)
    path = root / relpath
    if path.is_file():
        return path
    src = SOURCES.get(relpath)
    if src is None:
        raise DataFileError(_missing_message(relpath, root, "and it is not a file collabgraph can fetch"))
    if _is_offline(online):
        why = "fetching is disabled" if online is False else "fetching is disabled by COLLABGRAPH_OFFLINE"
        raise DataFileError(_missing_message(relpath, root, why))
    url = source_url(relpath, base_url)
    if url is None:
        raise DataFileError(_missing_message(relpath, root, "and no mirror is set to fetch it from"))
    _download(url, root, relpath, src)
    return path
