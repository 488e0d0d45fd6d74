"""Sandbox test set-up: tests marked ``docker`` need a daemon that answers and the sandbox image.

Without them those tests skip, with the reason; under ``COLLABGRAPH_REQUIRE_DOCKER=1`` (CI) they fail instead,
so a broken Docker set-up can never pass as a green run.
"""

from __future__ import annotations

import os
from functools import cache

import pytest

from collabgraph.sandbox import docker_unavailable_reason

REQUIRE_DOCKER_ENV = "COLLABGRAPH_REQUIRE_DOCKER"


@cache
def _docker_problem() -> str | None:
    return docker_unavailable_reason()


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("docker") is None:
        return
    problem = _docker_problem()
    if problem is None:
        return
    if os.environ.get(REQUIRE_DOCKER_ENV) == "1":
        pytest.fail(f"{REQUIRE_DOCKER_ENV}=1 but Docker is not usable: {problem}", pytrace=False)
    pytest.skip(f"Docker is not usable: {problem}")
