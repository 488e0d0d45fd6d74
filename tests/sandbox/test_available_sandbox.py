"""Choosing a sandbox backend."""

from __future__ import annotations

from typing import Any

import pytest

from collabgraph.errors import CollabgraphError, UnknownNameError
from collabgraph.sandbox import BACKENDS, LocalSandbox, available_sandbox


@pytest.mark.parametrize("backend", ["auto", "local"])
def test_auto_and_local_give_the_local_sandbox(backend: Any) -> None:
    sandbox = available_sandbox(backend)
    assert isinstance(sandbox, LocalSandbox) and sandbox.name == "local"


def test_default_is_auto() -> None:
    assert isinstance(available_sandbox(), LocalSandbox)


def test_docker_is_not_available_yet() -> None:
    with pytest.raises(CollabgraphError, match=r"backend 'docker' is not available.*use backend 'local'"):
        available_sandbox("docker")


def test_unknown_backend_names_the_closest() -> None:
    bad: Any = "dokcer"
    with pytest.raises(UnknownNameError, match="unknown sandbox backend 'dokcer'; did you mean: docker"):
        available_sandbox(bad)


def test_backends_lists_every_choice() -> None:
    assert BACKENDS == ("auto", "local", "docker")


async def test_the_chosen_sandbox_runs_a_job() -> None:
    result = await available_sandbox().exec(code="print(6 * 7)")
    assert result.ok and result.stdout == "42\n"
