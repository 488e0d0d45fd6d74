"""Recorded real model outputs from the shared data, indexed by replay model name and example id.

Each table is read once per process and data directory (``functools.lru_cache``) with the ``csv`` / ``json``
modules, into compact columns: the 29 × 12,032 MMLU-Pro matrix costs one character and one integer per cell.

Sources (see the data directory's README and MANIFEST):

- ``mmlu_pro/model_predictions.csv``: for each of 29 models and 12,032 questions, the letter the model's
  5-shot chain of thought ended on (``''`` where the MMLU-Pro harness could parse none) and the length of that
  output in characters (blank where no output was recorded at all). Only these two facts are real; the replay
  text is written around them (see ``collabgraph.models.replay.text``).
- ``routellm/gsm8k_responses.csv``: the full responses of GPT-4-1106-preview and Mixtral-8x7B-Instruct-v0.1 on
  the 1,319 GSM8K test questions, keyed by question text and mapped to ``gsm8k/test/{line}`` through
  ``gsm8k/test.jsonl``.
- ``gsm8k/example_model_solutions.jsonl``: the full solutions of four GPT-3 configurations (Cobbe et al., 2021),
  likewise mapped by question text.
"""

from __future__ import annotations

import csv
import json
from array import array
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from collabgraph.tasks.data import data_file

__all__ = [
    "GPT3_CONFIGS",
    "GSM8K_SOURCES",
    "ROUTELLM_COLUMNS",
    "Gsm8kTable",
    "MmluProTable",
    "load_gsm8k",
    "load_mmlu_pro",
]

MMLU_PRO_PREDICTIONS = "mmlu_pro/model_predictions.csv"
GSM8K_TEST = "gsm8k/test.jsonl"
ROUTELLM_GSM8K = "routellm/gsm8k_responses.csv"
GPT3_GSM8K = "gsm8k/example_model_solutions.jsonl"

ROUTELLM_COLUMNS: dict[str, str] = {
    "gpt-4-1106-preview": "gpt-4-1106-preview",
    "Mixtral-8x7B-Instruct-v0.1": "mistralai/Mixtral-8x7B-Instruct-v0.1",
}
"""Replay model name → its column in ``routellm/gsm8k_responses.csv`` (``<column>_response`` holds the text)."""

GPT3_CONFIGS: dict[str, str] = {
    "gpt3-6b-finetuning": "6b_finetuning",
    "gpt3-6b-verification": "6b_verification",
    "gpt3-175b-finetuning": "175b_finetuning",
    "gpt3-175b-verification": "175b_verification",
}
"""Replay model name → its key in ``gsm8k/example_model_solutions.jsonl``."""

GSM8K_SOURCES: dict[str, str] = {
    **dict.fromkeys(ROUTELLM_COLUMNS, ROUTELLM_GSM8K),
    **dict.fromkeys(GPT3_CONFIGS, GPT3_GSM8K),
}
"""Replay model name → the shared-data file its GSM8K recordings come from."""

UNPARSED = "-"
"""Stored in place of the empty letter: the harness parsed no answer from the model's output."""


@dataclass(frozen=True)
class MmluProTable:
    """The MMLU-Pro prediction matrix. ``preds[model][row]`` is a letter or ``UNPARSED``; ``chars[model][row]``
    the output length in characters, -1 where no output was recorded."""

    models: tuple[str, ...]
    rows: dict[str, int]
    preds: dict[str, str]
    chars: dict[str, array[int]]

    def lookup(self, model: str, example_id: str) -> tuple[str, int] | None:
        """(letter or ``''``, length or -1) of ``model`` on ``example_id``; None when the id has no row."""
        row = self.rows.get(example_id)
        if row is None:
            return None
        pred = self.preds[model][row]
        return ("" if pred == UNPARSED else pred), self.chars[model][row]


@dataclass(frozen=True)
class Gsm8kTable:
    """Full recorded GSM8K responses: ``texts[model][example_id]``, with the recorded correctness where the
    source file has it, and how many source rows could not be matched to a test question (per file)."""

    texts: dict[str, dict[str, str]]
    correct: dict[str, dict[str, bool]]
    unmatched: dict[str, int] = field(default_factory=dict)


@lru_cache(maxsize=4)
def load_mmlu_pro(root: Path) -> MmluProTable:
    """Read ``mmlu_pro/model_predictions.csv`` under data directory ``root`` (once per process)."""
    path = data_file(MMLU_PRO_PREDICTIONS, root)
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        models = tuple(col[: -len(":pred")] for col in header if col.endswith(":pred"))
        pred_col = {m: header.index(f"{m}:pred") for m in models}
        chars_col = {m: header.index(f"{m}:chars") for m in models}
        rows: dict[str, int] = {}
        preds: dict[str, list[str]] = {m: [] for m in models}
        chars: dict[str, array[int]] = {m: array("l") for m in models}
        for i, record in enumerate(reader):
            rows[f"mmlu_pro/{record[0]}"] = i
            for m in models:
                preds[m].append(record[pred_col[m]] or UNPARSED)
                length = record[chars_col[m]]
                chars[m].append(int(length) if length else -1)
    return MmluProTable(models=models, rows=rows, preds={m: "".join(p) for m, p in preds.items()}, chars=chars)


@lru_cache(maxsize=4)
def load_gsm8k(root: Path) -> Gsm8kTable:
    """Read the recorded GSM8K responses under data directory ``root`` (once per process)."""
    line_of: dict[str, int] = {}
    with data_file(GSM8K_TEST, root).open(encoding="utf-8") as fh:
        for i, raw in enumerate(fh):
            line_of.setdefault(json.loads(raw)["question"], i)

    texts: dict[str, dict[str, str]] = {m: {} for m in GSM8K_SOURCES}
    correct: dict[str, dict[str, bool]] = {m: {} for m in GSM8K_SOURCES}
    unmatched = {ROUTELLM_GSM8K: 0, GPT3_GSM8K: 0}

    with data_file(ROUTELLM_GSM8K, root).open(newline="", encoding="utf-8") as fh:
        for record in csv.DictReader(fh):
            line = line_of.get(record["prompt"])
            if line is None:
                unmatched[ROUTELLM_GSM8K] += 1
                continue
            example_id = f"gsm8k/test/{line}"
            for model, column in ROUTELLM_COLUMNS.items():
                texts[model][example_id] = record[f"{column}_response"]
                correct[model][example_id] = record[column] == "True"

    with data_file(GPT3_GSM8K, root).open(encoding="utf-8") as fh:
        for raw in fh:
            item = json.loads(raw)
            line = line_of.get(item["question"])
            if line is None:
                unmatched[GPT3_GSM8K] += 1
                continue
            example_id = f"gsm8k/test/{line}"
            for model, key in GPT3_CONFIGS.items():
                texts[model][example_id] = item[key]["solution"]
                correct[model][example_id] = bool(item[key]["is_correct"])

    return Gsm8kTable(texts=texts, correct=correct, unmatched=unmatched)
