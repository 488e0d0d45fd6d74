"""The SWE repair kinds on real swe_mini instances: localize, patch and verify with check 'patch', over the real
gateway (sim pool) and the local sandbox."""

from __future__ import annotations

import pytest

from collabgraph.agents import NodeOutput
from collabgraph.agents.localize import localize, parse_locations
from collabgraph.agents.patch import patch
from collabgraph.agents.verify import verify
from collabgraph.errors import CollabgraphError
from collabgraph.models.sim.repair import wrong_patches
from collabgraph.sandbox import LocalSandbox
from collabgraph.tasks.swe_mini import SweMiniTask
from collabgraph.tasks.types import Example
from tests.agents.helpers import MakeCtx
from tests.helpers import built_swe_mini


@pytest.fixture(scope="module")
def swe() -> SweMiniTask:
    return built_swe_mini(LocalSandbox())


@pytest.fixture(scope="module")
def example(swe: SweMiniTask) -> Example:
    return swe.examples()[0]


def gold_location(example: Example) -> str:
    return f"{example.meta['mutation']['path']}::{example.meta['mutation']['function']}"


def test_parse_locations_reads_one_location_per_line_with_list_markers_and_backticks() -> None:
    text = "Likely places:\n1. `pkg/a.py::f`\n- pkg/b.py::C.g\npkg/a.py::f\nnot a location\n* pkg/c.py\n"
    assert parse_locations(text, 5) == ["pkg/a.py::f", "pkg/b.py::C.g", "pkg/c.py"]
    assert parse_locations(text, 2) == ["pkg/a.py::f", "pkg/b.py::C.g"]
    assert parse_locations(text, 5, "file") == ["pkg/a.py", "pkg/b.py", "pkg/c.py"]


async def test_localize_ranks_the_gold_location_first_for_the_oracle(
    swe: SweMiniTask, example: Example, make_ctx: MakeCtx
) -> None:
    out = await localize(make_ctx("loc", swe, example), model="sim/oracle", top_k=3)
    assert out.error is None
    assert out.answer == gold_location(example)
    assert out.data["locations"][0] == gold_location(example)
    assert len(out.data["locations"]) <= 3
    assert "List the 3 most likely locations" in out.trace[0].prompt[0]["content"]


async def test_patch_verify_and_the_feedback_loop(swe: SweMiniTask, example: Example, make_ctx: MakeCtx) -> None:
    ctx = make_ctx("patch", swe, example)
    loc = await localize(make_ctx("loc", swe, example), model="sim/oracle")
    right = await patch(ctx, model="sim/oracle", localization=loc)
    assert right.answer == example.answer
    assert "1. " + gold_location(example) in right.trace[0].prompt[0]["content"]
    checked = await verify(make_ctx("check", swe, example), check="patch", target=right, timeout_s=120)
    assert checked.passed is True
    assert checked.data["checks"][0]["passed"] is True

    wrong = NodeOutput(node_id="patch", kind="patch", texts=["x"], answers=[wrong_patches(example.answer)[0]])
    wrong = wrong.model_copy(update={"answer": wrong.answers[0], "texts": [f"```diff\n{wrong.answers[0]}```"]})
    failed = await verify(make_ctx("check", swe, example), check="patch", target=wrong, timeout_s=120)
    assert failed.passed is False
    assert failed.feedback is not None and "tests fail" in failed.feedback

    again = await patch(
        make_ctx("patch", swe, example).model_copy(update={"round": 2}), model="sim/oracle", feedback=failed
    )
    prompt = again.trace[0].prompt[0]["content"]
    assert "Your previous patch did not fix the bug" in prompt
    assert failed.feedback in prompt
    assert again.data["attempt"] == 1


async def test_bad_arguments_are_refused(swe: SweMiniTask, example: Example, make_ctx: MakeCtx) -> None:
    with pytest.raises(CollabgraphError, match="node 'loc': top_k must be at least 1, got 0"):
        await localize(make_ctx("loc", swe, example), model="sim/oracle", top_k=0)
    with pytest.raises(CollabgraphError, match="node 'p': samples must be at least 1, got 0"):
        await patch(make_ctx("p", swe, example), model="sim/oracle", samples=0)
