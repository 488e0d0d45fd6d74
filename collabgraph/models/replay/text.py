"""Replay text for MMLU-Pro, where the record holds only the chosen letter and the output's length, and the
token estimate every replay sample is accounted with.

The text is a placeholder of the recorded length that says so in its first sentence, then ends with
``The answer is (X).`` — the exact phrase MMLU-Pro's 5-shot prompts teach — or, where the harness parsed no
letter, with a sentence that names no option. The placeholder never contains the word "answer", an option
letter standing alone, or a ``(X)``, so an answer extractor finds exactly the recorded letter or nothing.
"""

from __future__ import annotations

import hashlib

__all__ = ["CHARS_PER_TOKEN", "estimate_tokens", "mmlu_pro_text"]

CHARS_PER_TOKEN = 4
"""English text averages about four characters per token with the tokenizers of these model families; the
replay pool has no tokenizer for 34 different models, so it counts tokens as ``ceil(chars / 4)``."""

_NOTICE = (
    "[replay: only the chosen option and the length of the original output are on record; "
    "this text stands in for its reasoning.]"
)
_FILLER = (
    "Let's think step by step.",
    "The key terms of the question are restated first.",
    "Each option is weighed against the facts given in the question.",
    "Options that contradict the premise are ruled out.",
    "The remaining options are compared on the details that matter.",
    "Standard definitions and known results are applied where relevant.",
    "The reasoning is checked once more before committing.",
)
_UNPARSED_ENDING = "No single option can be settled on with confidence here."


def estimate_tokens(text: str) -> int:
    """Tokens in ``text`` at ``CHARS_PER_TOKEN`` characters per token, rounded up."""
    return -(-len(text) // CHARS_PER_TOKEN)


def mmlu_pro_text(pred: str, chars: int, key: str) -> str:
    """A text of about ``chars`` characters (within half a filler sentence) ending in ``The answer is ({pred}).``, or naming no option when
    ``pred`` is ``''``. ``chars < 0`` (no output recorded) and ``chars == 0`` give ``''``. ``key`` (model and
    question) picks where the filler starts, so texts differ between records but never between calls."""
    if chars <= 0:
        return ""
    ending = f"The answer is ({pred})." if pred else _UNPARSED_ENDING
    budget = chars - len(ending) - 1
    if budget < len(_NOTICE):
        return ending
    start = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % len(_FILLER)
    parts = [_NOTICE]
    used = len(_NOTICE)
    i = start
    # Whole sentences, each taken while it brings the length nearer the record: the text lands within half a
    # sentence of the recorded length, as often above as below, so token totals stay unbiased.
    while True:
        sentence = _FILLER[i % len(_FILLER)]
        if abs(used + 1 + len(sentence) - budget) >= abs(used - budget):
            break
        parts.append(sentence)
        used += 1 + len(sentence)
        i += 1
    return " ".join(parts) + " " + ending
