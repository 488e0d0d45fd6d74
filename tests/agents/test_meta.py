"""offline_meta: what a call about an example tells the offline pools (gold answer, code tests, role, candidates)."""

from __future__ import annotations

from collabgraph.agents import offline_meta
from collabgraph.models.types import Candidate
from collabgraph.tasks import GSM8KTask, HumanEvalTask
from collabgraph.tasks.types import Example


def test_offline_meta_carries_the_gold_answer_and_code_tests(humaneval: HumanEvalTask, gsm8k: GSM8KTask) -> None:
    code = Example(
        id="HumanEval/0",
        task="humaneval",
        question="def f(): ...",
        answer="    return 1\n",
        answer_format="code",
        distractors=("    return 2\n",),
        difficulty=0.25,
        meta={"prompt": "def f():\n", "entry_point": "f", "test": "assert f() == 1", "other": 1},
    )
    meta = offline_meta(humaneval, code)
    assert (meta.task, meta.example_id, meta.answer, meta.answer_format) == (
        "humaneval",
        "HumanEval/0",
        "    return 1\n",
        "code",
    )
    assert meta.distractors == ("    return 2\n",) and meta.difficulty == 0.25 and meta.role == "answer"
    assert meta.extra == {"prompt": "def f():\n", "entry_point": "f", "test": "assert f() == 1"}
    assert meta.candidates == ()
    assert offline_meta(gsm8k, gsm8k.examples(limit=1)[0]).extra == {}


def test_offline_meta_carries_the_role_candidates_and_extra_fields(humaneval: HumanEvalTask) -> None:
    example = humaneval.examples(limit=1)[0]
    shown = [Candidate(answer="a", correct=False), Candidate(answer="b", correct=True, text="b!")]
    meta = offline_meta(humaneval, example, "fuse", shown, extra={"test": "assert True", "subtasks": 3})
    assert meta.role == "fuse" and meta.candidates == tuple(shown)
    # The caller's extra fields are added to the code fields, and win over them.
    assert meta.extra == {
        "prompt": example.meta["prompt"],
        "entry_point": example.meta["entry_point"],
        "test": "assert True",
        "subtasks": 3,
    }


def test_offline_meta_tells_the_pools_how_many_options_a_question_has() -> None:
    from collabgraph.tasks import get_task

    mmlu = get_task("mmlu_pro")
    short = next(e for e in mmlu.examples(limit=2000) if len(e.meta["options"]) < 10)
    assert offline_meta(mmlu, short).extra == {"n_options": len(short.meta["options"])}
