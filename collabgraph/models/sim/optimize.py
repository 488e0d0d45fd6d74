"""The ``optimize`` role: a stand-in for Agent-REINFORCE's optimizer LLM.

**This simulates an optimizer LLM with a heuristic; it does not reason as an LLM does.** It follows the elite: it
moves probability toward the choices of the best trials so far, adds noise that shrinks with the model's skill,
and — with a probability that falls with skill — writes malformed output (broken JSON, an unknown model name or
a probability above 1), so that the caller's validation, retry and fallback paths are exercised offline.

Like every sim role it never parses the prompt. The caller (``collabgraph.optimizers.agent_reinforce``) passes
what an LLM would read in ``OfflineMeta.extra`` (``answer`` is empty, ``answer_format`` is ``json``)::

    current   the distribution now, as a ProbabilityUpdate with every key filled in:
              {"edges": {"i->j": p}, "roles": {"j": {role: p}}, "models": {"j": {model: p}},
               "samples": {"j": {"k": p}}}
    trials    every trial so far: [{"number": int, "reward": float, "status": str,
                                    "choices": {"edges": {"i->j": 0 | 1}, "roles": {"j": role},
                                                "models": {"j": model}, "samples": {"j": "k"}}}]
              where "choices" lists only the choices that shaped the graph that ran
    attempt   0 for a step's first request, k for its k-th re-ask after invalid output (a fresh draw)

The reply is prose, then a ```json block holding a ProbabilityUpdate with the same four keys plus
``rationale``. That JSON's schema is defined (and validated) by ``collabgraph.optimizers.updates.ProbabilityUpdate``;
models/ must not import optimizers/, so the keys are repeated here as plain dicts.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from typing import Any

__all__ = [
    "ELITE_FRACTION",
    "ELITE_MAX",
    "ELITE_WEIGHT",
    "MALFORMED_AT_ZERO_SKILL",
    "MALFORMED_EXPONENT",
    "MALFORMED_KINDS",
    "NOISE_AT_ZERO_SKILL",
    "OPTIMIZE_FORMAT",
    "malformed_probability",
    "optimize_problems",
    "optimize_text",
    "propose",
]

OPTIMIZE_FORMAT = "json"
"""The ``answer_format`` of an ``optimize`` request."""

ELITE_FRACTION = 0.25
ELITE_MAX = 3
"""The elite: this share of the trials with a reward above 0, at least one and at most ELITE_MAX, best first (an
LLM reading a results table looks at its top few rows)."""

ELITE_WEIGHT = 0.8
"""How far the proposal moves from the current probabilities toward the elite's choice frequencies (the caller
then mixes the proposal in with its own step size)."""

NOISE_AT_ZERO_SKILL = 0.15
"""Share of uniform noise mixed into each proposed distribution, times ``1 − skill``: a model of skill 0.25 (the
1B models) mixes in 23 %, one of skill 0.6 (the 70B models) 12 %, the oracle none."""

MALFORMED_AT_ZERO_SKILL = 0.9
MALFORMED_EXPONENT = 3.0
"""P(malformed reply) = MALFORMED_AT_ZERO_SKILL · (1 − skill)^MALFORMED_EXPONENT: about 0.39 at skill 0.25 (the
1B models: often), 0.06 at skill 0.6 (70B, gpt-4o-mini: rarely), 0 for the oracle."""

MALFORMED_KINDS = ("broken_json", "unknown_model", "out_of_range")
"""How a malformed reply goes wrong: JSON cut off mid-object, a model name that is not in the space (the name
with ``-instruct`` appended), or a probability above 1."""

_GROUPS = ("roles", "models", "samples")


def malformed_probability(skill: float) -> float:
    """The chance that a reply of a model with this skill (0 … 1) is malformed."""
    miss = 1.0 - min(max(skill, 0.0), 1.0)
    return float(MALFORMED_AT_ZERO_SKILL * miss**MALFORMED_EXPONENT)


def optimize_problems(extra: Mapping[str, Any]) -> list[str]:
    """What is wrong with an ``optimize`` request's ``meta.extra`` (empty when it is well formed)."""
    problems: list[str] = []
    current = extra.get("current")
    if not isinstance(current, Mapping):
        return ["meta.extra['current'] must be the current distribution {edges, roles, models, samples}"]
    edges = current.get("edges")
    if not isinstance(edges, Mapping) or not all(_is_prob(p) for p in edges.values()):
        problems.append("meta.extra['current']['edges'] must map 'i->j' to a probability")
    for group in _GROUPS:
        dists = current.get(group)
        if not isinstance(dists, Mapping) or not all(
            isinstance(d, Mapping) and d and all(_is_prob(p) for p in d.values()) for d in dists.values()
        ):
            problems.append(f"meta.extra['current']['{group}'] must map each slot to a non-empty distribution")
    if not isinstance(current.get("models"), Mapping) or not current["models"]:
        problems.append("meta.extra['current']['models'] needs at least one slot")
    trials = extra.get("trials")
    if not isinstance(trials, list) or not all(
        isinstance(t, Mapping) and _is_number(t.get("reward")) and isinstance(t.get("choices"), Mapping) for t in trials
    ):
        problems.append("meta.extra['trials'] must be a list of {number, reward, status, choices}")
    attempt = extra.get("attempt", 0)
    if not isinstance(attempt, int) or isinstance(attempt, bool) or attempt < 0:
        problems.append(f"meta.extra['attempt'] must be an integer of 0 or more, got {attempt!r}")
    return problems


