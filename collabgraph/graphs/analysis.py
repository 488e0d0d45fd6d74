"""The control-flow structure of a graph, computed once with networkx: loops, routers, fan-ins, parallelism and
which inputs are sure to exist. Validation reads it to find errors; the compiler reads it to wire LangGraph
(which edges are loop edges with a round budget, which nodes must wait for every incoming branch).

Within one pass (loops aside), whether a node runs depends only on the branches routers take. Each node gets a
*run condition*: a set of terms, each a consistent set of router choices (router id, edge index); the node runs
when the choices of some term are made. The entries always run (several entries all start at once, like the
branches of a fan-out) and static fan-outs run every branch, so neither adds choices.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from collabgraph.graphs.ids import END
from collabgraph.graphs.nodes import SpawnNode, SubgraphRef

if TYPE_CHECKING:
    from collabgraph.graphs.spec import GraphSpec

__all__ = ["ControlFlow", "analyze", "recursion_limit"]

Term = frozenset[tuple[str, int]]
"""Router choices (router id, index of the edge it takes) made together."""
RunCondition = frozenset[Term]
"""A node runs in a pass when every choice of one of its terms is made."""


def _consistent(a: Term, b: Term) -> bool:
    chosen = dict(a)
    return all(chosen.get(r, k) == k for r, k in b)


def _implies(term: Term, cond: RunCondition) -> bool:
    return any(t <= term for t in cond)


def _normalize(terms: Iterable[Term], branches: dict[str, frozenset[int]]) -> RunCondition:
    """Drop contradictory and subsumed terms, and merge terms that differ only in covering every branch of one
    router (``{r: a}`` or ``{r: b}`` for a router with branches a, b is simply ``{}``)."""
    current = {t for t in terms if len(dict(t)) == len(t)}
    changed = True
    while changed:
        changed = False
        groups: dict[tuple[str, Term], set[int]] = {}
        for t in current:
            for r, k in t:
                groups.setdefault((r, t - {(r, k)}), set()).add(k)
        for (r, rest), ks in groups.items():
            if ks >= branches.get(r, frozenset()) and rest not in current:
                current.add(rest)
                changed = True
        minimal = {t for t in current if not any(o < t for o in current)}
        changed = changed or minimal != current
        current = minimal
    return frozenset(current)


@dataclass
class ControlFlow:
    """Control-flow facts about a spec. Ill-formed edges (unknown endpoints, duplicates) are left out, so this can
    be computed on a spec that validation is about to reject."""

    spec: GraphSpec
    graph: Any = field(repr=False)
    """``networkx.DiGraph`` over control node ids and ``END``; edge attributes ``index`` (position in
    ``spec.edges``) and ``conditional``."""
    index: dict[str, int]
    """Node id -> position in ``spec.nodes`` (first occurrence)."""
    templates: dict[str, str]
    """Spawn child template id -> the spawn that runs it; templates have no control edges."""
    edge_ids: list[int]
    """Indices of the edges kept in ``graph``, in declaration order."""
    back_edges: frozenset[int]
    """Edges that close a cycle in a depth-first walk from the entries (removing them leaves ``dag``); every edge
    into an entry from a node that entry reaches is one."""
    loop_edges: frozenset[int]
    """Conditional edges on a cycle: each is taken at most ``round_budget`` times per example."""
    dag: Any = field(repr=False)
    runs_when: dict[str, RunCondition] = field(repr=False)
    """Per control node, the router choices under which it runs in a pass."""
    fires_when: dict[int, RunCondition] = field(repr=False)
    """Per forward edge, the router choices under which it fires."""
    descendants: dict[str, set[str]] = field(repr=False)
    branches: dict[str, frozenset[int]] = field(repr=False)
    """Per node, the indices of its kept out-edges (a router's branches)."""

    def out_edges(self, node_id: str) -> list[int]:
        """Indices of a node's kept out-edges, in declaration order (the order a router tries them)."""
        return [k for k in self.edge_ids if self.spec.edges[k].from_ == node_id]

    def in_edges(self, node_id: str, *, forward_only: bool = True) -> list[int]:
        """Indices of a node's kept in-edges; with ``forward_only``, loop-closing back edges are left out."""
        return [
            k for k in self.edge_ids if self.spec.edges[k].to == node_id and not (forward_only and k in self.back_edges)
        ]

    def is_router(self, node_id: str) -> bool:
        """Whether the node picks one branch by conditions (some out-edge has ``when``)."""
        return any(self.spec.edges[k].when is not None for k in self.out_edges(node_id))

    def round_budget(self, edge_index: int) -> int | None:
        """How often a loop edge may be taken per example (its ``max_rounds``, else ``limits.max_rounds``);
        None for an edge on no loop."""
        if edge_index not in self.loop_edges:
            return None
        own = self.spec.edges[edge_index].max_rounds
        return own if own is not None else self.spec.limits.max_rounds

    def on_cycle(self, node_id: str) -> bool:
        """Whether the node can run again after itself (it lies on a loop)."""
        import networkx as nx

        return node_id in self.graph and any(
            nx.has_path(self.graph, s, node_id) for s in self.graph.successors(node_id)
        )

    def runs_before(self, a: str, b: str) -> bool:
        """Whether ``a`` can run before ``b`` in some run (a path a → b, possibly through a loop)."""
        import networkx as nx

        if a not in self.graph or b not in self.graph:
            return False
        return self.on_cycle(a) if a == b else nx.has_path(self.graph, a, b)

    def guaranteed(self, node_id: str, among: Iterable[str]) -> bool:
        """Whether, in every pass where ``node_id`` runs, one of ``among`` has run before it (in the same pass:
        upstream of it without a loop, and under every router choice that lets ``node_id`` run). True for a node
        that never runs."""
        before = [a for a in among if a in self.runs_when and node_id in self.descendants[a]]
        # One of several inputs is there when, together, their run conditions cover the node's: the latest of two
        # router branches is always there after the branches meet.
        either = _normalize((t for a in before for t in self.runs_when[a]), self.branches)
        return all(_implies(term, either) for term in self.runs_when.get(node_id, frozenset()))

    def exclusive_edges(self, a: int, b: int) -> bool:
        """Whether two forward edges never both fire in one pass (they sit behind different router branches)."""
        return not any(
            _consistent(x, y) for x in self.fires_when.get(a, frozenset()) for y in self.fires_when.get(b, frozenset())
        )

    def parallel(self, a: str, b: str) -> bool:
        """Whether two nodes can both run in one pass with neither upstream of the other."""
        if a == b or a not in self.runs_when or b not in self.runs_when:
            return False
        if b in self.descendants.get(a, set()) or a in self.descendants.get(b, set()):
            return False
        return any(_consistent(x, y) for x in self.runs_when[a] for y in self.runs_when[b])

    def fan_in_pair(self, node_id: str) -> tuple[int, int] | None:
        """Two forward in-edges that can both fire in one pass (the node is a fan-in), or None."""
        ins = self.in_edges(node_id)
        for i, a in enumerate(ins):
            for b in ins[i + 1 :]:
                if not self.exclusive_edges(a, b):
                    return a, b
        return None

    def waits(self, node_id: str) -> bool:
        """Whether the node must wait for every incoming branch (LangGraph ``defer=True``): aggregator kinds and
        nodes that declare ``join: all``."""
        node = self.spec.nodes[self.index[node_id]]
        return node.AGGREGATES or getattr(node, "join", None) == "all"

    def topological_order(self) -> list[str]:
        """Control nodes (and ``END``) in an order where every forward edge points ahead."""
        import networkx as nx

        return list(nx.lexicographical_topological_sort(self.dag, key=lambda n: self.index.get(n, len(self.index))))


def _back_edges(graph: Any, roots: list[str], order: dict[str, int]) -> set[tuple[str, str]]:
    """Edges into a node still on the depth-first stack, visiting successors in declaration order."""

    def successors(n: str) -> Any:
        return iter(sorted(graph.successors(n), key=lambda s: order.get(s, len(order))))

    colour: dict[str, int] = {}
    back: set[tuple[str, str]] = set()
    for root in roots:
        if root in colour:
            continue
        colour[root] = 1
        stack = [(root, successors(root))]
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                colour[node] = 2
                stack.pop()
            elif colour.get(nxt) == 1:
                back.add((node, nxt))
            elif nxt not in colour:
                colour[nxt] = 1
                stack.append((nxt, successors(nxt)))
    return back


def analyze(spec: GraphSpec) -> ControlFlow:
    """Compute the control-flow facts of ``spec``."""
    import networkx as nx

    index: dict[str, int] = {}
    for i, node in enumerate(spec.nodes):
        index.setdefault(node.id, i)
    templates: dict[str, str] = {}
    for node in spec.nodes:
        if isinstance(node, SpawnNode) and isinstance(node.child, str) and node.child in index:
            templates.setdefault(node.child, node.id)

    graph = nx.DiGraph()
    graph.add_nodes_from(n for n in index if n not in templates)
    graph.add_node(END)
    edge_ids: list[int] = []
    # First edge per (from, to) wins; the edge's order among a node's out-edges is the routing order.
    for k, edge in enumerate(spec.edges):
        if edge.from_ not in index or (edge.to not in index and edge.to != END) or graph.has_edge(edge.from_, edge.to):
            continue
        graph.add_edge(edge.from_, edge.to, index=k, conditional=edge.when is not None)
        edge_ids.append(k)

    node_order = {n: i for i, n in enumerate(index)}
    entries = [e for e in dict.fromkeys(spec.entries) if e in graph]
    # An edge into an entry from a node the entry reaches closes a loop back to the start. With several entries a
    # walk from the first could enter another entry through such an edge and take the entry's own edges for the
    # loop's; so these edges are set apart first (with one entry the walk from it finds exactly them anyway).
    into_entries = {(u, e) for e in entries for u in graph.predecessors(e) if nx.has_path(graph, e, u)}
    walked = nx.restricted_view(graph, [], list(into_entries))
    back_pairs = into_entries | _back_edges(walked, [*entries, *(n for n in index if n in graph)], node_order)
    back = frozenset(graph.edges[u, v]["index"] for u, v in back_pairs)
    dag = nx.DiGraph()
    dag.add_nodes_from(graph.nodes)
    dag.add_edges_from((u, v, d) for u, v, d in graph.edges(data=True) if (u, v) not in back_pairs)

    component: dict[str, int] = {}
    for c, nodes in enumerate(nx.strongly_connected_components(graph)):
        for n in nodes:
            component[n] = c
    loops = frozenset(
        d["index"]
        for u, v, d in graph.edges(data=True)
        if d["conditional"] and v != END and (u == v or component[u] == component[v])
    )

    branches: dict[str, frozenset[int]] = {}
    for u, _, d in graph.edges(data=True):
        branches.setdefault(u, frozenset())
        branches[u] |= {d["index"]}
    routers = {u for u, _, d in graph.edges(data=True) if d["conditional"]}
    runs_when: dict[str, RunCondition] = {}
    fires_when: dict[int, RunCondition] = {}
    always: RunCondition = frozenset({frozenset()})
    for n in nx.lexicographical_topological_sort(dag, key=lambda n: node_order.get(n, len(node_order))):
        ins = list(dag.in_edges(n, data=True))
        for u, _, d in ins:
            choice = {(u, d["index"])} if u in routers else set()
            fires_when[d["index"]] = _normalize((t | choice for t in runs_when[u]), branches)
        if n in entries:  # every entry starts the pass, whatever routers decide
            runs_when[n] = always
        else:
            runs_when[n] = _normalize((t for _, _, d in ins for t in fires_when[d["index"]]), branches)

    descendants = {n: nx.descendants(dag, n) for n in dag.nodes}
    return ControlFlow(
        spec=spec,
        graph=graph,
        index=index,
        templates=templates,
        edge_ids=edge_ids,
        back_edges=back,
        loop_edges=loops,
        dag=dag,
        runs_when=runs_when,
        fires_when=fires_when,
        descendants=descendants,
        branches=branches,
    )


def recursion_limit(spec: GraphSpec) -> int:
    """The LangGraph ``recursion_limit`` (super-steps) for one run: ``limits.recursion_limit`` when set, else a
    bound derived from the graph. Each super-step runs at least one node; every node runs at most once per pass
    and each traversal of a loop edge starts at most one more pass, so ``steps × (1 + Σ loop budgets) + 2``
    (the input and output steps) is never reached by a run that obeys its round budgets. ``steps`` counts every
    node, plus one for each spawn whose child is an inline graph (the child runs as a step of its own)."""
    if spec.limits.recursion_limit is not None:
        return spec.limits.recursion_limit
    flow = analyze(spec)
    budgets = sum(flow.round_budget(k) or 0 for k in flow.loop_edges)
    inline = sum(isinstance(n, SpawnNode) and isinstance(n.child, SubgraphRef) for n in spec.nodes)
    return (len(spec.nodes) + inline) * (1 + budgets) + 2
