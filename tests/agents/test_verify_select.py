"""verify (unit tests on real HumanEval problems, PoT re-execution) and select by verifier."""

from __future__ import annotations

import pytest

from collabgraph.agents import NodeOutput, generate, select, verify
from collabgraph.errors import CollabgraphError
from collabgraph.tasks import GSM8KTask, HumanEvalTask
from tests.agents.helpers import MakeCtx, ScriptedCall, output


def code_output(node_id: str, programs: list[str]) -> NodeOutput:
    return NodeOutput(
        node_id=node_id,
        kind="generate",
        texts=[f"Here it is.\n```python\n{p}```" for p in programs],
        answers=list(programs),
        answer=programs[0],
    )


def broken(entry_point: str) -> str:
    return f"def {entry_point}(*args, **kwargs):\n    return None\n"


async def test_unit_tests_check_every_sample_with_the_problems_own_tests(
    humaneval: HumanEvalTask, make_ctx: MakeCtx
) -> None:
    example = humaneval.examples(limit=1, seed=5)[0]
    target = code_output("coder", [broken(example.meta["entry_point"]), example.answer])
    out = await verify(make_ctx("tests", humaneval, example), check="unit_tests", target=target)
    assert out.error is None and out.passed is True
    assert [(c["node_id"], c["sample"], c["passed"], c["score"]) for c in out.data["checks"]] == [
        ("coder", 0, False, 0.0),
        ("coder", 1, True, 1.0),
    ]
    assert out.data["checks"][0]["detail"].startswith(("assertion failed", "failed"))
    assert out.answer == example.answer and out.texts == target.texts
    assert out.calls == 0 and [e.role for e in out.trace] == ["unit_tests"] and out.latency_s > 0


async def test_generated_code_is_checked_by_the_unit_tests(humaneval: HumanEvalTask, make_ctx: MakeCtx) -> None:
    example = humaneval.examples(limit=1, seed=9)[0]
    coder = await generate(make_ctx("coder", humaneval, example), model="sim/oracle")
    assert coder.error is None and coder.answer is not None and "def " + example.meta["entry_point"] in coder.answer
    checked = await verify(make_ctx("tests", humaneval, example), check="unit_tests", target=coder)
    assert checked.passed is True and checked.data["checks"][0]["detail"] == "passed"


async def test_unit_tests_stop_at_the_timeout(humaneval: HumanEvalTask, make_ctx: MakeCtx) -> None:
    example = humaneval.examples(limit=1)[0]
    slow = f"def {example.meta['entry_point']}(*args):\n    while True:\n        pass\n"
    out = await verify(
        make_ctx("t", humaneval, example), check="unit_tests", target=code_output("c", [slow]), timeout_s=0.5
    )
    assert out.passed is False and out.data["checks"][0]["detail"] == "timed out after 0.5 s"


async def test_select_by_verifier_takes_the_sample_that_passed(humaneval: HumanEvalTask, make_ctx: MakeCtx) -> None:
    example = humaneval.examples(limit=1, seed=6)[0]
    coder = code_output("coder", [broken(example.meta["entry_point"]), example.answer])
    checked = await verify(make_ctx("tests", humaneval, example), check="unit_tests", target=coder)
    out = await select(make_ctx("pick", humaneval, example), by="verifier", candidates=[coder], verifier=checked)
    assert (out.answer, out.data["selected"], out.data["score"]) == (example.answer, "coder[1]", 1.0)
    assert out.calls == 0


