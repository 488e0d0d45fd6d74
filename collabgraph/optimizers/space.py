"""Search spaces, file schema ``collabgraph.search/v1``: which task and splits, which models, which roles, how big a
graph may grow, the budget per query, the objective, and how the search runs.

A candidate graph is a fixed number of ordered *slots* (``limits.nodes``); each slot has a role, a model and a
sample count, and each pair of slots ``i < j`` may carry an edge ``i → j`` (see ``collabgraph.optimizers.design``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from collabgraph.errors import ConfigError, ErrorItem, closest
from collabgraph.graphs.diagnostics import LocatedError, duplicate_keys, located, pydantic_error_items
from collabgraph.models.pool import ModelPool, default_pool, load_pool

__all__ = [
    "OPTIMIZER_NAMES",
    "ROLES",
    "SEARCH_SCHEMA",
    "Budget",
    "OptimizerName",
    "OptimizerSettings",
    "Role",
    "SearchLimits",
    "SearchSpace",
    "TaskSplits",
    "load_space",
    "loads_space",
]

SEARCH_SCHEMA = "collabgraph.search/v1"

Role = Literal["assistant", "fuser", "critic", "vote", "select"]
ROLES: tuple[Role, ...] = ("assistant", "fuser", "critic", "vote", "select")
"""What a slot does with its inputs. A slot without inputs always answers the question (``assistant``); one with
inputs combines them: ``fuser`` (and ``assistant``, which then reads its predecessors' answers) writes one answer
from them, ``critic`` critiques its latest input and refines it, ``vote`` takes the majority answer (no model),
``select`` has a judge pick one."""

OptimizerName = Literal["agent-reinforce", "random", "tpe", "exhaustive", "reinforce"]
OPTIMIZER_NAMES: tuple[OptimizerName, ...] = ("agent-reinforce", "random", "tpe", "exhaustive", "reinforce")

_DEFAULT_ROLES: tuple[Role, ...] = ("assistant", "fuser")
_CONFIG = ConfigDict(extra="forbid", frozen=True)


class TaskSplits(BaseModel):
    """The task and the examples a search uses: ``dev`` examples score every candidate, ``test`` examples score the
    best one once. Tasks with a dev split draw ``dev`` from it and ``test`` from their test split; tasks with only a
    test split (humaneval, swe_mini) split its shuffled items: the first ``dev`` are dev, the next ``test`` are test."""

    model_config = _CONFIG
    name: str = Field(min_length=1, description="a task name (collabgraph eval --help lists them)")
    dev: int = Field(default=50, gt=0, description="dev examples every candidate is scored on")
    test: int = Field(default=200, gt=0, description="held-out test examples the best graph is scored on")
    seed: int = Field(default=0, description="seeds the example shuffle and every graph run (not the optimizer)")


class SearchLimits(BaseModel):
    """How large a candidate may be. ``nodes`` is the number of slots (the largest graph); ``width`` the most nodes
    on one layer, ``depth`` the most layers (layers by longest path from a source)."""

    model_config = _CONFIG
    nodes: int = Field(default=4, ge=1, le=12)
    width: int | None = Field(default=None, ge=1)
    depth: int | None = Field(default=None, ge=1)
    samples: list[int] = Field(
        default_factory=lambda: [1], min_length=1, description="sample counts a slot may choose from"
    )

    @field_validator("samples")
    @classmethod
    def _positive_distinct(cls, v: list[int]) -> list[int]:
        if any(s < 1 for s in v):
            raise ValueError("every sample count must be at least 1")
        if len(set(v)) != len(v):
            raise ValueError("sample counts must be distinct")
        return v


class Budget(BaseModel):
    """The budget per query (mean over the dev examples), on any mix of measures; unset measures are free."""

    model_config = _CONFIG
    flops: float | None = Field(default=None, gt=0, description="FLOPs per query (prefill + decode, attention term)")
    usd: float | None = Field(default=None, gt=0, description="US dollars per query")
    latency_s: float | None = Field(default=None, gt=0, description="critical-path seconds per query")
    tokens: int | None = Field(default=None, gt=0, description="prompt + completion tokens per query")

    def limits(self) -> dict[str, float]:
        """The set measures, by name."""
        return {k: float(v) for k, v in self.model_dump().items() if v is not None}


class OptimizerSettings(BaseModel):
    """Defaults for ``collabgraph optimize`` (its options override them).

    ``model`` is the optimizer LLM of ``agent-reinforce`` (a pool model name); without one its update is the
    numeric score-function estimate."""

    model_config = _CONFIG
    name: OptimizerName = "agent-reinforce"
    evaluations: int = Field(default=30, gt=0, description="candidate graphs to evaluate on the dev split")
    batch: int = Field(default=4, gt=0, description="candidates per ask (one optimizer step)")
    model: str | None = Field(default=None, description="agent-reinforce's optimizer LLM (a pool model)")
    learning_rate: float = Field(default=0.5, gt=0.0, le=5.0, description="step size of the numeric updates")
    retries: int = Field(default=2, ge=0, le=10, description="re-asks of the optimizer LLM after invalid output")


class SearchSpace(BaseModel):
    """A search space, file schema ``collabgraph.search/v1``."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        title="collabgraph search space",
    )
    schema_: Literal["collabgraph.search/v1"] = Field(alias="schema")
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    task: TaskSplits
    pool: str | None = Field(default=None, description="a pool file (relative to this file); default: built-in")
    models: list[str] = Field(min_length=1, description="the pool models a slot may use")
    roles: list[Role] = Field(default_factory=lambda: list(_DEFAULT_ROLES), min_length=1)
    limits: SearchLimits = Field(default_factory=SearchLimits)
    budget: Budget = Field(default_factory=Budget)
    objective: Literal["accuracy", "accuracy_latency"] = Field(
        default="accuracy",
        description="accuracy: best dev accuracy within budget; accuracy_latency: the Pareto front of accuracy "
        "and latency within budget (the best graph is its most accurate point)",
    )
    temperature: float = Field(default=0.7, ge=0.0, le=2.0, description="answering nodes' temperature")
    concurrency: int = Field(default=8, gt=0, description="examples in flight at once")
    sandbox: Literal["auto", "docker", "local"] = "auto"
    optimizer: OptimizerSettings = Field(default_factory=OptimizerSettings)

    @field_validator("roles", mode="before")
    @classmethod
    def _generate_is_assistant(cls, v: object) -> object:
        # The node kind an answering slot becomes is `generate`; users may name the role either way.
        return ["assistant" if r == "generate" else r for r in v] if isinstance(v, list) else v

    @field_validator("models", "roles")
    @classmethod
    def _distinct(cls, v: list[str]) -> list[str]:
        dupes = sorted({m for m in v if v.count(m) > 1})
        if dupes:
            raise ValueError(f"listed twice: {', '.join(dupes)}")
        return v

    @field_validator("roles")
    @classmethod
    def _assistants(cls, v: list[Role]) -> list[Role]:
        if "assistant" not in v:
            raise ValueError("roles must include 'assistant': every graph starts with nodes that answer")
        return v


