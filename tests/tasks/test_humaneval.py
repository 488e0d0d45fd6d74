"""HumanEval and HumanEval+ on the real data, scored through real subprocesses; code extraction and programs."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collabgraph.errors import CollabgraphError
from collabgraph.sandbox import ExecLimits, ExecResult, LocalSandbox
from collabgraph.tasks import DataFileError, Example, Task, get_task
from collabgraph.tasks.code import evalplus_job, extract_code, humaneval_program, normalize_code, solution_program
from collabgraph.tasks.humaneval import HumanEvalTask

FENCE = "```"


@pytest.fixture(scope="module")
def task() -> HumanEvalTask:
    return HumanEvalTask()


@pytest.fixture(scope="module")
def plus_task() -> HumanEvalTask:
    return HumanEvalTask(plus=True)


def _by_id(task: HumanEvalTask, task_id: str) -> Example:
    return next(e for e in task.examples() if e.id == task_id)


def _fenced(code: str, lang: str = "python") -> str:
    return f"{FENCE}{lang}\n{code}\n{FENCE}"


# ---------------------------------------------------------------- the data set


def test_loads_all_164_problems(task: HumanEvalTask) -> None:
    examples = task.examples()
    assert len(examples) == 164
    assert {e.id for e in examples} == {f"HumanEval/{i}" for i in range(164)}
    first = _by_id(task, "HumanEval/0")
    assert first.task == "humaneval" and first.answer_format == "code"
    assert first.meta["entry_point"] == "has_close_elements"
    assert first.question == first.meta["prompt"]
    assert first.answer.startswith(first.meta["prompt"]) and "distance < threshold" in first.answer
    assert "def check(candidate)" in first.meta["test"]
    assert first.distractors == () and first.difficulty is None


def test_is_a_task(task: HumanEvalTask) -> None:
    assert isinstance(task, Task)
    assert task.name == "humaneval" and task.answer_format == "code"


def test_registry_builds_it() -> None:
    built = get_task("humaneval", plus=True, timeout_s=5.0)
    assert isinstance(built, HumanEvalTask) and built.plus and built.timeout_s == 5.0


def test_default_timeouts() -> None:
    assert HumanEvalTask().timeout_s == 10.0
    assert HumanEvalTask(plus=True).timeout_s == 60.0


def test_seeded_order_and_limit(task: HumanEvalTask) -> None:
    a = [e.id for e in task.examples(seed=1)]
    assert a == [e.id for e in task.examples(seed=1)]
    assert a != [e.id for e in task.examples(seed=2)]
    assert sorted(a) == sorted(e.id for e in task.examples(seed=2))
    assert [e.id for e in task.examples(limit=10, seed=1)] == a[:10]
    assert task.examples(limit=0) == []


@pytest.mark.parametrize("split", ["dev", "train"])
def test_other_splits_are_refused(task: HumanEvalTask, split: str) -> None:
    bad: object = split
    with pytest.raises(CollabgraphError, match=f"no split '{split}'; valid splits: test"):
        task.examples(bad)  # type: ignore[arg-type]


def test_negative_limit_is_refused(task: HumanEvalTask) -> None:
    with pytest.raises(CollabgraphError, match="limit must be 0 or more, got -1"):
        task.examples(limit=-1)


def test_missing_data_says_what_to_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLLABGRAPH_OFFLINE", "1")
    with pytest.raises(DataFileError, match=r"(?s)humaneval/HumanEval.jsonl.gz.*COLLABGRAPH_DATA"):
        HumanEvalTask(data_dir=tmp_path)


def test_prompt_asks_for_a_complete_function_in_a_python_block(task: HumanEvalTask) -> None:
    example = _by_id(task, "HumanEval/0")
    messages = task.prompt(example)
    assert len(messages) == 1 and messages[0].role == "user"
    assert example.meta["prompt"] in messages[0].content
    assert "complete function" in messages[0].content and "```python" in messages[0].content


def test_plus_keeps_the_ids_and_uses_the_fixed_canonical_solutions(
    task: HumanEvalTask, plus_task: HumanEvalTask
) -> None:
    assert {e.id for e in plus_task.examples()} == {e.id for e in task.examples()}
    base, plus = _by_id(task, "HumanEval/0"), _by_id(plus_task, "HumanEval/0")
    assert base.meta["prompt"] == plus.meta["prompt"]
    assert base.answer != plus.answer


# ---------------------------------------------------------------- scoring through the sandbox


async def test_every_canonical_solution_passes(task: HumanEvalTask) -> None:
    limit = asyncio.Semaphore(4)

    async def score(example: Example) -> tuple[str, bool, str]:
        async with limit:
            result = await task.score(example.answer, example)
        return example.id, result.correct, result.detail

    results = await asyncio.gather(*(score(e) for e in task.examples()))
    failed = [(i, d) for i, ok, d in results if not ok]
    assert not failed
    assert len(results) == 164


@pytest.mark.parametrize("task_id", ["HumanEval/0", "HumanEval/12", "HumanEval/53", "HumanEval/163"])
async def test_return_none_fails(task: HumanEvalTask, task_id: str) -> None:
    example = _by_id(task, task_id)
    stub = example.meta["prompt"] + "    return None\n"
    result = await task.score(_fenced(stub), example)
    assert not result.correct
    assert result.detail.startswith("assertion failed")
    assert result.extracted is not None and "return None" in result.extracted


async def test_body_only_completion_is_scored_like_the_official_harness(task: HumanEvalTask) -> None:
    example = _by_id(task, "HumanEval/53")  # add(x, y)
    assert (await task.score("    return x + y\n", example)).correct
    assert not (await task.score("    return x - y\n", example)).correct


async def test_full_function_without_the_prompts_imports_passes(task: HumanEvalTask) -> None:
    example = _by_id(task, "HumanEval/0")  # the signature uses typing.List, imported by the prompt
    response = (
        "Sure! Here it is:\n\n"
        + _fenced(
            textwrap.dedent(
                """
            def has_close_elements(numbers: List[float], threshold: float) -> bool:
                return any(abs(a - b) < threshold for i, a in enumerate(numbers) for b in numbers[i + 1:])

            if __name__ == "__main__":
                print(has_close_elements([float(x) for x in input().split()], 0.5))
            """
            )
        )
        + "\n\nThis checks every pair."
    )
    result = await task.score(response, example)
    assert result.correct, result.detail


async def test_timeouts_and_syntax_errors_and_missing_code_are_explained() -> None:
    task = HumanEvalTask(timeout_s=1.0)
    example = _by_id(task, "HumanEval/53")
    hang = await task.score(_fenced("def add(x: int, y: int):\n    while True:\n        pass"), example)
    assert not hang.correct and hang.detail == "timed out after 1 s"
    broken = await task.score(_fenced("def add(x: int, y: int):\n    return x +"), example)
    assert not broken.correct and broken.detail.startswith("syntax error: invalid syntax")
    nothing = await task.score("I cannot help with that.", example)
    assert nothing == type(nothing)(correct=False, extracted=None, detail="no code found in the response")
    crash = await task.score(_fenced("def add(x: int, y: int):\n    return undefined_name"), example)
    assert not crash.correct and crash.detail == "failed: NameError: name 'undefined_name' is not defined"


async def test_the_given_sandbox_and_limits_are_used() -> None:
    class Recording:
        name = "recording"

        def __init__(self) -> None:
            self.seen: list[tuple[str | None, ExecLimits | None]] = []

        async def exec(
            self,
            command: list[str] | None = None,
            *,
            code: str | None = None,
            files: dict[str, str] | None = None,
            limits: ExecLimits | None = None,
        ) -> ExecResult:
            self.seen.append((code, limits))
            return ExecResult(exit_code=0, stdout="", stderr="")

    sandbox = Recording()
    task = HumanEvalTask(sandbox=sandbox, timeout_s=3.0, memory_mb=256)
    example = _by_id(task, "HumanEval/53")
    assert (await task.score("    return x + y\n", example)).correct
    code, limits = sandbox.seen[0]
    assert code == humaneval_program(example.meta["prompt"], "    return x + y\n", example.meta["test"], "add")
    assert limits == ExecLimits(timeout_s=3.0, memory_mb=256)


@pytest.mark.parametrize(
    "task_id", ["HumanEval/0", "HumanEval/2", "HumanEval/4", "HumanEval/32", "HumanEval/53", "HumanEval/101"]
)
async def test_plus_canonical_solutions_pass(plus_task: HumanEvalTask, task_id: str) -> None:
    example = _by_id(plus_task, task_id)
    result = await plus_task.score(example.answer, example)
    assert result.correct, result.detail


async def test_plus_catches_a_bug_the_base_tests_miss(task: HumanEvalTask, plus_task: HumanEvalTask) -> None:
    # "<" turned into "<=": every original HumanEval test still passes.
    example = _by_id(task, "HumanEval/0")
    buggy = example.answer.replace("< threshold", "<= threshold")
    assert buggy != example.answer
    assert (await task.score(buggy, example)).correct
    result = await plus_task.score(buggy, _by_id(plus_task, "HumanEval/0"))
    assert not result.correct
    assert "returned True, expected False" in result.detail


async def test_plus_compares_floats_within_tolerance(plus_task: HumanEvalTask) -> None:
    example = _by_id(plus_task, "HumanEval/4")  # mean_absolute_deviation, atol 1e-6
    close = example.answer.replace("return sum(", "return 1e-9 + sum(")
    far = example.answer.replace("return sum(", "return 1e-3 + sum(")
    assert close != example.answer and far != example.answer
    assert (await plus_task.score(close, example)).correct
    assert not (await plus_task.score(far, example)).correct


async def test_plus_find_zero_is_checked_by_its_residual(plus_task: HumanEvalTask) -> None:
    # A tighter Newton tolerance returns other values than the reference, still roots within atol.
    example = _by_id(plus_task, "HumanEval/32")
    tighter = example.answer.replace("tol = 0, 1e-5", "tol = 0, 1e-12")
    assert tighter != example.answer
    assert (await plus_task.score(tighter, example)).correct
    off = example.answer.replace("    return x\n", "    return x + 0.5\n")
    assert off != example.answer
    assert not (await plus_task.score(off, example)).correct


async def test_plus_refuses_a_problem_it_does_not_have(plus_task: HumanEvalTask) -> None:
    stranger = Example(
        id="HumanEval/999",
        task="humaneval",
        question="",
        answer="",
        answer_format="code",
        meta={"prompt": "def f():\n", "entry_point": "f", "test": ""},
    )
    with pytest.raises(CollabgraphError, match="no problem 'HumanEval/999'"):
        await plus_task.score(_fenced("def f():\n    return 1"), stranger)


async def test_evalplus_job_runs_on_a_bare_sandbox() -> None:
    job = evalplus_job(
        "def double(x):\n",
        "    return x * 2\n",
        "    return x + x\n",
        "double",
        [[1], [2.5], [[1, 2]]],
        0.0,
    )
    result = await LocalSandbox().exec(code=job.code, files=job.files)
    assert result.ok and result.stdout == "passed 3 tests\n", result.stderr


# ---------------------------------------------------------------- extraction, programs, sameness


def test_extract_picks_the_block_that_defines_the_entry_point() -> None:
    text = (
        "First a helper:\n"
        + _fenced("def helper():\n    return 1")
        + "\nThen the answer:\n"
        + _fenced("def solve(x):\n    return helper() + x")
        + "\nExample run:\n"
        + _fenced("print(solve(1))")
        + "\nOutput:\n"
        + _fenced("2", lang="text")
    )
    assert extract_code(text, "solve") == "def solve(x):\n    return helper() + x\n"
    assert extract_code(text) == "print(solve(1))\n"


def test_extract_falls_back_to_the_last_block_of_any_language() -> None:
    text = "Here:\n" + _fenced("def f():\n    return 2", lang="cpp")
    assert extract_code(text, "g") == "def f():\n    return 2\n"


def test_extract_handles_untagged_tilde_and_unterminated_fences() -> None:
    assert extract_code("```\ndef f():\n    return 1\n```", "f") == "def f():\n    return 1\n"
    assert extract_code("~~~python\ndef f():\n    return 1\n~~~", "f") == "def f():\n    return 1\n"
    assert extract_code("Answer:\n```python\ndef f():\n    return 1", "f") == "def f():\n    return 1\n"


def test_extract_takes_raw_code_and_body_only_completions() -> None:
    assert extract_code("def f():\n    return 1\n", "f") == "def f():\n    return 1\n"
    assert extract_code("    x = 1\n    return x\n") == "    x = 1\n    return x\n"


def test_extract_finds_unfenced_code_inside_prose() -> None:
    text = "Here is my solution:\ndef f(x):\n    return x * 2\nIt doubles its input."
    assert extract_code(text, "f") == "def f(x):\n    return x * 2\n"


@pytest.mark.parametrize("text", ["", "   \n", "I don't know.", "The answer is 42, obviously (or is it?"])
def test_extract_returns_none_without_code(text: str) -> None:
    assert extract_code(text, "f") is None


_IDENT = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True).filter(
    lambda s: s not in {"def", "return", "if", "in", "is", "or", "and", "not", "for", "as", "else", "elif", "try"}
)
_PROSE = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="`~"), max_size=80)


@settings(max_examples=80, deadline=None)
@given(name=_IDENT, before=_PROSE, after=_PROSE, value=st.integers())
def test_extract_recovers_a_fenced_function_from_any_prose(name: str, before: str, after: str, value: int) -> None:
    code = f"def {name}(x):\n    return x + {value}\n"
    assert extract_code(f"{before}\n{_fenced(code.rstrip())}\n{after}", name) == code


def test_humaneval_program_is_the_official_concatenation_for_a_body() -> None:
    prompt, body, test = "def f(x):\n    '''doc'''\n", "    return x\n", "def check(c):\n    assert c(1) == 1\n"
    assert humaneval_program(prompt, body, test, "f") == prompt + body + "\n" + test + "\ncheck(f)\n"


def test_a_full_solution_follows_the_prompts_preamble_without_its_main_guard() -> None:
    prompt = "import math\n\ndef helper(y):\n    return y\n\n\ndef f(x):\n    '''doc'''\n"
    solution = "def f(x):\n    return helper(math.floor(x))\n\nif __name__ == '__main__':\n    f(input())\n"
    program = solution_program(prompt, solution, "f")
    assert program == "import math\n\ndef helper(y):\n    return y\n\n\ndef f(x):\n    return helper(math.floor(x))\n\n"


def test_an_unindented_body_is_indented_under_the_signature() -> None:
    assert solution_program("def f(x):\n", "y = x + 1\nreturn y\n", "f") == "def f(x):\n    y = x + 1\n    return y\n"


def test_same_ignores_formatting_comments_and_docstrings(task: HumanEvalTask) -> None:
    example = _by_id(task, "HumanEval/53")
    a = 'def add(x, y):\n    """Add."""\n    return x + y  # sum\n'
    b = "def add(x,y):\n\n    return (x+y)\n"
    assert task.same(a, b, example)
    assert not task.same(a, "def add(x, y):\n    return y + x\n", example)
    assert normalize_code("def f(:\n  pass") == normalize_code("def  f(:\n    pass")


@settings(max_examples=40, deadline=None)
@given(name=_IDENT, value=st.integers(), spaces=st.integers(min_value=0, max_value=3))
def test_normalize_is_idempotent_and_ignores_spacing(name: str, value: int, spaces: int) -> None:
    pad = " " * spaces
    a = f"def {name}(x):\n    return x+{value}\n"
    b = f"def {name}( x ):{pad}\n    return{pad} x + {value}\n\n"
    assert normalize_code(a) == normalize_code(b)
    assert normalize_code(normalize_code(a)) == normalize_code(a)
