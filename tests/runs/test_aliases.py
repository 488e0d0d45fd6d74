"""``--set ALIAS=MODEL``: parsing, overriding (inline child graphs too), and the errors a user can meet."""

from __future__ import annotations

import pytest

from collabgraph.errors import ConfigError
from collabgraph.graphs import Graph, GraphSpec, SpawnNode, SubgraphRef, check
from collabgraph.models.pool import default_pool
from collabgraph.runs.aliases import model_names, override_models, parse_model_sets, used_models


def _spec() -> GraphSpec:
    child = Graph("child").model("searcher", "sim/llama-3.2-1b")
    child.generate("try", model="searcher")
    child.exit("try")
    g = Graph("g").model("m", "sim/llama-3.1-8b").model("judge", "sim/llama-3.1-70b")
    a = g.generate("a", model="m")
    s = g.spawn("fan", child=child, width=2)
    j = g.join("collect", reads=[s])
    b = g.select("pick", model="judge", reads=[j, a])
    raw = g.generate("raw", model="sim/qwen2.5-7b")
    g.chain(a, s, j, b, raw).exit(raw)
    return g.build()


def test_parse_model_sets() -> None:
    assert parse_model_sets(["m=sim/x", " judge = sim/y "]) == {"m": "sim/x", "judge": "sim/y"}
    assert parse_model_sets(["m=a", "m=a"]) == {"m": "a"}
    assert parse_model_sets([]) == {}


@pytest.mark.parametrize("bad", ["m", "=sim/x", "m=", "m:sim/x"])
def test_malformed_set_says_what_is_expected(bad: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_model_sets([bad])
    item = info.value.errors[0]
    assert item.loc == f"--set {bad}" and item.msg == "expected ALIAS=MODEL" and item.hint is not None


def test_an_alias_set_twice_to_different_models_is_refused() -> None:
    with pytest.raises(ConfigError, match="alias 'm' is already set to 'a'"):
        parse_model_sets(["m=a", "m=b"])


def test_override_reaches_inline_children_and_keeps_the_rest() -> None:
    spec = _spec()
    pool = default_pool()
    assert model_names(spec) == ["sim/llama-3.1-70b", "sim/llama-3.1-8b", "sim/llama-3.2-1b", "sim/qwen2.5-7b"]
    new = override_models(spec, {"m": "sim/qwen2.5-72b", "searcher": "sim/gpt-4o-mini"}, pool)
    assert new.models == {"m": "sim/qwen2.5-72b", "judge": "sim/llama-3.1-70b"}
    fan = new.node("fan")
    assert isinstance(fan, SpawnNode) and isinstance(fan.child, SubgraphRef)
    assert fan.child.graph.models == {"searcher": "sim/gpt-4o-mini"}
    assert model_names(new) == ["sim/gpt-4o-mini", "sim/llama-3.1-70b", "sim/qwen2.5-72b", "sim/qwen2.5-7b"]
    assert check(new, pool) is new
    assert spec.models["m"] == "sim/llama-3.1-8b"  # the original is untouched
    assert set(used_models(new, pool)) == set(model_names(new))


def test_unknown_alias_lists_the_graphs_aliases() -> None:
    with pytest.raises(ConfigError) as info:
        override_models(_spec(), {"judg": "sim/llama-3.1-8b", "zzz": "sim/llama-3.1-8b"}, default_pool())
    first, second = info.value.errors
    assert first.loc == "--set judg=sim/llama-3.1-8b" and first.msg == "the graph has no model alias 'judg'"
    assert first.hint == "did you mean 'judge'? the graph's aliases: judge, m, searcher"
    assert second.hint == "the graph's aliases: judge, m, searcher"


def test_a_graph_without_aliases_says_so() -> None:
    g = Graph("plain")
    g.generate("a", model="sim/llama-3.1-8b")
    g.exit("a")
    with pytest.raises(ConfigError) as info:
        override_models(g.build(), {"m": "sim/llama-3.1-8b"}, default_pool())
    assert "none (its nodes name pool models directly)" in str(info.value)


def test_unknown_model_names_the_closest() -> None:
    with pytest.raises(ConfigError) as info:
        override_models(_spec(), {"m": "sim/llama-3.1-8x"}, default_pool())
    item = info.value.errors[0]
    assert item.msg == "unknown model 'sim/llama-3.1-8x'"
    assert item.hint is not None and "sim/llama-3.1-8b" in item.hint
