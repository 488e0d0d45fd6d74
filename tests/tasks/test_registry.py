"""The task registry: names, lazy construction, unknown names."""

from __future__ import annotations

import pytest

from collabgraph.errors import UnknownNameError
from collabgraph.tasks import Task, get_task, task_names


def test_task_names() -> None:
    assert task_names() == ["countdown", "game24", "gsm8k", "humaneval", "math500", "mmlu_pro", "swe_mini"]


@pytest.mark.parametrize("name", ["countdown", "game24", "gsm8k", "math500", "mmlu_pro"])
def test_get_task_builds_a_task(name: str) -> None:
    task = get_task(name)
    assert isinstance(task, Task)
    assert task.name == name


def test_unknown_task_suggests_and_lists_all() -> None:
    with pytest.raises(UnknownNameError) as info:
        get_task("gsm8")
    msg = str(info.value)
    assert "unknown task 'gsm8'" in msg and "did you mean: gsm8k" in msg
    for name in task_names():
        assert name in msg


def test_unknown_task_without_close_match_lists_all() -> None:
    with pytest.raises(UnknownNameError) as info:
        get_task("zzzz")
    assert all(name in str(info.value) for name in task_names())
