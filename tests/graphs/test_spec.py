"""Type-level checks of graph files: each kind's config, unknown kinds and fields, conditions, locations, hints."""

from __future__ import annotations

import textwrap

import pytest

from collabgraph.errors import ConfigError, ErrorItem
from collabgraph.graphs import (
    KIND_MODELS,
    AllOf,
    CritiqueNode,
    GenerateNode,
    GraphSpec,
    LocatedError,
    NotCondition,
    Passed,
    SpawnNode,
    SubgraphRef,
    loads,
)

HEAD = "schema: collabgraph.graph/v1\nname: t\nentry: a\n"


def errors_of(text: str) -> list[ErrorItem]:
    with pytest.raises(ConfigError) as info:
        loads(textwrap.dedent(text), check=False)
    return info.value.errors


def one(text: str, loc: str) -> ErrorItem:
    errors = errors_of(text)
    matching = [e for e in errors if e.loc == loc]
    assert matching, f"no error at {loc}; got {[str(e) for e in errors]}"
    return matching[0]


def node_text(node: str) -> str:
    return HEAD + f"nodes:\n  - {node}\n"


def test_every_kind_parses_into_its_model() -> None:
    nodes = {
        "generate": "{id: a, kind: generate, model: m, mode: pot, samples: 3, temperature: 0.5, max_tokens: 100}",
        "critique": "{id: a, kind: critique, model: m, target: b}",
        "refine": "{id: a, kind: refine, model: m, candidate: [b, c], feedback: d}",
        "fuse": "{id: a, kind: fuse, model: m, reads: [b, c]}",
        "select": "{id: a, kind: select, by: verifier, verifier: v, reads: [b]}",
        "vote": "{id: a, kind: vote, method: weighted, weights: {b: 2.0}, reads: [b]}",
        "verify": "{id: a, kind: verify, check: unit_tests, target: b, timeout_s: 3}",
        "spawn": "{id: a, kind: spawn, mode: planned, model: m, width: 4, child: b}",
        "join": "{id: a, kind: join, reads: [b], strategy: results_only}",
        "localize": "{id: a, kind: localize, model: m, top_k: 3, granularity: file}",
        "patch": "{id: a, kind: patch, model: m, localization: b, samples: 2}",
        "custom": "{id: a, kind: custom, impl: 'pkg.mod:Kind', config: {x: [1, 2]}}",
    }
    assert set(nodes) == set(KIND_MODELS)
    for kind, node in nodes.items():
        spec = loads(node_text(node), check=False)
        assert type(spec.nodes[0]) is KIND_MODELS[kind]
        assert spec.nodes[0].kind == kind


def test_defaults_and_role_inputs() -> None:
    spec = loads(node_text("{id: a, kind: refine, model: m, candidate: [r, a0], feedback: c, reads: [x]}"), check=False)
    node = spec.nodes[0]
    assert node.inputs() == [(("reads", 0), ["x"]), (("candidate",), ["r", "a0"]), (("feedback",), ["c"])]
    gen = GenerateNode(id="g", kind="generate", model="m")
    assert (gen.mode, gen.samples, gen.temperature, gen.max_tokens, gen.join) == ("cot", 1, 0.0, None, None)
    assert gen.model_name == "m"
    assert CritiqueNode(id="c", kind="critique", model="m", target="g").role_refs() == {"target": "g"}


def test_unknown_kind_names_the_closest_kind() -> None:
    err = one(node_text("{id: a, kind: critque, model: m}"), "nodes[0].kind")
    assert err.msg == "unknown node kind 'critque'"
    assert err.hint is not None and "'critique'" in err.hint


def test_missing_kind_lists_the_kinds() -> None:
    err = one(node_text("{id: a, model: m}"), "nodes[0].kind")
    assert "needs a `kind`" in err.msg
    assert err.hint is not None and "generate" in err.hint and "custom" in err.hint


