"""The kind registry: built-in kinds, kinds that cannot run here, and custom kinds (registration, entry
points, the module allow-list, config models, failures of user code)."""

from __future__ import annotations

import inspect
from importlib.metadata import EntryPoint

import pytest
from pydantic import BaseModel

from collabgraph.agents import (
    ALLOW_ENV,
    ENTRY_POINT_GROUP,
    KINDS,
    CustomKindError,
    NodeContext,
    NodeOutput,
    allow_modules,
    custom_kind,
    get_kind,
    register_kind,
    registered_kinds,
    resolve_kind,
    run_custom,
)
from collabgraph.agents import registry as registry_module
from collabgraph.errors import CollabgraphError, UnknownNameError
from collabgraph.tasks import GSM8KTask
from tests.agents import custom_kinds
from tests.agents.helpers import MakeCtx, ScriptedCall, model_failure, output

CONFIG_FIELDS = {
    "generate": {"model", "mode", "samples", "temperature", "max_tokens", "prompt"},
    "critique": {"model", "candidate", "temperature", "max_tokens", "prompt"},
    "refine": {"model", "candidate", "feedback", "temperature", "max_tokens", "prompt"},
    "fuse": {"model", "candidates", "temperature", "max_tokens", "prompt"},
    "select": {"model", "candidates", "by", "verifier", "temperature", "max_tokens", "prompt"},
    "vote": {"candidates", "method", "weights", "require_agreement"},
    "verify": {"check", "target", "timeout_s"},
    "spawn": {"model", "mode", "width", "temperature", "max_tokens", "prompt"},
    "join": {"children", "strategy"},
    "localize": {"model", "top_k", "granularity", "temperature", "max_tokens", "prompt"},
    "patch": {"model", "localization", "samples", "feedback", "temperature", "max_tokens", "prompt"},
}


pytestmark = pytest.mark.usefixtures("isolated_kind_registry")


@pytest.fixture
def ctx(gsm8k: GSM8KTask, make_ctx: MakeCtx) -> NodeContext:
    return make_ctx("mine", gsm8k, gsm8k.examples(limit=1)[0], call=ScriptedCall([]))


def test_every_built_in_kind_takes_its_config_as_keyword_arguments() -> None:
    assert set(KINDS) == set(CONFIG_FIELDS)
    for name, impl in KINDS.items():
        params = inspect.signature(impl.run).parameters
        first, *rest = params
        assert first == "ctx"
        assert set(rest) == CONFIG_FIELDS[name], name
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in list(params.values())[1:])
        assert set(impl.inputs) <= set(params)
        assert get_kind(name) is impl


@pytest.mark.parametrize("name", ["localize", "patch"])
def test_the_swe_kinds_run_and_call_a_model(name: str) -> None:
    impl = get_kind(name)
    assert impl.calls_model == "always" and impl.role == name


def test_an_unknown_kind_suggests_the_closest() -> None:
    with pytest.raises(UnknownNameError, match="unknown node kind 'critic'; did you mean: critique"):
        get_kind("critic")
    with pytest.raises(CollabgraphError, match=r"look it up by its impl with custom_kind\(impl\)"):
        get_kind("custom")


async def test_a_decorated_kind_runs_with_its_validated_config(ctx: NodeContext) -> None:
    class Config(BaseModel):
        suffix: str = "!"

    @register_kind("exclaim", config_model=Config)
    async def exclaim(ctx: NodeContext, inputs: dict[str, list[NodeOutput]], config: Config) -> NodeOutput:
        answer = (inputs["a"][-1].answer or "") + config.suffix
        return NodeOutput(node_id=ctx.node_id, kind="custom", answer=answer)

    assert "exclaim" in registered_kinds() and resolve_kind("exclaim") is exclaim
    assert custom_kind("exclaim").config_model is Config
    inputs = {"a": [output("a", ["1"]), output("a", ["2"])]}
    assert (await run_custom(ctx, impl="exclaim", inputs=inputs, config={"suffix": "?"})).answer == "2?"
    with pytest.raises(CustomKindError, match="custom kind 'exclaim': invalid config for node 'mine'"):
        await run_custom(ctx, impl="exclaim", inputs=inputs, config={"suffix": 3})


