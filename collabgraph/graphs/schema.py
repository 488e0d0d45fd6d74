"""The JSON Schema of graph files, generated from the pydantic models and shipped as
``collabgraph/graphs/schema/graph.schema.json`` so editors validate YAML as it is typed. After changing a model,
regenerate the shipped file with
``python -c "from collabgraph.graphs.schema import write_graph_schema; write_graph_schema()"``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from collabgraph.graphs.spec import GRAPH_SCHEMA, GraphSpec

__all__ = ["SCHEMA_ID", "SCHEMA_PATH", "graph_json_schema", "graph_schema_text", "write_graph_schema"]

SCHEMA_ID = "urn:collabgraph:schema:graph:v1"
SCHEMA_PATH = Path(__file__).parent / "schema" / "graph.schema.json"


def graph_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a ``collabgraph.graph/v1`` file."""
    body = GraphSpec.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **body,
        "title": f"collabgraph graph ({GRAPH_SCHEMA})",
    }


def graph_schema_text() -> str:
    """The schema as the shipped file holds it: indented JSON ending with a newline."""
    return json.dumps(graph_json_schema(), indent=2, ensure_ascii=False) + "\n"


def write_graph_schema(path: Path = SCHEMA_PATH) -> Path:
    """Write the schema to ``path`` (default: the shipped file) and return the path."""
    path.write_text(graph_schema_text(), encoding="utf-8")
    return path
