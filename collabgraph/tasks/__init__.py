"""Tasks: data sets, prompts, answer extraction and scoring behind one ``Task`` protocol."""

from collabgraph.tasks.data import DataFileError, data_file
from collabgraph.tasks.registry import UnknownTaskError, get_task, task_names
from collabgraph.tasks.types import AnswerFormat, Example, Message, Score, Split, Task

__all__ = [
    "AnswerFormat",
    "DataFileError",
    "Example",
    "Message",
    "Score",
    "Split",
    "Task",
    "UnknownTaskError",
    "data_file",
    "get_task",
    "task_names",
]
