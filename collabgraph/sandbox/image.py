"""The sandbox image: Debian bookworm with Python 3, pytest, git and patch, built one of two ways.

- ``dockerfile``: ``FROM debian:bookworm-slim`` and ``apt-get install``, where a registry is reachable;
- ``debootstrap``: a minimal Debian root file system bootstrapped from the Debian mirror with ``debootstrap``
  (needs root and the ``debootstrap`` program) and imported with ``docker import``, where no registry is.

Both label the image with a recipe id (a hash of what goes into it), so ``build`` skips an image that is up to
date and rebuilds one made from an older recipe.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from collabgraph.errors import CollabgraphError, UnknownNameError
from collabgraph.settings import cache_dir

__all__ = [
    "BUILD_METHODS",
    "DEFAULT_IMAGE",
    "PACKAGES",
    "RECIPE_LABEL",
    "BuildMethod",
    "BuildReport",
    "build_image",
    "image_missing_message",
    "recipe_id",
]

DEFAULT_IMAGE = "collabgraph-sandbox:bookworm"
SUITE = "bookworm"
PACKAGES = ("python3", "python-is-python3", "python3-pytest", "git", "patch")
"""Python (also as ``python``) to run jobs; pytest, git and patch for repair tasks (apply a diff, run a package's own
tests)."""
DEFAULT_MIRROR = "http://deb.debian.org/debian"
RECIPE_LABEL = "collabgraph.sandbox.recipe"

BuildMethod = Literal["auto", "dockerfile", "debootstrap"]
BUILD_METHODS: tuple[BuildMethod, ...] = ("auto", "dockerfile", "debootstrap")

_ENV = {"LANG": "C.UTF-8", "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
_TRIM = (
    "var/cache/apt",
    "var/lib/apt/lists",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
    "var/log",
)
"""Removed from a bootstrapped root file system: package caches and lists, documentation, translations, logs."""
_LOG_TAIL_LINES = 25


def recipe_id() -> str:
    """A short hash of everything that goes into the image; an image labelled with another one is stale."""
    recipe = {"suite": SUITE, "packages": PACKAGES, "env": _ENV, "trim": _TRIM, "dockerfile": _dockerfile("")}
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]


def image_missing_message(image: str) -> str:
    """What to tell a user whose daemon answers but has no sandbox image."""
    return (
        f"the sandbox image {image!r} is not built; build it with `collabgraph sandbox build` (as root where no "
        "registry is reachable: it bootstraps Debian with debootstrap), or use backend 'local'"
    )


@dataclass(frozen=True)
class BuildReport:
    """What ``build_image`` did: ``method`` is ``existing`` when an up-to-date image was already there."""

    image: str
    method: Literal["existing", "dockerfile", "debootstrap"]
    image_id: str
    size_mb: float
    seconds: float
    recipe: str


def _dockerfile(recipe: str) -> str:
    env = " ".join(f"{k}={v}" for k, v in _ENV.items())
    return (
        f"FROM debian:{SUITE}-slim\n"
        "RUN apt-get update \\\n"
        f" && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends {' '.join(PACKAGES)} \\\n"
        " && rm -rf /var/lib/apt/lists/* /usr/share/doc /usr/share/man /usr/share/locale \\\n"
        " && mkdir -p /work\n"
        f"ENV {env}\n"
        "WORKDIR /work\n"
        f'LABEL {RECIPE_LABEL}="{recipe}"\n'
        'CMD ["python3"]\n'
    )


def _changes(recipe: str) -> list[str]:
    """The Dockerfile instructions ``docker import`` applies to a bootstrapped root file system."""
    return [
        *(f"ENV {k}={v}" for k, v in _ENV.items()),
        "WORKDIR /work",
        f'LABEL {RECIPE_LABEL}="{recipe}"',
        'CMD ["python3"]',
    ]


def _report(client: Any, image: str, method: Any, started: float, recipe: str) -> BuildReport:
    info = client.api.inspect_image(image)
    return BuildReport(
        image=image,
        method=method,
        image_id=info["Id"],
        size_mb=round(info.get("Size", 0) / 1e6, 1),
        seconds=round(time.perf_counter() - started, 1),
        recipe=recipe,
    )


def build_image(
    image: str = DEFAULT_IMAGE,
    *,
    force: bool = False,
    method: BuildMethod = "auto",
    mirror: str | None = None,
    log: Callable[[str], None] | None = None,
) -> BuildReport:
    """Build the sandbox image unless an up-to-date one exists (``force`` rebuilds it anyway).

    ``auto`` pulls ``debian:bookworm-slim`` and builds from the Dockerfile when a registry answers, and
    bootstraps Debian from ``mirror`` (default: ``$COLLABGRAPH_DEBIAN_MIRROR``, else deb.debian.org) otherwise.
    ``log`` receives one line per step. Raises :class:`CollabgraphError` saying what is missing."""
    if method not in BUILD_METHODS:
        raise UnknownNameError("image build method", str(method), BUILD_METHODS)
    from docker.errors import APIError, ImageNotFound

    from collabgraph.sandbox.containers import connect

    say = log or (lambda line: None)
    if method == "debootstrap":
        _debootstrap_program()
    client = connect()
    recipe = recipe_id()
    started = time.perf_counter()
    try:
        previous = client.api.inspect_image(image)
    except ImageNotFound:
        previous = None
    if not force:
        labels = None if previous is None else (previous["Config"].get("Labels") or {})
        if labels is not None and labels.get(RECIPE_LABEL) == recipe:
            say(f"{image} is up to date (recipe {recipe}); --force rebuilds it")
            return _report(client, image, "existing", started, recipe)
        if labels is not None:
            say(f"{image} was built from another recipe ({labels.get(RECIPE_LABEL)}); rebuilding")
    if method == "auto":
        method = _choose_method(client, say)
    if method == "dockerfile":
        _build_from_dockerfile(client, image, recipe, say)
    else:
        _build_from_debootstrap(client, image, recipe, mirror or os.environ.get("COLLABGRAPH_DEBIAN_MIRROR"), say)
    report = _report(client, image, method, started, recipe)
    if previous is not None and previous["Id"] != report.image_id:
        with contextlib.suppress(APIError):  # the image it replaced, now untagged; kept while a container uses it
            client.api.remove_image(previous["Id"])
    say(f"built {image} ({report.method}, {report.size_mb:g} MB) in {report.seconds:g} s")
    return report


def _choose_method(client: Any, say: Callable[[str], None]) -> Literal["dockerfile", "debootstrap"]:
    """``dockerfile`` when the base image is here or a registry serves it, else ``debootstrap``."""
    from docker.errors import APIError, ImageNotFound

    base = f"debian:{SUITE}-slim"
    try:
        client.api.inspect_image(base)
        return "dockerfile"
    except ImageNotFound:
        pass
    say(f"checking for a registry: pulling {base}")
    try:
        client.images.pull("debian", tag=f"{SUITE}-slim")
    except APIError as exc:
        say(f"no registry ({_first_line(exc)}): bootstrapping Debian {SUITE} instead")
        return "debootstrap"
    return "dockerfile"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _build_from_dockerfile(client: Any, image: str, recipe: str, say: Callable[[str], None]) -> None:
    from docker.errors import BuildError

    say(f"building {image} from a Dockerfile")
    try:
        client.images.build(
            fileobj=io.BytesIO(_dockerfile(recipe).encode()), tag=image, rm=True, forcerm=True, pull=False
        )
    except BuildError as exc:
        lines = [str(chunk.get("stream", "")).rstrip() for chunk in exc.build_log if chunk.get("stream")]
        tail = "\n".join(lines[-_LOG_TAIL_LINES:])
        raise CollabgraphError(f"building the sandbox image from its Dockerfile failed: {exc.msg}\n{tail}") from exc


def _build_from_debootstrap(
    client: Any, image: str, recipe: str, mirror: str | None, say: Callable[[str], None]
) -> None:
    program = _debootstrap_program()
    debs = cache_dir() / "debootstrap"
    debs.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="collabgraph-rootfs-"))
    log_path = root.with_name(root.name + ".log")
    try:
        say(
            f"debootstrap --variant=minbase {SUITE} with {', '.join(PACKAGES)} (about a minute or two; log: {log_path})"
        )
        with log_path.open("wb") as log_file:
            done = subprocess.run(
                [
                    program,
                    "--variant=minbase",
                    f"--include={','.join(PACKAGES)}",
                    f"--cache-dir={debs.resolve()}",
                    SUITE,
                    str(root),
                    mirror or DEFAULT_MIRROR,
                ],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                check=False,
            )
        if done.returncode != 0:
            tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-_LOG_TAIL_LINES:])
            raise CollabgraphError(
                f"debootstrap failed (exit code {done.returncode}); is the Debian mirror "
                f"{mirror or DEFAULT_MIRROR} reachable? (set COLLABGRAPH_DEBIAN_MIRROR for another one)\n{tail}"
            )
        for rel in _TRIM:
            target = root / rel
            if target.is_dir():
                shutil.rmtree(target)
                target.mkdir()
        (root / "work").mkdir(exist_ok=True)
        say(f"importing the root file system as {image}")
        _import(client, root, image, recipe)
        log_path.unlink(missing_ok=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _debootstrap_program() -> str:
    """The debootstrap program, checked to be usable: installed, and run as root."""
    program = shutil.which("debootstrap")
    if program is None:
        raise CollabgraphError(
            "building the sandbox image without a registry needs debootstrap: install it (as root: "
            "`apt-get install -y debootstrap`; scripts/docker-setup does this) and run `collabgraph sandbox build` again"
        )
    if os.geteuid() != 0:
        raise CollabgraphError(
            "building the sandbox image with debootstrap needs root (it creates device files and changes owners): "
            "run `sudo collabgraph sandbox build`, or scripts/docker-setup as root"
        )
    return program


def _import(client: Any, root: Path, image: str, recipe: str) -> None:
    """``tar -C root -c . | docker import``, streamed: the archive is never held in memory."""
    repository, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "latest")
    tar = subprocess.Popen(
        ["tar", "-C", str(root), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert tar.stdout is not None
    try:
        reply = client.api.import_image_from_stream(
            tar.stdout, repository=repository, tag=tag, changes=_changes(recipe)
        )
    finally:
        tar.stdout.close()
        _, err = tar.communicate()
    if tar.returncode != 0:
        raise CollabgraphError(f"archiving the bootstrapped root file system failed: {err.decode(errors='replace')}")
    if '"errorDetail"' in str(reply):  # the daemon reports a bad archive inside a 200 reply
        raise CollabgraphError(f"docker import of the bootstrapped root file system failed: {reply}")
