"""``collabgraph validate`` and ``collabgraph schema``: check graph files, print the graph JSON Schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from collabgraph.errors import ConfigError, ErrorItem, UnknownNameError

__all__ = ["SCHEMAS", "print_schema", "validate_paths"]

SCHEMAS = ("graph", "search")


def _check_file(path: Path, pool: Any) -> list[ErrorItem]:
    from collabgraph.graphs import load

    if path.is_dir():
        return [ErrorItem("<file>", "is a directory", f"pass the graph files, e.g. {path}/*.yaml")]
    try:
        load(path, pool=pool)
    except ConfigError as exc:
        return list(exc.errors)
    return []


def _text_line(path: Path, item: ErrorItem) -> str:
    line, column = getattr(item, "line", None), getattr(item, "column", None)
    where = f"{path}:{line}:{column}" if line is not None else str(path)
    return f"{where}: {item.loc}: {item.msg}" + (f" ({item.hint})" if item.hint else "")


def _json_error(item: ErrorItem) -> dict[str, Any]:
    out: dict[str, Any] = {"loc": item.loc, "msg": item.msg}
    if item.hint:
        out["hint"] = item.hint
    for key in ("line", "column"):
        value = getattr(item, key, None)
        if value is not None:
            out[key] = value
    return out


def validate_paths(paths: list[Path], fmt: str, models: Path | None) -> int:
    """Check each graph file (types and every graph check, model names against the built-in pool plus
    ``models``); print the result as ``text`` (``path: OK`` or ``path:line:col: loc: msg (hint)`` per error) or
    ``json`` (``{"files": [{"path", "ok", "errors": [{"loc", "msg", "hint"?, "line"?, "column"?}]}]}``).
    Returns the exit code: 0 when every file is valid, 1 otherwise."""
    from collabgraph.models.pool import default_pool, load_pool

    pool = load_pool(models) if models is not None else default_pool()
    results = [(path, _check_file(path, pool)) for path in paths]
    if fmt == "json":
        files = [{"path": str(p), "ok": not errs, "errors": [_json_error(e) for e in errs]} for p, errs in results]
        sys.stdout.write(json.dumps({"files": files}, indent=2) + "\n")
    else:
        for path, errs in results:
            lines = [_text_line(path, e) for e in errs] if errs else [f"{path}: OK"]
            sys.stdout.write("\n".join(lines) + "\n")
    return 0 if all(not errs for _, errs in results) else 1


def print_schema(which: str) -> None:
    """Print the JSON Schema named ``which`` (``graph``: graph files, ``collabgraph.graph/v1``; ``search``: search
    spaces, ``collabgraph.search/v1``)."""
    if which not in SCHEMAS:
        raise UnknownNameError("schema", which, SCHEMAS)
    if which == "search":
        import json

        from collabgraph.optimizers.space import SEARCH_SCHEMA, SearchSpace

        body = SearchSpace.model_json_schema(mode="validation")
        schema = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "urn:collabgraph:schema:search:v1",
            **body,
            "title": f"collabgraph search space ({SEARCH_SCHEMA})",
        }
        sys.stdout.write(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
        return
    from collabgraph.graphs.schema import graph_schema_text

    sys.stdout.write(graph_schema_text())
