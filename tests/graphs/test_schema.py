"""The shipped JSON Schema: up to date with the models, and accepting what the loader accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from collabgraph.graphs import SCHEMA_ID, SCHEMA_PATH, graph_json_schema, graph_schema_text
from tests.graphs.helpers import FIXTURES
from tests.graphs.strategies import graph_data

VALIDATOR = jsonschema.Draft202012Validator(graph_json_schema())


def test_shipped_schema_is_up_to_date() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == graph_schema_text(), (
        "regenerate with: python -c 'from collabgraph.graphs.schema import write_graph_schema; write_graph_schema()'"
    )


def test_schema_is_identified_and_well_formed() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$id"] == SCHEMA_ID
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "collabgraph graph (collabgraph.graph/v1)"
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.yaml")), ids=lambda p: p.stem)
def test_fixtures_point_editors_at_the_schema(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix)
    assert (path.parent / first.removeprefix(prefix)).resolve() == SCHEMA_PATH.resolve()
    VALIDATOR.validate(yaml.safe_load(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d["nodes"][0].update(kind="generat"),
        lambda d: d["nodes"][0].update(samples="many"),
        lambda d: d["nodes"][0].update(bogus=1),
        lambda d: d["edges"][0].update(when={"verdit": "accepted"}),
        lambda d: d.update(schema="collabgraph.graph/v2"),
        lambda d: d.update(entry=[]),
        lambda d: d.update(entry=[d["entry"], d["entry"]]),
        lambda d: d.update(entry=[d["entry"], "not an id"]),
    ],
)
def test_schema_rejects_what_the_loader_rejects(mutate: Any) -> None:
    data = yaml.safe_load((FIXTURES / "best_of_n.yaml").read_text(encoding="utf-8"))
    mutate(data)
    assert not VALIDATOR.is_valid(data)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph_data())
def test_every_generated_graph_satisfies_the_schema(data: dict[str, Any]) -> None:
    VALIDATOR.validate(data)