def test_unknown_field_names_the_closest_field_of_that_kind() -> None:
    err = one(node_text("{id: a, kind: generate, model: m, smaples: 3}"), "nodes[0].smaples")
    assert err.msg == "unknown field 'smaples'"
    assert err.hint == "did you mean 'samples'?"
    # The same misspelling on a kind without samples gets no such suggestion.
    err = one(node_text("{id: a, kind: vote, reads: [b], methd: majority}"), "nodes[0].methd")
    assert err.hint == "did you mean 'method'?"


@pytest.mark.parametrize(
    ("node", "loc", "expected"),
    [
        ("{id: a, kind: generate, model: m, samples: many}", "nodes[0].samples", "valid integer"),
        ("{id: a, kind: generate, model: m, samples: 0}", "nodes[0].samples", "greater than or equal to 1"),
        ("{id: a, kind: generate, model: m, temperature: hot}", "nodes[0].temperature", "valid number"),
        ("{id: a, kind: generate, model: m, temperature: 3.5}", "nodes[0].temperature", "less than or equal to 2"),
        ("{id: a, kind: spawn, width: wide, child: b}", "nodes[0].width", "valid integer"),
        ("{id: a, kind: critique, model: m, target: 42}", "nodes[0].target", "node id or a non-empty list"),
        ("{id: a, kind: critique, model: m, target: []}", "nodes[0].target", "node id or a non-empty list"),
        ("{id: a, kind: join, reads: [b], strategy: [x]}", "nodes[0].strategy", "Input should be"),
        ("{id: a, kind: verify, check: lint, target: b}", "nodes[0].check", "'unit_tests', 'pot' or 'patch'"),
        ("{id: a, kind: vote, reads: []}", "nodes[0].reads", "at least 1 item"),
        ("{id: a, kind: vote, reads: [b], weights: {b: -1}}", "nodes[0].weights.b", "greater than 0"),
        ("{id: a, kind: custom, impl: 'not valid'}", "nodes[0].impl", "not a valid custom kind reference"),
        ("{id: a, kind: custom, impl: x, config: [1]}", "nodes[0].config", "valid dictionary"),
        ("{id: 1a, kind: generate, model: m}", "nodes[0].id", "not a valid node id"),
        ("{id: a, kind: generate, model: ''}", "nodes[0].model", "at least 1 character"),
    ],
)
def test_wrong_config_type_is_reported_at_the_field(node: str, loc: str, expected: str) -> None:
    err = one(node_text(node), loc)
    assert expected in err.msg


def test_type_errors_quote_the_value_given() -> None:
    err = one(node_text("{id: a, kind: generate, model: m, samples: many}"), "nodes[0].samples")
    assert err.msg.endswith("got 'many'")


def test_literal_errors_suggest_the_closest_value() -> None:
    err = one(node_text("{id: a, kind: generate, model: m, mode: cott}"), "nodes[0].mode")
    assert err.hint == "did you mean 'cot'?"
    assert "got 'cott'" in err.msg


def test_bad_ids_and_aliases_explain_the_pattern() -> None:
    err = one(node_text("{id: 1a, kind: generate, model: m}"), "nodes[0].id")
    assert err.hint is not None and "start with a letter" in err.hint
    err = one(HEAD + "models: {a/b: sim/x}\nnodes: [{id: a, kind: generate, model: m}]\n", "models.a/b")
    assert err.msg == "'a/b' is not a valid model alias"
    assert err.hint is not None and "no '/'" in err.hint


def test_top_level_field_errors() -> None:
    err = one(HEAD + "nodez: []\n", "nodez")
    assert err.hint == "did you mean 'nodes'?"
    err = one("name: t\nentry: a\nnodes: [{id: a, kind: generate, model: m}]\n", "schema")
    assert err.msg == "missing required field 'schema'"
    assert err.hint == "add 'schema: collabgraph.graph/v1' as the first line"
    err = one(HEAD + "nodes: []\n", "nodes")
    assert "at least 1 item" in err.msg


def test_another_schema_is_one_clear_error() -> None:
    errors = errors_of("schema: collabgraph.models/v1\nmodels: {}\n")
    assert [e.loc for e in errors] == ["schema"]
    assert errors[0].msg == "expected 'collabgraph.graph/v1', got 'collabgraph.models/v1'"


