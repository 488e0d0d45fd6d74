"""Whole-graph checks run before anything executes: structure (entries name distinct nodes, END reachable from
every node, every node reachable), loops (every cycle passes a condition with a round budget), fan-ins (declared
joins, also where nodes fed by several entries meet), data flow (every input produced upstream), model aliases,
and each kind's own rules. Each problem is an ``ErrorItem`` at the location of the offending field
(``nodes[2].reads[1]``) with the nearest valid choice as a hint."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from pydantic import ValidationError

from collabgraph.errors import CollabgraphError, ConfigError, ErrorItem, closest, format_loc
from collabgraph.graphs.analysis import ControlFlow, analyze
from collabgraph.graphs.conditions import AnswersAgree, Passed, VerdictIs, condition_refs
from collabgraph.graphs.custom import CustomKindError, kind_config_model, resolve_kind
from collabgraph.graphs.diagnostics import pydantic_error_items
from collabgraph.graphs.ids import END, RESERVED_IDS
from collabgraph.graphs.nodes import (
    CustomNode,
    GenerateNode,
    JoinNode,
    Node,
    PatchNode,
    RefineNode,
    SelectNode,
    SpawnNode,
    SubgraphRef,
    VoteNode,
)
from collabgraph.models.pool import ModelPool, default_pool

if TYPE_CHECKING:
    from collabgraph.graphs.spec import GraphSpec

__all__ = ["check", "validate"]

Loc = tuple[str | int, ...]


def validate(spec: GraphSpec, pool: ModelPool | None = None) -> list[ErrorItem]:
    """Every problem in ``spec``; empty when it is valid. Model names resolve against ``pool`` (default: the
    built-in offline pool); custom kinds are resolved (see ``collabgraph.graphs.custom``)."""
    checker = _Checker(spec, pool if pool is not None else default_pool(), (), {})
    checker.run()
    return checker.errors


def check(spec: GraphSpec, pool: ModelPool | None = None, source: str = "<graph>") -> GraphSpec:
    """``spec`` itself when valid; otherwise raises ``ConfigError`` listing every problem."""
    errors = validate(spec, pool)
    if errors:
        raise ConfigError(source, errors)
    return spec


def _did_you_mean(name: str, choices: Iterable[str], n: int = 1) -> str | None:
    pool = sorted(set(choices))
    near = closest(name, pool, n=n)
    if near:
        return "did you mean " + " or ".join(repr(n) for n in near) + "?"
    if pool and len(pool) <= 8:
        return "valid: " + ", ".join(pool)
    return None


class _Checker:
    def __init__(self, spec: GraphSpec, pool: ModelPool, prefix: Loc, inherited: dict[str, str]) -> None:
        self.spec = spec
        self.pool = pool
        self.prefix = prefix
        self.aliases = {**inherited, **spec.models}
        self.errors: list[ErrorItem] = []
        self.flow_ok = True
        self.flow: ControlFlow = analyze(spec)
        self.index = self.flow.index

    def err(self, loc: Loc, msg: str, hint: str | None = None) -> None:
        self.errors.append(ErrorItem(format_loc((*self.prefix, *loc)), msg, hint))

    def node_loc(self, node_id: str) -> Loc:
        return ("nodes", self.index[node_id])

    def run(self) -> None:
        self.check_ids()
        self.check_edges()
        self.check_templates()
        # With a broken id, entry or edge the control graph is not the one the user meant: flow errors found on it
        # (dead ends, missing fallbacks) would only echo the broken part, so they wait until it is fixed.
        self.flow_ok = not self.errors
        self.check_aliases()
        if self.flow_ok:
            self.check_routing()
            self.check_cycles()
            self.check_reachability()
            self.check_fan_ins()
        self.check_conditions()
        for i, node in enumerate(self.spec.nodes):
            if self.index[node.id] == i:
                self.check_inputs(i, node)
                self.check_node(i, node)
            if isinstance(node, SpawnNode) and isinstance(node.child, SubgraphRef):
                sub = _Checker(node.child.graph, self.pool, (*self.prefix, "nodes", i, "child", "graph"), self.aliases)
                sub.run()
                self.errors += sub.errors

    # -- structure -----------------------------------------------------------------------------------------------

    def check_ids(self) -> None:
        for i, node in enumerate(self.spec.nodes):
            first = self.index[node.id]
            if first != i:
                self.err(("nodes", i, "id"), f"duplicate node id {node.id!r} (first at nodes[{first}])")
            if node.id in RESERVED_IDS:
                self.err(("nodes", i, "id"), f"{node.id!r} is reserved", "give the node another id")
        seen: dict[str, int] = {}
        for k, entry in enumerate(self.spec.entries):
            loc = self.entry_loc(k)
            if entry in seen:
                self.err(loc, f"duplicate entry {entry!r} (first at entry[{seen[entry]}])", "list each entry once")
            elif entry not in self.index:
                self.err(loc, f"no node {entry!r}", _did_you_mean(entry, self.index))
            elif entry in self.flow.templates:
                self.err(loc, f"{entry!r} is the child template of spawn {self.flow.templates[entry]!r}")
            seen.setdefault(entry, k)

    def entry_loc(self, k: int) -> Loc:
        """``entry`` for a single entry, ``entry[k]`` for the k-th of a list."""
        return ("entry",) if isinstance(self.spec.entry, str) else ("entry", k)

    def check_aliases(self) -> None:
        for alias, name in self.spec.models.items():
            try:
                self.pool.resolve(name)
            except CollabgraphError:
                self.err(("models", alias), f"unknown model {name!r}", _did_you_mean(name, self.pool.names(), n=3))

    def check_edges(self) -> None:
        seen: dict[tuple[str, str], int] = {}
        ids = list(self.index)
        for k, edge in enumerate(self.spec.edges):
            if edge.from_ == END:
                self.err(("edges", k, "from"), "END ends the graph; it is a target only")
            elif edge.from_ not in self.index:
                self.err(("edges", k, "from"), f"no node {edge.from_!r}", _did_you_mean(edge.from_, ids))
            if edge.to != END and edge.to not in self.index:
                self.err(("edges", k, "to"), f"no node {edge.to!r}", _did_you_mean(edge.to, [*ids, END]))
            pair = (edge.from_, edge.to)
            if pair in seen:
                self.err(
                    ("edges", k),
                    f"duplicate edge {edge.from_} → {edge.to} (first at edges[{seen[pair]}])",
                    "one edge per pair; combine conditions with `any:`",
                )
            seen.setdefault(pair, k)

    def check_templates(self) -> None:
        used: dict[str, str] = {}
        for i, node in enumerate(self.spec.nodes):
            if not isinstance(node, SpawnNode):
                continue
            if isinstance(node.child, SubgraphRef):
                continue
            child = node.child
            loc: Loc = ("nodes", i, "child")
            if child not in self.index:
                self.err(loc, f"no node {child!r}", _did_you_mean(child, self.index))
            elif child == node.id:
                self.err(loc, "a spawn cannot be its own child")
            elif child in used:
                self.err(
                    loc, f"{child!r} is already the child of spawn {used[child]!r}", "give each spawn its own child"
                )
            elif self.spec.nodes[self.index[child]].kind in ("spawn", "join"):
                self.err(
                    loc,
                    f"a child template cannot be a {self.spec.nodes[self.index[child]].kind} node",
                    "spawn a subgraph ({graph: …}) for nested fan-outs",
                )
            used.setdefault(child, node.id)
        for k, edge in enumerate(self.spec.edges):
            for end, name in (("from", edge.from_), ("to", edge.to)):
                if name in self.flow.templates:
                    self.err(
                        ("edges", k, end),
                        f"{name!r} is the child template of spawn {self.flow.templates[name]!r}: it runs only through "
                        "the spawn and has no edges of its own",
                    )

    def check_routing(self) -> None:
        spec = self.spec
        for node_id in self.index:
            outs = self.flow.out_edges(node_id)
            node = spec.nodes[self.index[node_id]]
            if isinstance(node, SpawnNode):
                self.check_spawn_edges(node, outs)
                continue
            conditional = [k for k in outs if spec.edges[k].when is not None]
            fallbacks = [k for k in outs if spec.edges[k].when is None]
            if conditional and not fallbacks:
                self.err(
                    ("edges", conditional[0]),
                    f"{node_id!r} routes on conditions but has no fallback edge for when none holds",
                    f"add an edge from {node_id!r} without `when` (e.g. to END)",
                )
            elif conditional and len(fallbacks) > 1:
                self.err(
                    ("edges", fallbacks[1]),
                    f"{node_id!r} routes on conditions, so it takes one branch; it has {len(fallbacks)} edges "
                    "without `when`",
                    "give all but one fallback edge a `when`",
                )
            elif not conditional and len(outs) > spec.limits.max_width:
                self.err(
                    ("edges", outs[spec.limits.max_width]),
                    f"{node_id!r} fans out to {len(outs)} branches, more than limits.max_width = "
                    f"{spec.limits.max_width}",
                    "raise limits.max_width",
                )
        entries = spec.entries
        if len(entries) > spec.limits.max_width:  # the entries are branches too, opened at the start
            self.err(
                self.entry_loc(spec.limits.max_width),
                f"the graph starts at {len(entries)} entries, more than limits.max_width = {spec.limits.max_width}",
                "raise limits.max_width",
            )
        for k, edge in enumerate(spec.edges):
            if edge.max_rounds is None:
                continue
            loc: Loc = ("edges", k, "max_rounds")
            if edge.when is None:
                self.err(loc, "a round budget applies to a conditional edge", "add `when:` or drop max_rounds")
            elif k in self.flow.edge_ids and k not in self.flow.loop_edges:
                self.err(loc, f"edge {edge.from_} → {edge.to} is on no loop, so a round budget never applies")
            elif edge.max_rounds > spec.limits.max_rounds:
                self.err(loc, f"{edge.max_rounds} exceeds limits.max_rounds = {spec.limits.max_rounds}")

    def check_spawn_edges(self, node: SpawnNode, outs: list[int]) -> None:
        for pos, k in enumerate(outs):
            edge = self.spec.edges[k]
            target = self.spec.nodes[self.index[edge.to]] if edge.to in self.index else None
            if pos > 0:
                self.err(("edges", k), f"spawn {node.id!r} has one out-edge, to the join that collects its children")
            elif edge.when is not None:
                self.err(("edges", k, "when"), "a spawn's edge to its join is unconditional")
            elif not (isinstance(target, JoinNode) and node.id in target.reads):
                joins = [n.id for n in self.spec.nodes if isinstance(n, JoinNode) and node.id in n.reads]
                self.err(
                    ("edges", k, "to"),
                    f"spawn {node.id!r} must lead to a join node that reads it, not {edge.to!r}",
                    f"use {joins[0]!r}" if joins else f"add a node {{kind: join, reads: [{node.id}]}}",
                )

    def check_cycles(self) -> None:
        import networkx as nx

        graph = self.flow.graph
        plain = nx.DiGraph((u, v, d) for u, v, d in graph.edges(data=True) if not d["conditional"])
        for scc in nx.strongly_connected_components(plain):
            first = next(iter(scc))
            if len(scc) == 1 and not plain.has_edge(first, first):
                continue
            cycle = nx.find_cycle(plain.subgraph(scc), source=min(scc, key=lambda n: self.index.get(n, 0)))
            ks = [graph.edges[u, v]["index"] for u, v in cycle]
            path = " → ".join([cycle[0][0], *(v for _, v in cycle)])
            self.err(
                ("edges", max(ks)),
                f"loop {path} has no condition, so nothing ever ends it",
                "add `when:` to one of its edges (e.g. {round_lt: 3}); a conditional loop edge is taken at most "
                "max_rounds times",
            )

    def check_conditions(self) -> None:
        for k, edge in enumerate(self.spec.edges):
            if edge.when is None:
                continue
            for sub, ref, cond in condition_refs(edge.when, ("when",)):
                loc: Loc = ("edges", k, *sub)
                if ref not in self.index:
                    self.err(loc, f"no node {ref!r}", _did_you_mean(ref, self.index))
                    continue
                kind = self.spec.nodes[self.index[ref]].kind
                wanted = "critique" if isinstance(cond, VerdictIs) else "verify" if isinstance(cond, Passed) else None
                if wanted and kind not in (wanted, "custom"):
                    key = "verdict" if wanted == "critique" else "passed"
                    options = [n.id for n in self.spec.nodes if n.kind == wanted]
                    self.err(
                        loc,
                        f"`{key}` reads a {wanted} node; {ref!r} is a {kind} node",
                        _did_you_mean(ref, options) if options else None,
                    )
                elif (
                    self.flow_ok
                    and isinstance(cond, VerdictIs | Passed | AnswersAgree)
                    and ref != edge.from_
                    and edge.from_ in self.index
                    and not (self.flow.runs_before(ref, edge.from_) and self.flow.guaranteed(edge.from_, [ref]))
                ):
                    self.err(
                        loc,
                        f"the condition reads {ref!r}, which has not surely run when {edge.from_!r} routes",
                        "a condition reads the router itself or a node on every path to it",
                    )

    def check_reachability(self) -> None:
        import networkx as nx

        graph = self.flow.graph
        entries = self.spec.entries
        if not all(e in graph for e in entries):
            return
        reached = {*entries}.union(*(nx.descendants(graph, e) for e in entries))
        reached |= {t for t, s in self.flow.templates.items() if s in reached}
        start = f"the entry {entries[0]!r}" if len(entries) == 1 else "the entries " + ", ".join(map(repr, entries))
        for node_id, i in self.index.items():
            if node_id not in reached:
                self.err(
                    ("nodes", i),
                    f"node {node_id!r} is not reachable from {start}",
                    f"add an edge to {node_id!r}, or remove it",
                )
        # An edge into an entry that closes no loop runs that entry a second time in the same pass.
        for k, entry in enumerate(entries):
            into = [e for e in self.flow.in_edges(entry) if self.spec.edges[e].from_ in reached]
            if into:
                e, source = into[0], self.spec.edges[into[0]].from_
                self.err(
                    self.entry_loc(k),
                    f"entry {entry!r} also runs after {source!r} (edges[{e}]), so it would run twice in one pass",
                    f"drop {entry!r} from entry to start it after {source!r}, or remove edges[{e}]",
                )
        # Nodes stuck away from END form dead-end regions; one error per region, at its first node, says where
        # an edge toward END is missing without repeating it for every node upstream.
        condensed = nx.condensation(graph)
        for c in condensed.nodes:
            members = condensed.nodes[c]["members"]
            if condensed.out_degree(c) == 0 and END not in members:
                first = min(members, key=lambda n: self.index[n])
                self.err(
                    self.node_loc(first),
                    f"node {first!r} never reaches END" + (" (nor does its loop)" if len(members) > 1 else ""),
                    f"add an edge from {first!r} toward END",
                )

    def check_fan_ins(self) -> None:
        for node_id in [*self.index, END]:
            if node_id in self.flow.templates:
                continue
            pair = self.flow.fan_in_pair(node_id)
            if pair is None:
                continue
            a, b = pair
            if node_id == END:
                self.err(
                    ("edges", b, "to"),
                    f"edges[{a}] and edges[{b}] can both end the graph in one run, so the final answer is ambiguous",
                    "end the graph from one node that combines the branches (vote, fuse, select or join)",
                )
            elif not self.flow.waits(node_id):
                self.err(
                    (*self.node_loc(node_id), "join"),
                    f"{node_id!r} is reached by edges[{a}] and edges[{b}], which can both fire in one run, but "
                    "declares no join",
                    "set `join: all` to wait for every branch, or collect them with a vote, fuse, select or join node",
                )
        for node_id, i in self.index.items():
            node = self.spec.nodes[i]
            if node.AGGREGATES or getattr(node, "join", None) is not None:
                continue
            read = [r for _, ids in node.inputs() for r in ids if r in self.flow.graph]
            pairs = [(x, y) for j, x in enumerate(read) for y in read[j + 1 :] if self.flow.parallel(x, y)]
            already = format_loc((*self.prefix, "nodes", i, "join")) in {e.loc for e in self.errors}
            if pairs and not already:
                x, y = pairs[0]
                self.err(
                    ("nodes", i, "join"),
                    f"{node_id!r} reads {x!r} and {y!r}, which run in parallel, but declares no join",
                    "set `join: all`, or read one node that combines them (vote, fuse, select or join)",
                )

    # -- data flow -----------------------------------------------------------------------------------------------

    def check_inputs(self, i: int, node: Node) -> None:
        spawn = self.flow.templates.get(node.id)
        anchor = spawn if spawn is not None else node.id  # a template runs right after its spawn
        seen: set[str] = set()
        for loc, ids in node.inputs():
            as_list = loc[0] != "reads" and isinstance(getattr(node, str(loc[0])), list)
            ok = True
            for k, ref in enumerate(ids):
                at: Loc = ("nodes", i, *loc, *((k,) if as_list else ()))
                if loc[0] == "reads":
                    if ref in seen:
                        self.err(at, f"{ref!r} is read twice")
                    seen.add(ref)
                if not self.check_ref(at, node, ref, anchor):
                    ok = False
            if ok and spawn not in ids and not self.flow.guaranteed(anchor, ids):
                if loc[0] in node.optional_inputs() and self.reaches(ids, anchor):
                    continue  # read when there is one: e.g. a loop's feedback, absent on the first round
                self.err(("nodes", i, *loc), *self.missing_input(anchor, ids))

    def reaches(self, ids: list[str], anchor: str) -> bool:
        """Whether any of ``ids`` leads to ``anchor`` by some path, loops included."""
        import networkx as nx

        return any(r in self.flow.graph and nx.has_path(self.flow.graph, r, anchor) for r in ids)

    def missing_input(self, anchor: str, ids: list[str]) -> tuple[str, str]:
        names = " or ".join(repr(r) for r in ids)
        upstream = [n for n in self.index if n in self.flow.runs_when and self.flow.guaranteed(anchor, [n])]
        if not any(anchor in self.flow.descendants.get(r, set()) for r in ids):
            return (
                f"{names} runs before {anchor!r} only through a loop, so the first round has nothing to read",
                "list a node that runs in the first round too, latest first"
                + (f": [{', '.join([*ids, upstream[-1]])}]" if upstream else ""),
            )
        return (
            f"{names} runs only under some router choices, so when {anchor!r} runs the input may be missing",
            "read a node that always runs before it"
            + (f" ({', '.join(upstream[-3:])})" if upstream else "")
            + ", or list alternatives to read the latest of: [a, b]",
        )

    def check_ref(self, at: Loc, node: Node, ref: str, anchor: str) -> bool:
        if ref not in self.index:
            self.err(at, f"no node {ref!r}", _did_you_mean(ref, [n for n in self.index if n != node.id]))
            return False
        if ref in self.flow.templates:
            self.err(
                at,
                f"{ref!r} is the child template of spawn {self.flow.templates[ref]!r}",
                "read the join that collects the spawn's children",
            )
            return False
        if not self.flow_ok:
            return False
        target = self.spec.nodes[self.index[ref]]
        if ref == anchor != node.id:
            return True  # a child template reads its spawn's subtask
        if isinstance(target, SpawnNode) and not isinstance(node, JoinNode):
            self.err(at, f"{ref!r} is a spawn; its children's results are read through its join")
            return False
        if isinstance(target, SpawnNode) and not self.flow.graph.has_edge(ref, node.id):
            self.err(
                at, f"join {node.id!r} reads spawn {ref!r} but does not follow it", f"add the edge {ref} → {node.id}"
            )
            return False
        if not self.flow.runs_before(ref, anchor):
            upstream = [n for n in self.index if n in self.flow.graph and self.flow.runs_before(n, anchor)]
            self.err(
                at,
                f"{ref!r} never runs before {anchor!r}, so its output is not there to read",
                _did_you_mean(ref, upstream) if upstream else f"add an edge path from {ref!r} to {anchor!r}",
            )
            return False
        return True

    # -- per kind ------------------------------------------------------------------------------------------------

    def check_node(self, i: int, node: Node) -> None:
        here: Loc = ("nodes", i)
        name = node.model_name
        if name is not None and name not in self.aliases:
            try:
                self.pool.resolve(name)
            except CollabgraphError:
                self.err(
                    (*here, "model"),
                    f"{name!r} is neither a model alias of this graph nor a model of the pool",
                    _did_you_mean(name, [*self.aliases, *self.pool.names()], n=3),
                )
        width = self.spec.limits.max_width
        if isinstance(node, GenerateNode | PatchNode) and node.samples > width:
            self.err(
                (*here, "samples"),
                f"{node.samples} samples exceed limits.max_width = {width}",
                "raise limits.max_width",
            )
        if isinstance(node, SpawnNode):
            if node.width > width:
                self.err(
                    (*here, "width"), f"width {node.width} exceeds limits.max_width = {width}", "raise limits.max_width"
                )
            if node.mode == "planned" and node.model is None:
                self.err((*here, "model"), "a planned spawn needs a model to plan its subtasks")
            if node.mode == "replicas" and node.model is not None:
                self.err(
                    (*here, "model"),
                    "a replicas spawn copies its input and calls no model",
                    "drop model, or use mode: planned",
                )
        elif isinstance(node, SelectNode):
            self.check_select(here, node)
        elif isinstance(node, VoteNode):
            self.check_vote(here, node)
        elif isinstance(node, RefineNode):
            self.check_kinds(here, "feedback", node.feedback, ("critique", "custom"))
        elif isinstance(node, PatchNode) and node.feedback is not None:
            self.check_kinds(here, "feedback", node.feedback, ("verify", "custom"))
        elif isinstance(node, CustomNode):
            self.check_custom(here, node)

    def check_kinds(self, here: Loc, field: str, ref: str | list[str], kinds: Sequence[str]) -> None:
        ids = [ref] if isinstance(ref, str) else ref
        for k, r in enumerate(ids):
            if r in self.index and self.spec.nodes[self.index[r]].kind not in kinds:
                at = (*here, field, *((k,) if isinstance(ref, list) else ()))
                options = [n.id for n in self.spec.nodes if n.kind == kinds[0]]
                self.err(
                    at,
                    f"{field} comes from a {kinds[0]} node; {r!r} is a {self.spec.nodes[self.index[r]].kind} node",
                    _did_you_mean(r, options) if options else None,
                )

    def check_select(self, here: Loc, node: SelectNode) -> None:
        if node.by == "judge":
            if node.model is None:
                self.err((*here, "model"), "select by judge needs a model", "set model, or use by: verifier")
            if node.verifier is not None:
                self.err((*here, "verifier"), "only select by: verifier reads a verifier")
        else:
            if node.verifier is None:
                options = [n.id for n in self.spec.nodes if n.kind == "verify"]
                self.err(
                    (*here, "verifier"),
                    "select by: verifier needs the verify node whose scores it uses",
                    f"e.g. verifier: {options[0]}" if options else None,
                )
            else:
                self.check_kinds(here, "verifier", node.verifier, ("verify", "custom"))
            if node.model is not None:
                self.err((*here, "model"), "select by: verifier calls no model", "drop model, or use by: judge")

    def check_vote(self, here: Loc, node: VoteNode) -> None:
        for key in node.weights:
            if key not in node.reads:
                self.err(
                    (*here, "weights", key),
                    f"{key!r} is not among the nodes this vote reads",
                    _did_you_mean(key, node.reads),
                )
        if node.method == "weighted" and not node.weights:
            self.err((*here, "weights"), "method: weighted needs weights", "e.g. weights: {" + node.reads[0] + ": 2}")
        if node.method == "majority" and node.weights:
            self.err((*here, "weights"), "weights apply to method: weighted only", "set method: weighted")
        if node.require_agreement and len(set(node.reads)) < 2:
            self.err((*here, "require_agreement"), "agreement across sources needs at least two read nodes")

    def check_custom(self, here: Loc, node: CustomNode) -> None:
        try:
            kind = resolve_kind(node.impl)
        except CustomKindError as exc:
            self.err((*here, "impl"), exc.message, exc.hint)
            return
        model = kind_config_model(kind)
        if model is None:
            return
        try:
            model.model_validate(node.config)
        except ValidationError as exc:
            self.errors += pydantic_error_items(exc, model, (*self.prefix, *here, "config"))
