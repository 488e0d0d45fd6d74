"""Edge conditions: a closed, typed set evaluated by the runtime on node outputs. No strings are ever evaluated."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from collabgraph.graphs.ids import NodeId

__all__ = [
    "CONDITION_KEYS",
    "AllOf",
    "AnswersAgree",
    "AnyOf",
    "Condition",
    "NotCondition",
    "Passed",
    "RoundBelow",
    "VerdictIs",
    "condition_refs",
]

_CONFIG = ConfigDict(
    extra="forbid", frozen=True, validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
)


class VerdictIs(BaseModel):
    """True when the latest verdict of critique node ``of`` is ``verdict``."""

    model_config = _CONFIG
    verdict: Literal["accepted", "rejected"]
    of: NodeId = Field(description="a critique node")


class AnswersAgree(BaseModel):
    """``agree: true`` holds when every answer extracted from the outputs of ``of`` is the same (all samples of
    every listed node); ``agree: false`` when at least two differ."""

    model_config = _CONFIG
    agree: bool
    of: Annotated[list[NodeId], Field(min_length=1)]


class Passed(BaseModel):
    """True when verify node ``of`` passed (``passed: true``) or failed (``passed: false``) its latest check."""

    model_config = _CONFIG
    passed: bool
    of: NodeId = Field(description="a verify node")


class RoundBelow(BaseModel):
    """True while node ``of`` (default: the edge's source) has completed fewer than ``round_lt`` runs."""

    model_config = _CONFIG
    round_lt: int = Field(ge=1)
    of: NodeId | None = None


class AllOf(BaseModel):
    """True when every listed condition holds."""

    model_config = _CONFIG
    all_: Annotated[list[Condition], Field(min_length=1, alias="all")]


class AnyOf(BaseModel):
    """True when at least one listed condition holds."""

    model_config = _CONFIG
    any_: Annotated[list[Condition], Field(min_length=1, alias="any")]


class NotCondition(BaseModel):
    """True when the inner condition does not hold."""

    model_config = _CONFIG
    not_: Condition = Field(alias="not")


_BY_KEY: dict[str, type[BaseModel]] = {
    "verdict": VerdictIs,
    "agree": AnswersAgree,
    "passed": Passed,
    "round_lt": RoundBelow,
    "all": AllOf,
    "any": AnyOf,
    "not": NotCondition,
}
CONDITION_KEYS: tuple[str, ...] = tuple(_BY_KEY)
"""The key that names each kind of condition; the tag of the ``Condition`` union."""


def _condition_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        return next((k for k in _BY_KEY if k in value), None)
    return next((k for k, cls in _BY_KEY.items() if isinstance(value, cls)), None)


Condition = Annotated[
    Annotated[VerdictIs, Tag("verdict")]
    | Annotated[AnswersAgree, Tag("agree")]
    | Annotated[Passed, Tag("passed")]
    | Annotated[RoundBelow, Tag("round_lt")]
    | Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[NotCondition, Tag("not")],
    Discriminator(
        _condition_tag,
        custom_error_type="condition_kind",
        custom_error_message="not a condition: expected a mapping with one of the keys " + ", ".join(_BY_KEY),
    ),
]

for _cls in (AllOf, AnyOf, NotCondition):
    _cls.model_rebuild()


def condition_refs(
    cond: Condition, loc: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], str, Condition]]:
    """Every node id a condition reads: (location of the id relative to ``loc``, the id, the leaf condition)."""
    if isinstance(cond, AllOf):
        for i, c in enumerate(cond.all_):
            yield from condition_refs(c, (*loc, "all", i))
    elif isinstance(cond, AnyOf):
        for i, c in enumerate(cond.any_):
            yield from condition_refs(c, (*loc, "any", i))
    elif isinstance(cond, NotCondition):
        yield from condition_refs(cond.not_, (*loc, "not"))
    elif isinstance(cond, AnswersAgree):
        for i, ref in enumerate(cond.of):
            yield (*loc, "of", i), ref, cond
    elif isinstance(cond, RoundBelow):
        if cond.of is not None:
            yield (*loc, "of"), cond.of, cond
    else:
        yield (*loc, "of"), cond.of, cond
