"""Loading and dumping graph files: paths and text, round trips, YAML-level errors with their lines."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from collabgraph.errors import ConfigError
from collabgraph.graphs import GraphSpec, LocatedError, dump, load, loads, to_data
from collabgraph.models.pool import ModelPool
from tests.graphs.helpers import FIXTURES

FIXTURE_FILES = sorted(FIXTURES.glob("*.yaml"))


def test_the_fixtures_cover_the_recipes() -> None:
    assert {p.stem for p in FIXTURE_FILES} >= {"actor_critic", "best_of_n", "fusion_dag", "spawn_join", "cot_pot"}


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.stem)
def test_fixture_round_trips(path: Path, pool: ModelPool) -> None:
    spec = load(path, pool=pool)
    text = dump(spec)
    assert load(text, pool=pool) == spec
    assert dump(load(text, pool=pool)) == text  # dumping is stable


def test_path_string_and_text_load_the_same(pool: ModelPool) -> None:
    path = FIXTURES / "best_of_n.yaml"
    from_path = load(path, pool=pool)
    assert load(str(path), pool=pool) == from_path
    assert load(path.read_text(), pool=pool) == from_path
    assert loads(path.read_text(), "x.yaml", pool=pool) == from_path


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path / "nope.yaml")
    assert info.value.source.endswith("nope.yaml")
    assert [(e.loc, e.msg) for e in info.value.errors] == [("<file>", "no such file")]
    with pytest.raises(ConfigError, match="no such file"):
        load("missing-graph.yaml")


def test_yaml_syntax_error_has_its_line() -> None:
    with pytest.raises(ConfigError) as info:
        loads("schema: collabgraph.graph/v1\nname: [unclosed\nentry: a\n", "bad.yaml")
    (err,) = info.value.errors
    assert err.loc == "<yaml>" and err.msg.startswith("not valid YAML")
    assert isinstance(err, LocatedError) and err.line == 3


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", ""])
def test_a_file_that_is_not_a_mapping(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        loads(text)
    assert [e.loc for e in info.value.errors] == ["<root>"]
    assert "expected a mapping" in info.value.errors[0].msg


def test_duplicate_keys_are_errors_not_silently_dropped() -> None:
    text = "schema: collabgraph.graph/v1\nname: t\nentry: a\nnodes:\n  - {id: a, kind: generate, model: m, model: n}\n"
    with pytest.raises(ConfigError) as info:
        loads(text, check=False)
    (err,) = info.value.errors
    assert (err.loc, err.msg) == ("nodes[0].model", "duplicate key 'model'")
    assert isinstance(err, LocatedError) and err.line == 5


def test_graph_check_errors_carry_lines(pool: ModelPool) -> None:
    text = (FIXTURES / "actor_critic.yaml").read_text().replace("{from: critic, to: END}", "{from: critic, to: ENDD}")
    with pytest.raises(ConfigError) as info:
        loads(text, "ac.yaml", pool=pool)
    err = next(e for e in info.value.errors if e.loc == "edges[2].to")
    assert err.msg == "no node 'ENDD'" and err.hint == "did you mean 'END'?"
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "ENDD" in s)
    assert isinstance(err, LocatedError) and err.line == line
    assert err.column == text.splitlines()[line - 1].index("to:") + 1


def test_check_false_parses_without_graph_checks() -> None:
    text = "schema: collabgraph.graph/v1\nname: t\nentry: a\nnodes: [{id: a, kind: generate, model: m}]\n"
    spec = loads(text, check=False)
    assert spec.edges == []
    with pytest.raises(ConfigError, match="never reaches END"):
        loads(text)


def test_dump_leaves_out_defaults_and_orders_node_keys(pool: ModelPool) -> None:
    spec = load(FIXTURES / "actor_critic.yaml", pool=pool)
    data = to_data(spec)
    # limits: {max_rounds: 3} is the default, so it is left out like temperature: 0.0
    assert list(data) == ["schema", "name", "description", "models", "entry", "nodes", "edges"]
    assert [list(n)[:3] for n in data["nodes"]] == [["id", "kind", "model"]] * 3
    assert "temperature" not in data["nodes"][0]
    assert data["edges"][1]["max_rounds"] == 3
    assert yaml.safe_load(dump(spec)) == data


def test_dump_can_carry_the_schema_line(pool: ModelPool) -> None:
    spec = load(FIXTURES / "best_of_n.yaml", pool=pool)
    text = dump(spec, schema_url="../schema/graph.schema.json")
    assert text.splitlines()[0] == "# yaml-language-server: $schema=../schema/graph.schema.json"
    assert load(text, pool=pool) == spec


def test_awkward_strings_survive_a_round_trip() -> None:
    data = {
        "schema": "collabgraph.graph/v1",
        "name": "yes",  # YAML 1.1 would read an unquoted yes as true
        "description": "a: b # not a comment\n- not a list\n'quoted' \"double\" é {x}",
        "entry": "on",
        "nodes": [{"id": "on", "kind": "generate", "model": "openai/gpt-4o-mini", "prompt": "null"}],
        "edges": [{"from": "on", "to": "END"}],
    }
    spec = GraphSpec.model_validate(data)
    assert loads(dump(spec)) == spec


def test_several_entries_dump_as_a_list_in_their_place(pool: ModelPool) -> None:
    spec = load(FIXTURES / "parallel_entries.yaml", pool=pool)
    assert spec.entry == ["a", "b"]
    text = dump(spec)
    assert list(to_data(spec)) == ["schema", "name", "description", "models", "entry", "nodes", "edges"]
    assert "\nentry: [a, b]\n" in text
    assert load(text, pool=pool) == spec


def test_a_one_item_entry_list_is_the_single_entry(pool: ModelPool) -> None:
    text = (FIXTURES / "best_of_n.yaml").read_text()
    single = load(text, pool=pool)
    assert isinstance(single.entry, str)
    listed = load(text.replace(f"entry: {single.entry}\n", f"entry: [{single.entry}]\n"), pool=pool)
    assert listed == single and dump(listed) == dump(single)


def test_an_entry_list_error_points_at_its_item_line(pool: ModelPool) -> None:
    text = (FIXTURES / "parallel_entries.yaml").read_text().replace("entry: [a, b]", "entry:\n  - a\n  - bb")
    with pytest.raises(ConfigError) as info:
        loads(text, "pe.yaml", pool=pool)
    (err,) = info.value.errors
    assert (err.loc, err.msg, err.hint) == ("entry[1]", "no node 'bb'", "did you mean 'b'?")
    line = text.splitlines().index("  - bb") + 1
    assert isinstance(err, LocatedError) and (err.line, err.column) == (line, 5)