def _model_errors(space: SearchSpace, pool: ModelPool) -> list[ErrorItem]:
    errors: list[ErrorItem] = []
    names = pool.names()
    for i, name in enumerate(space.models):
        if name not in pool:
            hint = closest(name, names)
            errors.append(
                ErrorItem(
                    f"models[{i}]", f"no model {name!r} in the pool", f"did you mean {hint[0]}?" if hint else None
                )
            )
    if space.optimizer.model is not None and space.optimizer.model not in pool:
        hint = closest(space.optimizer.model, names)
        errors.append(
            ErrorItem(
                "optimizer.model",
                f"no model {space.optimizer.model!r} in the pool",
                f"did you mean {hint[0]}?" if hint else None,
            )
        )
    return errors


def loads_space(text: str, source: str = "<string>", *, base_dir: Path | None = None) -> tuple[SearchSpace, ModelPool]:
    """Parse a search space from YAML text and load its pool (``pool`` relative to ``base_dir``). Raises
    ``ConfigError`` listing every problem with its location, line and column, and the nearest valid choice."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(source, [LocatedError("<yaml>", f"not valid YAML: {problem}", None, line, col)]) from None
    if not isinstance(data, dict):
        raise ConfigError(
            source, [LocatedError("<root>", "expected a mapping with keys schema, name, task, models", None, 1, 1)]
        )
    errors: list[ErrorItem] = list(duplicate_keys(root))
    if data.get("schema") != SEARCH_SCHEMA:
        got = data.get("schema")
        msg = f"expected {SEARCH_SCHEMA!r}, got {got!r}" if got is not None else f"missing; expected {SEARCH_SCHEMA!r}"
        errors.append(ErrorItem("schema", msg, "a search space starts with `schema: " + SEARCH_SCHEMA + "`"))
        raise ConfigError(source, located(errors, root))
    try:
        space = SearchSpace.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, [*errors, *located(pydantic_error_items(exc, SearchSpace), root)]) from None
    try:
        pool = default_pool() if space.pool is None else load_pool((base_dir or Path.cwd()) / space.pool)
    except ConfigError as exc:
        raise ConfigError(source, [*errors, *located([ErrorItem("pool", str(exc))], root)]) from None
    errors += _model_errors(space, pool)
    from collabgraph.tasks import task_names

    if space.task.name not in task_names():
        hint = closest(space.task.name, task_names())
        errors.append(
            ErrorItem("task.name", f"no task {space.task.name!r}", f"did you mean {hint[0]}?" if hint else None)
        )
    if errors:
        raise ConfigError(source, located(errors, root))
    return space, pool


def load_space(path: str | Path) -> tuple[SearchSpace, ModelPool]:
    """Load a search space file and its pool (see ``loads_space``)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(str(p), [ErrorItem("<file>", "no such file")])
    return loads_space(p.read_text(encoding="utf-8"), str(p), base_dir=p.parent)
