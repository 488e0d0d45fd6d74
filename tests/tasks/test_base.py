"""Shared task behaviour: seeded order, limits as prefixes, split and option errors, percentile ranks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collabgraph.errors import ConfigError, UnknownNameError
from collabgraph.tasks import CountdownTask, GSM8KTask, Split, as_split, get_task, percentile_ranks
from collabgraph.tasks.base import stable_hash

TASKS_WITH_DATA = ["gsm8k", "math500", "mmlu_pro", "game24", "countdown"]


@pytest.mark.parametrize("name", TASKS_WITH_DATA)
def test_seeded_order_is_reproducible_and_limit_takes_a_prefix(name: str) -> None:
    task = get_task(name)
    split: Split = "dev"
    full = task.examples(split, seed=3)
    assert [e.id for e in task.examples(split, seed=3)] == [e.id for e in full]
    assert [e.id for e in task.examples(split, limit=30, seed=3)] == [e.id for e in full[:30]]
    assert [e.id for e in task.examples(split, seed=4)] != [e.id for e in full]
    assert len({e.id for e in full}) == len(full)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 500), st.integers(0, 500), st.integers(0, 2**32))
def test_smaller_limit_is_a_subset_of_larger(a: int, b: int, seed: int) -> None:
    task = GSM8KTask()
    small, large = sorted((a, b))
    assert task.examples("dev", small, seed) == task.examples("dev", large, seed)[:small]


def test_every_example_is_well_formed() -> None:
    for name in TASKS_WITH_DATA:
        task = get_task(name)
        for example in task.examples("test", limit=50):
            assert example.task == name and example.id.startswith(name + "/")
            assert example.answer_format == task.answer_format
            assert example.answer not in example.distractors
            assert task.prompt(example)[-1].role == "user"


def test_unknown_split_names_the_valid_ones() -> None:
    with pytest.raises(UnknownNameError) as info:
        get_task("mmlu_pro").examples("train")
    assert str(info.value) == "task 'mmlu_pro' has no split 'train'; its splits are: dev, test"
    with pytest.raises(
        UnknownNameError, match=r"no split 'tset'; did you mean 'test'\? its splits are: train, dev, test"
    ):
        get_task("gsm8k").examples("tset")  # type: ignore[arg-type]


def test_a_split_name_from_the_command_line_is_checked() -> None:
    assert [as_split(name) for name in ("train", "dev", "test")] == ["train", "dev", "test"]
    with pytest.raises(UnknownNameError, match=r"^unknown split 'tset'; did you mean: test\?$"):
        as_split("tset")
    with pytest.raises(UnknownNameError, match=r"^unknown split 'holdout'; known: dev, test, train$"):
        as_split("holdout")


def test_negative_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="limit must be a non-negative number of examples, got -1"):
        CountdownTask().examples("test", limit=-1)


def test_unknown_option_is_located_and_suggests() -> None:
    with pytest.raises(ConfigError) as info:
        get_task("gsm8k", shots=5)
    assert "shots: unknown option (valid options: none)" in str(info.value)
    with pytest.raises(ConfigError, match=r"max_targt: unknown option .* did you mean 'max_target'"):
        get_task("countdown", max_targt=50)


@given(st.dictionaries(st.text(min_size=1, max_size=8), st.integers(0, 5), min_size=1, max_size=60))
def test_percentile_ranks_are_distinct_uniform_and_monotone(hardness: dict[str, int]) -> None:
    ranks = percentile_ranks({k: float(v) for k, v in hardness.items()})
    values = sorted(ranks.values())
    assert len(set(values)) == len(values)
    assert values[0] >= 0.0 and values[-1] <= 1.0
    if len(values) > 1:
        assert values[0] == 0.0 and values[-1] == 1.0
    for a in hardness:
        for b in hardness:
            if hardness[a] < hardness[b]:
                assert ranks[a] < ranks[b]


def test_stable_hash_is_the_sha256_prefix() -> None:
    # The same in every process and Python version, unlike hash().
    assert stable_hash("gsm8k/test/0") == 0x43127D94B2297B7B
