"""GSM8K: grade-school math word problems with a numeric answer after ``#### ``.

Splits: ``test`` is the official test file (1,319 problems, ids ``gsm8k/test/<line>``); ``dev`` is a held-out slice
of the official train file — 500 lines drawn by ``random.Random("gsm8k/dev")`` — and ``train`` is the rest of
the train file (ids ``gsm8k/train/<line>`` for both). On test, distractors and difficulty come from six recorded
real solvers: GPT-3 6B and 175B, each fine-tuned and verifier-ranked (OpenAI's example solutions), and GPT-4-1106
and Mixtral-8x7B (RouteLLM's responses).
"""

from __future__ import annotations

import csv
import functools
import json
import random
from collections import Counter
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

from collabgraph.tasks.base import BaseTask, percentile_ranks
from collabgraph.tasks.data import data_file
from collabgraph.tasks.extract import canonical_number, extract_gsm8k, last_number, number_value
from collabgraph.tasks.types import Example, Message, Split

__all__ = ["DEV_SIZE", "GPT3_SOLVERS", "ROUTELLM_SOLVERS", "GSM8KTask", "gold_answer"]

DEV_SIZE = 500
GPT3_SOLVERS = ("6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification")
ROUTELLM_SOLVERS = ("gpt-4-1106-preview", "mistralai/Mixtral-8x7B-Instruct-v0.1")
_MAX_DISTRACTORS = 8

_INSTRUCTION = (
    "Solve the following math word problem. Reason step by step, then give the final numeric answer "
    "on its own last line in the form `#### <number>`.\n\n"
)


def gold_answer(solution: str) -> str:
    """The canonical number after ``#### `` in an official GSM8K solution."""
    value = number_value(solution.rsplit("####", 1)[1])
    if value is None:
        raise ValueError(f"GSM8K solution has no number after '####': {solution[-80:]!r}")
    return canonical_number(value)


def _read_jsonl(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@functools.lru_cache(maxsize=4)
def _official(path: str) -> tuple[tuple[str, str], ...]:
    """(question, solution) per line of an official GSM8K file."""
    return tuple((str(row["question"]), str(row["answer"])) for row in _read_jsonl(Path(path)))


@functools.lru_cache(maxsize=2)
def _recorded(solutions_path: str, routellm_path: str) -> tuple[tuple[tuple[str | None, bool], ...], ...]:
    """Per test line, each recorded solver's (extracted answer, recorded correctness)."""
    gpt3 = _read_jsonl(Path(solutions_path))
    csv.field_size_limit(1 << 24)
    with Path(routellm_path).open(encoding="utf-8", newline="") as fh:
        routellm = list(csv.DictReader(fh))
    out = []
    for line, row in enumerate(gpt3):
        answers: list[tuple[str | None, bool]] = []
        for solver in GPT3_SOLVERS:
            record = row[solver]
            assert isinstance(record, dict)
            answers.append((extract_gsm8k(str(record["solution"])), bool(record["is_correct"])))
        for solver in ROUTELLM_SOLVERS:
            answers.append((extract_gsm8k(routellm[line][f"{solver}_response"]), routellm[line][solver] == "True"))
        out.append(tuple(answers))
    return tuple(out)


def _step_numbers(solution: str, gold: Fraction) -> list[str]:
    """Numbers in a solution's working other than the answer, later steps first (they are the nearest misses)."""
    body = solution.rsplit("####", 1)[0]
    seen: list[str] = []
    for line in reversed(body.splitlines()):
        value = number_value(last_number(line) or "")
        if value is not None and value != gold and (text := canonical_number(value)) not in seen:
            seen.append(text)
    return seen


def _distractors(gold: str, solution: str, recorded: Sequence[tuple[str | None, bool]]) -> tuple[str, ...]:
    gold_value = number_value(gold)
    assert gold_value is not None
    wrong = Counter(
        answer
        for answer, _ in recorded
        if answer is not None and number_value(answer) != gold_value  # graders disagree on "$20.00"; values do not
    )
    # Most frequent first; Counter keeps first-seen order among ties, which is the solvers' fixed order.
    out = [answer for answer, _ in wrong.most_common()]
    out += [n for n in _step_numbers(solution, gold_value) if n not in out]
    return tuple(out[:_MAX_DISTRACTORS])


@functools.lru_cache(maxsize=4)
def _load(data_dir: str, split: Split) -> tuple[Example, ...]:
    if split == "test":
        rows = _official(str(data_file("gsm8k/test.jsonl", data_dir)))
        recorded = _recorded(
            str(data_file("gsm8k/example_model_solutions.jsonl", data_dir)),
            str(data_file("routellm/gsm8k_responses.csv", data_dir)),
        )
        ids = [f"gsm8k/test/{line}" for line in range(len(rows))]
        ranks = percentile_ranks(
            {id_: 1.0 - sum(ok for _, ok in rec) / len(rec) for id_, rec in zip(ids, recorded, strict=True)}
        )
        return tuple(
            _example(id_, question, solution, _distractors(gold_answer(solution), solution, rec), ranks[id_])
            for id_, (question, solution), rec in zip(ids, rows, recorded, strict=True)
        )
    rows = _official(str(data_file("gsm8k/train.jsonl", data_dir)))
    dev = set(random.Random("gsm8k/dev").sample(range(len(rows)), DEV_SIZE))
    lines = [line for line in range(len(rows)) if (line in dev) == (split == "dev")]
    return tuple(
        _example(
            f"gsm8k/train/{line}",
            rows[line][0],
            rows[line][1],
            _distractors(gold_answer(rows[line][1]), rows[line][1], ()),
            None,
        )
        for line in lines
    )


def _example(id_: str, question: str, solution: str, distractors: tuple[str, ...], difficulty: float | None) -> Example:
    return Example(
        id=id_,
        task="gsm8k",
        question=question,
        answer=gold_answer(solution),
        answer_format="gsm8k",
        distractors=distractors,
        difficulty=difficulty,
        meta={"solution": solution},
    )


class GSM8KTask(BaseTask):
    """GSM8K (Cobbe et al., 2021): numeric answers, compared as exact numbers."""

    name = "gsm8k"
    answer_format = "gsm8k"
    splits = ("train", "dev", "test")

    def load(self, split: Split) -> Sequence[Example]:
        """The split's items in file order (dev and train in train-file order)."""
        return _load(self.data_root, split)

    def prompt(self, example: Example) -> list[Message]:
        """One user message: the problem and the ``#### <number>`` instruction."""
        return [Message(role="user", content=_INSTRUCTION + "Question: " + example.question)]

    def extract(self, text: str, example: Example) -> str | None:
        """The number after ``####``, "the answer is", ``A:``, in ``\\boxed{}``, else the last number."""
        return extract_gsm8k(text)

    def same(self, a: str, b: str, example: Example) -> bool:
        """Equal as exact numbers (``18`` ≡ ``18.00`` ≡ ``$18``)."""
        va, vb = number_value(a), number_value(b)
        return va is not None and va == vb
