"""Hypothesis strategies: random valid graph specs, built stage by stage so that every rule holds by construction.

A graph starts at one entry, or at 2-3 entries that meet at a node waiting for them all, then runs a series of
stages, each starting at the current tail node and ending at a new one:
- ``seq``: one node after the tail;
- ``fork``: 2-4 parallel branches joined by an aggregator (or a node declaring ``join: all``);
- ``router``: a conditional branch and a fallback that meet again;
- ``loop``: critique → refine → critique until a condition fails or the round budget is spent;
- ``spawn``: a spawn with a child template (or an inline subgraph) collected by a join.
Nodes read only nodes that surely ran before them (the ``sure`` list); parallel branches are remembered by group
so that a node reading two of them declares ``join: all``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from collabgraph.graphs import GRAPH_SCHEMA, GraphSpec, register_kind
from tests.graphs.custom_kinds import Echo
from tests.graphs.helpers import POOL_MODELS

register_kind("echo", Echo)

ANSWER_KINDS = {"generate", "refine", "fuse", "select", "vote", "join", "custom", "patch"}
TEXT = st.text(alphabet=st.sampled_from("ab Z9:#'\"-_é\n{}[],&*!|>%@`"), max_size=12)


@dataclass
class _State:
    draw: Any
    max_width: int
    max_rounds: int
    aliases: list[str]
    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    sure: list[str] = field(default_factory=list)
    """Nodes that have surely run whenever the tail runs (in the same pass)."""
    group: dict[str, int] = field(default_factory=dict)
    """Parallel branch group of fork branches: two nodes of one group run in parallel."""
    kinds: dict[str, str] = field(default_factory=dict)
    counter: int = 0

    def new_id(self, kind: str) -> str:
        self.counter += 1
        stem = self.draw(st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,5}", fullmatch=True))
        return f"{stem}{kind[:2]}{self.counter}"

    def model(self) -> str:
        return str(self.draw(st.sampled_from(self.aliases + POOL_MODELS)))

    def llm(self) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.model()}
        if self.draw(st.booleans()):
            out["temperature"] = self.draw(st.floats(0.0, 2.0, allow_nan=False))
        if self.draw(st.booleans()):
            out["max_tokens"] = self.draw(st.integers(1, 4096))
        if self.draw(st.integers(0, 4)) == 0:
            out["prompt"] = self.draw(TEXT)
        return out

    def add(self, kind: str, fields: dict[str, Any], node_id: str | None = None) -> str:
        node_id = node_id or self.new_id(kind)
        node = {"id": node_id, "kind": kind, **fields}
        if self.draw(st.integers(0, 5)) == 0:
            node["description"] = self.draw(TEXT)
        self.nodes.append(node)
        self.kinds[node_id] = kind
        return node_id

    def edge(self, a: str, b: str, when: dict[str, Any] | None = None, max_rounds: int | None = None) -> None:
        e: dict[str, Any] = {"from": a, "to": b}
        if when is not None:
            e["when"] = when
        if max_rounds is not None:
            e["max_rounds"] = max_rounds
        self.edges.append(e)

    def pick_reads(self, pool: list[str], most: int = 3) -> list[str]:
        if not pool:
            return []
        return list(self.draw(st.lists(st.sampled_from(pool), max_size=most, unique=True)))

    def needs_join(self, reads: list[str]) -> bool:
        groups = [self.group[r] for r in reads if r in self.group]
        return len(groups) != len(set(groups))

    def answers(self) -> list[str]:
        return [n for n in self.sure if self.kinds[n] in ANSWER_KINDS]

    def single(self, after: str) -> tuple[str, dict[str, Any]]:
        """A node kind that reads nothing but ``sure`` nodes, with its fields."""
        critiques = [n for n in self.sure if self.kinds[n] == "critique"]
        localizes = [n for n in self.sure if self.kinds[n] == "localize"]
        options = ["generate", "critique", "verify", "localize", "patch", "custom"] + (["refine"] if critiques else [])
        kind = self.draw(st.sampled_from(options))
        answers = self.answers() or [after]
        fields: dict[str, Any] = {}
        if kind == "generate":
            fields = {**self.llm(), "mode": self.draw(st.sampled_from(["cot", "pot"]))}
            fields["samples"] = self.draw(st.integers(1, self.max_width))
        elif kind == "critique":
            fields = {**self.llm(), "target": self.draw(st.sampled_from(answers))}
        elif kind == "refine":
            fields = {**self.llm(), "candidate": self.draw(st.sampled_from(answers))}
            fields["feedback"] = self.draw(st.sampled_from(critiques))
        elif kind == "verify":
            fields = {"check": self.draw(st.sampled_from(["unit_tests", "pot", "patch"]))}
            fields["target"] = self.draw(st.sampled_from(answers))
            if self.draw(st.booleans()):
                fields["timeout_s"] = self.draw(st.floats(0.5, 60.0, allow_nan=False))
        elif kind == "localize":
            fields = {**self.llm(), "top_k": self.draw(st.integers(1, 100))}
            fields["granularity"] = self.draw(st.sampled_from(["file", "function"]))
        elif kind == "patch":
            fields = {**self.llm(), "samples": self.draw(st.integers(1, self.max_width))}
            if localizes:
                fields["localization"] = self.draw(st.sampled_from(localizes))
        else:
            fields = {"impl": "echo", "config": {"times": self.draw(st.integers(1, 5))}}
            if self.draw(st.booleans()):
                fields["model"] = self.model()
        reads = self.pick_reads(self.sure)
        if reads:
            fields["reads"] = reads
        if self.needs_join([*reads, *_role_ids(fields)]):
            fields["join"] = "all"
        return kind, fields


def _role_ids(fields: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for key in ("target", "candidate", "feedback", "verifier", "localization"):
        value = fields.get(key)
        out += [value] if isinstance(value, str) else list(value or [])
    return out


def _stage_seq(s: _State, tail: str) -> str:
    kind, fields = s.single(tail)
    node = s.add(kind, fields)
    s.edge(tail, node)
    s.sure.append(node)
    return node


def _stage_fork(s: _State, tail: str) -> str:
    width = s.draw(st.integers(2, min(4, s.max_width - 1)))
    branches = []
    for _ in range(width):
        kind, fields = s.single(tail)
        b = s.add(kind, fields)
        s.edge(tail, b)
        branches.append(b)
    direct = s.draw(st.booleans())  # the tail may also feed the aggregator directly (it waits for every branch)
    agg = _aggregate(s, branches, tail if direct and s.kinds[tail] in ANSWER_KINDS else None)
    if direct:
        s.edge(tail, agg)
    return agg


def _aggregate(s: _State, branches: list[str], also_read: str | None) -> str:
    """A node after parallel ``branches`` that waits for them all (an aggregator, or a node declaring
    ``join: all``), reading them and ``also_read`` if given."""
    gid = s.counter + 1000
    for b in branches:
        s.group[b] = gid
    verifies = [n for n in s.sure + branches if s.kinds[n] == "verify"]
    choice = s.draw(st.sampled_from(["vote", "fuse", "select", "join", "waiting"]))
    reads = branches + ([also_read] if also_read is not None else [])
    if choice == "vote":
        fields: dict[str, Any] = {"reads": reads}
        if s.draw(st.booleans()):
            fields["method"] = "weighted"
            fields["weights"] = {r: s.draw(st.floats(0.1, 5.0, allow_nan=False)) for r in reads[:2]}
        if len(reads) >= 2 and s.draw(st.booleans()):
            fields["require_agreement"] = True
        agg = s.add("vote", fields)
    elif choice == "fuse":
        agg = s.add("fuse", {**s.llm(), "reads": reads})
    elif choice == "select":
        if verifies and s.draw(st.booleans()):
            agg = s.add("select", {"reads": reads, "by": "verifier", "verifier": s.draw(st.sampled_from(verifies))})
        else:
            agg = s.add("select", {**s.llm(), "reads": reads})
    elif choice == "join":
        strategy = s.draw(st.sampled_from(["all", "first", "vote", "results_only"]))
        agg = s.add("join", {"reads": reads, "strategy": strategy})
    else:
        agg = s.add("generate", {**s.llm(), "reads": reads, "join": "all"})
    for b in branches:
        s.edge(b, agg)
    s.sure += [*branches, agg]
    return agg


def _condition(s: _State, router: str, depth: int = 0) -> dict[str, Any]:
    options = ["round_lt"]
    if s.kinds[router] == "critique":
        options.append("verdict")
    verifies = [n for n in s.sure if s.kinds[n] == "verify"]
    if verifies:
        options.append("passed")
    if s.sure:
        options.append("agree")
    if depth < 2:
        options += ["all", "any", "not"]
    kind = s.draw(st.sampled_from(options))
    if kind == "round_lt":
        return {"round_lt": s.draw(st.integers(1, 5))}
    if kind == "verdict":
        return {"verdict": s.draw(st.sampled_from(["accepted", "rejected"])), "of": router}
    if kind == "passed":
        return {"passed": s.draw(st.booleans()), "of": s.draw(st.sampled_from(verifies))}
    if kind == "agree":
        return {"agree": s.draw(st.booleans()), "of": s.pick_reads(s.sure) or [s.sure[0]]}
    if kind == "not":
        return {"not": _condition(s, router, depth + 1)}
    return {kind: [_condition(s, router, depth + 1) for _ in range(s.draw(st.integers(1, 2)))]}


def _stage_router(s: _State, tail: str) -> str:
    kind, fields = s.single(tail)
    x = s.add(kind, fields)
    s.edge(tail, x, when=_condition(s, tail))
    if s.draw(st.booleans()):
        kind, fields = s.single(tail)
        y = s.add(kind, fields)
        s.edge(tail, y)
        ends = [x, y]
    else:
        ends = [x, tail]
    # The meeting node reads the latest of the branches (one of them surely ran) or only sure nodes.
    kind, fields = s.single(tail)
    if kind == "critique":
        fields["target"] = ends
    m = s.add(kind, fields)
    for e in ends:
        s.edge(e, m)
    s.sure.append(m)
    return m


def _stage_loop(s: _State, tail: str) -> str:
    critic, refine = s.new_id("critique"), s.new_id("refine")
    first = tail if s.kinds[tail] in ANSWER_KINDS else (s.answers() or [tail])[-1]
    # Inside the loop "the current candidate" is the latest of refine's revision and the first answer.
    s.add("critique", {**s.llm(), "target": [refine, first]}, critic)
    s.add("refine", {**s.llm(), "candidate": [refine, first], "feedback": critic}, refine)
    when = (
        {"verdict": "rejected", "of": critic}
        if s.draw(st.booleans())
        else {"any": [{"not": {"verdict": "accepted", "of": critic}}, {"round_lt": 2}]}
    )
    budget = s.draw(st.one_of(st.none(), st.integers(1, s.max_rounds)))
    s.edge(tail, critic)
    s.edge(critic, refine, when=when, max_rounds=budget)
    s.edge(refine, critic)
    s.sure.append(critic)
    kind, fields = s.single(critic)
    m = s.add(kind, fields)
    s.edge(critic, m)
    s.sure.append(m)
    return m


def _stage_spawn(s: _State, tail: str) -> str:
    planned = s.draw(st.booleans())
    fields: dict[str, Any] = {"width": s.draw(st.integers(1, s.max_width))}
    if planned:
        fields.update({"mode": "planned", **s.llm()})
    if s.draw(st.booleans()):
        child_model = s.draw(st.sampled_from(s.aliases + POOL_MODELS))
        fields["child"] = {
            "graph": {
                "schema": GRAPH_SCHEMA,
                "name": "child",
                "entry": "q",
                "nodes": [{"id": "q", "kind": "generate", "model": child_model}],
                "edges": [{"from": "q", "to": "END"}],
            }
        }
        sp = s.add("spawn", fields)
    else:
        child = s.new_id("generate")
        sp = s.add("spawn", {**fields, "child": child})
        child_fields = s.llm()
        child_reads = s.pick_reads([*s.sure, sp], most=2)
        if child_reads:
            child_fields["reads"] = child_reads
        if s.needs_join(child_reads):
            child_fields["join"] = "all"
        s.add("generate", child_fields, child)
    j = s.add("join", {"reads": [sp], "strategy": s.draw(st.sampled_from(["all", "first", "vote", "results_only"]))})
    s.edge(tail, sp)
    s.edge(sp, j)
    s.sure.append(j)
    return j


_STAGES = {"seq": _stage_seq, "fork": _stage_fork, "router": _stage_router, "loop": _stage_loop, "spawn": _stage_spawn}


@st.composite
def graph_data(draw: Any, max_stages: int = 5) -> dict[str, Any]:
    """Plain data of a random valid graph (what a YAML file would hold)."""
    max_width = draw(st.integers(4, 16))
    max_rounds = draw(st.integers(1, 5))
    n_alias = draw(st.integers(0, 3))
    aliases = [f"m{i}" for i in range(n_alias)]
    s = _State(draw=draw, max_width=max_width, max_rounds=max_rounds, aliases=aliases)
    # Often one entry; else 2-3 entries that start at once and meet at a node that waits for them all.
    entries = [s.add("generate", {**s.llm(), "samples": draw(st.integers(1, max_width))})]
    entries += [
        s.add("generate", {**s.llm(), "samples": draw(st.integers(1, max_width))})
        for _ in range(draw(st.sampled_from([0, 0, 1, 2])))
    ]
    if len(entries) == 1:
        s.sure.append(entries[0])
        tail = entries[0]
    else:
        tail = _aggregate(s, entries, None)
    for name in draw(st.lists(st.sampled_from(list(_STAGES)), max_size=max_stages)):
        tail = _STAGES[name](s, tail)
    s.edge(tail, "END")
    data: dict[str, Any] = {
        "schema": GRAPH_SCHEMA,
        "name": draw(st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)),
    }
    if draw(st.booleans()):
        data["description"] = draw(TEXT)
    if aliases:
        data["models"] = {a: draw(st.sampled_from(POOL_MODELS)) for a in aliases}
    limits: dict[str, Any] = {"max_width": max_width, "max_rounds": max_rounds}
    if draw(st.booleans()):
        limits["max_concurrency"] = draw(st.integers(1, 64))
    if draw(st.booleans()):
        limits["recursion_limit"] = draw(st.integers(1, 500))
    data["limits"] = limits
    data["entry"] = entries[0] if len(entries) == 1 else entries
    data["nodes"] = s.nodes
    data["edges"] = s.edges
    return data


def graphs(max_stages: int = 5) -> st.SearchStrategy[GraphSpec]:
    """Random valid ``GraphSpec``s."""
    return graph_data(max_stages).map(GraphSpec.model_validate)
