"""The real packages swe_mini repairs: pinned PyPI sdists (with their own test suites), fetched on request only.

Nothing here touches the network unless :func:`fetch_sources` is called (``scripts/fetch-swe-sources`` calls
it). An sdist is read straight from its archive; nothing is unpacked or copied into the repository."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from collabgraph.errors import CollabgraphError, UnknownNameError
from collabgraph.settings import cache_dir

__all__ = [
    "FETCH_COMMAND",
    "SOURCES",
    "SOURCES_ENV",
    "PackageSource",
    "SourcesMissingError",
    "archive_path",
    "fetch_sources",
    "read_tree",
    "sources_dir",
]

SOURCES_ENV = "COLLABGRAPH_SWE_SOURCES"
FETCH_COMMAND = "scripts/fetch-swe-sources"
"""The explicit step that downloads the sdists (and builds the instance cache)."""


@dataclass(frozen=True)
class PackageSource:
    """One pinned sdist. ``keep`` are the path prefixes (relative to the sdist's top folder) that make the
    repository tree a job runs (package and tests); ``targets`` the modules bugs are injected into; ``tests``
    the pytest arguments that run the package's whole suite."""

    name: str
    version: str
    sha256: str
    keep: tuple[str, ...]
    targets: tuple[str, ...]
    tests: tuple[str, ...]

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"


SOURCES: dict[str, PackageSource] = {
    "inflection": PackageSource(
        name="inflection",
        version="0.5.1",
        sha256="1a29730d366e996aaacffb2f1f1cb9593dc38e2ddd30c91250c6dde09ea9b417",
        keep=("inflection/", "test_inflection.py"),
        targets=("inflection/__init__.py",),
        tests=("test_inflection.py",),
    ),
    "more-itertools": PackageSource(
        name="more-itertools",
        version="10.2.0",
        sha256="8fccb480c43d3e99a00087634c06dd02b0d50fbf088b380de5a41a015ec239e1",
        keep=("more_itertools/", "tests/"),
        targets=("more_itertools/more.py", "more_itertools/recipes.py"),
        tests=("tests",),
    ),
    "toolz": PackageSource(
        name="toolz",
        version="0.12.1",
        sha256="ecca342664893f177a13dac0e6b41cbd8ac25a358e5f215316d43e2100224f4d",
        keep=("toolz/", "tlz/"),
        targets=("toolz/itertoolz.py", "toolz/dicttoolz.py", "toolz/functoolz.py", "toolz/recipes.py"),
        tests=("toolz/tests",),
    ),
}
"""Small pure-Python packages whose sdists ship tests that plain pytest runs with no other dependency."""


class SourcesMissingError(CollabgraphError):
    """An sdist is not in the cache (or fails its checksum); the message says how to fetch it."""


def sources_dir(override: str | Path | None = None) -> Path:
    """Where the sdists and the instance cache live: ``override``, else ``COLLABGRAPH_SWE_SOURCES``, else
    ``cache_dir()/swe_sources``. The variable lets a test session, whose call cache is a fresh temporary
    directory, still find sources fetched beforehand."""
    chosen = override or os.environ.get(SOURCES_ENV)
    return Path(chosen).expanduser().resolve() if chosen else cache_dir() / "swe_sources"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _package(name: str) -> PackageSource:
    if name not in SOURCES:
        raise UnknownNameError("swe_mini package", name, sorted(SOURCES))
    return SOURCES[name]


def archive_path(name: str, root: str | Path | None = None) -> Path:
    """The cached sdist of package ``name`` (its file name is ``<name>-<version>.tar.gz``)."""
    source = _package(name)
    return sources_dir(root) / f"{source.name}-{source.version}.tar.gz"


def fetch_sources(root: str | Path | None = None) -> list[Path]:
    """Download every missing sdist with ``pip download --no-deps --no-binary :all:``, check its sha256, and
    move it into place; return the archive paths. Raises SourcesMissingError when pip fails or a hash differs."""
    target = sources_dir(root)
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    for source in SOURCES.values():
        path = archive_path(source.name, root)
        if not (path.exists() and _sha256(path) == source.sha256):
            with tempfile.TemporaryDirectory(dir=target) as tmp:
                argv = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
                done = subprocess.run(
                    [*argv, source.requirement, "-d", tmp], capture_output=True, text=True, check=False
                )
                files = list(Path(tmp).glob("*.tar.gz"))
                if done.returncode != 0 or len(files) != 1:
                    raise SourcesMissingError(f"pip download {source.requirement} failed: {done.stderr[-500:]}")
                digest = _sha256(files[0])
                if digest != source.sha256:
                    raise SourcesMissingError(
                        f"{source.requirement}: sha256 {digest} differs from the pinned {source.sha256}"
                    )
                shutil.move(str(files[0]), path)
        paths.append(path)
    return paths


def read_tree(name: str, root: str | Path | None = None) -> dict[str, str]:
    """The repository tree of package ``name`` (relative path → text), read from its cached sdist.

    Raises SourcesMissingError naming ``scripts/fetch-swe-sources`` when the sdist is not cached."""
    return dict(_read_tree(name, str(sources_dir(root))))


@cache
def _read_tree(name: str, root: str) -> tuple[tuple[str, str], ...]:
    source = _package(name)
    path = archive_path(name, root)
    if not path.exists():
        raise SourcesMissingError(f"swe_mini: {path} is missing; fetch the sdists with `{FETCH_COMMAND}`")
    if _sha256(path) != source.sha256:
        raise SourcesMissingError(
            f"swe_mini: {path} does not match the pinned sha256 {source.sha256}; delete it and run `{FETCH_COMMAND}`"
        )
    top = f"{source.name}-{source.version}/"
    files = []
    with tarfile.open(path, "r:gz") as archive:
        for member in archive.getmembers():
            relative = member.name.removeprefix(top)
            if member.isfile() and relative.endswith(".py") and relative.startswith(source.keep):
                handle = archive.extractfile(member)
                if handle is not None:
                    files.append((relative, handle.read().decode("utf-8")))
    return tuple(sorted(files))
