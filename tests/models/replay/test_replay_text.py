"""The MMLU-Pro placeholder text: recorded letter (or none), about the recorded length, nothing else to extract."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from collabgraph.models.replay import estimate_tokens, mmlu_pro_text

LETTERS = "ABCDEFGHIJ"
# Every way an MMLU-Pro answer extractor finds a letter: "answer is (X)", "Answer: X", "(X)", a standalone capital.
_ANY_LETTER = re.compile(r"answer|\([A-J]\)|(?<![\w'])[A-J](?![\w'])", re.IGNORECASE)


@given(pred=st.sampled_from(LETTERS), chars=st.integers(1, 20_000), key=st.text(max_size=30))
def test_text_ends_with_the_recorded_letter_and_names_no_other(pred: str, chars: int, key: str) -> None:
    text = mmlu_pro_text(pred, chars, key)
    ending = f"The answer is ({pred})."
    assert text.endswith(ending)
    assert not _ANY_LETTER.search(text[: -len(ending)])


@given(chars=st.integers(1, 20_000), key=st.text(max_size=30))
def test_unparsed_text_names_no_option(chars: int, key: str) -> None:
    text = mmlu_pro_text("", chars, key)
    assert text
    assert not _ANY_LETTER.search(text)


@given(pred=st.sampled_from([*LETTERS, ""]), chars=st.integers(200, 20_000), key=st.text(max_size=30))
def test_length_is_within_half_a_filler_sentence_of_the_record(pred: str, chars: int, key: str) -> None:
    assert abs(len(mmlu_pro_text(pred, chars, key)) - chars) <= 40


def test_text_is_deterministic_and_varies_with_the_key() -> None:
    assert mmlu_pro_text("B", 900, "m/q1") == mmlu_pro_text("B", 900, "m/q1")
    assert len({mmlu_pro_text("B", 900, f"m/q{i}") for i in range(20)}) > 1


def test_short_records_keep_the_letter_and_missing_records_are_empty() -> None:
    assert mmlu_pro_text("C", 3, "k") == "The answer is (C)."
    assert mmlu_pro_text("C", -1, "k") == ""
    assert mmlu_pro_text("", 0, "k") == ""


@given(st.text(max_size=200))
def test_tokens_are_chars_over_four_rounded_up(text: str) -> None:
    assert estimate_tokens(text) == (len(text) + 3) // 4