async def test_register_kind_also_takes_the_function_directly(ctx: NodeContext) -> None:
    register_kind("count", custom_kinds.Counter)
    out = await run_custom(ctx, impl="count", inputs={"a": [], "b": []}, config={"x": 1})
    assert out.answer == "2" and out.data == {"config": {"x": 1}}


@pytest.mark.parametrize("name", ["", "pkg.mod:attr", "9lives", "has space"])
def test_bad_registration_names_are_refused(name: str) -> None:
    with pytest.raises(CustomKindError, match=f"cannot register a custom kind as {name!r}"):
        register_kind(name, custom_kinds.shout)


def test_a_module_outside_the_allow_list_is_refused_with_how_to_allow_it() -> None:
    with pytest.raises(CustomKindError) as info:
        custom_kind("tests.agents.custom_kinds:shout")
    assert info.value.message == "module 'tests.agents.custom_kinds' is not allow-listed for custom kinds"
    assert info.value.hint == (
        f"set {ALLOW_ENV}=tests.agents.custom_kinds or call collabgraph.graphs.allow_modules('tests.agents.custom_kinds')"
    )


async def test_allow_listed_module_attr_kinds_run(ctx: NodeContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_ENV, "tests.agents")
    out = await run_custom(
        ctx, impl="tests.agents.custom_kinds:shout", inputs={"a": [output("a", ["ok"])]}, config={"times": 2}
    )
    assert out.answer == "OKOK"


def test_allow_modules_and_lookup_errors() -> None:
    allow_modules("tests.agents")
    with pytest.raises(CustomKindError) as info:
        custom_kind("tests.agents.custom_kinds:shuot")
    assert (info.value.message, info.value.hint) == (
        "module 'tests.agents.custom_kinds' has no attribute 'shuot'",
        "did you mean 'shout'?",
    )
    with pytest.raises(CustomKindError, match=r"cannot import module 'tests\.agents\.nowhere'"):
        custom_kind("tests.agents.nowhere:x")
    with pytest.raises(CustomKindError) as info:
        custom_kind("tests.agents.custom_kinds:NOT_A_KIND")
    assert "which is neither a function nor an object with a 'run' method" in info.value.message
    assert info.value.hint == "define 'async def run(ctx, inputs, config) -> NodeOutput'"


def test_an_unknown_name_explains_how_to_provide_one() -> None:
    register_kind("shout-loud", custom_kinds.shout)
    with pytest.raises(CustomKindError) as info:
        custom_kind("shout-lod")
    assert info.value.message == "no custom kind named 'shout-lod'" and info.value.hint == "did you mean 'shout-loud'?"
    with pytest.raises(CustomKindError) as info:
        custom_kind("zzzzqqqq")
    assert info.value.hint is not None and ENTRY_POINT_GROUP in info.value.hint


async def test_entry_point_kinds_need_no_allow_listing(ctx: NodeContext, monkeypatch: pytest.MonkeyPatch) -> None:
    ep = EntryPoint(name="shouter", value="tests.agents.custom_kinds:shout", group=ENTRY_POINT_GROUP)

    def fake_entry_points(*, group: str) -> list[EntryPoint]:
        return [ep] if group == ENTRY_POINT_GROUP else []

    monkeypatch.setattr(registry_module, "entry_points", fake_entry_points)
    assert "shouter" in registered_kinds()
    out = await run_custom(ctx, impl="shouter", inputs={"a": [output("a", ["hi"])]}, config={})
    assert out.answer == "HI"


async def test_failures_inside_a_custom_kind_fail_the_node(ctx: NodeContext) -> None:
    register_kind("broken", custom_kinds.broken)
    register_kind("wrong-type", custom_kinds.wrong_type)
    assert (await run_custom(ctx, impl="broken", inputs={})).error == "custom kind 'broken' raised KeyError: 'missing'"
    assert (await run_custom(ctx, impl="wrong-type", inputs={})).error == (
        "custom kind 'wrong-type' returned str, expected a NodeOutput"
    )

    @register_kind("caller")
    async def caller(ctx: NodeContext, inputs: dict[str, list[NodeOutput]], config: object) -> NodeOutput:
        raise model_failure("sim/down")

    out = await run_custom(ctx, impl="caller", inputs={})
    assert out.error is not None and "'sim/down' failed after 7 attempt(s)" in out.error and out.kind == "custom"
