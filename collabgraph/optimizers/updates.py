"""The optimizer LLM's reply in Agent-REINFORCE: a ``ProbabilityUpdate`` (the "textual gradient"), how it is found in
free text and checked against the search space.

Its JSON keys (the one definition; the sim's ``optimize`` role, ``collabgraph.models.sim.optimize``, writes the same
keys as plain dicts because models/ does not import optimizers/)::

    edges      {"i->j": p}            the probability that slot j reads slot i (0 ≤ i < j < nodes)
    roles      {"j": {role: p}}       slot j's role distribution (slots 1 … nodes-1: slot 0 never has inputs)
    models     {"j": {model: p}}      slot j's model distribution (space.models)
    samples    {"j": {"k": p}}        slot j's sample-count distribution (k from space.limits.samples)
    rationale  "…"                    why, in a sentence or two

Every key is optional: what a reply leaves out keeps its current probabilities. A distribution gives probability
to the choices it lists (those left out get none) and must sum to 1 within SUM_TOLERANCE; it is then normalised.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, model_validator

from collabgraph.errors import CollabgraphError
from collabgraph.optimizers.space import Role, SearchSpace

__all__ = ["SUM_TOLERANCE", "InvalidUpdate", "ProbabilityUpdate", "UpdateChoices", "edge_key", "parse_update"]

SUM_TOLERANCE = 0.05
"""How far a distribution's probabilities may sum from 1 (a model writing 0.33 three times is fine; one writing
0.5 for each of four choices has not written a distribution)."""

Probability = Annotated[float, Field(ge=0.0, le=1.0)]


def edge_key(i: int, j: int) -> str:
    """The JSON key of edge ``i → j``: ``"i->j"``."""
    return f"{i}->{j}"


@dataclass(frozen=True)
class UpdateChoices:
    """What an update may name: the slots, roles, models and sample counts of a search space."""

    nodes: int
    roles: tuple[Role, ...]
    models: tuple[str, ...]
    samples: tuple[int, ...]

    @classmethod
    def of(cls, space: SearchSpace) -> UpdateChoices:
        return cls(space.limits.nodes, tuple(space.roles), tuple(space.models), tuple(space.limits.samples))

    def edge_keys(self) -> list[str]:
        return [edge_key(i, j) for j in range(self.nodes) for i in range(j)]

    def problems(self, update: ProbabilityUpdate) -> list[str]:
        """Everything in ``update`` that this space does not have, each with the valid choices."""
        out: list[str] = []
        valid_edges = set(self.edge_keys())
        for key in update.edges:
            if key not in valid_edges:
                shown = ", ".join(self.edge_keys()) or "none: a single slot has no edges"
                out.append(f"edges: no edge {key!r} (edges are 'i->j' with 0 <= i < j < {self.nodes}: {shown})")
        groups: dict[str, tuple[range, tuple[str, ...]]] = {
            "roles": (range(1, self.nodes), tuple(self.roles)),
            "models": (range(self.nodes), self.models),
            "samples": (range(self.nodes), tuple(str(s) for s in self.samples)),
        }
        for group, (slots, choices) in groups.items():
            dists: dict[str, dict[str, float]] = getattr(update, group)
            for slot, dist in dists.items():
                if slot not in {str(j) for j in slots}:
                    why = " (slot 0 never has inputs, so it has no role)" if group == "roles" and slot == "0" else ""
                    out.append(
                        f"{group}: no slot {slot!r}{why}; slots are " + (", ".join(str(j) for j in slots) or "none")
                    )
                    continue
                for choice in dist:
                    if choice not in choices:
                        out.append(f"{group}.{slot}: {choice!r} is not a choice; choices: {', '.join(choices)}")
                total = sum(dist.values())
                if abs(total - 1.0) > SUM_TOLERANCE:
                    out.append(f"{group}.{slot}: probabilities sum to {total:.3g}; one slot's choices sum to 1")
        return out


class ProbabilityUpdate(BaseModel):
    """New probabilities for part or all of the distribution over graphs (see the module docstring for the keys).
    Validated with ``context={"choices": UpdateChoices}`` it also checks every name against the space."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    edges: dict[str, Probability] = Field(default_factory=dict, description="'i->j' -> P(edge on)")
    roles: dict[str, dict[str, Probability]] = Field(default_factory=dict, description="slot -> role -> p")
    models: dict[str, dict[str, Probability]] = Field(default_factory=dict, description="slot -> model -> p")
    samples: dict[str, dict[str, Probability]] = Field(default_factory=dict, description="slot -> count -> p")
    rationale: str = ""

    @model_validator(mode="after")
    def _names_in_space(self, info: ValidationInfo) -> ProbabilityUpdate:
        choices = info.context.get("choices") if isinstance(info.context, dict) else None
        if isinstance(choices, UpdateChoices):
            problems = choices.problems(self)
            if problems:
                raise ValueError("; ".join(problems))
        return self


class InvalidUpdate(CollabgraphError):
    """An optimizer reply that is not a valid ``ProbabilityUpdate`` for the space; the message says why, in words
    the optimizer LLM can act on when it is asked again."""


_FENCE = re.compile(r"```(?:json|JSON)?[ \t]*\n(.*?)```", re.DOTALL)


def _json_object(text: str) -> dict[str, Any]:
    """The first JSON object in ``text``: inside a fenced code block if there is one, else from the first ``{``."""
    chunks = [*_FENCE.findall(text), text]
    first_error: json.JSONDecodeError | None = None
    for chunk in chunks:
        start = chunk.find("{")
        if start < 0:
            continue
        try:
            value, _ = json.JSONDecoder().raw_decode(chunk, start)
        except json.JSONDecodeError as exc:
            first_error = first_error or exc
            continue
        if isinstance(value, dict):
            return value
    if first_error is not None:
        raise InvalidUpdate(f"the reply is not valid JSON: {first_error}")
    raise InvalidUpdate("the reply holds no JSON object; reply with one JSON object")


def parse_update(text: str, choices: UpdateChoices) -> ProbabilityUpdate:
    """The ``ProbabilityUpdate`` in an optimizer LLM's reply (code fences and prose around it are ignored). Raises
    ``InvalidUpdate`` naming every problem: not JSON, an unknown key, model, role, slot or edge, a probability
    outside [0, 1], a distribution that does not sum to 1."""
    data = _json_object(text)
    # Edge keys as "0 -> 3" mean "0->3": spacing is not worth a re-ask.
    if isinstance(data.get("edges"), dict):
        data["edges"] = {re.sub(r"\s+", "", str(k)): v for k, v in data["edges"].items()}
    try:
        return ProbabilityUpdate.model_validate(data, context={"choices": choices})
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            msg = str(err["msg"]).removeprefix("Value error, ")
            parts.append(f"{loc}: {msg}" if loc else msg)
        raise InvalidUpdate("; ".join(parts)) from None
