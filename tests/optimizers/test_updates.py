"""The optimizer LLM's update (ProbabilityUpdate): found in free text, checked against the space, every invalid reply
refused with a message the model can act on."""

from __future__ import annotations

import json

import pytest

from collabgraph.optimizers.updates import InvalidUpdate, ProbabilityUpdate, UpdateChoices, parse_update

CHOICES = UpdateChoices(
    nodes=3,
    roles=("assistant", "fuser", "vote"),
    models=("sim/llama-3.1-8b", "sim/llama-3.1-70b"),
    samples=(1, 3),
)


def test_an_update_is_found_in_prose_and_code_fences_and_may_be_partial() -> None:
    body = {"edges": {"0 -> 2": 0.9}, "models": {"2": {"sim/llama-3.1-70b": 0.7, "sim/llama-3.1-8b": 0.3}}}
    text = f"The 70B fuser won twice.\n\n```json\n{json.dumps(body)}\n```\nThat is all."
    update = parse_update(text, CHOICES)
    assert update.edges == {"0->2": 0.9}
    assert update.models == {"2": {"sim/llama-3.1-70b": 0.7, "sim/llama-3.1-8b": 0.3}}
    assert update.roles == {} and update.samples == {} and update.rationale == ""
    bare = parse_update('Here: {"samples": {"0": {"3": 1.0}}, "rationale": "more samples"} done', CHOICES)
    assert bare.samples == {"0": {"3": 1.0}} and bare.rationale == "more samples"
    # A distribution may sum to 1 within the tolerance (0.33 three times is a distribution).
    thirds = parse_update('{"roles": {"1": {"assistant": 0.33, "fuser": 0.33, "vote": 0.33}}}', CHOICES)
    assert sum(thirds.roles["1"].values()) == pytest.approx(0.99)


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("No changes needed.", r"the reply holds no JSON object; reply with one JSON object"),
        ('```json\n{"edges": {"0->1": 0.5,\n```', r"the reply is not valid JSON: Expecting property name"),
        (
            '{"models": {"1": {"gpt-5": 1.0}}}',
            r"^models\.1: 'gpt-5' is not a choice; choices: sim/llama-3\.1-8b, sim/llama-3\.1-70b$",
        ),
        ('{"roles": {"2": {"critic": 1.0}}}', r"roles\.2: 'critic' is not a choice; choices: assistant, fuser, vote"),
        ('{"roles": {"0": {"fuser": 1.0}}}', r"roles: no slot '0' \(slot 0 never has inputs, so it has no role\)"),
        ('{"models": {"5": {"sim/llama-3.1-8b": 1.0}}}', r"models: no slot '5'; slots are 0, 1, 2"),
        ('{"samples": {"0": {"2": 1.0}}}', r"samples\.0: '2' is not a choice; choices: 1, 3"),
        (
            '{"edges": {"2->1": 0.5}}',
            r"edges: no edge '2->1' \(edges are 'i->j' with 0 <= i < j < 3: 0->1, 0->2, 1->2\)",
        ),
        ('{"edges": {"0->1": 1.3}}', r"edges\.0->1: Input should be less than or equal to 1"),
        ('{"edges": {"0->1": -0.1}}', r"edges\.0->1: Input should be greater than or equal to 0"),
        ('{"edges": {"0->1": "likely"}}', r"edges\.0->1: Input should be a valid number"),
        (
            '{"models": {"2": {"sim/llama-3.1-8b": 0.5, "sim/llama-3.1-70b": 0.9}}}',
            r"models\.2: probabilities sum to 1\.4; one slot's choices sum to 1",
        ),
        ('{"temperature": 0.2}', r"temperature: Extra inputs are not permitted"),
        ('{"edges": {"0->1": NaN}}', r"edges\.0->1: Input should be a finite number"),
    ],
)
def test_invalid_updates_are_refused_with_what_to_fix(reply: str, message: str) -> None:
    with pytest.raises(InvalidUpdate, match=message):
        parse_update(reply, CHOICES)


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(InvalidUpdate) as caught:
        parse_update('{"models": {"1": {"gpt-5": 1.0}}, "roles": {"9": {"fuser": 1.0}}}', CHOICES)
    assert "'gpt-5' is not a choice" in str(caught.value) and "no slot '9'" in str(caught.value)


def test_without_choices_only_the_shape_is_checked() -> None:
    update = ProbabilityUpdate.model_validate({"models": {"7": {"anything": 1.0}}})
    assert update.models == {"7": {"anything": 1.0}}
    with pytest.raises(ValueError, match="less than or equal to 1"):
        ProbabilityUpdate.model_validate({"edges": {"0->1": 2.0}})


def test_a_single_slot_has_no_edges() -> None:
    one = UpdateChoices(nodes=1, roles=("assistant",), models=("m",), samples=(1,))
    assert one.edge_keys() == []
    with pytest.raises(InvalidUpdate, match=r"no edge '0->1' .*none: a single slot has no edges"):
        parse_update('{"edges": {"0->1": 0.5}}', one)
