"""The sandbox image: its recipe, the checks before a build, and what the built image holds."""

from __future__ import annotations

import re
import shutil
from typing import Any

import pytest

from collabgraph.errors import CollabgraphError, UnknownNameError
from collabgraph.sandbox import DEFAULT_IMAGE, DockerSandbox, build_image
from collabgraph.sandbox import image as image_module
from collabgraph.sandbox.containers import connect
from collabgraph.sandbox.image import PACKAGES, RECIPE_LABEL, recipe_id


def test_the_recipe_id_is_a_stable_short_hash() -> None:
    assert re.fullmatch(r"[0-9a-f]{12}", recipe_id())
    assert recipe_id() == recipe_id()


def test_the_recipe_id_changes_with_the_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    before = recipe_id()
    monkeypatch.setattr(image_module, "PACKAGES", (*PACKAGES, "curl"))
    assert recipe_id() != before


def test_the_dockerfile_installs_the_packages_and_labels_the_recipe() -> None:
    text = image_module._dockerfile("abc123")
    assert text.startswith("FROM debian:bookworm-slim\n")
    assert " ".join(PACKAGES) in text and f'LABEL {RECIPE_LABEL}="abc123"' in text


def test_an_unknown_method_names_the_closest() -> None:
    bad: Any = "debootsrap"
    with pytest.raises(UnknownNameError, match="unknown image build method 'debootsrap'; did you mean: debootstrap"):
        build_image(method=bad)


def test_debootstrap_must_be_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(CollabgraphError, match=r"needs debootstrap: install it .*apt-get install -y debootstrap"):
        build_image(method="debootstrap", force=True)


def test_debootstrap_needs_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/sbin/debootstrap")
    monkeypatch.setattr(image_module.os, "geteuid", lambda: 1000)
    with pytest.raises(CollabgraphError, match=r"with debootstrap needs root .*sudo collabgraph sandbox build"):
        build_image(method="debootstrap", force=True)


@pytest.mark.docker
def test_an_up_to_date_image_is_not_rebuilt() -> None:
    lines: list[str] = []
    report = build_image(log=lines.append)
    assert report.method == "existing" and report.image == DEFAULT_IMAGE and report.recipe == recipe_id()
    assert lines == [f"{DEFAULT_IMAGE} is up to date (recipe {recipe_id()}); --force rebuilds it"]
    labels = connect().api.inspect_image(DEFAULT_IMAGE)["Config"]["Labels"]
    assert labels[RECIPE_LABEL] == recipe_id()


@pytest.mark.docker
async def test_the_image_holds_python_pytest_git_and_patch() -> None:
    async with DockerSandbox(pool_size=0) as sandbox:
        result = await sandbox.exec(
            ["sh", "-c", "python --version && python3 -m pytest --version && git --version && patch --version"]
        )
    assert result.ok, result.stderr
    assert "Python 3.11" in result.stdout and "pytest" in result.stdout + result.stderr
    assert "git version" in result.stdout and "GNU patch" in result.stdout