async def test_select_by_verifier_prefers_the_first_on_a_tie_and_needs_checked_candidates(
    gsm8k: GSM8KTask, make_ctx: MakeCtx
) -> None:
    example = gsm8k.examples(limit=1)[0]
    ctx = make_ctx("pick", gsm8k, example, call=ScriptedCall([]))
    a, b = output("a", ["1", "2"]), output("b", ["3"])
    checks = [
        {"node_id": "a", "sample": 0, "passed": False, "score": 0.0, "detail": ""},
        {"node_id": "a", "sample": 1, "passed": True, "score": 1.0, "detail": ""},
        {"node_id": "b", "sample": 0, "passed": True, "score": 1.0, "detail": ""},
    ]
    verifier = NodeOutput(node_id="v", kind="verify", data={"checks": checks})
    assert (await select(ctx, by="verifier", candidates=[b, a], verifier=verifier)).answer == "3"
    assert (await select(ctx, by="verifier", candidates=[a, b], verifier=verifier)).answer == "2"
    other = await select(ctx, by="verifier", candidates=[output("z", ["9"])], verifier=verifier)
    assert (
        other.error
        == "select: verifier 'v' checked none of the candidates (it checked a[0], a[1], b[0]; candidates come from z)"
    )
    failed = NodeOutput(node_id="v", kind="verify", error="sandbox down")
    assert (
        await select(ctx, by="verifier", candidates=[a], verifier=failed)
    ).error == "select: verifier 'v' failed: sandbox down"
    with pytest.raises(CollabgraphError, match="select by 'verifier' needs the verify node's output"):
        await select(ctx, by="verifier", candidates=[a])
    with pytest.raises(CollabgraphError, match="select by 'judge' needs a model"):
        await select(ctx, candidates=[a])


async def test_pot_check_reruns_programs_and_compares_with_the_stated_answer(
    gsm8k: GSM8KTask, make_ctx: MakeCtx
) -> None:
    example = gsm8k.examples(limit=1)[0]
    ctx = make_ctx("check", gsm8k, example)
    pot = await generate(ctx, model="sim/oracle", mode="pot")
    texts = [
        pot.texts[0],
        f"```python\nprint({example.answer} + 1)\n```\nSo the answer is\n#### {example.answer}",
        "No program here.\n#### 5",
    ]
    target = output("solver", [example.answer, example.answer, "5"], texts=texts)
    out = await verify(ctx, check="pot", target=target)
    assert [c["passed"] for c in out.data["checks"]] == [True, False, False]
    assert (
        out.data["checks"][1]["detail"]
        == f"the program prints {int(example.answer) + 1}, the sample states {example.answer}"
    )
    assert out.data["checks"][2]["detail"] == "no program"
    assert out.trace[0].role == "pot_check"


@pytest.mark.parametrize(
    ("check", "task_name", "message"),
    [
        (
            "patch",
            "gsm8k",
            "check 'patch' applies diffs and runs a repository's tests, but task 'gsm8k' is not a repair task "
            "(swe_mini is); use check pot",
        ),
        ("unit_tests", "gsm8k", "check 'unit_tests' runs a code task's tests, but task 'gsm8k' answers in prose"),
        (
            "pot",
            "humaneval",
            "check 'pot' re-runs programs that print an answer, but task 'humaneval' answers with code",
        ),
        ("lint", "gsm8k", "unknown verify check 'lint'; checks available: unit_tests, pot, patch"),
    ],
)
async def test_checks_that_cannot_run_are_refused_clearly(
    gsm8k: GSM8KTask, humaneval: HumanEvalTask, make_ctx: MakeCtx, check: str, task_name: str, message: str
) -> None:
    task = gsm8k if task_name == "gsm8k" else humaneval
    ctx = make_ctx("v", task, task.examples(limit=1)[0], call=ScriptedCall([]))
    with pytest.raises(CollabgraphError) as info:
        await verify(ctx, check=check, target=output("t", ["1"]))  # type: ignore[arg-type]
    assert message in str(info.value)


async def test_verifying_a_failed_target_fails(gsm8k: GSM8KTask, make_ctx: MakeCtx) -> None:
    ctx = make_ctx("v", gsm8k, gsm8k.examples(limit=1)[0], call=ScriptedCall([]))
    out = await verify(ctx, check="pot", target=output("t", [], texts=[], error="boom"))
    assert out.error == "verify: target 't' failed: boom"
