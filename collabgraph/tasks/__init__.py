"""Tasks: data sets, prompts, answer extraction and scoring behind one ``Task`` protocol.

``get_task(name)`` builds a registered task; every task class is also importable from here. ``HumanEvalTask``
is resolved on first access, so importing this package does not import the sandbox."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from collabgraph.tasks.base import BaseTask, UnknownSplitError, percentile_ranks
from collabgraph.tasks.countdown import CountdownConfig, CountdownTask
from collabgraph.tasks.data import DataFileError, data_file
from collabgraph.tasks.expression import ExpressionCheck, check_expression, solve
from collabgraph.tasks.extract import format_answer
from collabgraph.tasks.game24 import Game24Task
from collabgraph.tasks.gsm8k import GSM8KTask
from collabgraph.tasks.math500 import Math500Task
from collabgraph.tasks.mathcheck import equivalent
from collabgraph.tasks.mmlu_pro import MMLUProTask
from collabgraph.tasks.registry import UnknownTaskError, get_task, task_names
from collabgraph.tasks.types import AnswerFormat, Example, Message, Score, Split, Task, as_split

if TYPE_CHECKING:
    from collabgraph.tasks.humaneval import HumanEvalTask

__all__ = [
    "AnswerFormat",
    "BaseTask",
    "CountdownConfig",
    "CountdownTask",
    "DataFileError",
    "Example",
    "ExpressionCheck",
    "GSM8KTask",
    "Game24Task",
    "HumanEvalTask",
    "MMLUProTask",
    "Math500Task",
    "Message",
    "Score",
    "Split",
    "Task",
    "UnknownSplitError",
    "UnknownTaskError",
    "as_split",
    "check_expression",
    "data_file",
    "equivalent",
    "format_answer",
    "get_task",
    "percentile_ranks",
    "solve",
    "task_names",
]


def __getattr__(name: str) -> Any:
    if name == "HumanEvalTask":
        from collabgraph.tasks.humaneval import HumanEvalTask

        return HumanEvalTask
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