@pytest.mark.parametrize(
    ("when", "loc", "expected"),
    [
        ("{verdict: ok, of: a}", "edges[0].when.verdict", "'accepted' or 'rejected'"),
        ("{verdict: accepted}", "edges[0].when.of", "missing required field 'of'"),
        ("{agree: true, of: []}", "edges[0].when.of", "at least 1 item"),
        ("{round_lt: 0}", "edges[0].when.round_lt", "greater than or equal to 1"),
        ("{all: [{round_lt: 2}, {passed: maybe, of: v}]}", "edges[0].when.all[1].passed", "valid boolean"),
        ("{not: {any: [{verdict: accepted, of: c, extra: 1}]}}", "edges[0].when.not.any[0].extra", "unknown field"),
        ("{verdit: accepted, of: c}", "edges[0].when", "not a condition"),
        ("'critic accepted'", "edges[0].when", "not a condition"),
    ],
)
def test_condition_errors_are_located_inside_the_condition(when: str, loc: str, expected: str) -> None:
    text = HEAD + f"nodes: [{{id: a, kind: generate, model: m}}]\nedges:\n  - {{from: a, to: END, when: {when}}}\n"
    err = one(text, loc)
    assert expected in err.msg


def test_misspelt_condition_key_gets_a_hint() -> None:
    text = HEAD + "nodes: [{id: a, kind: generate, model: m}]\nedges: [{from: a, to: END, when: {verdit: accepted}}]\n"
    assert one(text, "edges[0].when").hint == "did you mean 'verdict'?"


def test_conditions_nest() -> None:
    text = HEAD + (
        "nodes: [{id: a, kind: generate, model: m}]\n"
        "edges: [{from: a, to: END, when: {all: [{not: {passed: false, of: v}}, {round_lt: 2}]}}]\n"
    )
    when = loads(text, check=False).edges[0].when
    assert isinstance(when, AllOf)
    assert isinstance(when.all_[0], NotCondition) and when.all_[0].not_ == Passed(passed=False, of="v")


def test_subgraph_errors_carry_the_full_path() -> None:
    text = node_text(
        "{id: s, kind: spawn, width: 2, child: {graph: {schema: collabgraph.graph/v1, name: c, entry: q, "
        "nodes: [{id: q, kind: generate, model: m, bogus: 1}]}}}"
    )
    err = one(text, "nodes[0].child.graph.nodes[0].bogus")
    assert err.msg == "unknown field 'bogus'"


def test_inline_subgraph_is_a_graph_spec() -> None:
    text = node_text(
        "{id: s, kind: spawn, width: 2, child: {graph: {schema: collabgraph.graph/v1, name: c, entry: q, "
        "nodes: [{id: q, kind: generate, model: m}]}}}"
    )
    node = loads(text, check=False).nodes[0]
    assert isinstance(node, SpawnNode)
    assert isinstance(node.child, SubgraphRef) and isinstance(node.child.graph, GraphSpec)


def test_every_error_carries_its_line_and_column() -> None:
    text = textwrap.dedent(
        """\
        schema: collabgraph.graph/v1
        name: t
        entry: a
        nodes:
          - id: a
            kind: generate
            model: m
            samples: many
          - id: b
            kind: vote
            reads: [a]
            weights: {a: nope}
        """
    )
    errors = errors_of(text)
    by_loc = {e.loc: e for e in errors}
    first, second = by_loc["nodes[0].samples"], by_loc["nodes[1].weights.a"]
    assert isinstance(first, LocatedError) and (first.line, first.column) == (8, 5)
    assert isinstance(second, LocatedError) and second.line == 12


def test_missing_field_points_at_its_node() -> None:
    text = HEAD + "nodes:\n  - {id: a, kind: generate}\n"
    err = one(text, "nodes[0].model")
    assert err.msg == "missing required field 'model'"
    assert isinstance(err, LocatedError) and err.line == 5


def test_specs_are_frozen() -> None:
    node = loads(node_text("{id: a, kind: generate, model: m}"), check=False).nodes[0]
    assert isinstance(node, GenerateNode)
    with pytest.raises(ValueError, match="frozen"):
        node.samples = 2
