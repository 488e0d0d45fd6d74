"""``collabgraph show``: a graph as an indented text summary, a Mermaid flowchart, or a PNG drawing.

All three show the same things: each node with its kind and model (alias and pool name), the control edges with
their conditions (``critic rejected``) and loop budgets (``≤ 3×``), the fallback of each router (``otherwise``),
and each spawn's child (dashed, ``× width``). Inline child graphs are drawn inside their spawn's box (Mermaid) or
with their ids prefixed by the spawn's (``plan/search``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collabgraph.errors import ConfigError, ErrorItem, UnknownNameError
from collabgraph.graphs import (
    END,
    AllOf,
    AnswersAgree,
    AnyOf,
    Condition,
    GraphSpec,
    NotCondition,
    Passed,
    RoundBelow,
    SpawnNode,
    SubgraphRef,
    VerdictIs,
    analyze,
    load,
    to_data,
)
from collabgraph.models.pool import default_pool, load_pool

__all__ = ["FORMATS", "describe_condition", "draw_png", "graph_mermaid", "graph_text", "show_graph"]

FORMATS = ("text", "mermaid", "png")

_SHOWN_ELSEWHERE = {"id", "kind", "model", "description", "child"}


def describe_condition(cond: Condition, source: str | None = None) -> str:
    """A condition in words: ``critic rejected``, ``cot, pot agree``, ``round(refine) < 3``."""
    if isinstance(cond, VerdictIs):
        return f"{cond.of} {cond.verdict}"
    if isinstance(cond, AnswersAgree):
        return f"{', '.join(cond.of)} {'agree' if cond.agree else 'disagree'}"
    if isinstance(cond, Passed):
        return f"{cond.of} {'passed' if cond.passed else 'failed'}"
    if isinstance(cond, RoundBelow):
        return f"round({cond.of or source or '?'}) < {cond.round_lt}"
    if isinstance(cond, AllOf):
        return " and ".join(_grouped(c, source) for c in cond.all_)
    if isinstance(cond, AnyOf):
        return " or ".join(_grouped(c, source) for c in cond.any_)
    if isinstance(cond, NotCondition):
        return f"not {_grouped(cond.not_, source)}"
    raise TypeError(f"not a condition: {cond!r}")


def _grouped(cond: Condition, source: str | None) -> str:
    text = describe_condition(cond, source)
    return f"({text})" if isinstance(cond, AllOf | AnyOf) else text


# -- a flat view of the graph, shared by the three formats ---------------------------------------------------------


@dataclass
class _Box:
    key: str  # unique over the drawing: node id, prefixed by the spawn path inside inline children
    node_id: str
    kind: str
    model: str | None  # "alias → pool name", or the pool name
    details: list[str]
    group: str | None  # the spawn key whose inline child graph holds this box


@dataclass
class _Arrow:
    src: str
    dst: str
    label: str
    style: str  # "solid" | "conditional" | "spawn"
    back: bool = False


@dataclass
class _View:
    boxes: list[_Box] = field(default_factory=list)
    arrows: list[_Arrow] = field(default_factory=list)
    groups: dict[str, str] = field(default_factory=dict)  # spawn key -> child graph name
    ends: list[str] = field(default_factory=list)  # END keys: "END" and one per inline child graph


def _model_label(spec: GraphSpec, aliases: dict[str, str], name: str | None) -> str | None:
    if name is None:
        return None
    target = aliases.get(name)
    return f"{name} → {target}" if target is not None else name


def _details(data: dict[str, Any]) -> list[str]:
    out = []
    for key, value in data.items():
        if key in _SHOWN_ELSEWHERE:
            continue
        shown = "[" + ", ".join(map(str, value)) + "]" if isinstance(value, list) else str(value)
        out.append(f"{key}: {shown}")
    return out


def _flatten(spec: GraphSpec, view: _View, prefix: str, aliases: dict[str, str], group: str | None) -> None:
    aliases = {**aliases, **spec.models}
    flow = analyze(spec)
    end_key = f"{prefix}{END}"
    view.ends.append(end_key)
    datas = to_data(spec)["nodes"]
    for node, data in zip(spec.nodes, datas, strict=True):
        key = prefix + node.id
        view.boxes.append(
            _Box(key, node.id, node.kind, _model_label(spec, aliases, node.model_name), _details(data), group)
        )
        if isinstance(node, SpawnNode):
            spawn_label = f"× {node.width} ({node.mode})"
            if isinstance(node.child, SubgraphRef):
                child = node.child.graph
                view.groups[key] = child.name
                _flatten(child, view, f"{key}/", aliases, key)
                for child_entry in child.entries:
                    view.arrows.append(_Arrow(key, f"{key}/{child_entry}", spawn_label, "spawn"))
            else:
                view.arrows.append(_Arrow(key, prefix + node.child, spawn_label, "spawn"))
    for k in flow.edge_ids:
        edge = spec.edges[k]
        dst = end_key if edge.to == END else prefix + edge.to
        if edge.when is not None:
            label = describe_condition(edge.when, edge.from_)
            budget = flow.round_budget(k)
            if budget is not None:
                label += f" (≤ {budget}×)"
            style = "conditional"
        else:
            label = "otherwise" if flow.is_router(edge.from_) else ""
            style = "solid"
        view.arrows.append(_Arrow(prefix + edge.from_, dst, label, style, back=k in flow.back_edges))


def _view(spec: GraphSpec) -> _View:
    view = _View()
    _flatten(spec, view, "", {}, None)
    return view


# -- text --------------------------------------------------------------------------------------------------------------


def graph_text(spec: GraphSpec) -> str:
    """An indented summary: name and description, model aliases, limits, entry, then each node with its kind,
    model, settings and out-edges."""
    lines = [f"graph {spec.name}" + (f": {spec.description}" if spec.description else "")]
    lines += _text_body(spec, "  ", {})
    return "\n".join(lines) + "\n"


def _text_body(spec: GraphSpec, indent: str, inherited: dict[str, str]) -> list[str]:
    aliases = {**inherited, **spec.models}
    flow = analyze(spec)
    lines: list[str] = []
    if spec.models:
        width = max(len(a) for a in spec.models)
        lines.append(f"{indent}models:")
        lines += [f"{indent}  {alias:<{width}}  {name}" for alias, name in spec.models.items()]
    limits = spec.limits
    lines.append(
        f"{indent}limits: max_rounds {limits.max_rounds}, max_width {limits.max_width}, "
        f"max_concurrency {limits.max_concurrency}"
        + (f", recursion_limit {limits.recursion_limit}" if limits.recursion_limit is not None else "")
    )
    lines.append(f"{indent}entry: {', '.join(spec.entries)}")
    lines.append(f"{indent}nodes:")
    for node, data in zip(spec.nodes, to_data(spec)["nodes"], strict=True):
        head: list[str] = [node.kind]
        model = _model_label(spec, aliases, node.model_name)
        if model is not None:
            head.append(f"model {model}")
        head += _details(data)
        lines.append(f"{indent}  {node.id} ({', '.join(head)})")
        if node.description:
            lines.append(f"{indent}      {node.description}")
        if node.id in flow.templates:
            lines.append(f"{indent}    runs as the child of spawn {flow.templates[node.id]}")
        if isinstance(node, SpawnNode):
            if isinstance(node.child, SubgraphRef):
                child = node.child.graph
                lines.append(f"{indent}    ⇉ × {node.width} ({node.mode}) child graph {child.name}:")
                lines += _text_body(child, indent + "      ", aliases)
            else:
                lines.append(f"{indent}    ⇉ × {node.width} ({node.mode}) child {node.child}")
        for k in flow.out_edges(node.id):
            edge = spec.edges[k]
            if edge.when is not None:
                budget = flow.round_budget(k)
                cond = f"when {describe_condition(edge.when, edge.from_)}"
                cond += f" (loop, ≤ {budget} rounds)" if budget is not None else ""
            else:
                cond = "otherwise" if flow.is_router(node.id) else ""
            lines.append(f"{indent}    → {edge.to}" + (f"  {cond}" if cond else ""))
    return lines


# -- Mermaid -----------------------------------------------------------------------------------------------------------


def _mermaid_text(text: str) -> str:
    # Mermaid's entity codes keep quotes and angle brackets from ending a label or reading as HTML.
    return text.replace("&", "#38;").replace('"', "#34;").replace("<", "#60;").replace(">", "#62;")


def graph_mermaid(spec: GraphSpec) -> str:
    """A Mermaid ``flowchart TD``. Node ids are renamed ``n0, n1 …`` because Mermaid reserves some words a
    graph may use as ids (``end``); labels carry the real ids."""
    view = _view(spec)
    ids: dict[str, str] = {}
    for box in view.boxes:
        ids[box.key] = f"n{len(ids)}"
    for i, end in enumerate(view.ends):
        ids[end] = "done" if i == 0 else f"done{i}"
    lines = ["flowchart TD", *(f'  start(["{_mermaid_text(spec.name)}"]) --> {ids[e]}' for e in spec.entries)]

    def box_line(box: _Box, indent: str) -> str:
        parts = [f"<b>{_mermaid_text(box.node_id)}</b>", _mermaid_text(box.kind)]
        if box.model is not None:
            parts.append(_mermaid_text(box.model))
        return f'{indent}{ids[box.key]}["{"<br/>".join(parts)}"]:::{box.kind}'

    def emit(group: str | None, indent: str) -> None:
        for box in view.boxes:
            if box.group != group:
                continue
            lines.append(box_line(box, indent))
            if box.key in view.groups:
                lines.append(f'{indent}subgraph {ids[box.key]}_child["{_mermaid_text(view.groups[box.key])}"]')
                emit(box.key, indent + "  ")
                lines.append(f'{indent}  {ids[box.key + "/" + END]}(["result"])')
                lines.append(f"{indent}end")

    emit(None, "  ")
    lines.append(f'  {ids[END]}(["END"])')
    for arrow in view.arrows:
        link = {"solid": "-->", "conditional": "-->", "spawn": "-.->"}[arrow.style]
        label = f'|"{_mermaid_text(arrow.label)}"|' if arrow.label else ""
        lines.append(f"  {ids[arrow.src]} {link}{label} {ids[arrow.dst]}")
    used = {box.kind for box in view.boxes}
    for kind, colour in _KIND_COLOURS.items():
        if kind in used:
            lines.append(f"  classDef {kind} fill:{colour},stroke:#333")
    return "\n".join(lines) + "\n"


# -- PNG ---------------------------------------------------------------------------------------------------------------

_KIND_COLOURS = {
    "generate": "#cfe2ff",
    "critique": "#ffe5b4",
    "refine": "#fff3b0",
    "fuse": "#d5f5e3",
    "select": "#e8daef",
    "vote": "#d6eaf8",
    "verify": "#fadbd8",
    "spawn": "#f9e79f",
    "join": "#f9e79f",
    "localize": "#e5e8e8",
    "patch": "#e5e8e8",
    "custom": "#f2f3f4",
}


def _layers(view: _View) -> dict[str, int]:
    """Depth of each box along forward edges (back edges ignored), so the drawing reads top to bottom."""
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from([b.key for b in view.boxes] + view.ends)
    g.add_edges_from((a.src, a.dst) for a in view.arrows if not a.back)
    depth = {n: 0 for n in g.nodes}
    for n in nx.topological_sort(g):
        for s in g.successors(n):
            depth[s] = max(depth[s], depth[n] + 1)
    return depth


def draw_png(spec: GraphSpec, path: Path) -> Path:
    """Draw the graph to a PNG file at ``path`` (matplotlib, Agg backend: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx

    view = _view(spec)
    depth = _layers(view)
    g = nx.DiGraph()
    for key, d in depth.items():
        g.add_node(key, layer=d)
    pos: dict[str, Any] = nx.multipartite_layout(g, subset_key="layer", align="horizontal", scale=1.0)
    pos = {k: (x, -y) for k, (x, y) in pos.items()}  # entry at the top
    width = max(sum(1 for d in depth.values() if d == layer) for layer in set(depth.values()))
    fig, ax = plt.subplots(figsize=(max(6.0, 3.2 * width), max(4.0, 1.8 * (max(depth.values()) + 1))))
    ax.set_axis_off()
    ax.set_title(spec.name + (f"\n{spec.description}" if spec.description else ""), fontsize=10, wrap=True)

    # Boxes first: each arrow is then clipped at the outline of the boxes it joins (patchA / patchB), whatever
    # the boxes' sizes, so every arrowhead stays visible.
    texts: dict[str, Any] = {}
    for box in view.boxes:
        label = f"{box.key}\n{box.kind}" + (f"\n{box.model}" if box.model else "")
        colour = _KIND_COLOURS.get(box.kind, "#f2f3f4")
        x, y = pos[box.key]
        texts[box.key] = ax.text(
            x, y, label, fontsize=8, ha="center", va="center", bbox={"boxstyle": "round,pad=0.5", "fc": colour}
        )
    for end in view.ends:
        text = "END" if end == END else f"{end.rsplit('/', 1)[0]} result"
        x, y = pos[end]
        texts[end] = ax.text(
            x, y, text, fontsize=8, ha="center", va="center", bbox={"boxstyle": "round4,pad=0.4", "fc": "#eeeeee"}
        )
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.4, max(xs) + 0.4)
    ax.set_ylim(min(ys) - 0.3, max(ys) + 0.3)
    fig.canvas.draw()  # lays the boxes out, so their outlines exist for clipping
    for arrow in view.arrows:
        ax.annotate(
            "",
            xy=pos[arrow.dst],
            xytext=pos[arrow.src],
            arrowprops={
                "arrowstyle": "-|>",
                "mutation_scale": 14,
                "patchA": texts[arrow.src].get_bbox_patch(),
                "patchB": texts[arrow.dst].get_bbox_patch(),
                "shrinkA": 2,
                "shrinkB": 2,
                "linestyle": "dashed" if arrow.style == "spawn" else "solid",
                "color": "#b03a2e" if arrow.style == "conditional" else "#555555",
                "connectionstyle": "arc3,rad=0.35" if arrow.back else "arc3,rad=0.0",
            },
        )
        if arrow.label:
            (x1, y1), (x2, y2) = pos[arrow.src], pos[arrow.dst]
            shift = 0.12 if arrow.back else 0.0
            ax.text(
                (x1 + x2) / 2 + shift,
                (y1 + y2) / 2,
                arrow.label,
                fontsize=7,
                ha="center",
                va="center",
                color="#7b241c" if arrow.style == "conditional" else "#333333",
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85},
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


# -- the command -------------------------------------------------------------------------------------------------------


def show_graph(graph: Path, fmt: str, out: Path | None, models: Path | None = None) -> None:
    """Load and validate ``graph`` (model names against the built-in pool plus ``models``), then print it as
    ``text`` or ``mermaid`` (to ``out`` when given), or draw it as ``png`` to ``out`` (default: the graph's
    file name with ``.png``, in the current directory) and print the path written."""
    if fmt not in FORMATS:
        raise UnknownNameError("format", fmt, FORMATS)
    if out is not None and out.is_dir():
        raise ConfigError(str(out), [ErrorItem("--out", "is a directory", f"name a file, e.g. {out}/graph.{fmt}")])
    pool = load_pool(models) if models is not None else default_pool()
    spec = load(graph, pool=pool)
    if fmt == "png":
        target = out if out is not None else Path(graph.stem + ".png")
        written = draw_png(spec, target)
        sys.stdout.write(f"{written}\n")
        return
    text = graph_text(spec) if fmt == "text" else graph_mermaid(spec)
    if out is None:
        sys.stdout.write(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        sys.stdout.write(f"{out}\n")
