"""The task contract: examples, prompts, answer extraction and scoring, shared by every task."""

from __future__ import annotations

from typing import Any, Literal, Protocol, get_args, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from collabgraph.errors import UnknownNameError

__all__ = ["AnswerFormat", "Example", "Message", "Score", "Split", "Task", "as_split"]

AnswerFormat = Literal["gsm8k", "boxed", "letter", "code", "expression"]
"""How a model is asked to state its final answer:
``gsm8k`` ends with ``#### 42``; ``boxed`` with ``\\boxed{…}``; ``letter`` with ``The answer is (B)``;
``code`` is a fenced Python block; ``expression`` is an arithmetic expression (countdown, game24)
ending with ``Answer: (3+5)*3``."""

Split = Literal["train", "dev", "test"]


def as_split(name: str) -> Split:
    """``name`` as a ``Split`` (a user's ``--split``); UnknownNameError naming the closest split otherwise. Whether
    a particular task has that split is the task's to say (``BaseTask.examples``)."""
    splits: tuple[Split, ...] = get_args(Split)
    for split in splits:
        if split == name:
            return split
    raise UnknownNameError("split", name, splits)


class Message(BaseModel):
    """One chat message."""

    model_config = ConfigDict(frozen=True)
    role: Literal["system", "user", "assistant"]
    content: str


class Example(BaseModel):
    """One task item. ``answer`` is the gold answer as a canonical string (for code: the canonical solution).

    ``distractors`` are plausible wrong answers for this item (recorded real wrong answers where the data has
    them), most popular first; the offline simulator draws its wrong answers from them so that errors cluster
    as they do with real models. ``difficulty`` is the item's percentile rank of difficulty within its task, in
    [0, 1] (0 easiest), computed from real data where it exists (how many of the 29 recorded models got an
    MMLU-Pro question right, recorded GPT-3/GPT-4/Mixtral correctness on GSM8K, MATH level, Game-of-24 human solve
    rate; ties broken by a hash of the id so ranks are distinct), and None where the data has nothing, in which
    case the simulator derives a uniform one from the id. Being a percentile, it is uniform over the task, which
    lets the simulator calibrate abilities without seeing the whole data set. ``meta`` holds task specifics (HumanEval ``entry_point``, ``test``,
    ``prompt``; countdown ``numbers`` and ``target``).

    Example ids are stable and global: ``gsm8k/test/17`` (line index in the official file), ``math500/<unique_id>``
    (``math500/test/precalculus/807.json``), ``mmlu_pro/<question_id>``, ``HumanEval/0`` (the task_id),
    ``game24/<rank>``, ``countdown/<seed>/<index>``. The replay pool looks recorded answers up by them."""

    model_config = ConfigDict(frozen=True)
    id: str
    task: str
    question: str
    answer: str
    answer_format: AnswerFormat
    distractors: tuple[str, ...] = ()
    difficulty: float | None = Field(default=None, ge=0.0, le=1.0)
    meta: dict[str, Any] = Field(default_factory=dict)


class Score(BaseModel):
    """The verdict on one response: the extracted answer (None when nothing could be extracted)."""

    model_config = ConfigDict(frozen=True)
    correct: bool
    extracted: str | None
    detail: str = ""


@runtime_checkable
class Task(Protocol):
    """What every task provides. ``score`` is async because code tasks execute tests.

    ``name`` and ``answer_format`` are read-only members, so a task may hold them as class constants (as
    ``BaseTask`` does), as instance attributes, or as properties."""

    @property
    def name(self) -> str:
        """The registered task name (``gsm8k``)."""
        ...

    @property
    def answer_format(self) -> AnswerFormat:
        """How the task asks models to state their final answer."""
        ...

    def examples(self, split: Split = "test", limit: int | None = None, seed: int = 0) -> list[Example]:
        """Examples of a split in a seeded order; ``limit`` takes the first ``limit`` of that order."""
        ...

    def prompt(self, example: Example) -> list[Message]:
        """The chat messages that pose ``example`` to a model, with instructions on the answer format."""
        ...

    def extract(self, text: str, example: Example) -> str | None:
        """The final answer stated in a model's ``text``, normalised; None when none is found."""
        ...

    def same(self, a: str, b: str, example: Example) -> bool:
        """Whether two extracted answers are equivalent (math-aware); used for voting and scoring."""
        ...

    async def score(self, text: str, example: Example) -> Score:
        """Extract and check a response against the gold answer."""
        ...
