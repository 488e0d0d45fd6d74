"""Choosing a sandbox backend: flag, setting, and what this machine offers."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest

from collabgraph.errors import CollabgraphError, UnknownNameError
from collabgraph.sandbox import (
    BACKEND_ENV,
    BACKENDS,
    DockerSandbox,
    DockerUnavailableError,
    LocalSandbox,
    available_sandbox,
    resolve_backend,
)


@pytest.fixture
def no_daemon(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the docker client at a socket that does not exist: no daemon answers."""
    monkeypatch.setenv("DOCKER_HOST", f"unix:///tmp/no-docker-{uuid.uuid4().hex}.sock")
    monkeypatch.delenv(BACKEND_ENV, raising=False)


def test_local_gives_the_local_sandbox() -> None:
    sandbox = available_sandbox("local")
    assert isinstance(sandbox, LocalSandbox) and sandbox.name == "local"


def test_auto_without_a_daemon_falls_back_to_local_and_says_why(
    no_daemon: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="collabgraph.sandbox"):
        assert isinstance(available_sandbox("auto"), LocalSandbox)
        assert isinstance(available_sandbox(), LocalSandbox)
    warnings = [r.getMessage() for r in caplog.records if "sandbox backend: local" in r.getMessage()]
    assert len(warnings) == 1 and "Docker daemon is not reachable" in warnings[0]


def test_docker_without_a_daemon_says_how_to_start_it_and_build_the_image(no_daemon: None) -> None:
    with pytest.raises(DockerUnavailableError) as caught:
        available_sandbox("docker")
    message = str(caught.value)
    assert message.startswith("sandbox backend 'docker' is not available: the Docker daemon is not reachable")
    assert "dockerd" in message and "scripts/docker-setup" in message and "collabgraph sandbox build" in message
    assert isinstance(caught.value, CollabgraphError)


@pytest.mark.docker
def test_docker_without_the_image_says_how_to_build_it() -> None:
    with pytest.raises(DockerUnavailableError, match=r"'collabgraph-sandbox:no-such-tag' is not built.*sandbox build"):
        available_sandbox("docker", image="collabgraph-sandbox:no-such-tag")
    assert isinstance(available_sandbox("auto", image="collabgraph-sandbox:no-such-tag"), LocalSandbox)


@pytest.mark.docker
def test_auto_prefers_docker_and_shares_one_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BACKEND_ENV, raising=False)
    first, second = available_sandbox("auto"), available_sandbox("docker")
    assert isinstance(first, DockerSandbox) and first is second
    assert resolve_backend("auto") == "docker"


@pytest.mark.parametrize(("setting", "expected"), [("local", "local"), ("LOCAL ", "local"), ("", "local")])
def test_the_setting_chooses_for_auto(
    monkeypatch: pytest.MonkeyPatch, no_daemon: None, setting: str, expected: str
) -> None:
    monkeypatch.setenv(BACKEND_ENV, setting)
    assert resolve_backend("auto") == expected


def test_the_docker_setting_is_strict(monkeypatch: pytest.MonkeyPatch, no_daemon: None) -> None:
    monkeypatch.setenv(BACKEND_ENV, "docker")
    with pytest.raises(DockerUnavailableError, match="backend 'docker' is not available"):
        resolve_backend("auto")
    assert resolve_backend("local") == "local"  # an explicit flag wins over the setting


def test_a_bad_setting_names_the_variable_and_the_closest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BACKEND_ENV, "dokcer")
    with pytest.raises(
        CollabgraphError,
        match=r"COLLABGRAPH_SANDBOX='dokcer': expected one of auto, local, docker; did you mean docker\?",
    ):
        available_sandbox()


def test_unknown_backend_names_the_closest() -> None:
    bad: Any = "dokcer"
    with pytest.raises(UnknownNameError, match="unknown sandbox backend 'dokcer'; did you mean: docker"):
        available_sandbox(bad)


def test_backends_lists_every_choice() -> None:
    assert BACKENDS == ("auto", "local", "docker")


async def test_the_chosen_sandbox_runs_a_job() -> None:
    result = await available_sandbox().exec(code="print(6 * 7)")
    assert result.ok and result.stdout == "42\n"
