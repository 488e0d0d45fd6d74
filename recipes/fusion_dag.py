"""Agent-REINFORCE-style fusion built in Python: the same graph as ``fusion_dag.yaml``.

Assistants on different models answer; a fuser on a stronger model reads every candidate and writes one answer.

    python recipes/fusion_dag.py --task gsm8k --limit 20
"""

from __future__ import annotations

from collabgraph.graphs import Graph, GraphSpec

ASSISTANTS = {"llama": ("a", "sim/llama-3.1-8b"), "qwen": ("b", "sim/qwen2.5-7b"), "gpt": ("c", "sim/gpt-4o-mini")}
"""Assistant node id -> (model alias, pool model)."""


def build(fuser: str = "sim/llama-3.1-70b") -> GraphSpec:
    """The assistants of ``ASSISTANTS`` feeding a fuser on ``fuser``. The first assistant is the graph's entry; the
    others start when it has answered, and the fuser waits for all of them."""
    g = Graph(
        "fusion_dag",
        "Three assistants on different models answer; a fuser on a stronger model reads all three and writes one "
        "answer.",
    )
    for alias, model in ASSISTANTS.values():
        g.model(alias, model)
    g.model("fuser", fuser)
    first, *others = [g.generate(node, model=alias, temperature=0.7) for node, (alias, _) in ASSISTANTS.items()]
    fuse = g.fuse("fuse", model="fuser", reads=[first, *others])
    for other in others:
        g.edge(first, other)
    g.edge(first, fuse)
    for other in others:
        g.edge(other, fuse)
    g.exit(fuse)
    return g.build()


if __name__ == "__main__":
    from collabgraph.cli.run_cmd import run_recipe

    run_recipe(build(), task="gsm8k")
