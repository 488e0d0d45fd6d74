"""Build graphs in Python: the same ``GraphSpec`` a YAML file gives, with the same validation.

    g = Graph("best_of_n").model("m", "sim/llama-3.1-8b")
    a = g.generate("a", model="m", samples=8, temperature=0.7)
    v = g.vote("v", reads=[a])
    g.edge(a, v).exit(v)
    spec = g.build()

Node methods return the node's id, so it can be passed straight to ``reads``, role fields and ``edge``.
``g.entry(a, b)`` starts the graph at several nodes at once (a parallel first layer).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from pydantic import BaseModel, ValidationError

from collabgraph.errors import ConfigError
from collabgraph.graphs.diagnostics import pydantic_error_items
from collabgraph.graphs.ids import END
from collabgraph.graphs.spec import GRAPH_SCHEMA, GraphSpec
from collabgraph.graphs.validate import check as check_spec
from collabgraph.models.pool import ModelPool

__all__ = ["Graph"]

Ref = str | list[str]


class Graph:
    """A graph under construction. The entry is the first node added unless ``entry`` names another (or several)."""

    def __init__(self, name: str, description: str = "") -> None:
        self._data: dict[str, Any] = {"schema": GRAPH_SCHEMA, "name": name}
        if description:
            self._data["description"] = description
        self._models: dict[str, str] = {}
        self._limits: dict[str, Any] = {}
        self._entry: str | list[str] | None = None
        self._nodes: list[dict[str, Any]] = []
        self._edges: list[dict[str, Any]] = []

    # -- graph-level settings --------------------------------------------------------------------------------------

    def model(self, alias: str, name: str) -> Graph:
        """Declare a model alias: nodes may then say ``model=alias``."""
        self._models[alias] = name
        return self

    def limits(self, **limits: Any) -> Graph:
        """Set limits (``max_rounds``, ``max_width``, ``max_concurrency``, ``recursion_limit``)."""
        self._limits.update(limits)
        return self

    def entry(self, node: str, *more: str) -> Graph:
        """Start the graph at ``node``; with ``more``, at every node given, all at once (``entry: [a, b]``)."""
        self._entry = [node, *more] if more else node
        return self

    # -- nodes -----------------------------------------------------------------------------------------------------

    def node(self, kind: str, id: str, **fields: Any) -> str:
        """Add a node of any kind; the kind-named methods below are shorthands."""
        self._nodes.append({"id": id, "kind": kind, **{k: v for k, v in fields.items() if v is not None}})
        return id

    def generate(self, id: str, *, model: str, **fields: Any) -> str:
        """Answer the task (``mode`` cot | pot, ``samples``, ``temperature``, ``max_tokens``, ``prompt``)."""
        return self.node("generate", id, model=model, **fields)

    def critique(self, id: str, *, model: str, target: Ref, **fields: Any) -> str:
        """Feedback and a verdict on ``target``'s candidate."""
        return self.node("critique", id, model=model, target=target, **fields)

    def refine(self, id: str, *, model: str, candidate: Ref, feedback: Ref, **fields: Any) -> str:
        """Revise ``candidate`` given ``feedback``."""
        return self.node("refine", id, model=model, candidate=candidate, feedback=feedback, **fields)

    def fuse(self, id: str, *, model: str, reads: list[str], **fields: Any) -> str:
        """Write one answer from the candidates of ``reads``."""
        return self.node("fuse", id, model=model, reads=reads, **fields)

    def select(self, id: str, *, reads: list[str], **fields: Any) -> str:
        """Pick one candidate: ``by="judge"`` with ``model``, or ``by="verifier"`` with ``verifier``."""
        return self.node("select", id, reads=reads, **fields)

    def vote(self, id: str, *, reads: list[str], **fields: Any) -> str:
        """Vote over the answers of ``reads`` (``method``, ``weights``, ``require_agreement``)."""
        return self.node("vote", id, reads=reads, **fields)

    def verify(self, id: str, *, check: str, target: Ref, **fields: Any) -> str:
        """Execute a check (unit_tests | pot | patch) on ``target``'s candidates."""
        return self.node("verify", id, check=check, target=target, **fields)

    def spawn(self, id: str, *, child: str | Graph | GraphSpec, width: int, **fields: Any) -> str:
        """Fan out ``width`` runs of ``child`` (a template node id, or a whole graph)."""
        if isinstance(child, Graph):
            child = child.build(check=False)
        sub: Any = {"graph": child} if isinstance(child, GraphSpec) else child
        return self.node("spawn", id, child=sub, width=width, **fields)

    def join(self, id: str, *, reads: list[str], **fields: Any) -> str:
        """Collect parallel branches or a spawn's children (``strategy``)."""
        return self.node("join", id, reads=reads, **fields)

    def localize(self, id: str, *, model: str, **fields: Any) -> str:
        """SWE: rank suspicious files or functions."""
        return self.node("localize", id, model=model, **fields)

    def patch(self, id: str, *, model: str, **fields: Any) -> str:
        """SWE: write unified diffs."""
        return self.node("patch", id, model=model, **fields)

    def custom(self, id: str, *, impl: str, config: dict[str, Any] | None = None, **fields: Any) -> str:
        """A user-defined kind (``impl``: registered name or allow-listed ``module:attr``)."""
        return self.node("custom", id, impl=impl, config=config or None, **fields)

    # -- edges -----------------------------------------------------------------------------------------------------

    def edge(
        self, src: str, dst: str, *, when: BaseModel | dict[str, Any] | None = None, max_rounds: int | None = None
    ) -> Graph:
        """A control edge ``src → dst`` (``dst`` may be ``END``), optionally conditional."""
        edge: dict[str, Any] = {"from": src, "to": dst}
        if when is not None:
            edge["when"] = when.model_dump(by_alias=True, exclude_none=True) if isinstance(when, BaseModel) else when
        if max_rounds is not None:
            edge["max_rounds"] = max_rounds
        self._edges.append(edge)
        return self

    def chain(self, *nodes: str) -> Graph:
        """Unconditional edges through ``nodes`` in order."""
        for a, b in pairwise(nodes):
            self.edge(a, b)
        return self

    def exit(self, *nodes: str) -> Graph:
        """An edge from each of ``nodes`` to ``END``."""
        for n in nodes:
            self.edge(n, END)
        return self

    # -- result ----------------------------------------------------------------------------------------------------

    def to_data(self) -> dict[str, Any]:
        """The graph as file data (what ``build`` validates)."""
        data = dict(self._data)
        if self._models:
            data["models"] = dict(self._models)
        if self._limits:
            data["limits"] = dict(self._limits)
        entry = self._entry or (self._nodes[0]["id"] if self._nodes else None)
        if entry is not None:
            data["entry"] = list(entry) if isinstance(entry, list) else entry
        data["nodes"] = [dict(n) for n in self._nodes]
        if self._edges:
            data["edges"] = [dict(e) for e in self._edges]
        return data

    def build(self, pool: ModelPool | None = None, *, check: bool = True) -> GraphSpec:
        """The ``GraphSpec``; raises ``ConfigError`` as loading the same graph from YAML would (``check=False``
        skips the graph checks and validates the types only)."""
        source = f"graph {self._data['name']!r}"
        try:
            spec = GraphSpec.model_validate(self.to_data())
        except ValidationError as exc:
            raise ConfigError(source, pydantic_error_items(exc, GraphSpec)) from None
        return check_spec(spec, pool, source) if check else spec
