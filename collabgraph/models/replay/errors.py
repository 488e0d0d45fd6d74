"""Errors of the replay pool."""

from __future__ import annotations

from collabgraph.errors import CollabgraphError

__all__ = ["ReplayMissError"]


class ReplayMissError(CollabgraphError):
    """A replay model was asked a question it has no recorded answer for (another task, or an unknown id).

    Replaying cannot invent an answer, so this is final: the gateway reports it as a non-retryable failure."""

    def __init__(self, model: str, example_id: str, coverage: str) -> None:
        self.model = model
        self.example_id = example_id
        super().__init__(
            f"replay model {model!r} has no recorded answer for question {example_id!r}; "
            f"its recordings cover {coverage}"
        )
