"""Candidates: a graph design as the optimizers see it, and how it becomes a runnable ``GraphSpec``.

A ``Design`` has one ``Slot`` (role, model, samples) per position ``0 … nodes-1`` and a set of edges ``i → j`` with
``i < j`` (so every design is acyclic). The last slot is the output; slots with no path to it are dropped. A kept
slot with no inputs answers the question (a ``generate`` node, whatever its role); one with inputs combines them
as its role says. ``canonical()`` maps every design to the one representative of the graphs it decodes to, so two
designs that run the same graph share one key and are never evaluated twice.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from collabgraph.graphs.spec import GraphSpec
from collabgraph.optimizers.space import Role, SearchSpace

__all__ = ["Design", "Slot", "Structure", "count_designs", "designs_from", "enumerate_designs"]

_MODEL_FREE: frozenset[Role] = frozenset({"vote"})


class Slot(BaseModel):
    """One position of a design: its role, its model and how many samples it draws."""

    model_config = ConfigDict(frozen=True)
    role: Role = "assistant"
    model: str
    samples: int = Field(default=1, ge=1)


class Structure(BaseModel):
    """The shape of a decoded design: kept slots, their inputs, layers, width and depth."""

    model_config = ConfigDict(frozen=True)
    kept: list[int]
    inputs: dict[int, list[int]]
    layer: dict[int, int]
    width: int
    depth: int


class Design(BaseModel):
    """A candidate graph: slots and edges (pairs ``(i, j)``, ``i < j``, kept sorted)."""

    model_config = ConfigDict(frozen=True)
    slots: tuple[Slot, ...] = Field(min_length=1)
    edges: tuple[tuple[int, int], ...] = ()

    # -- structure --------------------------------------------------------------------------------------------

    def structure(self) -> Structure:
        """Which slots are kept (those with a path to the last slot), their inputs and layers."""
        out = len(self.slots) - 1
        edges = {(i, j) for i, j in self.edges if 0 <= i < j <= out}
        reach = {out}
        for j in range(out, -1, -1):
            if j in reach:
                reach |= {i for i, k in edges if k == j}
        kept = sorted(reach)
        inputs = {j: sorted(i for i, k in edges if k == j and i in reach) for j in kept}
        for j in kept:  # a critic reads only its latest input: the others would be read by nobody
            if inputs[j] and self.slots[j].role == "critic":
                inputs[j] = inputs[j][-1:]
        # Inputs dropped above may leave slots that no longer reach the output: keep only what does.
        reach = {out}
        for j in range(out, -1, -1):
            if j in reach:
                reach |= set(inputs[j])
        kept = sorted(reach)
        inputs = {j: [i for i in inputs[j] if i in reach] for j in kept}
        layer: dict[int, int] = {}
        for j in kept:
            layer[j] = 1 + max((layer[i] for i in inputs[j]), default=-1)
        counts: dict[int, int] = {}
        for d in layer.values():
            counts[d] = counts.get(d, 0) + 1
        return Structure(kept=kept, inputs=inputs, layer=layer, width=max(counts.values()), depth=len(counts))

    def label(self, j: int, has_inputs: bool) -> tuple[str, str, int]:
        """Slot ``j``'s effective (role, model, samples): sources answer, ``assistant`` with inputs fuses, a vote
        has no model, and only answering slots draw several samples."""
        slot = self.slots[j]
        role: Role = "assistant" if not has_inputs else ("fuser" if slot.role == "assistant" else slot.role)
        return role, "" if role in _MODEL_FREE else slot.model, slot.samples if not has_inputs else 1

    def canonical(self) -> Design:
        """The representative design of the graph this one decodes to. Unused slots and edges are dropped, roles,
        models and samples take their effective values (see ``label``), and the kept slots are renumbered into the
        last positions in a canonical order — by layer, then by what they compute (their inputs, recursively) and
        who reads them — so that designs differing only in which free slot holds a node, or in the order of
        interchangeable nodes, share one canonical form and one key. The output stays last."""
        st = self.structure()
        n = len(self.slots)
        labels = {j: self.label(j, bool(st.inputs[j])) for j in st.kept}
        up: dict[int, tuple[object, ...]] = {}
        for j in st.kept:
            up[j] = (labels[j], tuple(sorted((up[i] for i in st.inputs[j]), key=repr)))
        down: dict[int, tuple[object, ...]] = {}
        for j in reversed(st.kept):
            readers = [k for k in st.kept if j in st.inputs[k]]
            down[j] = tuple(sorted(((labels[k], down[k]) for k in readers), key=repr))
        order = sorted(st.kept, key=lambda j: (j == n - 1, st.layer[j], repr(up[j]), repr(down[j]), j))
        pos = {j: n - len(order) + r for r, j in enumerate(order)}
        default = labels[order[0]][1]  # a source's model: unused slots and votes carry it, so it adds nothing
        slots = [Slot(role="assistant", model=default, samples=1) for _ in range(n)]
        for j in st.kept:
            role, model, samples = labels[j]
            slots[pos[j]] = Slot(role=role, model=model or default, samples=samples)
        edges = tuple(sorted((pos[i], pos[j]) for j in st.kept for i in st.inputs[j]))
        return Design(slots=tuple(slots), edges=edges)

    def key(self) -> str:
        """A short stable key of the canonical design: equal keys run the same graph."""
        c = self.canonical()
        st = c.structure()
        payload = {
            "slots": [[j, *c.slots[j].model_dump().values()] for j in st.kept],
            "edges": [list(e) for e in c.edges],
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]

    def describe(self) -> str:
        """One line a person (or an optimizer LLM) can read, in this design's own slot numbers:
        ``[0] assistant sim/llama-3.2-1b x3; [3] fuser sim/llama-3.1-8b <- 0``."""
        st = self.structure()
        parts = []
        for j in st.kept:
            role, model, samples = self.label(j, bool(st.inputs[j]))
            times = f" x{samples}" if samples > 1 else ""
            reads = f" <- {','.join(map(str, st.inputs[j]))}" if st.inputs[j] else ""
            parts.append(f"[{j}] {role}{' ' + model if model else ''}{times}{reads}")
        return "; ".join(parts)

    def within_limits(self, space: SearchSpace) -> list[str]:
        """What about this design breaks the space's width / depth limits (empty when it fits)."""
        st = self.structure()
        problems = []
        if space.limits.width is not None and st.width > space.limits.width:
            problems.append(f"width {st.width} > {space.limits.width}")
        if space.limits.depth is not None and st.depth > space.limits.depth:
            problems.append(f"depth {st.depth} > {space.limits.depth}")
        return problems

    # -- decoding ---------------------------------------------------------------------------------------------

    def node_ids(self) -> dict[int, str]:
        """The graph node id of each kept slot."""
        st = self.canonical().structure()
        c = self.canonical()
        return {j: f"{c.slots[j].role}{j}" for j in st.kept}

    def to_graph(self, space: SearchSpace, name: str | None = None) -> GraphSpec:
        """The runnable graph of this design (see the module docstring for the rules)."""
        c = self.canonical()
        st = c.structure()
        ids = c.node_ids()
        nodes: list[dict[str, Any]] = []
        edges: list[dict[str, Any]] = []
        out_id: dict[int, str] = {}
        for j in st.kept:
            slot, ins, nid = c.slots[j], st.inputs[j], ids[j]
            reads = [out_id[i] for i in ins]
            for i in ins:
                edges.append({"from": out_id[i], "to": nid})
            if not ins:
                node: dict[str, Any] = {"id": nid, "kind": "generate", "model": slot.model}
                if slot.samples > 1:
                    node["samples"] = slot.samples
                if space.temperature:
                    node["temperature"] = space.temperature
                nodes.append(node)
                out_id[j] = nid
            elif slot.role in ("fuser", "assistant"):
                nodes.append({"id": nid, "kind": "fuse", "model": slot.model, "reads": reads})
                out_id[j] = nid
            elif slot.role == "vote":
                nodes.append({"id": nid, "kind": "vote", "reads": reads})
                out_id[j] = nid
            elif slot.role == "select":
                nodes.append({"id": nid, "kind": "select", "model": slot.model, "reads": reads})
                out_id[j] = nid
            else:  # critic: critique the input, then refine it with the feedback
                target = reads[0]
                refine = f"refine{j}"
                nodes.append({"id": nid, "kind": "critique", "model": slot.model, "target": target})
                nodes.append(
                    {"id": refine, "kind": "refine", "model": slot.model, "candidate": target, "feedback": nid}
                )
                edges.append({"from": nid, "to": refine})
                out_id[j] = refine
        edges.append({"from": out_id[st.kept[-1]], "to": "END"})
        sources = [ids[j] for j in st.kept if not st.inputs[j]]
        data = {
            "schema": "collabgraph.graph/v1",
            "name": name or f"{space.name}-{c.key()}",
            "description": c.describe(),
            "entry": sources[0] if len(sources) == 1 else sources,
            "nodes": nodes,
            "edges": edges,
        }
        return GraphSpec.model_validate(data)


