"""generate: chain of thought and program of thought on real GSM8K items, through the real gateway and sim."""

from __future__ import annotations

import contextlib
import io
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collabgraph.agents import (
    PromptTemplateError,
    check_template,
    default_template,
    generate,
    generate_messages,
    reference_program,
    solve_subtask,
)
from collabgraph.errors import CollabgraphError
from collabgraph.models.types import Usage
from collabgraph.tasks import GSM8KTask, HumanEvalTask
from tests.agents.helpers import MakeCtx, ScriptedCall


async def test_cot_states_the_tasks_answers_with_one_request_for_all_samples(
    gsm8k: GSM8KTask, make_ctx: MakeCtx
) -> None:
    for example in gsm8k.examples(limit=10):
        out = await generate(make_ctx("g", gsm8k, example), model="sim/llama-3.1-8b", samples=4, temperature=0.8)
        assert out.error is None
        assert out.calls == 1 and len(out.trace) == 1 and len(out.texts) == 4
        assert out.answers == [gsm8k.extract(t, example) for t in out.texts]
        assert out.answer == next(a for a in out.answers if a is not None)
        entry = out.trace[0]
        assert entry.role == "answer" and entry.model == "sim/llama-3.1-8b"
        assert entry.prompt == [m.model_dump() for m in gsm8k.prompt(example)]
        # The four samples are one request: the node waited for the slowest, and paid for all of them.
        assert out.latency_s == entry.latency_s == out.usage.latency_s > 0
        assert out.usage.completion_tokens == entry.usage.completion_tokens > 0


async def test_cot_accuracy_follows_the_models_ability(gsm8k: GSM8KTask, make_ctx: MakeCtx) -> None:
    examples = gsm8k.examples(limit=60, seed=3)

    async def accuracy(model: str) -> float:
        right = 0
        for example in examples:
            out = await generate(make_ctx("g", gsm8k, example), model=model)
            right += out.answer is not None and gsm8k.same(out.answer, example.answer, example)
        return right / len(examples)

    weak, strong, oracle = (
        await accuracy("sim/llama-3.2-1b"),
        await accuracy("sim/llama-3.1-70b"),
        await accuracy("sim/oracle"),
    )
    assert oracle == 1.0
    assert strong > weak + 0.2


async def test_the_same_seed_gives_the_same_output(gsm8k: GSM8KTask, make_ctx: MakeCtx) -> None:
    example = gsm8k.examples(limit=1)[0]
    runs = [
        await generate(make_ctx("g", gsm8k, example, seed=7), model="sim/qwen2.5-7b", samples=3, temperature=1.0)
        for _ in range(2)
    ]
    assert runs[0] == runs[1]


async def test_pot_runs_each_program_in_the_sandbox_and_states_what_it_printed(
    gsm8k: GSM8KTask, make_ctx: MakeCtx
) -> None:
    for example in gsm8k.examples(limit=4, seed=1):
        out = await generate(make_ctx("p", gsm8k, example), model="sim/oracle", mode="pot", samples=2)
        assert out.error is None, out.error
        assert out.answers == [example.answer, example.answer]
        assert all(
            "```python" in t and f"The program printed: {example.answer}\n#### {example.answer}" in t for t in out.texts
        )
        call, execution = out.trace
        assert (call.role, execution.role, execution.model) == ("answer", "execute", None)
        assert out.latency_s == pytest.approx(call.latency_s + execution.latency_s)
        assert execution.latency_s > 0


async def test_pot_wrong_programs_print_wrong_answers(gsm8k: GSM8KTask, make_ctx: MakeCtx) -> None:
    wrong = 0
    for example in gsm8k.examples(limit=12, seed=2):
        out = await generate(make_ctx("p", gsm8k, example), model="sim/llama-3.2-1b", mode="pot", temperature=1.0)
        assert out.error is None and out.answer is not None
        wrong += not gsm8k.same(out.answer, example.answer, example)
    assert wrong > 0


async def test_pot_poses_a_code_question_to_the_offline_pools(gsm8k: GSM8KTask, make_ctx: MakeCtx) -> None:
    example = gsm8k.examples(limit=1)[0]
    script = ScriptedCall([f"```python\nx = {example.answer}\nprint(x)\n```"])
    out = await generate(make_ctx("p", gsm8k, example, call=script), model="sim/x", mode="pot")
    (seen,) = script.seen
    assert seen.meta.answer_format == "code"
    assert seen.meta.answer == reference_program(example.answer)
    assert seen.meta.extra == {"pot_format": "gsm8k", "pot_answer": example.answer}
    assert "Python program" in seen.messages[0].content and example.question in seen.messages[0].content
    assert out.answer == example.answer


