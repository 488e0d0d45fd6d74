"""Properties over random graphs: valid graphs validate and round-trip through YAML; each kind of damage is
rejected with an error at the damaged field."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collabgraph.errors import ConfigError
from collabgraph.graphs import GraphSpec, LocatedError, analyze, dump, load, loads, validate
from tests.graphs.helpers import fixture_pool
from tests.graphs.strategies import graph_data

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def locs(spec: GraphSpec) -> list[str]:
    return [e.loc for e in validate(spec, fixture_pool())]


@SETTINGS
@given(graph_data())
def test_generated_graphs_are_valid_and_round_trip(data: dict[str, Any]) -> None:
    spec = GraphSpec.model_validate(data)
    assert locs(spec) == []
    text = dump(spec)
    again = load(text, pool=fixture_pool())
    assert again == spec
    assert dump(again) == text


@SETTINGS
@given(graph_data(), st.data())
def test_dangling_edge_is_rejected_at_the_edge(data: dict[str, Any], draw: st.DataObject) -> None:
    k = draw.draw(st.integers(0, len(data["edges"]) - 1))
    end = draw.draw(st.sampled_from(["from", "to"]))
    data["edges"][k][end] = "zzMissingNode"
    assert f"edges[{k}].{end}" in locs(GraphSpec.model_validate(data))


@SETTINGS
@given(graph_data(), st.data())
def test_cycle_without_a_guard_is_rejected_at_its_closing_edge(data: dict[str, Any], draw: st.DataObject) -> None:
    spec = GraphSpec.model_validate(data)
    flow = analyze(spec)
    # Close a loop over unconditional edges only: u → v where v reaches u without passing a condition.
    plain = {(spec.edges[k].from_, spec.edges[k].to) for k in flow.edge_ids if spec.edges[k].when is None}
    pairs = [(u, u) for u in flow.index if u in flow.graph] + [(b, a) for a, b in plain if b != "END"]
    pairs = [(u, v) for u, v in pairs if not flow.graph.has_edge(u, v)]
    u, v = draw.draw(st.sampled_from(pairs))
    data["edges"].append({"from": u, "to": v})
    found = validate(GraphSpec.model_validate(data), fixture_pool())
    k = len(data["edges"]) - 1
    assert any(e.loc == f"edges[{k}]" and "has no condition" in e.msg for e in found)


@SETTINGS
@given(graph_data())
def test_fan_in_without_a_join_is_rejected_at_the_node(data: dict[str, Any]) -> None:
    # Put a fork in front of the graph whose branches meet at a plain generate node that declares no join.
    model = "sim/llama-3.1-8b"
    old_entries = [data["entry"]] if isinstance(data["entry"], str) else data["entry"]
    new = [{"id": f"zz{n}", "kind": "generate", "model": model} for n in ("start", "left", "right", "meet")]
    data["nodes"] += new
    data["edges"] += [
        {"from": "zzstart", "to": "zzleft"},
        {"from": "zzstart", "to": "zzright"},
        {"from": "zzleft", "to": "zzmeet"},
        {"from": "zzright", "to": "zzmeet"},
        *({"from": "zzmeet", "to": old} for old in old_entries),
    ]
    data["entry"] = "zzstart"
    meet = len(data["nodes"]) - 1
    assert locs(GraphSpec.model_validate(data)) == [f"nodes[{meet}].join"]
    data["nodes"][meet]["join"] = "all"
    assert locs(GraphSpec.model_validate(data)) == []


@SETTINGS
@given(graph_data(), st.data())
def test_unknown_model_alias_is_rejected_where_it_is_named(data: dict[str, Any], draw: st.DataObject) -> None:
    with_model = [i for i, n in enumerate(data["nodes"]) if isinstance(n.get("model"), str)]
    choices = ["node"] if with_model else []
    choices += ["alias"] if data.get("models") else []
    if not choices:
        data["models"] = {"extra": "sim/llama-3.1-8b"}
        choices = ["alias"]
    if draw.draw(st.sampled_from(choices)) == "node":
        i = draw.draw(st.sampled_from(with_model))
        data["nodes"][i]["model"] = "zzUnknownAlias"
        expected = f"nodes[{i}].model"
    else:
        alias = draw.draw(st.sampled_from(sorted(data["models"])))
        data["models"][alias] = "sim/zz-unknown-model"
        expected = f"models.{alias}"
    assert expected in locs(GraphSpec.model_validate(data))


WRONG_TYPES: dict[str, list[tuple[str, Any]]] = {
    "generate": [("samples", "many"), ("temperature", "hot"), ("mode", 3), ("max_tokens", [1])],
    "critique": [("target", 42), ("temperature", {})],
    "refine": [("candidate", 7), ("feedback", [])],
    "fuse": [("reads", "a b c"), ("model", 5)],
    "select": [("by", "coin"), ("reads", 3)],
    "vote": [("method", 7), ("weights", [1, 2]), ("require_agreement", "maybe")],
    "verify": [("check", "lint"), ("timeout_s", "soon")],
    "spawn": [("width", "wide"), ("mode", "many")],
    "join": [("strategy", ["x"]), ("reads", {})],
    "localize": [("top_k", "five"), ("granularity", 1)],
    "patch": [("samples", "two"), ("localization", 3)],
    "custom": [("config", [1]), ("impl", "not a ref")],
}


@SETTINGS
@given(graph_data(), st.data())
def test_wrong_config_type_is_rejected_at_the_field(data: dict[str, Any], draw: st.DataObject) -> None:
    i = draw.draw(st.integers(0, len(data["nodes"]) - 1))
    node = data["nodes"][i]
    field, value = draw.draw(st.sampled_from(WRONG_TYPES[node["kind"]]))
    node[field] = value
    text = yaml.safe_dump(data, sort_keys=False)
    with pytest.raises(ConfigError) as info:
        loads(text, pool=fixture_pool())
    expected = f"nodes[{i}].{field}"
    found = [e for e in info.value.errors if e.loc == expected]
    assert found, [str(e) for e in info.value.errors]
    assert isinstance(found[0], LocatedError) and found[0].line is not None


@SETTINGS
@given(graph_data())
def test_validation_does_not_change_the_spec(data: dict[str, Any]) -> None:
    spec = GraphSpec.model_validate(data)
    before = copy.deepcopy(spec)
    validate(spec, fixture_pool())
    assert spec == before
