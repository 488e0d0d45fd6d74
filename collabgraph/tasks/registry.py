"""Task registry: task names mapped to ``module:Class``, imported only when the task is asked for."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, cast

from collabgraph.errors import UnknownNameError
from collabgraph.tasks.types import Task

__all__ = ["TASKS", "UnknownTaskError", "get_task", "task_names"]

TASKS: dict[str, str] = {
    "gsm8k": "collabgraph.tasks.gsm8k:GSM8KTask",
    "math500": "collabgraph.tasks.math500:Math500Task",
    "mmlu_pro": "collabgraph.tasks.mmlu_pro:MMLUProTask",
    "humaneval": "collabgraph.tasks.humaneval:HumanEvalTask",
    "countdown": "collabgraph.tasks.countdown:CountdownTask",
    "swe_mini": "collabgraph.tasks.swe_mini:SweMiniTask",
    "game24": "collabgraph.tasks.game24:Game24Task",
}
"""Every built-in task. Each class is constructed as ``Class(data_dir=None, **options)``."""


class UnknownTaskError(UnknownNameError):
    """An unregistered task name; the message gives the closest names and always the full list of tasks."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__("task", name, known)
        if self.suggestions:
            self.args = (f"{self.args[0]} Known tasks: {', '.join(self.known)}.",)


def task_names() -> list[str]:
    """The names ``get_task`` accepts, sorted."""
    return sorted(TASKS)


def get_task(name: str, data_dir: str | Path | None = None, **options: Any) -> Task:
    """The task called ``name``, reading its data from ``data_dir`` (see ``collabgraph.settings.data_dir``).

    Raises UnknownTaskError (an UnknownNameError), listing the known tasks, for a name that is not registered.
    """
    target = TASKS.get(name)
    if target is None:
        raise UnknownTaskError(name, task_names())
    module_name, class_name = target.split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cast(Task, cls(data_dir=data_dir, **options))
