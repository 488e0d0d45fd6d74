"""User-facing errors: every one says where (``nodes[2].model``), what was expected, and the nearest valid choice."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "CollabgraphError",
    "ConfigError",
    "ErrorItem",
    "ModelCallError",
    "UnknownNameError",
    "closest",
    "format_loc",
]


def format_loc(loc: Sequence[str | int]) -> str:
    """Render a pydantic-style location tuple as ``nodes[2].model``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "<root>"


def closest(name: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """The nearest valid names to ``name`` (case-insensitive), best first."""
    pool = list(choices)
    lowered = {c.lower(): c for c in pool}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.4)
    if not hits:
        # Substring matches catch abbreviations difflib scores low ("70b" for "llama-3.1-70b").
        hits = [c for c in lowered if name.lower() in c][:n]
    return [lowered[h] for h in hits]


class CollabgraphError(Exception):
    """Base class of every error collabgraph raises on purpose; the CLI prints it and exits 1."""


@dataclass(frozen=True)
class ErrorItem:
    """One problem in a user's file: where it is, what is wrong, and what would be valid."""

    loc: str
    msg: str
    hint: str | None = None

    def __str__(self) -> str:
        return f"{self.loc}: {self.msg}" + (f" (hint: {self.hint})" if self.hint else "")


@dataclass
class ConfigError(CollabgraphError):
    """A user-written file (pool, graph, search space) failed validation."""

    source: str
    errors: list[ErrorItem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = [f"{self.source}: {len(self.errors)} error(s)"]
        lines += [f"  {e}" for e in self.errors]
        return "\n".join(lines)


class UnknownNameError(CollabgraphError):
    """A model, task or kind that does not exist; the message lists the closest known names."""

    def __init__(self, what: str, name: str, known: Iterable[str]) -> None:
        self.what = what
        self.name = name
        self.known = sorted(known)
        self.suggestions = closest(name, self.known)
        msg = f"unknown {what} {name!r}"
        if self.suggestions:
            msg += "; did you mean: " + ", ".join(self.suggestions) + "?"
        else:
            msg += "; known: " + ", ".join(self.known[:20]) + (" …" if len(self.known) > 20 else "")
        super().__init__(msg)


class ModelCallError(CollabgraphError):
    """A model call failed for good: a non-retryable error, or retries exhausted. Fails one example, not a run."""

    def __init__(self, model: str, message: str, *, status: int | None = None, attempts: int = 1) -> None:
        self.model = model
        self.status = status
        self.attempts = attempts
        where = f" (HTTP {status})" if status else ""
        super().__init__(f"model {model!r} failed after {attempts} attempt(s){where}: {message}")
