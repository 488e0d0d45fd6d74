"""Software repair for the simulator: ranked bug locations (``localize``) and unified diffs (``patch``).

The caller's ``meta.extra`` carries the gold location (``location``: ``path::function``), the repository's
files (``files``) and, optionally, its functions (``functions``: ``path::function`` entries) to draw plausible
wrong locations from; the gold patch is ``meta.answer``. A wrong patch is still applicable: it edits the gold
hunk's line differently (another constant, another operator, or a comment), so it fails the tests rather than
failing to apply.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from collabgraph.models.sim.sampling import zipf_index

__all__ = [
    "DEFAULT_TOP_K",
    "LOCALIZE_BONUS_LOGIT",
    "PATCH_LOCATED_BONUS_LOGIT",
    "PATCH_MISLOCATED_PENALTY_LOGIT",
    "RETRY_NOISE_SHARE",
    "gold_hunk_line",
    "localize_text",
    "patch_text",
    "ranked_locations",
    "wrong_locations",
    "wrong_patches",
]

DEFAULT_TOP_K = 5
"""Locations a localize call lists when ``meta.extra`` names no ``top_k``."""

LOCALIZE_BONUS_LOGIT = 1.0
"""Finding the buggy function is easier than fixing it: localization is the IRT curve shifted up this much."""

PATCH_LOCATED_BONUS_LOGIT = 1.0
"""A patcher told the right location does better than one that must find it too."""

PATCH_MISLOCATED_PENALTY_LOGIT = -1.5
"""A patcher pointed at the wrong place mostly edits the wrong thing."""

RETRY_NOISE_SHARE = 0.75
"""How much of a retried patch's latent is new: the test output of the failed attempt shows what it missed,
so a retry is a fresh chance, yet the question's difficulty still weighs on it."""

_SOURCE = re.compile(r"\.py$")
_NOT_SOURCE = re.compile(r"(^|/)(tests?|docs?|examples?)(/|$)|(^|/)test_[^/]*$|_test\.py$|(^|/)(setup|conftest)\.py$")
_NUMBER = re.compile(r"(?<![\w.])\d+(?![\w.])")
_OPERATORS = (("<=", ">="), (">=", "<="), ("==", "!="), ("!=", "=="), (" < ", " > "), (" > ", " < "))


def wrong_locations(gold: str, files: Sequence[str], functions: Sequence[str]) -> list[str]:
    """Plausible wrong locations, most plausible first: other functions of the gold file, then functions of
    other source files, then other source files themselves (file level)."""
    gold_path = gold.split("::", 1)[0]
    same_file = [f for f in functions if f != gold and f.split("::", 1)[0] == gold_path]
    other = [f for f in functions if f.split("::", 1)[0] != gold_path]
    paths = [p for p in files if _SOURCE.search(p) and not _NOT_SOURCE.search(p) and p != gold_path]
    seen: dict[str, None] = dict.fromkeys([*same_file, *other, *paths])
    return list(seen)


def ranked_locations(gold: str, wrong: Sequence[str], top_k: int, correct: bool, r: random.Random) -> list[str]:
    """``top_k`` locations: gold first when ``correct``; else a wrong one first and gold at a lower rank or
    absent (absent when there are not enough slots or the draw says so)."""
    first = zipf_index(r.random(), len(wrong)) if wrong else 0
    ordered = [*wrong[first : first + 1], *wrong[:first], *wrong[first + 1 :]]
    if correct:
        return [gold, *ordered][:top_k]
    if not ordered:
        # Nothing else to name: the gold file without the function (the right file, not the right place).
        return [gold.split("::", 1)[0]][:top_k]
    ranked = ordered[: max(top_k - 1, 1)]
    if top_k > 1 and r.random() < 0.5:
        ranked.insert(r.randint(1, len(ranked)), gold)
    return ranked[:top_k]


def localize_text(locations: Sequence[str]) -> str:
    """A localize response: one ``path::function`` per line, most likely first."""
    return "Most likely locations of the bug, most likely first:\n" + "\n".join(locations) + "\n"


def gold_hunk_line(gold_patch: str) -> tuple[str, str] | None:
    """The first removed and added line of ``gold_patch`` (without their ``-``/``+``), or None."""
    removed = added = None
    for line in gold_patch.splitlines():
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("-") and removed is None:
            removed = line[1:]
        elif line.startswith("+") and added is None:
            added = line[1:]
    return None if removed is None or added is None else (removed, added)


def wrong_patches(gold_patch: str) -> list[str]:
    """Applicable but wrong variants of ``gold_patch``: its hunk's added line replaced by another edit of the
    buggy line (a constant shifted, an operator flipped, or only a comment added); [] when it has no hunk."""
    pair = gold_hunk_line(gold_patch)
    if pair is None:
        return []
    buggy, fixed = pair
    edits: list[str] = []
    number = _NUMBER.search(buggy)
    if number is not None:
        value = int(number.group())
        for shifted in (value + 1, value - 1):
            if shifted >= 0:
                edits.append(buggy[: number.start()] + str(shifted) + buggy[number.end() :])
    for old, new in _OPERATORS:
        if old in buggy:
            edits.append(buggy.replace(old, new, 1))
    edits.append(buggy.rstrip() + "  # checked")
    variants: dict[str, None] = {}
    for edit in edits:
        if edit.strip() != fixed.strip() and edit != buggy:
            variants[_replace_added(gold_patch, fixed, edit)] = None
    return list(variants)


def _replace_added(patch: str, fixed: str, edit: str) -> str:
    lines = patch.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("+") and not line.startswith("+++") and line[1:].rstrip("\n") == fixed:
            lines[i] = "+" + edit + "\n"
            break
    return "".join(lines)


def patch_text(diff: str, location: str) -> str:
    """A patch response: a sentence naming the location, then ``diff`` in a ```diff block."""
    body = diff if diff.endswith("\n") else diff + "\n"
    return f"The bug is in {location}. This patch fixes it:\n\n```diff\n{body}```\n"
