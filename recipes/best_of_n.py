"""Self-consistency (Best-of-N with a majority vote) built in Python: the same graph as ``best_of_n.yaml``.

python recipes/best_of_n.py --task gsm8k --limit 20
"""

from __future__ import annotations

from collabgraph.graphs import Graph, GraphSpec


def build(model: str = "sim/llama-3.1-8b", n: int = 8) -> GraphSpec:
    """``n`` samples of ``model`` at temperature 0.7; the most common answer wins."""
    g = Graph("best_of_n", "Self-consistency - 8 samples of one model, majority vote over their answers.")
    g.model("m", model)
    sample = g.generate("sample", model="m", samples=n, temperature=0.7)
    vote = g.vote("vote", reads=[sample])
    g.edge(sample, vote).exit(vote)
    return g.build()


if __name__ == "__main__":
    from collabgraph.cli.run_cmd import run_recipe

    run_recipe(build(), task="gsm8k")
