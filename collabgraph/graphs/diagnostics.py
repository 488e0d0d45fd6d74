"""Turning pydantic errors into user-facing ``ErrorItem``s (clean locations, hints), and locating them in YAML."""

from __future__ import annotations

import re
import types
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, Tag, ValidationError
from pydantic.fields import FieldInfo

from collabgraph.errors import ErrorItem, closest, format_loc
from collabgraph.graphs.ids import ALIAS_PATTERN, ID_PATTERN, IMPL_PATTERN
from collabgraph.graphs.nodes import KIND_MODELS

__all__ = ["LocatedError", "duplicate_keys", "locate", "located", "parse_loc", "pydantic_error_items"]

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class LocatedError(ErrorItem):
    """An ``ErrorItem`` with its 1-based line and column in the source file."""

    line: int | None = None
    column: int | None = None


# -- walking the type structure along a pydantic error location ---------------------------------------------------


def _strip(tp: Any) -> Any:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def _union_members(tp: Any) -> list[Any] | None:
    tp = _strip(tp)
    if get_origin(tp) in (Union, types.UnionType):
        return list(get_args(tp))
    return None


def _member_for_tag(members: list[Any], tag: str) -> Any | None:
    for member in members:
        if get_origin(member) is Annotated and any(isinstance(m, Tag) and m.tag == tag for m in get_args(member)[1:]):
            return _strip(member)
        base = _strip(member)
        if (
            isinstance(base, type)
            and issubclass(base, BaseModel)
            and "kind" in base.model_fields
            and get_args(base.model_fields["kind"].annotation) == (tag,)
        ):
            return base
    return None


def _field(model: type[BaseModel], name: str) -> FieldInfo | None:
    for fname, info in model.model_fields.items():
        if name in (fname, info.alias):
            return info
    return None


