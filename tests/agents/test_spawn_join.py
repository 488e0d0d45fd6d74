"""spawn (replicas, LLM-planned subtasks) and join strategies."""

from __future__ import annotations

import pytest

from collabgraph.agents import MAX_PLANNED_SUBTASKS, NodeContext, join, solve_subtask, spawn
from collabgraph.errors import CollabgraphError
from collabgraph.tasks import CountdownTask, GSM8KTask
from tests.agents.helpers import MakeCtx, ScriptedCall, output


async def test_replicas_call_no_model(gsm8k: GSM8KTask, make_ctx: MakeCtx) -> None:
    script = ScriptedCall([])
    out = await spawn(make_ctx("fan", gsm8k, gsm8k.examples(limit=1)[0], call=script), width=8)
    assert (out.subtasks, out.data, out.calls, script.seen) == ([], {"mode": "replicas", "width": 8}, 0, [])


async def test_a_planner_splits_a_countdown_problem_and_children_solve_their_parts(make_ctx: MakeCtx) -> None:
    task = CountdownTask()
    example = task.examples(limit=1)[0]
    parent = await spawn(make_ctx("plan", task, example), mode="planned", width=3, model="sim/qwen2.5-7b")
    assert parent.error is None and len(parent.subtasks) == 3 and len(set(parent.subtasks)) == 3
    assert parent.trace[0].role == "plan" and parent.data == {"mode": "planned", "width": 3, "planned": 3}
    children = [
        await solve_subtask(
            make_ctx(f"child{i}", task, example, seed=i), model="sim/qwen2.5-7b", subtask=s, temperature=0.7
        )
        for i, s in enumerate(parent.subtasks)
    ]
    assert all(c.error is None and c.answer is not None for c in children)
    assert all(s in c.trace[0].prompt[-1]["content"] for s, c in zip(parent.subtasks, children, strict=True))
    joined = await join(make_ctx("join", task, example), children=children, strategy="results_only")
    assert joined.answers == [c.answer for c in children]
    assert joined.texts == [f"Answer: {c.answer}" for c in children]


async def test_a_wide_spawn_reuses_the_planned_subtasks_round_robin(gsm8k: GSM8KTask, make_ctx: MakeCtx) -> None:
    script = ScriptedCall(["Plan:\n1. Read the numbers.\n2. Set up the equation.\n"])
    out = await spawn(make_ctx("p", gsm8k, gsm8k.examples(limit=1)[0], call=script), mode="planned", width=7, model="m")
    assert out.subtasks == ["Read the numbers.", "Set up the equation."] * 3 + ["Read the numbers."]
    assert out.data["planned"] == 2
    assert script.seen[0].meta.extra["subtasks"] == MAX_PLANNED_SUBTASKS
    assert f"Write exactly {MAX_PLANNED_SUBTASKS} subtasks" in script.seen[0].messages[0].content


async def test_a_plan_listing_nothing_is_retried_once_then_fails(gsm8k: GSM8KTask, make_ctx: MakeCtx) -> None:
    script = ScriptedCall(["I would rather solve it directly: the answer is 4.", "1. Check the units.\n2. Add up."])
    ctx = make_ctx("p", gsm8k, gsm8k.examples(limit=1)[0], call=script)
    out = await spawn(ctx, mode="planned", width=2, model="m", temperature=0.0)
    assert out.subtasks == ["Check the units.", "Add up."] and out.calls == 2
    assert [c.temperature for c in script.seen] == [0.0, 0.7]
    failing = ScriptedCall(["No plan."])
    out = await spawn(
        make_ctx("p", gsm8k, gsm8k.examples(limit=1)[0], call=failing), mode="planned", width=2, model="m"
    )
    assert out.error == (
        "spawn: malformed model output after a retry: the plan lists no subtasks (expected a numbered list '1. …')"
    )


async def test_spawn_settings_that_cannot_work_are_refused(gsm8k: GSM8KTask, make_ctx: MakeCtx) -> None:
    ctx = make_ctx("p", gsm8k, gsm8k.examples(limit=1)[0], call=ScriptedCall([]))
    with pytest.raises(CollabgraphError, match="spawn mode 'planned' needs a model to plan the subtasks"):
        await spawn(ctx, mode="planned", width=2)
    with pytest.raises(CollabgraphError, match="width must be at least 1, got 0"):
        await spawn(ctx, width=0)


@pytest.fixture
def ctx(gsm8k: GSM8KTask, make_ctx: MakeCtx) -> NodeContext:
    return make_ctx("join", gsm8k, gsm8k.examples(limit=1)[0], call=ScriptedCall([]))


BRANCHES = [
    output("b0", [], texts=[], error="model 'm' failed"),
    output("b1", [None], texts=["gave up"]),
    output("b2", ["7", "9"]),
    output("b3", ["9"]),
]


async def test_join_all_keeps_every_sample_and_lists_failures(ctx: NodeContext) -> None:
    out = await join(ctx, children=BRANCHES, strategy="all")
    assert out.texts == ["gave up", "Working.\n#### 7", "Working.\n#### 9", "Working.\n#### 9"]
    assert out.answers == [None, "7", "9", "9"] and out.answer == "7"
    assert out.data["failed"] == [{"branch": 0, "node_id": "b0", "error": "model 'm' failed"}]


async def test_join_first_takes_the_first_branch_with_an_answer(ctx: NodeContext) -> None:
    out = await join(ctx, children=BRANCHES, strategy="first")
    assert (out.answer, out.texts, out.data["chosen"]) == ("7", ["Working.\n#### 7", "Working.\n#### 9"], "b2")


async def test_join_vote_votes_over_every_branch(ctx: NodeContext) -> None:
    out = await join(ctx, children=BRANCHES, strategy="vote")
    assert (out.kind, out.answer, out.data["strategy"]) == ("join", "9", "vote")


async def test_join_results_only_hands_back_only_the_final_answers(ctx: NodeContext) -> None:
    out = await join(ctx, children=BRANCHES, strategy="results_only")
    assert out.texts == ["#### 7", "#### 9"] and out.answers == ["7", "9"] and out.data["from"] == ["b2", "b3"]
    assert not any("Working" in t for t in out.texts)


async def test_join_fails_when_every_branch_failed_or_gave_nothing(ctx: NodeContext) -> None:
    out = await join(ctx, children=BRANCHES[:1], strategy="all")
    assert out.error == "join: every branch failed (b0: model 'm' failed)"
    assert (await join(ctx, children=BRANCHES[:2], strategy="first")).error == "join: no branch gave an answer"
    with pytest.raises(
        CollabgraphError, match="unknown join strategy 'any'; expected one of all, first, vote, results_only"
    ):
        await join(ctx, children=BRANCHES, strategy="any")  # type: ignore[arg-type]
