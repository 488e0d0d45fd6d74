"""critique, refine, fuse and select by judge: what they show the model, what the offline pools learn about
the candidates, and how accuracy reacts to right and wrong candidates (the sim over ~60 real GSM8K items)."""

from __future__ import annotations

from collabgraph.agents import NodeOutput, critique, fuse, generate, refine, select
from collabgraph.tasks import GSM8KTask, HumanEvalTask
from collabgraph.tasks.types import Example
from tests.agents.helpers import MakeCtx, ScriptedCall, model_failure, output

N = 60


def right(example: Example, node_id: str = "a") -> NodeOutput:
    return output(node_id, [example.answer])


def wrong(example: Example, node_id: str = "a", rank: int = 0) -> NodeOutput:
    return output(node_id, [example.distractors[rank]])


def examples(task: GSM8KTask) -> list[Example]:
    return [e for e in task.examples(limit=N + 10, seed=11) if len(e.distractors) >= 2][:N]


def correct(task: GSM8KTask, out: NodeOutput, example: Example) -> bool:
    return out.error is None and out.answer is not None and task.same(out.answer, example.answer, example)


async def test_critique_shows_the_candidate_and_tells_the_pools_whether_it_is_right(
    gsm8k: GSM8KTask, make_ctx: MakeCtx
) -> None:
    example = gsm8k.examples(limit=1)[0]
    script = ScriptedCall(["Step 1: fine.\nVERDICT: INCORRECT"])
    candidate = output(
        "actor", [None, example.distractors[0]], texts=["garbled", f"Work.\n#### {example.distractors[0]}"]
    )
    out = await critique(make_ctx("critic", gsm8k, example, call=script), model="m", candidate=candidate)
    (seen,) = script.seen
    assert seen.meta.role == "critique"
    assert [(c.answer, c.correct) for c in seen.meta.candidates] == [(example.distractors[0], False)]
    assert f"#### {example.distractors[0]}" in seen.messages[0].content
    assert example.question in seen.messages[0].content
    assert (out.verdict, out.answer, out.feedback) == ("rejected", example.distractors[0], script.script[0])
    assert out.data == {"candidate": "actor", "candidate_round": 1, "candidate_sample": 1}


async def test_a_strong_critic_flags_wrong_answers_and_passes_right_ones(gsm8k: GSM8KTask, make_ctx: MakeCtx) -> None:
    flagged_wrong = flagged_right = 0
    items = examples(gsm8k)
    for example in items:
        ctx = make_ctx("critic", gsm8k, example)
        on_wrong = await critique(ctx, model="sim/llama-3.1-70b", candidate=wrong(example))
        on_right = await critique(ctx, model="sim/llama-3.1-70b", candidate=right(example))
        assert on_wrong.error is None and on_right.error is None
        flagged_wrong += on_wrong.verdict == "rejected"
        flagged_right += on_right.verdict == "rejected"
    assert flagged_wrong / len(items) > 0.8
    assert flagged_right / len(items) < 0.2


async def test_fuse_is_more_accurate_with_right_candidates_than_alone(gsm8k: GSM8KTask, make_ctx: MakeCtx) -> None:
    alone = with_right = with_wrong = 0
    items = examples(gsm8k)
    for example in items:
        ctx = make_ctx("fuser", gsm8k, example)
        alone += correct(gsm8k, await generate(ctx, model="sim/llama-3.2-3b"), example)
        fused = await fuse(ctx, model="sim/llama-3.2-3b", candidates=[right(example, "a"), right(example, "b")])
        with_right += correct(gsm8k, fused, example)
        misled = await fuse(ctx, model="sim/llama-3.2-3b", candidates=[wrong(example, "a"), wrong(example, "b")])
        with_wrong += correct(gsm8k, misled, example)
    assert with_right > alone + 0.1 * len(items)
    assert with_wrong < alone


