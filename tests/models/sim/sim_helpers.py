"""Helpers of the sim/ tests: the built-in pool, requests, and real task examples loaded once."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from collabgraph.agents import offline_meta
from collabgraph.models.pool import ModelSpec, default_pool
from collabgraph.models.sim import SimBackend
from collabgraph.models.types import Candidate, OfflineMeta, OfflineRequest
from collabgraph.tasks import Example, Task, get_task

SIM_MODELS = [name for name in default_pool().names() if name.startswith("sim/")]
CALIBRATED = [name for name in SIM_MODELS if name != "sim/oracle"]
TASKS = ("gsm8k", "math500", "mmlu_pro", "humaneval", "countdown", "game24")

MakeRequest = Callable[..., OfflineRequest]


@cache
def examples(task: str, *splits: str) -> tuple[Example, ...]:
    """Every example of the task's splits (``test`` when none are named), loaded once per session."""
    loaded = get_task(task)
    return tuple(e for split in splits or ("test",) for e in loaded.examples(split))  # type: ignore[arg-type]


@cache
def task(name: str) -> Task:
    return get_task(name)


def spec(name: str) -> ModelSpec:
    return default_pool().get(name)


def request_for(
    model: str,
    example: Example,
    *,
    role: str = "answer",
    candidates: tuple[Candidate, ...] = (),
    **fields: Any,
) -> OfflineRequest:
    """The request an evaluator would send for ``example`` (its metadata from ``collabgraph.agents.offline_meta``)."""
    meta = offline_meta(task(example.task), example).model_copy(update={"role": role, "candidates": candidates})
    messages = tuple({"role": m.role, "content": m.content} for m in task(example.task).prompt(example))
    return OfflineRequest(model=model, messages=messages, meta=meta, **fields)


def simple_request(model: str = "sim/llama-3.1-8b", **meta_fields: Any) -> OfflineRequest:
    """A request built by hand (no task needed), for the checks of single behaviours."""
    request_fields = {
        k: meta_fields.pop(k) for k in ("n", "first_sample", "temperature", "seed", "max_tokens") if k in meta_fields
    }
    meta = OfflineMeta(
        **{
            "task": "gsm8k",
            "example_id": "gsm8k/test/7",
            "answer": "18",
            "answer_format": "gsm8k",
            "distractors": ("26", "9"),
            "difficulty": 0.5,
            **meta_fields,
        }
    )
    messages = ({"role": "user", "content": "Janet has 16 eggs…"},)
    return OfflineRequest(model=model, messages=messages, meta=meta, **request_fields)


BACKEND = SimBackend(pool=default_pool())
