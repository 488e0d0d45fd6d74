"""Graph files: YAML in, ``GraphSpec`` out, and back. ``load(dump(g)) == g`` for every valid graph.

Every error names its location (``nodes[2].model``), its line and column in the file, and the nearest valid
choice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from collabgraph.errors import ConfigError, ErrorItem
from collabgraph.graphs.diagnostics import LocatedError, duplicate_keys, located, pydantic_error_items
from collabgraph.graphs.nodes import KIND_MODELS, NodeBase
from collabgraph.graphs.spec import GRAPH_SCHEMA, GraphSpec
from collabgraph.graphs.validate import validate
from collabgraph.models.pool import ModelPool

__all__ = ["dump", "load", "loads", "to_data"]

_NODE_HEAD = ("id", "kind", "model")
_NODE_TAIL = ("temperature", "max_tokens", "prompt", "reads", "join", "description")


def _order_node(data: dict[str, Any]) -> dict[str, Any]:
    cls = KIND_MODELS.get(str(data.get("kind")))
    own = [f for f in (cls.__annotations__ if cls else {}) if f not in NodeBase.model_fields]
    keys = [*_NODE_HEAD, *own, *_NODE_TAIL]
    ordered = {k: data[k] for k in keys if k in data}
    ordered.update({k: v for k, v in data.items() if k not in ordered})
    child = ordered.get("child")
    if isinstance(child, dict) and isinstance(child.get("graph"), dict):
        ordered["child"] = {"graph": _order_graph(child["graph"])}
    return ordered


def _order_graph(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "nodes": [_order_node(n) for n in data["nodes"]]}


def to_data(spec: GraphSpec) -> dict[str, Any]:
    """The spec as plain data, as a file would hold it: defaults left out, each node starting with id, kind, model."""
    return _order_graph(spec.model_dump(mode="json", by_alias=True, exclude_defaults=True))


def dump(spec: GraphSpec, *, schema_url: str | None = None) -> str:
    """The spec as YAML text; with ``schema_url``, a first line that lets editors validate the file as it is typed
    (``# yaml-language-server: $schema=…``)."""
    body = yaml.safe_dump(to_data(spec), sort_keys=False, allow_unicode=True, default_flow_style=None, width=120)
    return (f"# yaml-language-server: $schema={schema_url}\n" if schema_url else "") + body


def loads(text: str, source: str = "<string>", *, pool: ModelPool | None = None, check: bool = True) -> GraphSpec:
    """Parse YAML text into a ``GraphSpec``; with ``check`` (the default) also run every graph check
    (``collabgraph.graphs.validate``) against ``pool`` (default: the built-in offline pool). Raises
    ``ConfigError`` listing every problem, each a ``LocatedError`` carrying its line and column."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise ConfigError(source, [LocatedError("<yaml>", f"not valid YAML: {problem}", None, line, col)]) from None
    if not isinstance(data, dict):
        raise ConfigError(
            source,
            [LocatedError("<root>", "expected a mapping with keys schema, name, entry, nodes, edges", None, 1, 1)],
        )
    errors: list[ErrorItem] = list(duplicate_keys(root))
    if "schema" in data and data["schema"] != GRAPH_SCHEMA:
        item = ErrorItem(
            "schema", f"expected {GRAPH_SCHEMA!r}, got {data['schema']!r}", "this reader understands " + GRAPH_SCHEMA
        )
        raise ConfigError(source, [*errors, *located([item], root)])
    try:
        spec = GraphSpec.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, [*errors, *located(pydantic_error_items(exc, GraphSpec), root)]) from None
    if check:
        errors += located(validate(spec, pool), root)
    if errors:
        raise ConfigError(source, errors)
    return spec


def load(src: str | Path, *, pool: ModelPool | None = None, check: bool = True) -> GraphSpec:
    """Load a graph from a file path (``Path``, or a one-line string naming a file) or from YAML text."""
    if isinstance(src, str) and ("\n" in src or not (src.endswith((".yaml", ".yml")) or Path(src).is_file())):
        return loads(src, pool=pool, check=check)
    path = Path(src)
    if not path.is_file():
        raise ConfigError(str(path), [ErrorItem("<file>", "no such file")])
    return loads(path.read_text(encoding="utf-8"), str(path), pool=pool, check=check)
