"""`collabgraph validate` and `collabgraph schema` as a user runs them: exit codes, locations, JSON shape."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import RunCli

FIXTURES = Path(__file__).resolve().parent.parent / "graphs" / "fixtures"


def test_valid_files_exit_zero(run_cli: RunCli) -> None:
    proc = run_cli("validate", str(FIXTURES / "best_of_n.yaml"), str(FIXTURES / "actor_critic.yaml"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count(": OK") == 2


def test_an_invalid_file_exits_one_with_its_location(run_cli: RunCli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "schema: collabgraph.graph/v1\nname: bad\nentry: a\nnodes:\n"
        "  - {id: a, kind: generate, model: sim/llama-3.1-8x}\nedges:\n  - {from: a, to: END}\n"
    )
    proc = run_cli("validate", str(bad), "--format", "json")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    (entry,) = report["files"]
    assert entry["ok"] is False
    locs = [e["loc"] for e in entry["errors"]]
    assert "nodes[0].model" in locs
    assert any("sim/llama-3.1-8b" in (e.get("hint", "") + e["msg"]) for e in entry["errors"])


def test_schema_prints_the_graph_json_schema(run_cli: RunCli) -> None:
    proc = run_cli("schema", "graph")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["$id"] == "urn:collabgraph:schema:graph:v1"


def test_schema_prints_the_search_space_json_schema(run_cli: RunCli) -> None:
    proc = run_cli("schema", "search")
    assert proc.returncode == 0, proc.stderr
    schema = json.loads(proc.stdout)
    assert schema["$id"] == "urn:collabgraph:schema:search:v1"
    assert {"task", "models", "roles", "limits", "budget", "objective"} <= set(schema["properties"])
    assert set(schema["required"]) >= {"schema", "name", "task", "models"}