async def test_refine_given_a_right_candidate_beats_solving_alone(gsm8k: GSM8KTask, make_ctx: MakeCtx) -> None:
    alone = refined = 0
    items = examples(gsm8k)
    for example in items:
        ctx = make_ctx("reviser", gsm8k, example)
        alone += correct(gsm8k, await generate(ctx, model="sim/llama-3.2-1b"), example)
        feedback = await critique(ctx, model="sim/llama-3.1-8b", candidate=right(example))
        out = await refine(ctx, model="sim/llama-3.2-1b", candidate=right(example), feedback=feedback)
        assert out.data["feedback"] == "reviser"
        refined += correct(gsm8k, out, example)
    assert refined > alone + 0.1 * len(items)


async def test_refine_shows_candidate_and_feedback_and_reads_the_critics_correction(
    gsm8k: GSM8KTask, make_ctx: MakeCtx
) -> None:
    example = gsm8k.examples(limit=1)[0]
    script = ScriptedCall([f"Fixed.\n#### {example.answer}"])
    notes = f"Step 2 adds instead of multiplying; redoing it, I get {example.answer}.\nVERDICT: INCORRECT"
    feedback = NodeOutput(node_id="critic", kind="critique", verdict="rejected", feedback=notes)
    ctx = make_ctx("r", gsm8k, example, call=script)
    out = await refine(ctx, model="m", candidate=wrong(example), feedback=feedback)
    content = script.seen[0].messages[0].content
    assert notes in content and f"#### {example.distractors[0]}" in content
    assert "#### <number>" in content
    assert out.answer == example.answer and out.data["verdict"] == "rejected"
    # The critic's own answer is a second candidate the reviser reads; an accepting critique proposes nothing.
    assert [(c.answer, c.correct) for c in script.seen[0].meta.candidates] == [
        (example.distractors[0], False),
        (example.answer, True),
    ]
    accepted = feedback.model_copy(update={"verdict": "accepted", "feedback": "Step 1: fine.\nVERDICT: CORRECT"})
    await refine(ctx, model="m", candidate=wrong(example), feedback=accepted)
    assert [c.answer for c in script.seen[1].meta.candidates] == [example.distractors[0]]


async def test_a_strong_critic_makes_actor_critic_beat_the_actor_alone(gsm8k: GSM8KTask, make_ctx: MakeCtx) -> None:
    alone = looped = 0
    items = examples(gsm8k)
    for example in items:
        actor = await generate(make_ctx("actor", gsm8k, example), model="sim/llama-3.1-8b")
        alone += correct(gsm8k, actor, example)
        current = actor
        for round_ in range(1, 4):
            review = await critique(make_ctx("critic", gsm8k, example), model="sim/llama-3.1-70b", candidate=current)
            if review.verdict == "accepted":
                break
            ctx = make_ctx("actor", gsm8k, example).model_copy(update={"round": round_ + 1})
            current = await refine(ctx, model="sim/llama-3.1-8b", candidate=current, feedback=review)
        looped += correct(gsm8k, current, example)
    assert looped > alone


async def test_refine_and_critique_fail_cleanly_on_a_failed_input(gsm8k: GSM8KTask, make_ctx: MakeCtx) -> None:
    example = gsm8k.examples(limit=1)[0]
    broken = output("actor", [], texts=[], error="model 'x' failed")
    script = ScriptedCall(["unused"])
    ctx = make_ctx("n", gsm8k, example, call=script)
    crit = await critique(ctx, model="m", candidate=broken)
    assert crit.error == "critique: nothing to critique: candidate 'actor' failed: model 'x' failed"
    ref = await refine(ctx, model="m", candidate=right(example), feedback=broken)
    assert ref.error is not None and "feedback 'actor' has no feedback" in ref.error
    assert script.seen == []


async def test_fuse_reads_every_sample_of_every_input_that_did_not_fail(gsm8k: GSM8KTask, make_ctx: MakeCtx) -> None:
    example = gsm8k.examples(limit=1)[0]
    script = ScriptedCall([f"#### {example.answer}"])
    inputs = [
        output("a", [example.answer, example.distractors[0]]),
        output("b", [], texts=[], error="boom"),
        output("c", [example.distractors[1]]),
    ]
    out = await fuse(make_ctx("f", gsm8k, example, call=script), model="m", candidates=inputs)
    meta = script.seen[0].meta
    assert meta.role == "fuse"
    assert [(c.answer, c.correct) for c in meta.candidates] == [
        (example.answer, True),
        (example.distractors[0], False),
        (example.distractors[1], False),
    ]
    assert (
        "Candidate 3:" in script.seen[0].messages[0].content
        and "Candidate 4:" not in script.seen[0].messages[0].content
    )
    assert out.data["read"] == ["a[0]", "a[1]", "c[0]"]
    nothing = await fuse(make_ctx("f", gsm8k, example, call=script), model="m", candidates=[inputs[1]])
    assert nothing.error == "fuse: no candidate to read: every input failed or is empty (b: boom)"


