"""`collabgraph eval sim/oracle --task humaneval` as a user runs it, every program executed in Docker: 164/164."""

from __future__ import annotations

import pytest

from tests.conftest import RunCli
from tests.helpers import cli_json

pytestmark = pytest.mark.docker


@pytest.mark.timeout(900)
def test_the_oracle_passes_all_164_problems_through_docker(run_cli: RunCli) -> None:
    report = cli_json(
        run_cli(
            "eval",
            "sim/oracle",
            "--task",
            "humaneval",
            "--format",
            "json",
            env={"COLLABGRAPH_SANDBOX": "docker"},
            timeout=800,
        )
    )
    assert report["n"] == 164 and report["errors"] == 0
    assert report["accuracy"] == 1.0
