"""Names used inside a graph: node ids, model aliases, node references and the ``END`` target."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Field, PlainValidator, StringConstraints
from pydantic_core import PydanticCustomError

__all__ = [
    "ALIAS_PATTERN",
    "END",
    "ID_PATTERN",
    "IMPL_PATTERN",
    "RESERVED_IDS",
    "AliasName",
    "EntryRef",
    "NodeId",
    "RoleRef",
    "ref_ids",
]

END = "END"
"""The exit: an edge to ``END`` finishes the graph; the answer of the node it leaves is the final answer."""

ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]*$"
# LangGraph reserves ``__start__``/``__end__`` and the ``:``/``|`` namespace separators; ids that start with a
# letter and hold only letters, digits, ``_`` and ``-`` can never collide with them.

RESERVED_IDS = frozenset({"END", "START"})

ALIAS_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]*$"
IMPL_PATTERN = r"^([A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_.]*|[A-Za-z][A-Za-z0-9_.-]*)$"

NodeId = Annotated[
    str,
    StringConstraints(pattern=ID_PATTERN),
    Field(description="A node id: starts with a letter; letters, digits, '_' and '-'."),
]

AliasName = Annotated[
    str,
    StringConstraints(pattern=ALIAS_PATTERN),
    Field(description="A model alias: a name without '/', so it never looks like a pool model name."),
]


_ID = re.compile(ID_PATTERN)


def _role_ref(value: Any) -> str | list[str]:
    # Validated by hand: a union would report one error per member ("not a string", "not a list") for one mistake.
    if isinstance(value, str) and _ID.match(value):
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) and _ID.match(v) for v in value):
        return list(value)
    raise PydanticCustomError(
        "node_ref", "expected a node id or a non-empty list of node ids, got {got}", {"got": repr(value)}
    )


RoleRef = Annotated[
    str | list[str],
    PlainValidator(_role_ref, json_schema_input_type=NodeId | Annotated[list[NodeId], Field(min_length=1)]),
    Field(
        description=(
            "A node id, or a list of node ids meaning the most recent output among them "
            "(how a node inside a loop reads 'the current candidate': [refine, actor])."
        )
    ),
]


def _entry_ref(value: Any) -> str | list[str]:
    # A one-item list is the bare id: the same graph, so the same dump and graph hash as the single-entry form.
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, str) and _ID.match(value):
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) and _ID.match(v) for v in value):
        return list(value)
    raise PydanticCustomError(
        "entry_ref", "expected a node id or a non-empty list of node ids, got {got}", {"got": repr(value)}
    )


EntryRef = Annotated[
    str | list[str],
    PlainValidator(
        _entry_ref,
        json_schema_input_type=NodeId
        | Annotated[list[NodeId], Field(min_length=1, json_schema_extra={"uniqueItems": True})],
    ),
    Field(
        description=(
            "the node the graph starts at, or a list of distinct nodes that all start at once (a parallel first layer)"
        )
    ),
]


def ref_ids(ref: str | list[str]) -> list[str]:
    """The node ids a role reference names, in order."""
    return [ref] if isinstance(ref, str) else list(ref)