async def test_a_judge_picks_right_candidates_more_often_than_chance(gsm8k: GSM8KTask, make_ctx: MakeCtx) -> None:
    hits = 0
    items = examples(gsm8k)
    for example in items:
        candidates = [wrong(example, "a", 0), right(example, "b"), wrong(example, "c", 1)]
        out = await select(make_ctx("judge", gsm8k, example), model="sim/llama-3.1-70b", candidates=candidates)
        assert out.error is None and out.data["by"] == "judge"
        hits += out.data["selected"] == "b[0]"
        assert out.texts == [next(c for c in candidates if c.node_id == out.data["selected"][0]).texts[0]]
    assert hits / len(items) > 0.6


async def test_a_judge_naming_no_number_is_read_by_the_answer_it_states(gsm8k: GSM8KTask, make_ctx: MakeCtx) -> None:
    example = gsm8k.examples(limit=1)[0]
    script = ScriptedCall([f"The second one is right.\n#### {example.answer}"])
    candidates = [wrong(example, "a"), right(example, "b")]
    out = await select(make_ctx("j", gsm8k, example, call=script), model="m", candidates=candidates)
    assert (out.answer, out.data["selected"], out.data["how"]) == (example.answer, "b[0]", "answer")
    assert len(script.seen) == 1


async def test_a_judge_that_names_nothing_twice_fails_the_node(gsm8k: GSM8KTask, make_ctx: MakeCtx) -> None:
    example = gsm8k.examples(limit=1)[0]
    script = ScriptedCall(["They are all plausible."])
    out = await select(
        make_ctx("j", gsm8k, example, call=script), model="m", candidates=[right(example), wrong(example)]
    )
    assert out.error == (
        "select: malformed model output after a retry: no selection (expected a line 'SELECTED: N' with N from 1 to 2)"
    )
    assert len(script.seen) == 2


async def test_a_failing_model_fails_the_node_not_the_caller(gsm8k: GSM8KTask, make_ctx: MakeCtx) -> None:
    example = gsm8k.examples(limit=1)[0]
    script = ScriptedCall([model_failure("sim/flaky")])
    ctx = make_ctx("n", gsm8k, example, call=script)
    for out in (
        await generate(ctx, model="sim/flaky"),
        await critique(ctx, model="sim/flaky", candidate=right(example)),
        await fuse(ctx, model="sim/flaky", candidates=[right(example)]),
        await select(ctx, model="sim/flaky", candidates=[right(example)]),
    ):
        assert out.error is not None and "'sim/flaky' failed after 7 attempt(s) (HTTP 500)" in out.error
        assert out.calls == 1 and out.trace[0].error == out.error and out.trace[0].model == "sim/flaky"


async def test_code_candidates_are_judged_right_by_the_tasks_tests(humaneval: HumanEvalTask, make_ctx: MakeCtx) -> None:
    example = next(e for e in humaneval.examples(limit=5) if e.meta["entry_point"])
    script = ScriptedCall(["VERDICT: CORRECT"])
    good = NodeOutput(
        node_id="a", kind="generate", texts=[f"```python\n{example.answer}\n```"], answers=[example.answer]
    )
    bad_code = "def " + example.meta["entry_point"] + "(*args):\n    return None\n"
    bad = NodeOutput(node_id="b", kind="generate", texts=[f"```python\n{bad_code}```"], answers=[bad_code])
    await fuse(make_ctx("f", humaneval, example, call=script), model="m", candidates=[good, bad])
    meta = script.seen[0].meta
    assert [c.correct for c in meta.candidates] == [True, False]
    assert meta.extra["entry_point"] == example.meta["entry_point"] and "test" in meta.extra
