"""What the built-in tasks share: options checking, seeded example order, scoring, difficulty percentiles."""

from __future__ import annotations

import hashlib
import random
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from collabgraph.errors import ConfigError, ErrorItem, UnknownNameError, closest
from collabgraph.settings import data_dir as data_dir_setting
from collabgraph.tasks.types import AnswerFormat, Example, Message, Score, Split, Task

__all__ = ["BaseTask", "UnknownSplitError", "percentile_ranks", "stable_hash"]


def stable_hash(text: str) -> int:
    """A 64-bit hash of ``text`` that is the same in every process (unlike ``hash()``)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def percentile_ranks(hardness: Mapping[str, float]) -> dict[str, float]:
    """Each id's percentile rank in [0, 1] by ``hardness`` (higher is harder; 0 is the easiest item).

    Ties are broken by a stable hash of the id, so ranks are distinct and uniform over the items."""
    order = sorted(hardness, key=lambda key: (hardness[key], stable_hash(key)))
    if len(order) == 1:
        return {order[0]: 0.5}
    last = len(order) - 1
    return {key: i / last for i, key in enumerate(order)}


class UnknownSplitError(UnknownNameError):
    """A split a task does not have; the message lists the task's splits."""

    def __init__(self, task: str, split: str, known: Sequence[str]) -> None:
        super().__init__("split", split, known)
        hint = f" did you mean {self.suggestions[0]!r}?" if self.suggestions else ""
        self.args = (f"task {task!r} has no split {split!r};{hint} its splits are: {', '.join(known)}",)


class BaseTask(Task, ABC):
    """Shared behaviour of the built-in tasks. Subclasses set ``name``, ``answer_format``, ``splits`` and
    ``option_names``, and implement ``load``, ``prompt``, ``extract`` and ``same``. It subclasses the ``Task``
    protocol explicitly so that mypy checks, here, that every subclass is a ``Task``.

    ``examples`` returns a seeded shuffle of a split's items (``random.Random`` seeded with the task, split and
    ``seed``); ``limit`` takes a prefix of that order, so ``limit=300`` is a subset of ``limit=600`` for the same
    seed."""

    name: ClassVar[str]
    answer_format: ClassVar[AnswerFormat]
    splits: ClassVar[tuple[Split, ...]]
    option_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, data_dir: str | Path | None = None, **options: Any) -> None:
        unknown = [key for key in options if key not in self.option_names]
        if unknown:
            valid = ", ".join(self.option_names) or "none"
            raise ConfigError(
                f"task {self.name!r}",
                [
                    ErrorItem(key, f"unknown option (valid options: {valid})", _did_you_mean(key, self.option_names))
                    for key in unknown
                ],
            )
        self.data_dir = data_dir

    @property
    def data_root(self) -> str:
        """The resolved data directory, as a string: the key of the per-process caches of parsed data."""
        return str(data_dir_setting(self.data_dir))

    @abstractmethod
    def load(self, split: Split) -> Sequence[Example]:
        """All items of ``split`` in the data's own order."""

    def examples(self, split: Split = "test", limit: int | None = None, seed: int = 0) -> list[Example]:
        """The items of ``split`` in a seeded shuffled order, the first ``limit`` of them if given."""
        if split not in self.splits:
            raise UnknownSplitError(self.name, split, self.splits)
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be a non-negative number of examples, got {limit}")
        items = list(self.load(split))
        random.Random(f"{self.name}/{split}/{seed}").shuffle(items)
        return items if limit is None else items[:limit]

    @abstractmethod
    def prompt(self, example: Example) -> list[Message]:
        """The chat messages that pose ``example``, with instructions on the answer format."""

    @abstractmethod
    def extract(self, text: str, example: Example) -> str | None:
        """The final answer stated in ``text``; None when there is none."""

    @abstractmethod
    def same(self, a: str, b: str, example: Example) -> bool:
        """Whether two extracted answers are equivalent."""

    async def score(self, text: str, example: Example) -> Score:
        """Extract the answer from ``text`` and compare it with the gold answer."""
        extracted = self.extract(text, example)
        if extracted is None:
            return Score(correct=False, extracted=None, detail="no final answer found")
        correct = self.same(extracted, example.answer, example)
        return Score(correct=correct, extracted=extracted, detail="" if correct else f"expected {example.answer}")


def _did_you_mean(name: str, choices: Iterable[str]) -> str | None:
    near = closest(name, choices, n=1)
    return f"did you mean {near[0]!r}?" if near else None
