"""vote: majority, weighted, require_agreement, over hand-made outputs; order invariance with a strict winner; the
class and plurality core that maj@k shares with it."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collabgraph.agents import NodeContext, NodeOutput, Sample, answer_classes, plurality, tally, vote
from collabgraph.errors import CollabgraphError
from collabgraph.tasks import GSM8KTask
from tests.agents.helpers import MakeCtx, ScriptedCall, output


@pytest.fixture
def ctx(gsm8k: GSM8KTask, make_ctx: MakeCtx) -> NodeContext:
    return make_ctx("vote", gsm8k, gsm8k.examples(limit=1)[0], call=ScriptedCall([]))


async def test_majority_over_every_sample_of_every_input_with_math_equivalence(ctx: NodeContext) -> None:
    out = await vote(
        ctx, candidates=[output("a", ["18", "20", None]), output("b", ["18.00", "$20"]), output("c", ["20.0"])]
    )
    assert out.answer == "20"
    assert out.texts == ["Working.\n#### 20"] and out.answers == ["20"]
    assert out.data["votes"] == [
        {"answer": "18", "score": 2.0, "members": ["a[0]", "b[0]"]},
        {"answer": "20", "score": 3.0, "members": ["a[1]", "b[1]", "c[0]"]},
    ]
    assert out.calls == 0 and out.usage.cost_usd == 0 and out.latency_s == 0


async def test_a_tie_goes_to_the_answer_seen_first(ctx: NodeContext) -> None:
    out = await vote(ctx, candidates=[output("a", ["7"]), output("b", ["5"]), output("c", ["5", "7"])])
    assert out.answer == "7"


async def test_weighted_votes_follow_the_weights(ctx: NodeContext) -> None:
    candidates = [output("weak1", ["3"]), output("weak2", ["3"]), output("strong", ["4"])]
    assert (await vote(ctx, candidates=candidates)).answer == "3"
    weighted = await vote(ctx, candidates=candidates, method="weighted", weights={"strong": 2.5})
    assert weighted.answer == "4" and weighted.data["votes"][1]["score"] == 2.5
    # Weights are ignored by a majority vote.
    assert (await vote(ctx, candidates=candidates, method="majority", weights={"strong": 2.5})).answer == "3"


async def test_require_agreement_keeps_only_answers_confirmed_by_another_node(ctx: NodeContext) -> None:
    cot = output("cot", ["12", "12", "12", "15"])
    pot = output("pot", ["15", "9"])
    plain = await vote(ctx, candidates=[cot, pot])
    agreed = await vote(ctx, candidates=[cot, pot], require_agreement=True)
    assert (plain.answer, agreed.answer) == ("12", "15")
    assert agreed.data["agreement"] is True


async def test_require_agreement_without_any_agreement_falls_back_to_the_plain_vote(ctx: NodeContext) -> None:
    out = await vote(ctx, candidates=[output("cot", ["1", "1", "2"]), output("pot", ["3"])], require_agreement=True)
    assert out.answer == "1" and out.data["agreement"] is False


async def test_nothing_to_vote_on_fails_the_node(ctx: NodeContext) -> None:
    no_answer = await vote(ctx, candidates=[output("a", [None, None])])
    assert no_answer.error == "vote: none of the 2 candidate samples states an answer"
    all_failed = await vote(ctx, candidates=[output("a", [], texts=[], error="boom")])
    assert all_failed.error == "vote: no candidate to read: every input failed or is empty (a: boom)"


async def test_bad_settings_are_refused(ctx: NodeContext) -> None:
    with pytest.raises(CollabgraphError, match="vote method must be 'majority' or 'weighted', got 'mean'"):
        await vote(ctx, candidates=[output("a", ["1"])], method="mean")  # type: ignore[arg-type]
    with pytest.raises(CollabgraphError, match=r"vote weights must be positive, got \{'a': 0\.0\}"):
        await vote(ctx, candidates=[output("a", ["1"])], method="weighted", weights={"a": 0.0})


ANSWERS = st.sampled_from(["1", "2", "3", "4", "1.0", "2.00", None])
BALLOTS = st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d"]), ANSWERS), min_size=1, max_size=14)
WEIGHTS = st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), st.floats(0.25, 4.0), max_size=4)


def _same(x: str, y: str) -> bool:
    return float(x) == float(y)


def _ballots(pairs: list[tuple[str, str | None]]) -> list[Sample]:
    return [Sample(node, i, f"#### {answer}", answer) for i, (node, answer) in enumerate(pairs)]


def _strict(classes_scores: list[float]) -> bool:
    ordered = sorted(classes_scores, reverse=True)
    return len(ordered) == 1 or ordered[0] > ordered[1] + 1e-9


@settings(max_examples=200, deadline=None)
@given(pairs=BALLOTS, weights=WEIGHTS, agreement=st.booleans(), order=st.randoms(use_true_random=False))
def test_a_strict_winner_does_not_depend_on_ballot_order(
    pairs: list[tuple[str, str | None]], weights: dict[str, float], agreement: bool, order: random.Random
) -> None:
    ballots = _ballots(pairs)
    first = tally(ballots, _same, weights=weights, require_agreement=agreement)
    shuffled = list(ballots)
    order.shuffle(shuffled)
    second = tally(shuffled, _same, weights=weights, require_agreement=agreement)
    assert first.agreement == second.agreement
    if first.winner is None:
        assert second.winner is None
        return
    competing = [c for c in first.classes if not agreement or not first.agreement or len(c.nodes) >= 2]
    if _strict([c.score for c in competing]):
        assert second.winner is not None and _same(first.winner.answer, second.winner.answer)


@settings(max_examples=200, deadline=None)
@given(pairs=BALLOTS, weights=WEIGHTS)
def test_the_winner_has_the_highest_score_and_scores_sum_the_weights(
    pairs: list[tuple[str, str | None]], weights: dict[str, float]
) -> None:
    result = tally(_ballots(pairs), _same, weights=weights)
    voted = [(n, a) for n, a in pairs if a is not None]
    assert sum(c.score for c in result.classes) == pytest.approx(sum(weights.get(n, 1.0) for n, _ in voted))
    if result.winner is None:
        assert not voted
    else:
        assert result.winner.score == max(c.score for c in result.classes)


async def test_vote_output_is_a_node_output(ctx: NodeContext) -> None:
    out = await vote(ctx, candidates=[output("a", ["1"])])
    assert isinstance(out, NodeOutput) and out.kind == "vote" and out.node_id == "vote"


def test_answer_classes_compare_each_answer_with_the_first_member_of_each_class() -> None:
    seen: list[tuple[str, str]] = []

    def same(a: str, b: str) -> bool:
        seen.append((a, b))
        return _same(a, b)

    assert answer_classes(["1", None, "2", "1.0", "2.00", "3"], same) == [("1", [0, 3]), ("2", [2, 4]), ("3", [5])]
    # Representative first, classes in order of first appearance, stopping at the first match.
    assert seen == [("1", "2"), ("1", "1.0"), ("1", "2.00"), ("2", "2.00"), ("1", "3"), ("2", "3")]
    assert answer_classes([None, None], same) == [] and answer_classes([], same) == []


def test_plurality_takes_the_first_of_equal_scores() -> None:
    assert plurality([1.0, 3.0, 2.0, 3.0]) == 1
    assert plurality([2, 2]) == 0
    assert plurality([]) is None