def _designs(space: SearchSpace) -> Iterator[Design]:
    n = space.limits.nodes
    pairs = [(i, j) for j in range(n) for i in range(j)]
    models, roles, samples = space.models, space.roles, space.limits.samples
    # With inputs, ``assistant`` reads them as a fuser does: the combining roles are the others, fuser first.
    combining: list[Role] = [r for r in roles if r != "assistant"]
    if "fuser" not in combining:
        combining.insert(0, "fuser")
    for mask in range(1 << len(pairs)):
        edges = tuple(sorted(p for b, p in enumerate(pairs) if mask >> b & 1))
        skeleton = Design(slots=tuple(Slot(model=models[0]) for _ in range(n)), edges=edges)
        st = skeleton.structure()
        if tuple(sorted((i, j) for j, ins in st.inputs.items() for i in ins)) != edges:
            continue  # not canonical: an unused edge, or a critic's extra input, is enumerated elsewhere
        choices: list[list[Slot]] = []
        for j in range(n):
            if j not in st.inputs:
                choices.append([Slot(model=models[0])])
            elif not st.inputs[j]:
                choices.append([Slot(role="assistant", model=m, samples=s) for m in models for s in samples])
            else:
                choices.append(
                    [
                        Slot(role=r, model=m)
                        for r in combining
                        for m in (models[:1] if r in _MODEL_FREE else models)
                        if not (r == "critic" and len(st.inputs[j]) > 1)
                    ]
                )
        for slots in itertools.product(*choices):
            yield Design(slots=tuple(slots), edges=edges)


def enumerate_designs(space: SearchSpace) -> Iterator[Design]:
    """Every distinct graph of the space within its width / depth limits, once each, in a fixed order."""
    seen: set[str] = set()
    for d in _designs(space):
        if d.within_limits(space):
            continue
        key = d.key()
        if key not in seen:
            seen.add(key)
            yield d


def count_designs(space: SearchSpace, cap: int = 1_000_000) -> int:
    """How many distinct graphs the space holds (stops counting at ``cap``)."""
    return sum(1 for _ in itertools.islice(enumerate_designs(space), cap))


def designs_from(items: Sequence[dict[str, Any]]) -> list[Design]:
    """Designs from their JSON form (``Design.model_dump(mode='json')``), as logs store them."""
    return [Design.model_validate(x) for x in items]