async def test_pot_whose_programs_all_fail_is_retried_once_then_fails(gsm8k: GSM8KTask, make_ctx: MakeCtx) -> None:
    example = gsm8k.examples(limit=1)[0]
    script = ScriptedCall(["```python\nprint(1 / 0)\n```"])
    out = await generate(make_ctx("p", gsm8k, example, call=script), model="sim/x", mode="pot")
    assert len(script.seen) == 2
    assert out.error is not None
    assert "malformed model output after a retry" in out.error and "ZeroDivisionError" in out.error
    assert [e.role for e in out.trace] == ["answer", "execute", "answer", "execute"]


async def test_pot_on_a_code_task_is_refused(humaneval: HumanEvalTask, make_ctx: MakeCtx) -> None:
    example = humaneval.examples(limit=1)[0]
    with pytest.raises(CollabgraphError, match="already answers with code; use mode 'cot'"):
        await generate(make_ctx("p", humaneval, example), model="sim/llama-3.1-8b", mode="pot")


async def test_a_planned_child_sees_its_subtask(gsm8k: GSM8KTask, make_ctx: MakeCtx) -> None:
    example = gsm8k.examples(limit=1)[0]
    script = ScriptedCall([f"#### {example.answer}"])
    out = await solve_subtask(
        make_ctx("child", gsm8k, example, call=script), model="m", subtask="Compute the weekly total first."
    )
    content = script.seen[0].messages[-1].content
    assert content.startswith(gsm8k.prompt(example)[-1].content)
    assert content.endswith("Focus on this part of the work: Compute the weekly total first.")
    assert out.data == {"mode": "cot", "subtask": "Compute the weekly total first."}


@pytest.mark.parametrize("kind", ["generate", "critique", "refine", "fuse", "select", "spawn"])
def test_every_default_template_fills_with_its_kinds_fields(kind: str) -> None:
    name = {"generate": "pot", "spawn": "plan"}.get(kind, kind)
    check_template(kind, default_template(name))
    with pytest.raises(PromptTemplateError, match=f"{kind} prompt template uses {{nope}}"):
        check_template(kind, default_template(name) + "{nope}")


def test_a_custom_prompt_template_is_filled(gsm8k: GSM8KTask, make_ctx: MakeCtx) -> None:
    example = gsm8k.examples(limit=1)[0]
    ctx = make_ctx("g", gsm8k, example)
    (message,) = generate_messages(ctx, prompt="Solve carefully.\n{question}\n{format_instructions} {{literal}}")
    assert example.question in message.content
    assert message.content.endswith("as `#### <number>`. {literal}")


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("Solve {questoin}", "uses {questoin}, which is not filled; did you mean {question}?"),
        ("Solve {} now", "uses {}, which is not filled"),
        ("Solve {question", "write literal braces as '{{' and '}}'"),
    ],
)
def test_a_bad_prompt_template_is_refused_with_the_fields_it_may_use(
    gsm8k: GSM8KTask, make_ctx: MakeCtx, template: str, message: str
) -> None:
    ctx = make_ctx("g", gsm8k, gsm8k.examples(limit=1)[0])
    with pytest.raises(PromptTemplateError) as info:
        generate_messages(ctx, prompt=template)
    assert message in str(info.value)
    if "not filled" in message:
        assert "{format_instructions}, {question}, {subtask}, {task_prompt}" in str(info.value)


async def test_no_answer_in_any_sample_is_retried_once_then_fails(gsm8k: GSM8KTask, make_ctx: MakeCtx) -> None:
    example = gsm8k.examples(limit=1)[0]
    script = ScriptedCall(["I am not sure how to do this."])
    out = await generate(make_ctx("g", gsm8k, example, call=script), model="m", samples=3)
    assert out.error == "generate: malformed model output after a retry: no sample states a final answer"
    assert out.calls == 2 and [c.n for c in script.seen] == [3, 3]
    assert out.usage == Usage(prompt_tokens=60, completion_tokens=30, cost_usd=0.006, flops=6.0, latency_s=1.0)


@settings(max_examples=60, deadline=None)
@given(value=st.one_of(st.integers(-(10**9), 10**9), st.decimals(-10000, 10000, places=3, allow_nan=False)))
def test_the_reference_program_prints_the_answer(gsm8k: GSM8KTask, value: int | Decimal) -> None:
    answer = str(value)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(reference_program(answer), {})
    assert gsm8k.same(out.getvalue().strip(), answer, gsm8k.examples(limit=1)[0])
