"""SimBackend: the ``sim/`` offline provider, a calibrated and deterministic simulator of named real models.

For each sample it decides, from the model's calibrated ability (``irt``), the question's difficulty and a
per-(model, question) latent, whether the sample is right; picks a wrong answer from the question's shared
list of plausible wrong answers (``answers``) when it is not; and writes text in the task's format (``text``),
with token counts and virtual latency. Roles other than ``answer`` react to the candidates in the metadata
(``context``). The question and its gold answer come only from ``request.meta``; the prompt is only counted.
The ``optimize`` role stands in for an optimizer LLM with a heuristic (``optimize``): it reads the trials and the
current distribution from ``meta.extra``, not from the prompt.

Latency of one sample (virtual seconds)::

    ttft_s + prompt_tokens / (PREFILL_SPEEDUP · throughput_tok_s) + completion_tokens / throughput_tok_s

``ttft_s`` is the fixed part (queueing, network, a short prompt's prefill); long prompts add their prefill at
PREFILL_SPEEDUP times the decode rate. The n samples of one request each carry their own latency (a gateway
serving them in parallel takes the maximum).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from collabgraph.errors import CollabgraphError
from collabgraph.models.pool import ModelPool, ModelSpec
from collabgraph.models.sim.answers import same_answer, wrong_answers
from collabgraph.models.sim.context import (
    DEFAULT_PLAN_STEPS,
    VERIFY_BONUS_LOGIT,
    CandidateView,
    critique_flag_probability,
    critique_text,
    fuse_probability,
    plan_text,
    select_probability,
)
from collabgraph.models.sim.draws import mix_latent, rng, unit
from collabgraph.models.sim.irt import Ability, knowledge_latent, percentile
from collabgraph.models.sim.optimize import OPTIMIZE_FORMAT, optimize_problems, optimize_text
from collabgraph.models.sim.repair import (
    DEFAULT_TOP_K,
    LOCALIZE_BONUS_LOGIT,
    PATCH_LOCATED_BONUS_LOGIT,
    PATCH_MISLOCATED_PENALTY_LOGIT,
    RETRY_NOISE_SHARE,
    localize_text,
    patch_text,
    ranked_locations,
    wrong_locations,
    wrong_patches,
)
from collabgraph.models.sim.sampling import sample_latent, zipf_index
from collabgraph.models.sim.text import (
    CHARS_PER_TOKEN,
    count_tokens,
    prompt_tokens,
    target_length,
    write_answer,
)
from collabgraph.models.types import OfflineMeta, OfflineRequest, OfflineSample, Role

__all__ = [
    "ANSWER_FORMATS",
    "CODING_TASK",
    "ORACLE_ID",
    "PREFILL_SPEEDUP",
    "SUPPORTED_ROLES",
    "Decision",
    "SimBackend",
    "SimError",
]

logger = logging.getLogger(__name__)

ORACLE_ID = "sim/oracle"
"""The litellm id of the model that is always right (gold answer, canonical solution)."""

PREFILL_SPEEDUP = 20.0
"""Prompt tokens are processed this many times faster than completion tokens are generated (prefill is one
batched forward pass; decode is one pass per token)."""

SUPPORTED_ROLES: tuple[Role, ...] = (
    "answer",
    "fuse",
    "refine",
    "select",
    "critique",
    "plan",
    "localize",
    "patch",
    "optimize",
)
"""Roles the simulator answers. ``localize`` and ``patch`` (software repair) read ``meta.extra``: ``location``
(the gold ``path::function``), ``files``, optionally ``functions`` and ``top_k`` (localize) and ``localized``
(patch: the top location it was given; ``attempt``: how many failed attempts it has read the test output
of); see ``repair``. ``optimize`` (Agent-REINFORCE's optimizer LLM, a heuristic) reads ``current``, ``trials`` and
``attempt`` from ``meta.extra`` and needs ``answer_format`` ``json`` and no gold answer; see ``optimize``."""

CODING_TASK = "humaneval"
"""Repair roles on a task the model has no published score for use its score on this task as its coding
ability (a model's HumanEval is the closest published figure to its skill at fixing code)."""

ANSWER_FORMATS = ("gsm8k", "boxed", "letter", "code", "expression")


class SimError(CollabgraphError):
    """A request the simulator cannot answer: a missing or malformed field, an unsupported role, or a pool
    entry without the published scores it calibrates to. The message says which and what would be valid."""


@dataclass(frozen=True)
class Decision:
    """What one sample says and whether it is right (``None`` for roles without a right answer: plan).

    ``text`` is written on first access, so that code which needs only the verdict (calibration checks)
    does not pay for the prose."""

    correct: bool | None
    answer: str | None
    render: Callable[[], str] = field(repr=False, compare=False)

    @cached_property
    def text(self) -> str:
        """The sample's full response text."""
        return self.render()


@dataclass(frozen=True)
class _Context:
    """Everything one sample's decision depends on, computed once in ``decide``."""

    spec: ModelSpec
    meta: OfflineMeta
    oracle: bool
    u: float  # the sample's latent: lower means it knows the question
    own: float  # P(solving the question alone)
    v: float  # verification skill on the question
    wrong_u: float  # the sample's uniform for choosing among wrong answers
    word_key: tuple[object, ...]  # seeds the wording


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


class SimBackend:
    """Answers ``sim/<model>`` requests; see the module docstring. Built as ``SimBackend(pool=…, data_dir=…)``
    (``data_dir`` is unused: the simulator needs no data files)."""

    def __init__(self, pool: ModelPool | None = None, data_dir: Path | None = None) -> None:
        self.pool = pool
        self.data_dir = data_dir
        self._abilities: dict[tuple[str, str, tuple[tuple[str, float], ...]], Ability] = {}

    # ---- calibration ------------------------------------------------------------------------------------

    def ability(self, spec: ModelSpec, task: str) -> Ability:
        """The model's calibrated ability on ``task``: from its published score for the task, else from the
        unweighted mean of its published scores over the tasks it has (the fallback is named in ``source``)."""
        key = (spec.litellm_id, task, tuple(sorted((t, s.accuracy) for t, s in spec.scores.items())))
        cached = self._abilities.get(key)
        if cached is not None:
            return cached
        if task in spec.scores:
            score = spec.scores[task]
            ability = Ability.calibrated(score.accuracy, score.source)
        elif spec.scores:
            mean = sum(s.accuracy for s in spec.scores.values()) / len(spec.scores)
            names = ", ".join(sorted(spec.scores))
            ability = Ability.calibrated(mean, f"fallback: no score for {task!r}; mean of the scores for {names}")
            logger.warning("%s has no published score for task %r: %s", spec.litellm_id, task, ability.source)
        else:
            raise SimError(
                f"{spec.name or spec.litellm_id}: a sim model needs published scores to calibrate to; add "
                "'scores: {gsm8k: {accuracy: 0.8, source: <citation>}, …}' to its pool entry"
            )
        self._abilities[key] = ability
        return ability

    # ---- the protocol -----------------------------------------------------------------------------------

    def generate(self, spec: ModelSpec, request: OfflineRequest) -> list[OfflineSample]:
        """``request.n`` samples numbered from ``request.first_sample``; each depends only on (request.seed,
        model, example id, sample index) and the request's content."""
        self._check(spec, request)
        p_tokens = prompt_tokens(request.messages)
        out: list[OfflineSample] = []
        for k in range(request.first_sample, request.first_sample + request.n):
            decision = self.decide(spec, request, k)
            text, finish = decision.text, "stop"
            c_tokens = count_tokens(text)
            if request.max_tokens is not None and c_tokens > request.max_tokens:
                text, finish = text[: request.max_tokens * CHARS_PER_TOKEN], "length"
                c_tokens = count_tokens(text)
            latency = (
                spec.ttft_s + p_tokens / (PREFILL_SPEEDUP * spec.throughput_tok_s) + c_tokens / spec.throughput_tok_s
            )
            out.append(
                OfflineSample(
                    text=text,
                    prompt_tokens=p_tokens,
                    completion_tokens=c_tokens,
                    latency_s=latency,
                    finish_reason=finish,
                )
            )
        return out

    def _check(self, spec: ModelSpec, request: OfflineRequest) -> None:
        meta = request.meta
        where = f"{spec.name or spec.litellm_id}, example {meta.example_id!r}"
        if not spec.litellm_id.startswith("sim/"):
            raise SimError(f"{where}: litellm_id {spec.litellm_id!r} is not a sim model (expected 'sim/<name>')")
        if meta.role not in SUPPORTED_ROLES:
            raise SimError(
                f"{where}: role {meta.role!r} is not simulated; supported roles: {', '.join(SUPPORTED_ROLES)}"
            )
        if meta.role == "optimize":
            self._check_optimize(where, spec, meta)
            return
        if meta.answer_format not in ANSWER_FORMATS:
            raise SimError(
                f"{where}: meta.answer_format {meta.answer_format!r} is unknown; expected one of "
                f"{', '.join(ANSWER_FORMATS)}"
            )
        if not meta.task:
            raise SimError(f"{where}: meta.task is empty; the simulator calibrates per task")
        if not meta.example_id:
            raise SimError(f"{spec.name or spec.litellm_id}: meta.example_id is empty")
        if not meta.answer.strip() and meta.role != "plan":
            raise SimError(f"{where}: meta.answer (the gold answer) is empty")
        if meta.role in ("fuse", "refine", "select", "critique") and not meta.candidates:
            raise SimError(f"{where}: role {meta.role!r} needs meta.candidates (the answers it reads)")
        if meta.role in ("localize", "patch"):
            self._check_repair(where, meta)
        steps = meta.extra.get("subtasks", DEFAULT_PLAN_STEPS)
        if meta.role == "plan" and (not isinstance(steps, int) or not 1 <= steps <= 5):
            raise SimError(f"{where}: meta.extra['subtasks'] must be an integer from 1 to 5, got {steps!r}")

    def _check_optimize(self, where: str, spec: ModelSpec, meta: OfflineMeta) -> None:
        if meta.answer_format != OPTIMIZE_FORMAT:
            raise SimError(
                f"{where}: role 'optimize' writes JSON; meta.answer_format must be {OPTIMIZE_FORMAT!r}, "
                f"got {meta.answer_format!r}"
            )
        if not meta.example_id:
            raise SimError(f"{spec.name or spec.litellm_id}: meta.example_id is empty")
        problems = optimize_problems(meta.extra)
        if problems:
            raise SimError(f"{where}: role 'optimize': " + "; ".join(problems))
        self.optimizer_skill(spec)

    def optimizer_skill(self, spec: ModelSpec) -> float:
        """A model's skill as an optimizer LLM (``optimize`` role), 0 … 1: the mean of its published accuracies
        over every task it has (general ability, not the searched task's: reading a results table is not solving
        the task); 1 for the oracle."""
        if spec.litellm_id == ORACLE_ID:
            return 1.0
        if not spec.scores:
            raise SimError(
                f"{spec.name or spec.litellm_id}: a sim model needs published scores to calibrate to; add "
                "'scores: {gsm8k: {accuracy: 0.8, source: <citation>}, …}' to its pool entry"
            )
        return sum(s.accuracy for s in spec.scores.values()) / len(spec.scores)

    @staticmethod
    def _check_repair(where: str, meta: OfflineMeta) -> None:
        location = meta.extra.get("location")
        if not isinstance(location, str) or "::" not in location:
            raise SimError(
                f"{where}: role {meta.role!r} needs meta.extra['location'], the gold 'path::function', got {location!r}"
            )
        files = meta.extra.get("files", [])
        if not isinstance(files, list | tuple) or not all(isinstance(f, str) for f in files):
            raise SimError(f"{where}: meta.extra['files'] must be a list of repository paths, got {files!r}")
        top_k = meta.extra.get("top_k", DEFAULT_TOP_K)
        if not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1:
            raise SimError(f"{where}: meta.extra['top_k'] must be an integer of 1 or more, got {top_k!r}")

    def _repair_ability(self, spec: ModelSpec, task: str) -> Ability:
        """The ability behind localize and patch: the task's own score, else the coding score (CODING_TASK)."""
        if task not in spec.scores and CODING_TASK in spec.scores:
            return self.ability(spec, CODING_TASK)
        return self.ability(spec, task)

    # ---- decisions --------------------------------------------------------------------------------------

    def decide(self, spec: ModelSpec, request: OfflineRequest, k: int) -> Decision:
        """Sample ``k`` of ``request``: whether it is right, the answer it states, and (lazily) its text."""
        meta = request.meta
        if meta.role == "optimize":
            skill = self.optimizer_skill(spec)
            # The whole history seeds the draws (a new step is a new reply; a re-ask is a fresh draw via
            # extra['attempt']); at temperature 0 the same request always gets the same reply.
            key: tuple[object, ...] = (
                "optimize",
                request.seed,
                spec.litellm_id,
                meta.example_id,
                _fingerprint(meta.extra),
            )
            if request.temperature > 0:
                key += (k,)
            return Decision(correct=None, answer=None, render=lambda: optimize_text(meta.extra, skill, rng(*key)))
        if meta.role == "plan":
            steps = int(meta.extra.get("subtasks", DEFAULT_PLAN_STEPS))
            return Decision(correct=None, answer=None, render=lambda: plan_text(meta.answer_format, steps))
        model = spec.litellm_id
        oracle = model == ORACLE_ID
        x = percentile(meta.example_id, meta.difficulty)
        if oracle:
            ability = None
        elif meta.role in ("localize", "patch"):
            ability = self._repair_ability(spec, meta.task)
        else:
            ability = self.ability(spec, meta.task)
        # The noise key leaves the question out: its noise comes from its shared latent (see sample_noise).
        noise_key = (request.seed, model, meta.task, meta.role)
        content = _fingerprint(meta.role, [(c.answer, c.correct) for c in meta.candidates])
        # Wording and the choice of wrong answer: fixed per question at temperature 0, per sample above.
        word_key: tuple[object, ...] = (model, meta.example_id, content)
        if request.temperature > 0:
            word_key += (request.seed, k)
        ctx = _Context(
            spec=spec,
            meta=meta,
            oracle=oracle,
            u=sample_latent(knowledge_latent(model, meta.task, x), request.temperature, k, *noise_key),
            own=1.0 if ability is None else ability.p_correct(x),
            v=1.0 if ability is None else ability.p_with_bonus(x, VERIFY_BONUS_LOGIT),
            wrong_u=sample_latent(
                unit("wrong-choice", model, meta.example_id), request.temperature, k, *noise_key, "w"
            ),
            word_key=word_key,
        )
        if meta.role == "critique":
            return self._critique(ctx)
        if meta.role == "localize":
            return self._localize(ctx, ability, x)
        if meta.role == "patch":
            return self._patch(ctx, ability, x)
        if meta.role == "answer":
            correct = oracle or ctx.u < ctx.own
            return self._answer(ctx, correct, meta.answer if correct else self._wrong(meta, ctx.wrong_u), "")
        view = CandidateView.of(meta.candidates)
        if meta.role == "select":
            return self._select(ctx, view)
        correct = oracle or ctx.u < fuse_probability(view, ctx.v, ctx.own)
        if correct:
            answer = meta.answer
        elif view.wrong_beats_right and view.plurality_wrong is not None and ctx.wrong_u < 1.0 - ctx.v:
            answer = view.plurality_wrong  # it followed the crowd
        else:
            answer = self._wrong(meta, ctx.wrong_u)
        return self._answer(ctx, correct, answer, _summary(meta.role, meta, view))

    def _wrong(self, meta: OfflineMeta, u: float) -> str:
        try:
            options = wrong_answers(
                meta.answer,
                meta.answer_format,
                meta.example_id,
                tuple(meta.distractors),
                meta.extra.get("entry_point"),
                meta.extra.get("n_options"),
            )
        except ValueError as exc:
            raise SimError(f"example {meta.example_id!r}: {exc}") from None
        return options[zipf_index(u, len(options))]

    def _answer(self, ctx: _Context, correct: bool, answer: str, preface: str) -> Decision:
        """A decision whose text is reasoning of realistic length, then ``answer`` in the task's format."""

        def render() -> str:
            r = rng("wording", *ctx.word_key)
            length = target_length(ctx.meta.task, ctx.meta.answer_format, ctx.spec.family, not correct, r)
            return write_answer(ctx.meta.answer_format, answer, length, r, preface)

        return Decision(correct=correct, answer=answer, render=render)

    def _critique(self, ctx: _Context) -> Decision:
        meta = ctx.meta
        candidate = meta.candidates[0]
        if ctx.oracle:
            flag = not candidate.correct
        else:
            # A critic's skill is its own chance of solving the question (finding an error is not easier than
            # solving, unlike recognising a right answer). One that knows the question (low latent) catches
            # errors; one that does not raises the false alarms.
            p_flag = critique_flag_probability(candidate.correct, ctx.own)
            flag = ctx.u < p_flag if not candidate.correct else ctx.u > 1.0 - p_flag
        code = meta.answer_format == "code"
        own_answer = meta.answer if (ctx.oracle or ctx.u < ctx.own) else self._wrong(meta, ctx.wrong_u)

        def render() -> str:
            shown = None if code else own_answer
            return critique_text(flag, None if code else candidate.answer, shown, rng("wording", *ctx.word_key))

        return Decision(correct=flag != candidate.correct, answer=None, render=render)

    def _localize(self, ctx: _Context, ability: Ability | None, x: float) -> Decision:
        meta = ctx.meta
        gold = str(meta.extra["location"])
        correct = ability is None or ctx.u < ability.p_with_bonus(x, LOCALIZE_BONUS_LOGIT)
        wrong = wrong_locations(gold, meta.extra.get("files", []), meta.extra.get("functions", []))
        top_k = int(meta.extra.get("top_k", DEFAULT_TOP_K))
        ranked = ranked_locations(gold, wrong, top_k, correct, rng("locations", ctx.wrong_u, *ctx.word_key))
        return Decision(correct=correct, answer=ranked[0], render=lambda: localize_text(ranked))

    def _patch(self, ctx: _Context, ability: Ability | None, x: float) -> Decision:
        meta = ctx.meta
        gold = str(meta.extra["location"])
        localized = meta.extra.get("localized")
        attempt = meta.extra.get("attempt", 0)
        retrying = isinstance(attempt, int) and attempt > 0
        if ability is None:
            p = 1.0
        elif localized is None or (retrying and localized != gold):
            # A retry reads the failing tests' traceback, which points at the buggy function whatever the
            # localization said: a wrong localization no longer misleads it.
            p = ctx.own
        elif localized == gold:
            p = ability.p_with_bonus(x, PATCH_LOCATED_BONUS_LOGIT)
        else:
            p = ability.p_with_bonus(x, PATCH_MISLOCATED_PENALTY_LOGIT)
        u = ctx.u
        if retrying:
            # A retry that read the failing tests' output rethinks the fix: its latent is partly redrawn.
            retry = unit("patch-retry", ctx.spec.litellm_id, meta.example_id, attempt, *ctx.word_key[2:])
            u = mix_latent(u, retry, RETRY_NOISE_SHARE)
        correct = u < p
        options = [] if correct else wrong_patches(meta.answer)
        # A gold patch without a one-line hunk has no simple wrong variant: the wrong patch touches nothing.
        diff = meta.answer if correct else (options[zipf_index(ctx.wrong_u, len(options))] if options else "")
        shown = gold if correct or localized is None else str(localized)
        return Decision(correct=correct, answer=diff or None, render=lambda: patch_text(diff, shown))

    def _select(self, ctx: _Context, view: CandidateView) -> Decision:
        meta = ctx.meta
        right = [i for i, c in enumerate(meta.candidates) if c.correct]
        summary = _summary("select", meta, view)
        if ctx.oracle and not right:
            # The oracle is always right: with no right candidate to pick, it says so and gives the gold answer.
            return self._answer(ctx, True, meta.answer, f"{summary}\nNone of the candidates is correct.")
        correct = bool(right) and (ctx.oracle or ctx.u < select_probability(view, ctx.v))
        if correct:
            index = right[int(ctx.wrong_u * len(right))]
            answer = meta.answer
        else:
            wrong = [i for i, c in enumerate(meta.candidates) if not c.correct]
            index = view.plurality_wrong_index if view.plurality_wrong_index is not None else wrong[0]
            answer = meta.candidates[index].answer or self._wrong(meta, ctx.wrong_u)
        preface = f"{summary}\nCandidate {index + 1} is the most convincing.\nSELECTED: {index + 1}"
        return self._answer(ctx, correct, answer, preface)


def _summary(role: str, meta: OfflineMeta, view: CandidateView) -> str:
    """A sentence on what the candidates say (their answers, grouped), as a reader of them would write."""
    if meta.answer_format == "code":
        return f"I reviewed the {view.n} candidate implementation(s) and compared their behaviour on the examples."
    groups: list[tuple[str, list[int]]] = []
    for i, cand in enumerate(meta.candidates):
        shown = cand.answer if cand.answer is not None else "no answer"
        for g, (answer, members) in enumerate(groups):
            if same_answer(answer, shown):
                groups[g] = (answer, [*members, i + 1])
                break
        else:
            groups.append((shown, [i + 1]))
    parts = [
        f"candidate{'s' if len(m) > 1 else ''} {', '.join(map(str, m))} {'reach' if len(m) > 1 else 'reaches'} {a}"
        for a, m in groups
    ]
    verb = {"fuse": "Combining", "refine": "Revising", "select": "Comparing"}.get(role, "Reading")
    return f"{verb} the {view.n} candidate solution(s): " + "; ".join(parts) + "."
