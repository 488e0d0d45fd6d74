"""MMLU-Pro: 12,032 multiple-choice questions with up to ten options, answered with a letter.

Splits: ``test`` is all 12,032 questions (ids ``mmlu_pro/<question_id>``), which is what reproducing the 29
recorded models' accuracies needs; ``dev`` is the tenth whose id hashes to 0 mod 10 (about 1,200), a subset of
test. Distractors and difficulty come from what those 29 real models answered (``model_predictions.csv``).
"""

from __future__ import annotations

import csv
import functools
import json
from collections import Counter
from collections.abc import Sequence

from collabgraph.tasks.base import BaseTask, percentile_ranks, stable_hash
from collabgraph.tasks.data import data_file
from collabgraph.tasks.extract import extract_letter
from collabgraph.tasks.types import Example, Message, Split

__all__ = ["LETTERS", "MMLUProTask", "recorded_predictions"]

LETTERS = "ABCDEFGHIJ"


@functools.lru_cache(maxsize=2)
def recorded_predictions(data_dir: str) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """The 29 recorded models' names and, per question id (as in the file, e.g. ``"70"``), their predicted
    letters in that order (``""`` where the model's answer could not be parsed)."""
    with data_file("mmlu_pro/model_predictions.csv", data_dir).open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        cols = [i for i, name in enumerate(header) if name.endswith(":pred")]
        models = tuple(header[i].removesuffix(":pred") for i in cols)
        return models, {row[0]: tuple(row[i] for i in cols) for row in reader}


def _prompt_text(example: Example) -> str:
    options = "\n".join(f"({LETTERS[i]}) {text}" for i, text in enumerate(example.meta["options"]))
    subject = str(example.meta.get("category", "")).replace("_", " ")
    return (
        f"The following is a multiple choice question about {subject}. Think step by step and then finish your "
        'answer with "The answer is (X)" where X is the correct letter choice.\n\n'
        f"Question: {example.question}\nOptions:\n{options}"
    )


@functools.lru_cache(maxsize=2)
def _load(data_dir: str) -> tuple[Example, ...]:
    with data_file("mmlu_pro/questions.jsonl", data_dir).open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    _, preds = recorded_predictions(data_dir)
    ids = [f"mmlu_pro/{row['question_id']}" for row in rows]
    wrong_share = {}
    distractors = {}
    for id_, row in zip(ids, rows, strict=True):
        gold, valid = row["answer"], LETTERS[: len(row["options"])]
        recorded = preds.get(str(row["question_id"]), ())
        wrong_share[id_] = sum(p != gold for p in recorded) / len(recorded) if recorded else 0.5
        votes = Counter(p for p in recorded if p and p != gold and p in valid)
        popular = sorted(votes, key=lambda letter: (-votes[letter], letter))
        distractors[id_] = tuple(popular + [x for x in valid if x != gold and x not in votes])
    ranks = percentile_ranks(wrong_share)
    return tuple(
        Example(
            id=id_,
            task="mmlu_pro",
            question=row["question"],
            answer=row["answer"],
            answer_format="letter",
            distractors=distractors[id_],
            difficulty=ranks[id_],
            meta={"options": list(row["options"]), "category": row["category"], "src": row["src"]},
        )
        for id_, row in zip(ids, rows, strict=True)
    )


class MMLUProTask(BaseTask):
    """MMLU-Pro (Wang et al., 2024), 5-shot-CoT style prompt without the shots; scored by letter."""

    name = "mmlu_pro"
    answer_format = "letter"
    splits = ("dev", "test")

    def load(self, split: Split) -> Sequence[Example]:
        """All questions for test; those whose id hashes to 0 mod 10 for dev."""
        items = _load(self.data_root)
        return items if split == "test" else tuple(e for e in items if stable_hash(f"mmlu_pro/dev/{e.id}") % 10 == 0)

    def prompt(self, example: Example) -> list[Message]:
        """One user message: the question, its options as ``(A) …``, and the "The answer is (X)" instruction."""
        return [Message(role="user", content=_prompt_text(example))]

    def extract(self, text: str, example: Example) -> str | None:
        """The chosen letter among this question's options (see ``extract.extract_letter``)."""
        return extract_letter(text, len(example.meta.get("options", LETTERS)))

    def same(self, a: str, b: str, example: Example) -> bool:
        """The same letter, ignoring case and surrounding parentheses."""
        return a.strip("() ").upper() == b.strip("() ").upper()
