"""Countdown: reach a target from a handful of numbers with ``+ - * /``, each number used exactly once.

Procedural, no data files. Instance ``index`` of generator ``seed`` is drawn by ``random.Random`` seeded with
``(seed, knobs, index)``: ``n_numbers`` numbers in ``1..max_number``, combined pairwise in a random order with
random operations that keep every intermediate a positive whole number, until one value is left; the draw is
kept when that value lies in ``min_target..max_target``. The construction is the stored solution, so every
instance is solvable. Ids are ``countdown/<seed>/<index>`` with the default knobs; other knobs join the seed
part (``countdown/0-n6-t100-999-m100/5``) so that an id always names one instance.

Splits are disjoint index ranges: test ``[0, test_size)``, dev the next ``dev_size``, train the next
``train_size``.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collabgraph.errors import ConfigError, ErrorItem
from collabgraph.tasks.expression import check_expression, near_misses
from collabgraph.tasks.puzzle import ArithmeticPuzzle
from collabgraph.tasks.types import Example, Message, Split

__all__ = ["CountdownConfig", "CountdownTask", "generate"]

_MAX_DRAWS = 2_000


@dataclass(frozen=True)
class CountdownConfig:
    """The difficulty knobs. More numbers and larger targets make harder puzzles."""

    n_numbers: int = 4
    min_target: int = 10
    max_target: int = 100
    max_number: int = 100
    seed: int = 0

    def problems(self) -> list[ErrorItem]:
        """What is wrong with these knobs, if anything."""
        out = []
        if not 3 <= self.n_numbers <= 6:
            out.append(ErrorItem("n_numbers", f"must be between 3 and 6, got {self.n_numbers}"))
        if not 1 <= self.min_target <= self.max_target:
            out.append(
                ErrorItem("min_target", f"need 1 <= min_target <= max_target, got {self.min_target}..{self.max_target}")
            )
        if self.max_number < 2:
            out.append(ErrorItem("max_number", f"must be at least 2, got {self.max_number}"))
        elif not out and self.min_target > self.max_number**self.n_numbers:
            out.append(
                ErrorItem(
                    "min_target",
                    f"{self.n_numbers} numbers up to {self.max_number} reach at most "
                    f"{self.max_number**self.n_numbers}, below min_target {self.min_target}",
                )
            )
        return out

    @property
    def tag(self) -> str:
        """The seed part of an id: the seed alone for the default knobs, else the seed and every knob."""
        if (self.n_numbers, self.min_target, self.max_target, self.max_number) == (4, 10, 100, 100):
            return str(self.seed)
        return f"{self.seed}-n{self.n_numbers}-t{self.min_target}-{self.max_target}-m{self.max_number}"


def _ops(a: int, b: int) -> list[tuple[int, str]]:
    """Operations on two positive whole numbers that give a positive whole number: (result, operator)."""
    out = [(a + b, "+"), (a * b, "*")]
    if a > b:
        out.append((a - b, "-"))
    if b > 1 and a % b == 0:
        out.append((a // b, "/"))
    return out


def _draw(rng: random.Random, config: CountdownConfig) -> tuple[list[int], int, str] | None:
    numbers = [rng.randint(1, config.max_number) for _ in range(config.n_numbers)]
    # Each term: (value, text, precedence of its top operator: 3 atom, 2 for * and /, 1 for + and -).
    terms: list[tuple[int, str, int]] = [(n, str(n), 3) for n in numbers]
    while len(terms) > 1:
        i, j = rng.sample(range(len(terms)), 2)
        (a, ea, pa), (b, eb, pb) = sorted([terms[i], terms[j]], key=lambda t: -t[0])
        value, op = rng.choice(_ops(a, b))
        prec = 1 if op in "+-" else 2
        left = f"({ea})" if pa < prec else ea
        right = f"({eb})" if pb < prec or (pb == prec and op in "-/") else eb
        terms = [t for k, t in enumerate(terms) if k not in (i, j)] + [(value, f"{left} {op} {right}", prec)]
    target, solution = terms[0][0], terms[0][1]
    if not config.min_target <= target <= config.max_target:
        return None
    return numbers, target, solution


@functools.lru_cache(maxsize=1 << 14)
def generate(config: CountdownConfig, index: int) -> Example:
    """Instance ``index`` of the puzzles ``config`` describes; the same arguments always give the same puzzle."""
    rng = random.Random(f"countdown/{config.tag}/{index}")
    for _ in range(_MAX_DRAWS):
        drawn = _draw(rng, config)
        if drawn is not None:
            break
    else:
        raise ConfigError(
            "task 'countdown'",
            [
                ErrorItem(
                    "min_target",
                    f"{_MAX_DRAWS} draws of {config.n_numbers} numbers up to {config.max_number} never landed in "
                    f"{config.min_target}..{config.max_target}",
                    "widen the target range",
                )
            ],
        )
    numbers, target, solution = drawn
    assert check_expression(solution, numbers, target).valid
    return Example(
        id=f"countdown/{config.tag}/{index}",
        task="countdown",
        question=f"numbers {numbers}, target {target}",
        answer=solution,
        answer_format="expression",
        distractors=near_misses(solution, target),
        meta={"numbers": numbers, "target": target},
    )


class CountdownTask(ArithmeticPuzzle):
    """Countdown (as in TinyZero and Stream of Search): generated puzzles, checked by exact arithmetic replay.

    Options: ``n_numbers`` (3–6, default 4), ``min_target``/``max_target`` (10/100), ``max_number`` (100),
    ``seed`` (0), and split sizes ``test_size`` (1000), ``dev_size`` (200), ``train_size`` (5000)."""

    name = "countdown"
    splits = ("train", "dev", "test")
    option_names = (
        "n_numbers",
        "min_target",
        "max_target",
        "max_number",
        "seed",
        "test_size",
        "dev_size",
        "train_size",
    )

    def __init__(self, data_dir: str | Path | None = None, **options: Any) -> None:
        super().__init__(data_dir, **options)
        sizes = {"test": 1000, "dev": 200, "train": 5000}
        knobs: dict[str, int] = {}
        errors = []
        for key, value in options.items():
            if not isinstance(value, int) or isinstance(value, bool):
                errors.append(ErrorItem(key, f"must be a whole number, got {value!r}"))
            elif key.endswith("_size"):
                if value < 0:
                    errors.append(ErrorItem(key, f"must be >= 0, got {value}"))
                sizes[key.removesuffix("_size")] = value
            else:
                knobs[key] = value
        self.config = CountdownConfig(**knobs)
        errors += self.config.problems()
        if errors:
            raise ConfigError("task 'countdown'", errors)
        self.sizes = sizes

    def load(self, split: Split) -> Sequence[Example]:
        """The split's index range, generated on demand (each instance is cached)."""
        start = {"test": 0, "dev": self.sizes["test"], "train": self.sizes["test"] + self.sizes["dev"]}[split]
        return [generate(self.config, i) for i in range(start, start + self.sizes[split])]

    def prompt(self, example: Example) -> list[Message]:
        """One user message: numbers, target, rules and the ``Answer: <expression>`` instruction."""
        numbers = ", ".join(map(str, example.meta["numbers"]))
        return [
            Message(
                role="user",
                content=(
                    f"Using the numbers [{numbers}], create an expression that equals {example.meta['target']}. "
                    "You can use the basic arithmetic operations (+, -, *, /) and parentheses, and each number must "
                    "be used exactly once. Reason step by step, then give the expression on its own last line as "
                    "`Answer: <expression>`, for example `Answer: (1 + 2) * 3`."
                ),
            )
        ]
