"""Game of 24: make 24 from four numbers with ``+ - * /``, each number used exactly once.

Puzzles are the 1,362 of Tree of Thoughts' ``24.csv``, ranked easiest first by human solve rate (ids
``game24/<Rank>``). Splits: ``test`` is ranks 901–1000, the 100 games Tree of Thoughts reports on; ``dev`` is
ranks 801–900, the nearest in difficulty; ``train`` is every other rank. The gold answer is a solution found by
``expression.solve``; difficulty is the percentile of the human failure rate.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Sequence

from collabgraph.tasks.base import percentile_ranks
from collabgraph.tasks.data import data_file
from collabgraph.tasks.expression import near_misses, solve
from collabgraph.tasks.puzzle import ArithmeticPuzzle
from collabgraph.tasks.types import Example, Message, Split

__all__ = ["DEV_RANKS", "TEST_RANKS", "Game24Task"]

TEST_RANKS = range(901, 1001)
DEV_RANKS = range(801, 901)
TARGET = 24


@functools.lru_cache(maxsize=2)
def _load(data_dir: str) -> tuple[Example, ...]:
    with data_file("game24/24.csv", data_dir).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    ids = [f"game24/{row['Rank']}" for row in rows]
    failure = {id_: 1.0 - float(row["Solved rate"].rstrip("%")) / 100 for id_, row in zip(ids, rows, strict=True)}
    ranks = percentile_ranks(failure)
    examples = []
    for id_, row in zip(ids, rows, strict=True):
        numbers = [int(n) for n in row["Puzzles"].split()]
        solution = solve(numbers, TARGET)
        if solution is None:
            raise ValueError(f"{id_} ({row['Puzzles']}) has no solution; is game24/24.csv the official file?")
        examples.append(
            Example(
                id=id_,
                task="game24",
                question=" ".join(map(str, numbers)),
                answer=solution,
                answer_format="expression",
                distractors=near_misses(solution, TARGET),
                difficulty=ranks[id_],
                meta={
                    "numbers": numbers,
                    "target": TARGET,
                    "rank": int(row["Rank"]),
                    "solved_rate": row["Solved rate"],
                },
            )
        )
    return tuple(examples)


class Game24Task(ArithmeticPuzzle):
    """Game of 24 (Yao et al., 2023, Tree of Thoughts), checked by exact replay of the arithmetic."""

    name = "game24"
    splits = ("train", "dev", "test")

    def load(self, split: Split) -> Sequence[Example]:
        """The puzzles of the split's ranks, in rank order."""
        items = _load(self.data_root)
        if split == "test":
            return tuple(e for e in items if e.meta["rank"] in TEST_RANKS)
        if split == "dev":
            return tuple(e for e in items if e.meta["rank"] in DEV_RANKS)
        return tuple(e for e in items if e.meta["rank"] not in TEST_RANKS and e.meta["rank"] not in DEV_RANKS)

    def prompt(self, example: Example) -> list[Message]:
        """One user message: the four numbers, the rules and the ``Answer: <expression>`` instruction."""
        numbers = " ".join(map(str, example.meta["numbers"]))
        return [
            Message(
                role="user",
                content=(
                    f"Use the numbers {numbers} and the basic arithmetic operations (+ - * /) to obtain {TARGET}. "
                    "Each number must be used exactly once; parentheses are allowed. Reason step by step, then "
                    "give the expression on its own last line as `Answer: <expression>`, "
                    "for example `Answer: (1 + 2 + 3) * 4`."
                ),
            )
        ]