def _is_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _is_prob(x: object) -> bool:
    return _is_number(x) and 0.0 <= float(x) <= 1.0  # type: ignore[arg-type]


def _elite(trials: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    scored = sorted((t for t in trials if float(t["reward"]) > 0.0), key=lambda t: (-float(t["reward"]), _num(t)))
    return scored[: min(ELITE_MAX, max(1, round(ELITE_FRACTION * len(scored))))]


def _num(trial: Mapping[str, Any]) -> int:
    n = trial.get("number", 0)
    return n if isinstance(n, int) else 0


def propose(extra: Mapping[str, Any], skill: float, r: random.Random) -> dict[str, Any]:
    """The proposed distribution (a ProbabilityUpdate as a dict): each probability moved ELITE_WEIGHT of the way
    toward the elite's frequency of that choice (kept where no elite trial made the choice), then mixed with
    noise (NOISE_AT_ZERO_SKILL · (1 − skill))."""
    current: Mapping[str, Any] = extra["current"]
    elite = _elite(list(extra["trials"]))
    eta = NOISE_AT_ZERO_SKILL * (1.0 - min(max(skill, 0.0), 1.0))
    out: dict[str, Any] = {"edges": {}, **{g: {} for g in _GROUPS}}
    for key, p in current["edges"].items():
        seen = [float(t["choices"]["edges"][key]) for t in elite if key in t["choices"].get("edges", {})]
        target = sum(seen) / len(seen) if seen else float(p)
        q = (1.0 - ELITE_WEIGHT) * float(p) + ELITE_WEIGHT * target
        out["edges"][key] = round((1.0 - eta) * q + eta * r.random(), 3)
    for group in _GROUPS:
        for slot, dist in current[group].items():
            picks = [str(t["choices"][group][slot]) for t in elite if slot in t["choices"].get(group, {})]
            noise = [r.random() for _ in dist]
            total = sum(noise)
            proposed = {}
            for (choice, p), u in zip(dist.items(), noise, strict=True):
                freq = picks.count(choice) / len(picks) if picks else float(p)
                q = (1.0 - ELITE_WEIGHT) * float(p) + ELITE_WEIGHT * freq
                proposed[choice] = round((1.0 - eta) * q + eta * u / total, 3)
            out[group][slot] = proposed
    if elite:
        best = ", ".join(f"{_num(t)} ({float(t['reward']):.2f})" for t in elite)
        out["rationale"] = f"The best trials so far ({best}) share these choices; moving probability toward them."
    else:
        out["rationale"] = "No trial has scored above 0 yet; keeping the distribution, with some exploration."
    return out


def _corrupt(update: dict[str, Any], kind: str, r: random.Random) -> str:
    """A malformed reply body of the given kind."""
    if kind == "broken_json":
        text = json.dumps(update, indent=1)
        return text[: max(1, int(len(text) * (0.3 + 0.5 * r.random())))]
    slot = sorted(update["models"])[0]
    dist: dict[str, float] = update["models"][slot]
    top = max(dist, key=lambda m: dist[m])
    if kind == "unknown_model":
        update["models"][slot] = {(f"{m}-instruct" if m == top else m): p for m, p in dist.items()}
    else:
        dist[top] = round(dist[top] + 1.0, 3)
    return json.dumps(update, indent=1)


def optimize_text(extra: Mapping[str, Any], skill: float, r: random.Random) -> str:
    """The reply to an ``optimize`` request: a short analysis, then the update in a ```json block; malformed with
    probability ``malformed_probability(skill)``."""
    update = propose(extra, skill, r)
    n = len(extra["trials"])
    intro = (
        f"I read the {n} trial{'s' if n != 1 else ''} so far and the current probabilities. {update['rationale']}\n\n"
    )
    if r.random() < malformed_probability(skill):
        kind = MALFORMED_KINDS[int(r.random() * len(MALFORMED_KINDS))]
        body = _corrupt(update, kind, r)
        return intro + "```json\n" + body + ("\n```\n" if kind != "broken_json" else "")
    return intro + "```json\n" + json.dumps(update, indent=1) + "\n```\n"
