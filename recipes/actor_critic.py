"""Actor-critic refinement built in Python: the same graph as ``actor_critic.yaml``.

A small actor answers; a stronger critic gives step-level feedback and a verdict; while the critic rejects, the
actor revises (at most 3 rounds).

    python recipes/actor_critic.py --task gsm8k --limit 20
"""

from __future__ import annotations

from collabgraph.graphs import END, Graph, GraphSpec, VerdictIs


def build(actor: str = "sim/llama-3.1-8b", critic: str = "sim/llama-3.1-70b", rounds: int = 3) -> GraphSpec:
    """``actor`` answers and refines, ``critic`` reviews, for at most ``rounds`` revisions."""
    g = Graph(
        "actor_critic",
        "An actor answers, a stronger critic reviews, the actor refines until the critic accepts or 3 rounds pass.",
    )
    g.model("actor", actor).model("critic", critic).limits(max_rounds=rounds)
    first = g.generate("actor", model="actor")
    # Inside the loop "the current candidate" is the latest of refine's revision and the actor's first answer.
    current = ["refine", first]
    review = g.critique("critic", model="critic", target=current)
    revise = g.refine("refine", model="actor", candidate=current, feedback=review)
    g.edge(first, review)
    g.edge(review, revise, when=VerdictIs(verdict="rejected", of=review), max_rounds=rounds)
    g.edge(review, END)
    g.edge(revise, review)
    return g.build()


if __name__ == "__main__":
    from collabgraph.cli.run_cmd import run_recipe

    run_recipe(build(), task="gsm8k")
