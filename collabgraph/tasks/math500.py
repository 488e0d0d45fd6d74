"""MATH-500: competition mathematics (the PRM800K test split), answers in ``\\boxed{…}``, checked by math-verify.

Splits: ``test`` is all 500 problems (ids ``math500/<unique_id>``, e.g. ``math500/test/precalculus/807.json``);
``dev`` is the fifth of them whose id hashes to 0 mod 5 (about 100). There is no separate development data,
so dev overlaps test: use it for searching, and report on test knowing that.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

from collabgraph.tasks.base import BaseTask, percentile_ranks, stable_hash
from collabgraph.tasks.data import data_file
from collabgraph.tasks.extract import last_boxed, number_value
from collabgraph.tasks.mathcheck import equivalent, normalize_math
from collabgraph.tasks.types import Example, Message, Split

__all__ = ["Math500Task", "extract_math", "math_distractors"]

_MAX_DISTRACTORS = 6
_INSTRUCTION = "Solve the following math problem. Reason step by step, and put your final answer within \\boxed{}.\n\n"
# The greedy ".*" finds the last phrase on a line: "Final Answer: The final answer is $3$." → "$3$."
_ANSWER_IS_RE = re.compile(r".*(?:final answer|the answer)\s*(?:is|:)\s*:?\s*(.+)", re.IGNORECASE)
_INT_RE = re.compile(r"(?<![\d.])\d+(?![\d.])")


def extract_math(text: str) -> str | None:
    """The last ``\\boxed{…}`` in ``text``, else what follows the last "the answer is"; None if neither."""
    boxed = last_boxed(text)
    if boxed:
        return boxed
    hits = _ANSWER_IS_RE.findall(text)
    if not hits:
        return None
    stated = hits[-1].strip()
    math = re.match(r"\$+([^$]+)\$+", stated)
    stated = math.group(1) if math else re.split(r"\.\s|\.$|\n", stated, maxsplit=1)[0]
    return stated.strip().strip("$").strip() or None


def _latex_number(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    sign = "-" if value < 0 else ""
    return f"{sign}\\frac{{{abs(value.numerator)}}}{{{value.denominator}}}"


def _plain(answer: str) -> Fraction | None:
    s = normalize_math(answer)
    frac = re.fullmatch(r"(-?)\\frac\{(\d+)\}\{(\d+)\}", s)
    if frac:
        value = Fraction(int(frac.group(2)), int(frac.group(3)))
        return -value if frac.group(1) else value
    return number_value(s) if re.fullmatch(r"-?\d+(?:\.\d+)?", s) else None


def math_distractors(answer: str, solution: str) -> tuple[str, ...]:
    """Plausible wrong answers, deterministically: off-by-one and sign flips of a number, the reciprocal and
    negation of a fraction, one number of a compound answer nudged by ±1, then numbers from the worked solution."""
    out: list[str] = []
    value = _plain(answer)
    if value is not None:
        if value.denominator == 1:
            candidates = [value - 1, value + 1, -value, 2 * value]
        else:
            candidates = [1 / value, -value, value + 1, value * 2]
        out += [_latex_number(c) for c in candidates]
    else:
        first = _INT_RE.search(answer)
        if first:
            n = int(first.group(0))
            out += [answer[: first.start()] + str(m) + answer[first.end() :] for m in (n + 1, n - 1) if m >= 0]
    gold = normalize_math(answer)
    gold_digits = re.sub(r"_\{?\d+\}?$", "", gold)  # "2516_8": a model may leave off the base
    for raw in reversed(re.findall(r"-?\d+(?:\.\d+)?", solution)):
        number = number_value(raw)
        if number is not None and number != value:
            out.append(_latex_number(number))
    unique: list[str] = []
    for d in out:
        if d not in unique and normalize_math(d) not in {gold, gold_digits} and (value is None or _plain(d) != value):
            unique.append(d)
    return tuple(unique[:_MAX_DISTRACTORS])


def _read(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@functools.lru_cache(maxsize=2)
def _load(data_dir: str) -> tuple[Example, ...]:
    rows = _read(data_file("math500/test.jsonl", data_dir))
    ids = [f"math500/{row['unique_id']}" for row in rows]
    ranks = percentile_ranks({id_: float(str(row["level"])) for id_, row in zip(ids, rows, strict=True)})
    return tuple(
        Example(
            id=id_,
            task="math500",
            question=str(row["problem"]),
            answer=str(row["answer"]),
            answer_format="boxed",
            distractors=math_distractors(str(row["answer"]), str(row["solution"])),
            difficulty=ranks[id_],
            meta={"solution": row["solution"], "subject": row["subject"], "level": row["level"]},
        )
        for id_, row in zip(ids, rows, strict=True)
    )


class Math500Task(BaseTask):
    """MATH-500 (Hendrycks et al., 2021; Lightman et al., 2023): free-form answers, math-aware comparison."""

    name = "math500"
    answer_format = "boxed"
    splits = ("dev", "test")

    def load(self, split: Split) -> Sequence[Example]:
        """All 500 problems for test; those whose id hashes to 0 mod 5 for dev."""
        items = _load(self.data_root)
        return items if split == "test" else tuple(e for e in items if stable_hash(f"math500/dev/{e.id}") % 5 == 0)

    def prompt(self, example: Example) -> list[Message]:
        """One user message: the problem and the ``\\boxed{}`` instruction."""
        return [Message(role="user", content=_INSTRUCTION + example.question)]

    def extract(self, text: str, example: Example) -> str | None:
        """The last ``\\boxed{…}`` (braces balanced), else the stated "answer is …"."""
        return extract_math(text)

    def same(self, a: str, b: str, example: Example) -> bool:
        """Mathematically equivalent (``\\frac{1}{2}`` ≡ ``0.5``), by ``mathcheck.equivalent``."""
        return equivalent(a, b)
