"""``collabgraph show`` run as a user runs it, on the shipped recipes; the renderers in-process for what a file on
disk cannot easily hold (inline child graphs, every kind of condition)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from collabgraph.cli.show_cmd import describe_condition, draw_png, graph_mermaid, graph_text
from collabgraph.graphs import END, AnswersAgree, Condition, Graph, GraphSpec, Passed, RoundBelow, VerdictIs, load
from tests.conftest import REPO_ROOT, RunCli

RECIPES = sorted((REPO_ROOT / "recipes").glob("*.yaml"))
ACTOR_CRITIC = REPO_ROOT / "recipes" / "actor_critic.yaml"


def _ok(proc: object) -> str:
    assert getattr(proc, "returncode", None) == 0, getattr(proc, "stderr", "")
    return str(getattr(proc, "stdout", ""))


def test_text_summarises_nodes_models_and_edges(run_cli: RunCli) -> None:
    out = _ok(run_cli("show", str(ACTOR_CRITIC)))
    assert out.startswith("graph actor_critic: An actor answers")
    for line in (
        "actor   sim/llama-3.1-8b",
        "critic  sim/llama-3.1-70b",
        "entry: actor",
        "actor (generate, model actor → sim/llama-3.1-8b)",
        "critic (critique, model critic → sim/llama-3.1-70b, target: [refine, actor])",
        "→ refine  when critic rejected (loop, ≤ 3 rounds)",
        "→ END  otherwise",
    ):
        assert line in out, line


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.stem)
def test_mermaid_has_every_node_and_edge(run_cli: RunCli, recipe: Path) -> None:
    spec = load(recipe)
    out = _ok(run_cli("show", str(recipe), "--format", "mermaid"))
    lines = out.splitlines()
    assert lines[0] == "flowchart TD"
    for node in spec.nodes:
        assert f"<b>{node.id}</b>" in out
    arrows = [line for line in lines if re.search(r" (-->|-\.->)", line)]
    spawns = sum(1 for n in spec.nodes if n.kind == "spawn")
    assert len(arrows) == 1 + len(spec.edges) + spawns  # start → entry, every control edge, every spawn → child
    # Ids are renamed: nothing a user calls a node can collide with Mermaid's keywords.
    assert not re.search(r"^\s+(end|graph|subgraph)\b[^_]", out, re.MULTILINE)


def test_mermaid_to_a_file(run_cli: RunCli, tmp_path: Path) -> None:
    target = tmp_path / "sub" / "graph.mmd"
    out = _ok(run_cli("show", str(ACTOR_CRITIC), "--format", "mermaid", "--out", str(target)))
    assert out.strip() == str(target)
    assert target.read_text().startswith("flowchart TD")


def test_png_is_an_image_of_the_graph(run_cli: RunCli, tmp_path: Path) -> None:
    import matplotlib.image

    target = tmp_path / "ac.png"
    out = _ok(run_cli("show", str(ACTOR_CRITIC), "--format", "png", "--out", str(target)))
    assert out.strip() == str(target)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = matplotlib.image.imread(str(target))
    height, width = pixels.shape[:2]
    assert height > 200 and width > 200
    assert len({tuple(p) for p in pixels.reshape(-1, pixels.shape[2])[::97]}) > 10  # drawn on, not blank


def test_png_defaults_to_the_graph_name_in_the_working_directory(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "collabgraph", "show", str(ACTOR_CRITIC), "--format", "png"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "actor_critic.png"
    assert (tmp_path / "actor_critic.png").stat().st_size > 1000


def test_missing_file(run_cli: RunCli, tmp_path: Path) -> None:
    proc = run_cli("show", str(tmp_path / "nope.yaml"))
    assert proc.returncode == 1
    assert "nope.yaml" in proc.stderr and "no such file" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_invalid_graph_names_the_location(run_cli: RunCli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(ACTOR_CRITIC.read_text().replace("{from: critic, to: END}", "{from: critic, to: ENDD}"))
    proc = run_cli("show", str(bad))
    assert proc.returncode == 1
    assert "edges[2].to" in proc.stderr and "no node 'ENDD'" in proc.stderr and "END" in proc.stderr
    assert proc.stdout == ""


def test_out_may_not_be_a_directory(run_cli: RunCli, tmp_path: Path) -> None:
    proc = run_cli("show", str(ACTOR_CRITIC), "--format", "png", "--out", str(tmp_path))
    assert proc.returncode == 1
    assert "is a directory" in proc.stderr and "graph.png" in proc.stderr


def test_unknown_format_is_a_usage_error(run_cli: RunCli) -> None:
    proc = run_cli("show", str(ACTOR_CRITIC), "--format", "svg")
    assert proc.returncode == 2
    assert "svg" in proc.stderr and "mermaid" in proc.stderr


# -- renderers in-process --------------------------------------------------------------------------------------------


def _nested() -> GraphSpec:
    child = Graph("search_tree").model("s", "sim/llama-3.1-8b")
    a = child.generate("try", model="s", temperature=0.7)
    b = child.critique("check", model="s", target=a)
    child.edge(a, b).exit(b)
    g = Graph("nested").model("m", "sim/llama-3.1-70b")
    spawn = g.spawn("fan", child=child, width=3)
    join = g.join("end", reads=[spawn], strategy="results_only")  # a node called "end": Mermaid's keyword
    g.edge(spawn, join).exit(join)
    return g.build()


def test_inline_child_graph_is_drawn_inside_its_spawn() -> None:
    spec = _nested()
    mermaid = graph_mermaid(spec)
    assert 'subgraph n0_child["search_tree"]' in mermaid
    assert "<b>try</b>" in mermaid and "<b>check</b>" in mermaid and "<b>end</b>" in mermaid
    assert '-.->|"× 3 (replicas)"|' in mermaid
    text = graph_text(spec)
    assert "⇉ × 3 (replicas) child graph search_tree:" in text
    assert "        try (generate, model s → sim/llama-3.1-8b, temperature: 0.7)" in text


def test_inline_child_graph_png(tmp_path: Path) -> None:
    path = draw_png(_nested(), tmp_path / "deep" / "nested.png")
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_every_condition_reads_as_words() -> None:
    g = Graph("conds").model("m", "sim/llama-3.1-8b")
    a = g.generate("a", model="m", samples=3, temperature=0.7)
    c = g.critique("c", model="m", target=a)
    when = {
        "any": [
            {"all": [{"verdict": "rejected", "of": "c"}, {"not": {"agree": True, "of": ["a"]}}]},
            {"round_lt": 2},
        ]
    }
    g.edge(a, c).edge(c, a, when=when).exit(c)
    spec = g.build()
    edge = spec.edges[1]
    assert edge.when is not None
    assert describe_condition(edge.when, edge.from_) == "(c rejected and not a agree) or round(c) < 2"
    out = graph_text(spec)
    assert "→ a  when (c rejected and not a agree) or round(c) < 2 (loop, ≤ 3 rounds)" in out
    assert f"→ {END}  otherwise" in out
    mermaid = graph_mermaid(spec)
    assert "round(c) #60; 2 (≤ 3×)" in mermaid  # '<' escaped for Mermaid


@pytest.mark.parametrize(
    ("cond", "words"),
    [
        (VerdictIs(verdict="accepted", of="c"), "c accepted"),
        (Passed(passed=True, of="v"), "v passed"),
        (Passed(passed=False, of="v"), "v failed"),
        (AnswersAgree(agree=False, of=["a", "b"]), "a, b disagree"),
        (RoundBelow(round_lt=3, of="r"), "round(r) < 3"),
        (RoundBelow(round_lt=3), "round(src) < 3"),
    ],
)
def test_condition_words(cond: Condition, words: str) -> None:
    assert describe_condition(cond, "src") == words


def test_a_graph_with_several_entries_shows_each() -> None:
    spec = load(REPO_ROOT / "tests" / "graphs" / "fixtures" / "parallel_entries.yaml")
    assert "entry: a, b" in graph_text(spec)
    mermaid = graph_mermaid(spec)
    starts = [line for line in mermaid.splitlines() if line.strip().startswith("start(")]
    assert len(starts) == 2 and starts[0] != starts[1]
