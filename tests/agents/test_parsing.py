"""Parsers of structured parts of model text: what the sim writes and what real models write instead."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collabgraph.agents import parse_plan, parse_selection, parse_verdict, printed_answer
from collabgraph.models.sim.context import critique_text, plan_text

PROSE = st.text(alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Nd", "Zs")), max_size=200).filter(
    lambda s: "verdict" not in s.lower()
)


@pytest.mark.parametrize("flag", [True, False])
def test_the_sims_critiques_parse_to_their_verdict(flag: bool) -> None:
    for seed in range(20):
        text = critique_text(flag, "18", "20", random.Random(seed))
        assert parse_verdict(text) == ("rejected" if flag else "accepted")


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("Step 1: fine.\nVERDICT: CORRECT", "accepted"),
        ("Step 1: fine.\n\n**Verdict:** Incorrect", "rejected"),
        ("**VERDICT**: **CORRECT**", "accepted"),
        ("Verdict - the solution is correct.", "accepted"),
        ("Final verdict: the solution is not correct.", "rejected"),
        ("Verdict: isn't correct", "rejected"),
        ("Verdict: the setup is right but the final answer is wrong", "rejected"),
        ("VERDICT: There is no error; the answer is correct.", "accepted"),
        ("verdict: accepted", "accepted"),
        ("Verdict: REJECT", "rejected"),
        ("Earlier I wrote VERDICT: INCORRECT, but on reflection:\nVERDICT: CORRECT", "accepted"),
        ("The arithmetic in step 2 is off.\n\nINCORRECT", "rejected"),
        ("Everything checks out.\n**Correct.**", "accepted"),
    ],
)
def test_real_llm_style_verdicts(text: str, verdict: str) -> None:
    assert parse_verdict(text) == verdict


@pytest.mark.parametrize(
    "text",
    ["", "The solution looks plausible overall.", "Step 1: correct.\nStep 2: the sum is 12, I think it might be fine"],
)
def test_no_verdict_is_none(text: str) -> None:
    assert parse_verdict(text) is None


@given(prose=PROSE, accepted=st.booleans(), style=st.sampled_from(["VERDICT: {}", "**Verdict:** {}", "Verdict - {}"]))
def test_a_closing_verdict_line_decides_whatever_comes_before(prose: str, accepted: bool, style: str) -> None:
    word = "CORRECT" if accepted else "INCORRECT"
    assert parse_verdict(prose + "\n" + style.format(word)) == ("accepted" if accepted else "rejected")


def test_the_sims_selection_line() -> None:
    text = "Comparing the 3 candidate solutions: …\nCandidate 2 is the most convincing.\nSELECTED: 2\nSteps.\n#### 18"
    assert parse_selection(text, 3) == 1


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("**Selected:** Candidate #3", 2),
        ("Selection: 1", 0),
        ("After checking, I choose candidate 2.", 1),
        ("I pick solution 1 because its arithmetic holds.", 0),
        ("The best candidate is Candidate 3.", 2),
        ("Candidate 2 is the best of the three.", 1),
        ("SELECTED: 1\n...later...\nSELECTED: 3", 2),
    ],
)
def test_real_llm_style_selections(text: str, index: int) -> None:
    assert parse_selection(text, 3) == index


@pytest.mark.parametrize("text", ["SELECTED: 4", "SELECTED: 0", "They all look similar.", ""])
def test_no_valid_selection_is_none(text: str) -> None:
    assert parse_selection(text, 3) is None


@pytest.mark.parametrize("fmt", ["gsm8k", "code", "letter", "expression"])
@pytest.mark.parametrize("steps", [1, 3, 5])
def test_the_sims_plans_parse_to_their_steps(fmt: str, steps: int) -> None:
    text = plan_text(fmt, steps)
    items = parse_plan(text)
    assert len(items) == steps
    assert all(item and not item[0].isdigit() for item in items)


def test_real_llm_style_plans() -> None:
    text = (
        "Here is how to split the work:\n\n"
        "1. **Try products first:** look for a product near the target.\n"
        "2) Combine the two smallest numbers\n"
        "   and see what is left.\n"
        "Subtask 3: check divisions that give whole numbers\n\n"
        "Good luck!"
    )
    assert parse_plan(text) == [
        "Try products first: look for a product near the target.",
        "Combine the two smallest numbers and see what is left.",
        "check divisions that give whole numbers",
    ]
    assert parse_plan("Plan:\n- search sums\n- search products\n") == ["search sums", "search products"]
    assert parse_plan("I would just solve it directly.") == []


def test_printed_answer_is_the_last_line_printed() -> None:
    assert printed_answer("debug 1\n42\n\n") == "42"
    assert printed_answer("  7.5  ") == "7.5"
    assert printed_answer("\n \n") is None
