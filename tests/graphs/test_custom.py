"""Custom node kinds: registry, entry points, the module allow-list, and config checked by the kind's model."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from typing import Any

import pytest

from collabgraph.agents import registry
from collabgraph.errors import ErrorItem
from collabgraph.graphs import (
    ALLOW_ENV,
    ENTRY_POINT_GROUP,
    CustomKindError,
    GraphSpec,
    allow_modules,
    allowed_module_prefixes,
    register_kind,
    registered_kinds,
    resolve_kind,
    validate,
)
from tests.graphs import custom_kinds
from tests.graphs.helpers import fixture_pool

pytestmark = pytest.mark.usefixtures("isolated_kind_registry")


def custom_graph(impl: str, config: dict[str, Any] | None = None) -> GraphSpec:
    node: dict[str, Any] = {"id": "c", "kind": "custom", "impl": impl}
    if config is not None:
        node["config"] = config
    return GraphSpec.model_validate(
        {
            "schema": "collabgraph.graph/v1",
            "name": "t",
            "entry": "c",
            "nodes": [node],
            "edges": [{"from": "c", "to": "END"}],
        }
    )


def errors(spec: GraphSpec) -> list[ErrorItem]:
    return validate(spec, fixture_pool())


def test_module_outside_the_allow_list_is_refused() -> None:
    (err,) = errors(custom_graph("tests.graphs.custom_kinds:Echo"))
    assert err.loc == "nodes[0].impl"
    assert err.msg == "module 'tests.graphs.custom_kinds' is not allow-listed for custom kinds"
    assert err.hint == f"set {ALLOW_ENV}=tests.graphs.custom_kinds or call collabgraph.graphs.allow_modules(" + (
        "'tests.graphs.custom_kinds')"
    )


def test_allow_list_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_ENV, "somewhere.else, tests.graphs")
    assert allowed_module_prefixes() == ["collabgraph", "somewhere.else", "tests.graphs"]
    assert errors(custom_graph("tests.graphs.custom_kinds:Echo")) == []
    assert resolve_kind("tests.graphs.custom_kinds:Echo") is custom_kinds.Echo


def test_a_prefix_allows_submodules_only_at_a_dot() -> None:
    allow_modules("tests.graph")
    (err,) = errors(custom_graph("tests.graphs.custom_kinds:Echo"))
    assert "not allow-listed" in err.msg


def test_config_is_checked_by_the_kinds_model() -> None:
    allow_modules("tests.graphs.custom_kinds")
    assert errors(custom_graph("tests.graphs.custom_kinds:Echo", {"times": 3, "prefix": ">"})) == []
    found = errors(custom_graph("tests.graphs.custom_kinds:Echo", {"times": "x", "prefx": ">"}))
    by_loc = {e.loc: e for e in found}
    assert "valid integer" in by_loc["nodes[0].config.times"].msg
    assert by_loc["nodes[0].config.prefx"].hint == "did you mean 'prefix'?"


def test_a_kind_without_a_config_model_accepts_any_config() -> None:
    allow_modules("tests.graphs")
    assert errors(custom_graph("tests.graphs.custom_kinds:Free", {"anything": [1, {"x": None}]})) == []


def test_import_failures_and_missing_attributes() -> None:
    allow_modules("tests.graphs")
    (err,) = errors(custom_graph("tests.graphs.no_such_module:Echo"))
    assert err.msg.startswith("cannot import module 'tests.graphs.no_such_module'")
    (err,) = errors(custom_graph("tests.graphs.custom_kinds:Eco"))
    assert (err.msg, err.hint) == ("module 'tests.graphs.custom_kinds' has no attribute 'Eco'", "did you mean 'Echo'?")


def test_registered_names() -> None:
    register_kind("echo-registered", custom_kinds.Echo)
    assert "echo-registered" in registered_kinds()
    assert errors(custom_graph("echo-registered", {"times": 2})) == []
    (err,) = errors(custom_graph("echo-registerd"))
    assert err.msg == "no custom kind named 'echo-registerd'"
    assert err.hint is not None and "'echo-registered'" in err.hint


def test_unknown_name_explains_how_to_provide_one() -> None:
    with pytest.raises(CustomKindError) as info:
        resolve_kind("zzzzqqqq")
    assert info.value.hint is not None and ENTRY_POINT_GROUP in info.value.hint


def test_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    ep = EntryPoint(name="shout", value="tests.graphs.custom_kinds:Echo", group=ENTRY_POINT_GROUP)

    def fake_entry_points(*, group: str) -> list[EntryPoint]:
        return [ep] if group == ENTRY_POINT_GROUP else []

    monkeypatch.setattr(registry, "entry_points", fake_entry_points)
    assert "shout" in registered_kinds()
    assert resolve_kind("shout") is custom_kinds.Echo  # installed code needs no allow-listing
    found = errors(custom_graph("shout", {"times": 0}))
    assert [e.loc for e in found] == ["nodes[0].config.times"]