def _field_names(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _walk(root: type[BaseModel], raw: Loc) -> tuple[Loc, type[BaseModel] | None]:
    """The location with union tags and dict-key markers removed, and the model that holds its last part (None
    when unknown)."""
    clean: list[str | int] = []
    tp: Any = root
    holder: type[BaseModel] | None = None
    for part in raw:
        if part == "[key]":
            continue
        members = _union_members(tp)
        tagged = None
        while members is not None:
            non_none = [m for m in members if _strip(m) is not type(None)]
            tagged = _member_for_tag(non_none, part) if isinstance(part, str) else None
            if tagged is not None:
                break
            tp = non_none[0] if len(non_none) == 1 else None
            members = _union_members(tp)
        if tagged is not None:
            tp = tagged
            continue
        tp = _strip(tp)
        clean.append(part)
        holder = tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None
        if holder is not None and isinstance(part, str):
            info = _field(holder, part)
            tp = info.annotation if info is not None else None
        elif get_origin(tp) is list and isinstance(part, int):
            tp = get_args(tp)[0]
        elif get_origin(tp) is dict:
            tp = get_args(tp)[1]
        else:
            tp = None
    return tuple(clean), holder


def _choices(expected: str) -> list[str]:
    return re.findall(r"'([^']*)'", expected)


def _did_you_mean(name: str, choices: list[str]) -> str | None:
    near = closest(name, choices, n=1)
    if near:
        return "did you mean " + " or ".join(repr(n) for n in near) + "?"
    return "valid: " + ", ".join(choices) if choices else None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


_PATTERNS = {
    ID_PATTERN: ("node id", "ids start with a letter and hold letters, digits, '_' and '-'"),
    ALIAS_PATTERN: ("model alias", "aliases start with a letter and hold letters, digits, '_', '-' and '.' (no '/')"),
    IMPL_PATTERN: ("custom kind reference", "write 'package.module:attr', or the name of a registered kind"),
}


def _item(err: Any, root: type[BaseModel], prefix: Loc) -> ErrorItem:
    raw: Loc = tuple(err["loc"])
    kind = err["type"]
    ctx = err.get("ctx", {})
    value = err.get("input")
    msg: str = err["msg"]
    hint: str | None = None
    if kind in ("union_tag_invalid", "union_tag_not_found") and ctx.get("discriminator") == "'kind'":
        loc, _ = _walk(root, raw)
        loc = (*loc, "kind")
        kinds = list(KIND_MODELS)
        if kind == "union_tag_invalid":
            msg = f"unknown node kind {ctx.get('tag')!r}"
            hint = _did_you_mean(str(ctx.get("tag")), kinds)
        else:
            msg = "a node needs a `kind`"
            hint = "one of: " + ", ".join(kinds)
        return ErrorItem(format_loc((*prefix, *loc)), msg, hint)
    loc, holder = _walk(root, raw)
    if kind == "extra_forbidden":
        name = str(raw[-1])
        msg = f"unknown field {name!r}"
        fields = _field_names(holder) if holder is not None else []
        hint = _did_you_mean(name, fields)
    elif kind == "string_pattern_mismatch":
        what, hint = _PATTERNS.get(str(ctx.get("pattern")), ("value", f"expected the pattern {ctx.get('pattern')}"))
        msg = f"{_short(value)} is not a valid {what}"
    elif kind == "missing":
        msg = f"missing required field {str(raw[-1])!r}"
        if raw == ("schema",):
            hint = "add 'schema: collabgraph.graph/v1' as the first line"
    elif kind == "literal_error":
        expected = _choices(ctx.get("expected", ""))
        msg = f"{msg}, got {_short(value)}"
        if raw and raw[-1] == "schema":
            hint = "this reader understands 'collabgraph.graph/v1'"
        elif isinstance(value, str):
            hint = _did_you_mean(value, expected)
    elif kind == "condition_kind" and isinstance(value, dict):
        from collabgraph.graphs.conditions import CONDITION_KEYS

        guesses = [n for key in value for n in closest(str(key), CONDITION_KEYS, n=1)]
        hint = f"did you mean {guesses[0]!r}?" if guesses else "keys: " + ", ".join(CONDITION_KEYS)
    elif kind.endswith(("_type", "_parsing")) and not isinstance(value, dict | list):
        msg = f"{msg}, got {_short(value)}"
    return ErrorItem(format_loc((*prefix, *loc)), msg, hint)


def pydantic_error_items(exc: ValidationError, root: type[BaseModel], prefix: Loc = ()) -> list[ErrorItem]:
    """One ``ErrorItem`` per pydantic error of validating ``root``: union tags dropped from locations
    (``nodes[2].model``, not ``nodes.2.generate.model``), clearer messages, and the nearest valid kind / field /
    literal as a hint."""
    items: list[ErrorItem] = []
    for err in exc.errors():
        item = _item(err, root, prefix)
        if item not in items:
            items.append(item)
    return items


# -- YAML positions -----------------------------------------------------------------------------------------------


def parse_loc(loc: str) -> list[str | int]:
    """``nodes[2].reads[0]`` -> ``['nodes', 2, 'reads', 0]`` (the inverse of ``format_loc``)."""
    parts: list[str | int] = []
    for token in re.findall(r"\[(\d+)\]|([^.\[\]]+)", loc):
        parts.append(int(token[0]) if token[0] else token[1])
    return parts


def locate(root: yaml.Node | None, loc: str) -> tuple[int, int] | None:
    """The 1-based (line, column) of ``loc`` in a composed YAML document: the key of a mapping entry or the item
    of a sequence; the deepest existing parent when the location names something absent (a missing field)."""
    if root is None or loc.startswith("<"):
        return None
    node: yaml.Node = root
    mark = root.start_mark
    parts = parse_loc(loc)
    i = 0
    while i < len(parts):
        part = parts[i]
        if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            mark = node.start_mark
        elif isinstance(node, yaml.MappingNode):
            # A key may itself hold dots (a model alias "gpt-4.1"): try the longest joined run of parts first.
            found = None
            for j in range(len(parts), i, -1):
                key = ".".join(str(p) for p in parts[i:j])
                for k_node, v_node in node.value:
                    if isinstance(k_node, yaml.ScalarNode) and k_node.value == key:
                        found = (j, k_node, v_node)
                        break
                if found:
                    break
            if found is None:
                break
            i, key_node, node = found[0] - 1, found[1], found[2]
            mark = key_node.start_mark
        else:
            break
        i += 1
    return mark.line + 1, mark.column + 1


def duplicate_keys(root: yaml.Node | None, loc: Loc = ()) -> list[LocatedError]:
    """Keys given twice in one mapping (YAML loaders silently keep the last)."""
    out: list[LocatedError] = []
    if isinstance(root, yaml.MappingNode):
        seen: set[str] = set()
        for k_node, v_node in root.value:
            key = k_node.value if isinstance(k_node, yaml.ScalarNode) else None
            if key is not None and key in seen:
                mark = k_node.start_mark
                out.append(
                    LocatedError(
                        format_loc((*loc, key)), f"duplicate key {key!r}", "keep one", mark.line + 1, mark.column + 1
                    )
                )
            if key is not None:
                seen.add(key)
            out += duplicate_keys(v_node, (*loc, key) if key is not None else loc)
    elif isinstance(root, yaml.SequenceNode):
        for i, item in enumerate(root.value):
            out += duplicate_keys(item, (*loc, i))
    return out


def located(items: list[ErrorItem], root: yaml.Node | None) -> list[ErrorItem]:
    """``items`` with the line and column of each location in the composed document ``root``."""
    out: list[ErrorItem] = []
    for item in items:
        where = locate(root, item.loc)
        out.append(LocatedError(item.loc, item.msg, item.hint, *(where or (None, None))))
    return out
