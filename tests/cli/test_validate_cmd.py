"""``collabgraph validate`` and ``collabgraph schema graph`` implementations, called as the CLI calls them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from collabgraph.cli.graph_cmds import print_schema, validate_paths
from collabgraph.errors import ConfigError, UnknownNameError
from collabgraph.graphs import SCHEMA_PATH
from tests.graphs.helpers import FIXTURES, POOL_FILE

FIXTURE_FILES = sorted(FIXTURES.glob("*.yaml"))


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    text = (FIXTURES / "actor_critic.yaml").read_text()
    text = text.replace("model: critic,", "model: critc,").replace(
        "{from: critic, to: END}", "{from: critic, to: ENDD}"
    )
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    return path


def test_all_valid_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert validate_paths(FIXTURE_FILES, "text", POOL_FILE) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{p}: OK" for p in FIXTURE_FILES]


def test_errors_in_text_name_file_line_column_location_and_hint(
    broken: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert validate_paths([FIXTURE_FILES[0], broken], "text", POOL_FILE) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{FIXTURE_FILES[0]}: OK"
    lines = broken.read_text().splitlines()
    model_line = next(i for i, s in enumerate(lines, 1) if "critc" in s)
    column = lines[model_line - 1].index("model: critc") + 1
    assert (
        f"{broken}:{model_line}:{column}: nodes[1].model: 'critc' is neither a model alias of this graph nor a model "
        "of the pool (did you mean 'critic'" in "\n".join(out)
    )
    assert any(
        line.startswith(f"{broken}:") and ": edges[2].to: no node 'ENDD' (did you mean 'END'?)" in line for line in out
    )


def test_json_output(broken: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert validate_paths([FIXTURE_FILES[0], broken], "json", POOL_FILE) == 1
    report = json.loads(capsys.readouterr().out)
    assert list(report) == ["files"]
    ok, bad = report["files"]
    assert ok == {"path": str(FIXTURE_FILES[0]), "ok": True, "errors": []}
    assert bad["path"] == str(broken) and bad["ok"] is False
    by_loc = {e["loc"]: e for e in bad["errors"]}
    assert set(by_loc) == {"nodes[1].model", "edges[2].to"}
    assert by_loc["edges[2].to"]["msg"] == "no node 'ENDD'"
    assert by_loc["edges[2].to"]["hint"] == "did you mean 'END'?"
    assert isinstance(by_loc["edges[2].to"]["line"], int) and isinstance(by_loc["edges[2].to"]["column"], int)


def test_json_all_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert validate_paths(FIXTURE_FILES[:2], "json", POOL_FILE) == 0
    report = json.loads(capsys.readouterr().out)
    assert [f["ok"] for f in report["files"]] == [True, True]


def test_missing_file_and_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert validate_paths([tmp_path / "nope.yaml", tmp_path], "text", POOL_FILE) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{tmp_path / 'nope.yaml'}: <file>: no such file"
    assert out[1].startswith(f"{tmp_path}: <file>: is a directory (pass the graph files")


def test_yaml_syntax_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "g.yaml"
    path.write_text("schema: collabgraph.graph/v1\nnodes: [unclosed\n")
    assert validate_paths([path], "text", POOL_FILE) == 1
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(f"{path}:3:") and "<yaml>: not valid YAML" in line


def test_models_decide_which_names_resolve(capsys: pytest.CaptureFixture[str]) -> None:
    # Without the test pool the fixture's sim models may be unknown; with it they all resolve.
    assert validate_paths([FIXTURES / "best_of_n.yaml"], "json", POOL_FILE) == 0
    capsys.readouterr()
    with pytest.raises(ConfigError):
        validate_paths([FIXTURES / "best_of_n.yaml"], "text", FIXTURES / "no-such-pool.yaml")


def test_print_schema_prints_the_shipped_schema(capsys: pytest.CaptureFixture[str]) -> None:
    print_schema("graph")
    assert capsys.readouterr().out == SCHEMA_PATH.read_text(encoding="utf-8")


def test_unknown_schema_names_the_known_ones() -> None:
    with pytest.raises(UnknownNameError, match="unknown schema 'grph'; did you mean: graph"):
        print_schema("grph")
