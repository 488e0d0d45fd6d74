"""swe_mini: diff extraction, errors a user can hit, and scoring real patches on the real packages' tests.

The sdists and the instance cache come from ``scripts/fetch-swe-sources`` (CI runs it at set-up with
``COLLABGRAPH_SWE_SOURCES`` exported); without them the tests that need them fail saying so. Nothing here
touches the network."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import pytest

from collabgraph.errors import CollabgraphError, UnknownNameError
from collabgraph.sandbox import available_sandbox
from collabgraph.tasks.swe.instances import cache_path, check_instance
from collabgraph.tasks.swe.sources import SOURCES, SourcesMissingError, archive_path, read_tree
from collabgraph.tasks.swe_mini import SweMiniTask, extract_diff
from collabgraph.tasks.types import Example
from tests.helpers import built_swe_mini

DIFF = "--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n"


@pytest.fixture(scope="module")
def task() -> SweMiniTask:
    return built_swe_mini()


def test_extract_diff_prefers_a_diff_block_then_any_block_with_headers_then_bare_text() -> None:
    assert extract_diff(f"Fix:\n```diff\n{DIFF}```\nDone.") == DIFF
    assert extract_diff(f"```python\nprint(1)\n```\n```\n{DIFF}```") == DIFF
    assert extract_diff(f"Here it is\n{DIFF.rstrip()}") == DIFF
    assert extract_diff("diff --git a/x.py b/x.py\n" + DIFF) == "diff --git a/x.py b/x.py\n" + DIFF


@pytest.mark.parametrize("text", ["", "I changed `<` to `<=`.", "```python\nx = 1\n```", "--- only a header\n"])
def test_extract_diff_finds_nothing_in_a_response_without_a_diff(text: str) -> None:
    assert extract_diff(text) is None


def test_same_compares_the_changed_lines_only(tmp_path: Path) -> None:
    task = SweMiniTask(sources=tmp_path)
    example = Example(id="swe_mini/x/0", task="swe_mini", question="", answer=DIFF, answer_format="code")
    other_header = DIFF.replace("@@ -1 +1 @@", "@@ -1,1 +1,1 @@ def f():")
    assert task.same(DIFF, other_header, example)
    assert not task.same(DIFF, DIFF.replace("a = 2", "a = 3"), example)


def test_examples_without_a_build_say_how_to_fetch(tmp_path: Path) -> None:
    with pytest.raises(SourcesMissingError, match=r"build them with `scripts/fetch-swe-sources`"):
        SweMiniTask(sources=tmp_path).examples()


def test_reading_a_missing_or_corrupt_sdist_names_the_fetch_step(tmp_path: Path) -> None:
    with pytest.raises(SourcesMissingError, match=r"toolz-0.12.1.tar.gz is missing; fetch .*scripts/fetch-swe-sources"):
        read_tree("toolz", tmp_path)
    archive_path("inflection", tmp_path).write_bytes(b"not an sdist")
    with pytest.raises(SourcesMissingError, match=r"does not match the pinned sha256 .* delete it and run"):
        read_tree("inflection", tmp_path)


def test_an_unknown_package_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(UnknownNameError, match=r"toolz"):
        read_tree("tools", tmp_path)


def test_bad_options_and_splits_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CollabgraphError, match=r"per_package must be 1 or more, got 0"):
        SweMiniTask(sources=tmp_path, per_package=0)
    task = SweMiniTask(sources=tmp_path)
    with pytest.raises(CollabgraphError, match=r"no split 'dev'; valid splits: test"):
        task.examples("dev")
    with pytest.raises(CollabgraphError, match=r"limit must be 0 or more, got -1"):
        task.examples(limit=-1)


def test_instances_span_three_packages_with_stable_ids(task: SweMiniTask) -> None:
    examples = task.examples()
    assert len(examples) >= 30
    assert {e.meta["package"] for e in examples} == set(SOURCES)
    assert all(re.fullmatch(r"swe_mini/[a-z-]+/\d+", e.id) for e in examples)
    assert [e.id for e in task.examples(seed=3, limit=5)] == [e.id for e in task.examples(seed=3)][:5]
    assert [e.id for e in task.examples(seed=3)] != [e.id for e in task.examples(seed=4)]
    for example in examples:
        assert example.meta["fail_to_pass"] and not set(example.meta["fail_to_pass"]) & set(
            example.meta["pass_to_pass"]
        )
        assert example.meta["mutation"]["path"] in example.meta["files"]
        assert example.answer.startswith(f"diff --git a/{example.meta['mutation']['path']}")
        assert re.search(r"0x[0-9a-f]{4,}", example.question) is None, "object addresses differ from run to run"


def test_the_prompt_carries_the_issue_the_files_and_the_diff_format(task: SweMiniTask) -> None:
    example = task.examples(limit=1)[0]
    (message,) = task.prompt(example)
    assert example.meta["issue"] in message.content
    assert example.meta["fail_to_pass"][0] in message.content
    assert f"- {example.meta['mutation']['path']}" in message.content
    assert "```diff" in message.content


async def test_every_instance_fails_without_the_patch_and_passes_with_the_gold_patch(task: SweMiniTask) -> None:
    gate = asyncio.Semaphore(2)

    async def check(example: Example) -> str | None:
        async with gate:
            return await check_instance(task.instances()[example.id], task.sandbox, task.sources)

    problems = await asyncio.gather(*(check(e) for e in task.examples()))
    assert [p for p in problems if p is not None] == []


async def test_the_gold_patch_in_a_reply_scores_correct(task: SweMiniTask) -> None:
    example = task.examples(limit=1)[0]
    score = await task.score(f"The fix:\n```diff\n{example.answer}```", example)
    assert score.correct, score.detail
    assert score.detail.startswith("applied with git apply;")


async def test_a_patch_whose_context_drifted_applies_with_the_fuzzy_fallback(task: SweMiniTask) -> None:
    example = task.examples(limit=1)[0]
    header, body = example.answer.split("@@\n", 1)
    drifted = header + "@@\n" + re.sub(r"^ .*$", " # context that is not in the file", body, count=1, flags=re.M)
    score = await task.score(drifted, example)
    assert score.correct, score.detail
    assert score.detail.startswith("applied with patch;")


async def test_a_reply_without_a_diff_or_with_one_that_does_not_apply_fails_clearly(task: SweMiniTask) -> None:
    example = task.examples(limit=1)[0]
    assert (await task.score("Just flip the comparison.", example)).detail == "no unified diff found in the response"
    path = example.meta["mutation"]["path"]
    stray = f"--- a/{path}\n+++ b/{path}\n@@ -1,1 +1,1 @@\n-this line is not there\n+nor this\n"
    score = await task.score(stray, example)
    assert not score.correct
    assert score.detail.startswith("patch does not apply: git apply:")


async def test_a_patch_that_applies_but_does_not_fix_names_the_failing_tests(task: SweMiniTask) -> None:
    example = task.examples(limit=1)[0]
    path = example.meta["mutation"]["path"]
    text = read_tree(example.meta["package"], task.sources)[path]
    first = text.splitlines()[0]
    harmless = f"--- a/{path}\n+++ b/{path}\n@@ -1,1 +1,2 @@\n {first}\n+# a comment\n"
    score = await task.score(harmless, example)
    assert not score.correct
    assert example.meta["fail_to_pass"][0] in score.detail
    assert re.match(r"\d+ of \d+ tests fail: ", score.detail)


def test_the_sandbox_is_chosen_lazily(tmp_path: Path) -> None:
    task = SweMiniTask(sources=tmp_path, sandbox=available_sandbox("local"))
    assert task.sandbox.name == "local"


async def test_a_fresh_build_is_cached_and_repeats_the_first_instance_of_each_package(
    task: SweMiniTask, tmp_path: Path
) -> None:
    for name in SOURCES:
        shutil.copy(archive_path(name, task.sources), archive_path(name, tmp_path))
    small = SweMiniTask(sources=tmp_path, per_package=1, sandbox=task.sandbox)
    built = await small.build()
    assert [i.id for i in built] == [f"swe_mini/{name}/0" for name in SOURCES]
    assert built == [task.instances()[i.id] for i in built], "same seed, same first instance as the full build"
    assert cache_path(0, 1, tmp_path).exists()
    assert SweMiniTask(sources=tmp_path, per_package=1).instances() == {i.id: i for i in built}


async def test_scoring_an_unknown_instance_names_the_id_format(task: SweMiniTask) -> None:
    stranger = Example(id="swe_mini/toolz/999", task="swe_mini", question="", answer=DIFF, answer_format="code")
    with pytest.raises(
        CollabgraphError, match=r"no instance 'swe_mini/toolz/999'; expected an id like swe_mini/toolz/0"
    ):
        await task.score(DIFF, stranger)
