"""Search-efficiency benchmark, printed as ratios against peers measured in the same run:

how many evaluations Agent-REINFORCE needs to find a near-optimal graph, against random search and Optuna's TPE
(and GPTSwarm-style REINFORCE on edges), on search spaces small enough for exhaustive search to give the true
optimum. Target: agent-reinforce needs at most half the evaluations of random search to reach 95 % of the
optimum's dev accuracy.

Three spaces, built below (3 slots each, a few hundred distinct graphs at most):
- math500 on the sim pool's Llama 3.2 1B / 3B and 3.1 8B / 70B under a FLOPs budget per query (the 70B model
  does not fit alone: ensembles of the small ones must beat it), roles assistant / fuser / vote;
- mmlu_pro on five replay models (what the real models answered) under a USD budget per question, roles
  assistant / vote, at most 2 layers;
- countdown on three sim models (Qwen 2.5 0.5B / 7B, Llama 3.1 8B) under a latency budget, roles assistant /
  fuser / critic.

Step 1 (ground truth): the search driver runs ``exhaustive`` over every graph of the space, for real, on the dev
split (budget check, repair and dedupe included: a graph estimated over budget is repaired into a smaller one or
rejected, exactly as in every other search). Its trials become a table graph key → evaluation; the true optimum
is the best dev accuracy among graphs measured within budget. The exhaustive search directory and the gateway's
call cache live under ``--cache-dir``, so a second run of the benchmark resumes them and pays for nothing (when the
enumeration changed since, exhaustive search starts again and the cache answers its calls).

Step 2: every optimizer runs ``--seeds`` times (seeds 0 … N-1) through the same driver, capped at ``--cap``
evaluations, with the table as the driver's evaluator: each evaluation is looked up, nothing is re-run. A graph
the table lacks (the budget estimator, which learns as a search goes, let through a graph that exhaustive search
had repaired or rejected) is a *miss*: it runs for real, joins the table, and is counted and printed. Agent-
REINFORCE runs twice: ``numeric`` (its score-function update, no optimizer model) and ``textual`` (its optimizer
LLM, ``sim/llama-3.1-70b``: the sim pool's stand-in for an LLM writing the update, a heuristic that follows the
best trials).

From each search's best-so-far curve (best feasible dev accuracy after each evaluation):
- evaluations to reach 95 % of the optimum's dev accuracy, and to reach the optimum itself. A search that never
  does within the cap is censored: it counts as cap + 1 in the mean and the median, and the ``never`` column says
  how many seeds that was (so a mean with censored seeds is a lower bound);
- regret (optimum − best so far, where the best so far is 0 until a graph is measured within budget) after 5, 10
  and 20 evaluations (``--at``); a search that stopped earlier (the driver stops after 50 asks in a row that bring
  no new graph) keeps its last value.
The ratios are agent-reinforce / random and agent-reinforce / tpe of the mean evaluations to 95 %, per task and
pooled over tasks and seeds. It exits 0 when both agent-reinforce variants meet the target on every task.

Run: ``COLLABGRAPH_DATA=../shared/data .venv/bin/python benchmarks/search_efficiency.py [--seeds 20] [--cap 40]
[--dev 40] [--tasks math500,mmlu_pro,countdown] [--at 5,10,20] [--optimizers random,tpe,…] [--cache-dir DIR]``.
With the defaults it took 11 minutes on 2 cores from an empty ``--cache-dir``: under 2 for the ground truth, most
of the rest in textual agent-reinforce, whose every ask (repeats included) calls its optimizer model. Nothing
touches the network; per-seed search directories are temporary.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collabgraph.models.cache import CallCache
from collabgraph.models.pool import ModelPool, default_pool
from collabgraph.optimizers.base import Trial
from collabgraph.optimizers.budget import Observation
from collabgraph.optimizers.design import Design, count_designs
from collabgraph.optimizers.driver import Evaluation, SearchSettings, optimize, search_dir
from collabgraph.optimizers.space import OptimizerName, SearchSpace
from collabgraph.runs.rundir import RunDirError, read_jsonl
from collabgraph.settings import cache_dir

TARGET = 0.5
"""agent-reinforce's mean evaluations to 95 % over random search's: at most this."""
NEAR = 0.95
"""The share of the optimum's dev accuracy that counts as near-optimal."""
OPTIMIZER_LLM = "sim/llama-3.1-70b"
_EPS = 1e-9  # accuracies are ratios of small integers: compare with a tolerance


@dataclass(frozen=True)
class Case:
    """One task's search space, and a line saying what it is."""

    name: str
    space: SearchSpace
    about: str


@dataclass(frozen=True)
class Variant:
    """An optimizer as the benchmark runs it: a registry name and, for agent-reinforce, its optimizer LLM."""

    label: str
    optimizer: OptimizerName
    model: str | None = None


VARIANTS: tuple[Variant, ...] = (
    Variant("agent-reinforce numeric", "agent-reinforce"),
    Variant("agent-reinforce textual", "agent-reinforce", OPTIMIZER_LLM),
    Variant("random", "random"),
    Variant("tpe", "tpe"),
    Variant("reinforce", "reinforce"),
)
AGENT_LABELS = ("agent-reinforce numeric", "agent-reinforce textual")


def _space(name: str, task: str, dev: int, models: list[str], roles: list[str], **extra: Any) -> SearchSpace:
    data = {
        "schema": "collabgraph.search/v1",
        "name": f"bench-{name}",
        "task": {"name": task, "dev": dev, "test": 1, "seed": 0},
        "models": models,
        "roles": roles,
        **extra,
    }
    return SearchSpace.model_validate(data)


def cases(dev: int) -> dict[str, Case]:
    """The benchmark's three spaces, ``dev`` examples each."""
    llama = ["sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b", "sim/llama-3.1-70b"]
    replay = [
        "replay/Qwen1.5-110B",
        "replay/gemini-1.5-flash-002",
        "replay/Meta-Llama-3_1-70B-Instruct",
        "replay/DeepSeek-Coder-V2",
        "replay/Phi-3-mini-4k-instruct",
    ]
    small = ["sim/qwen2.5-0.5b", "sim/qwen2.5-7b", "sim/llama-3.1-8b"]
    return {
        "math500": Case(
            "math500",
            _space(
                "math500",
                "math500",
                dev,
                llama,
                ["assistant", "fuser", "vote"],
                limits={"nodes": 3},
                budget={"flops": 5.0e13},
            ),
            "sim Llama 3.2 1B/3B, 3.1 8B/70B; roles assistant/fuser/vote; FLOPs <= 5e13 per query",
        ),
        "mmlu_pro": Case(
            "mmlu_pro",
            _space(
                "mmlu_pro",
                "mmlu_pro",
                dev,
                replay,
                ["assistant", "vote"],
                limits={"nodes": 3, "depth": 2},
                budget={"usd": 4.0e-4},
            ),
            "replay Qwen1.5 110B, Gemini 1.5 Flash, Llama 3.1 70B Instruct, DeepSeek-Coder-V2, Phi-3 mini; "
            "roles assistant/vote (depth <= 2); USD <= 4e-4 per question",
        ),
        "countdown": Case(
            "countdown",
            _space(
                "countdown",
                "countdown",
                dev,
                small,
                ["assistant", "fuser", "critic"],
                limits={"nodes": 3},
                budget={"latency_s": 4.0},
            ),
            "sim Qwen 2.5 0.5B/7B, Llama 3.1 8B; roles assistant/fuser/critic; latency <= 4 s per query",
        ),
    }


# ---- ground truth -------------------------------------------------------------------------------------------------


@dataclass
class Truth:
    """What exhaustive search found: every graph it evaluated (key → evaluation, and whether it was within budget),
    the optimum, and the space's size."""

    designs: int
    table: dict[str, Evaluation]
    feasible: dict[str, bool]
    optimum: float
    best: str
    extra: dict[str, Evaluation] = field(default_factory=dict)
    """Graphs the optimizers ran that exhaustive search had not (misses), with their evaluations."""

    def reference(self) -> float:
        """The optimum the searches are measured against: exhaustive search's, unless a graph it never ran (a
        miss) did better within budget."""
        extra = [ev.accuracy for k, ev in self.extra.items() if self.feasible[k]]
        return max([self.optimum, *extra])

    def near(self) -> int:
        """How many graphs within budget reach NEAR × the optimum."""
        return sum(
            ok and k in self.table and self.table[k].accuracy >= NEAR * self.optimum - _EPS
            for k, ok in self.feasible.items()
        )


def _evaluation(trial: Trial, record: dict[str, Any]) -> Evaluation:
    assert trial.accuracy is not None and trial.measured is not None
    return Evaluation(
        accuracy=trial.accuracy,
        measured=trial.measured,
        observations=tuple(Observation(*o) for o in record.get("observations", [])),
        examples=trial.examples,
        errors=trial.errors,
    )


def evaluated_trials(run_dir: Path) -> list[tuple[Trial, Evaluation]]:
    """The trials of a search directory that ran a graph (first time each), with what the evaluation gave."""
    out: list[tuple[Trial, Evaluation]] = []
    seen: set[str] = set()
    for record in read_jsonl(run_dir / "events.jsonl"):
        if record.get("event") != "trial":
            continue
        trial = Trial.model_validate(record["trial"])
        if trial.status == "rejected" or trial.key is None or trial.key in seen:
            continue
        seen.add(trial.key)
        out.append((trial, _evaluation(trial, record)))
    return out


async def ground_truth(case: Case, pool: ModelPool, cache: CallCache, work: Path) -> Truth:
    """Run (or resume) exhaustive search over the case's space and tabulate what it evaluated."""
    designs = count_designs(case.space)
    # Under the driver's own naming (space, models, seed: a run key), so that another --dev is another search.
    settings = SearchSettings(optimizer="exhaustive", evaluations=designs, root=work / "exhaustive", test_best=False)
    try:
        result = await optimize(case.space, pool, settings, cache=cache)
    except RunDirError as exc:
        # The log was written by another version of the enumeration (the run key covers the space, not the code):
        # run it again from the start; the call cache answers every call it made.
        print(f"[{case.name}] {exc}; running exhaustive search again", file=sys.stderr, flush=True)
        shutil.rmtree(search_dir(case.space, pool, settings)[0])
        result = await optimize(case.space, pool, settings, cache=cache)
    table: dict[str, Evaluation] = {}
    feasible: dict[str, bool] = {}
    for trial, ev in evaluated_trials(Path(result.run_dir)):
        assert trial.key is not None
        table[trial.key] = ev
        feasible[trial.key] = trial.status == "ok"
    if result.best is None:
        raise RuntimeError(f"{case.name}: no graph of the space was measured within budget")
    return Truth(
        designs=designs,
        table=table,
        feasible=feasible,
        optimum=result.best.dev_accuracy,
        best=result.best.description,
    )


# ---- searches -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One search of one variant and seed: its best-so-far curve, its table hits and misses."""

    variant: str
    seed: int
    curve: list[float]
    hits: int
    misses: int
    update: str
    textual_steps: int
    steps: int


def _with_model(space: SearchSpace, model: str | None) -> SearchSpace:
    optimizer = space.optimizer.model_copy(update={"model": model})
    return space.model_copy(update={"optimizer": optimizer})


async def search(
    case: Case, truth: Truth, variant: Variant, seed: int, cap: int, pool: ModelPool, cache: CallCache, work: Path
) -> Run:
    """One search through the driver, answered from the truth table; a miss runs for real and joins
    ``truth.extra``."""
    counts = {"hits": 0, "misses": 0}

    async def lookup(design: Design) -> Evaluation | None:
        key = design.key()
        known = truth.table.get(key) or truth.extra.get(key)
        counts["hits" if known is not None else "misses"] += 1
        return known

    with tempfile.TemporaryDirectory(prefix="search-", dir=work) as folder:
        settings = SearchSettings(
            optimizer=variant.optimizer, evaluations=cap, seed=seed, out=Path(folder), evaluator=lookup, test_best=False
        )
        result = await optimize(_with_model(case.space, variant.model), pool, settings, cache=cache)
        kinds = [r["kind"] for r in read_jsonl(Path(folder) / "events.jsonl") if _is_update(r)]
        if counts["misses"]:
            for trial, ev in evaluated_trials(Path(folder)):
                assert trial.key is not None
                if trial.key not in truth.table:
                    truth.extra.setdefault(trial.key, ev)
                    # A graph exhaustive search never ran may beat its optimum: keep the comparison honest.
                    truth.feasible.setdefault(trial.key, trial.status == "ok")
    curve = [0.0 if v is None else v for v in result.best_so_far]
    return Run(
        variant.label,
        seed,
        curve,
        counts["hits"],
        counts["misses"],
        result.update,
        textual_steps=kinds.count("textual"),
        steps=len(kinds),
    )


def _is_update(record: dict[str, Any]) -> bool:
    """An agent-reinforce step as the driver logs it, with the kind of update it made."""
    return record.get("event") == "optimizer" and record.get("type") == "update" and "kind" in record


# ---- metrics ------------------------------------------------------------------------------------------------------


def evaluations_to(curve: Sequence[float], level: float, cap: int) -> int:
    """The first evaluation (1-based) whose best so far reaches ``level``; cap + 1 when none within the cap."""
    for i, v in enumerate(curve[:cap], start=1):
        if v >= level - _EPS:
            return i
    return cap + 1


def regret_at(curve: Sequence[float], optimum: float, k: int) -> float:
    """optimum − best so far after ``k`` evaluations (the last value when the search stopped earlier)."""
    if not curve:
        return optimum
    return optimum - curve[min(k, len(curve)) - 1]


@dataclass(frozen=True)
class Row:
    """One variant's figures on one task, over its seeds (one list entry per seed)."""

    variant: str
    cap: int
    to_near: list[int]
    to_optimum: list[int]
    regret: dict[int, list[float]]
    best: list[float]
    evaluations: list[int]
    misses: int
    lookups: int
    updates: list[str]
    textual_steps: int
    steps: int

    def never(self, values: Sequence[int]) -> int:
        """How many seeds never got there within the cap (censored at cap + 1)."""
        return sum(v > self.cap for v in values)


def summarise(runs: Sequence[Run], optimum: float, cap: int, at: Sequence[int]) -> Row:
    """One variant's runs as a row of figures."""
    return Row(
        variant=runs[0].variant,
        cap=cap,
        to_near=[evaluations_to(r.curve, NEAR * optimum, cap) for r in runs],
        to_optimum=[evaluations_to(r.curve, optimum, cap) for r in runs],
        regret={k: [regret_at(r.curve, optimum, k) for r in runs] for k in at},
        best=[r.curve[-1] if r.curve else 0.0 for r in runs],
        evaluations=[len(r.curve) for r in runs],
        misses=sum(r.misses for r in runs),
        lookups=sum(r.hits + r.misses for r in runs),
        updates=sorted({r.update for r in runs}),
        textual_steps=sum(r.textual_steps for r in runs),
        steps=sum(r.steps for r in runs),
    )


@dataclass(frozen=True)
class TaskReport:
    """One task: its case, the ground truth, one row per variant, and the seconds each step took."""

    case: Case
    truth: Truth
    rows: dict[str, Row]
    truth_s: float
    search_s: float

    def ratio(self, variant: str, peer: str) -> float:
        """Mean evaluations to 95 % of ``variant`` over ``peer``'s."""
        return statistics.fmean(self.rows[variant].to_near) / statistics.fmean(self.rows[peer].to_near)


async def benchmark(
    selected: Sequence[Case],
    *,
    seeds: int,
    cap: int,
    at: Sequence[int],
    work: Path,
    variants: Sequence[Variant] = VARIANTS,
    progress: bool = False,
) -> list[TaskReport]:
    """Ground truth, then every variant × seed, for each case; the call cache and exhaustive runs under ``work``."""
    pool = default_pool()
    reports: list[TaskReport] = []
    with CallCache(work / "calls.sqlite") as cache:
        for case in selected:
            t0 = time.perf_counter()
            truth = await ground_truth(case, pool, cache, work)
            t1 = time.perf_counter()
            if progress:
                print(f"[{case.name}] ground truth in {t1 - t0:.0f} s; searching", file=sys.stderr, flush=True)
            runs = {
                v.label: [await search(case, truth, v, s, cap, pool, cache, work) for s in range(seeds)]
                for v in variants
            }
            # Summarised once every search is done: a miss may have found a graph better than exhaustive's best.
            rows = {label: summarise(rs, truth.reference(), cap, at) for label, rs in runs.items()}
            reports.append(TaskReport(case, truth, rows, t1 - t0, time.perf_counter() - t1))
    return reports


# ---- report -------------------------------------------------------------------------------------------------------


def _mean_median(values: Sequence[float], fmt: str) -> str:
    return f"{format(statistics.fmean(values), fmt)}/{format(statistics.median(values), fmt)}"


def pooled_ratio(reports: Sequence[TaskReport], variant: str, peer: str) -> float:
    """Mean evaluations to 95 % of ``variant`` over ``peer``'s, pooled over every task and seed."""
    mine = [v for r in reports for v in r.rows[variant].to_near]
    theirs = [v for r in reports for v in r.rows[peer].to_near]
    return statistics.fmean(mine) / statistics.fmean(theirs)


def format_report(reports: Sequence[TaskReport], at: Sequence[int]) -> list[str]:
    """The printed tables: per task, the space and its optimum, one row per optimizer, then the ratios."""
    lines: list[str] = []
    load = f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    for rep in reports:
        truth, space = rep.truth, rep.case.space
        any_row = next(iter(rep.rows.values()))
        cap, seeds = any_row.cap, len(any_row.to_near)
        within = sum(truth.feasible[k] for k in truth.table)
        reference = truth.reference()
        lines += [
            f"{rep.case.name}: {rep.case.about}; dev {space.task.dev} examples",
            f"  space: {truth.designs} graphs; exhaustive search ran {len(truth.table)} (the other "
            f"{truth.designs - len(truth.table)} were rejected or repaired into graphs it ran), {within} measured "
            "within budget",
            f"  optimum: dev accuracy {truth.optimum:.3f}, {truth.best}",
            f"  within 95 % of it (>= {NEAR * truth.optimum:.3f}): {truth.near()} of the {within} graphs within budget",
        ]
        if truth.extra:
            better = reference > truth.optimum + _EPS
            lines.append(
                f"  graphs outside exhaustive's table that optimizers ran for real: {len(truth.extra)}"
                + (f"; one beat its optimum, so figures use {reference:.3f}" if better else "; none beat its optimum")
            )
        lines.append(
            f"  {seeds} seeds per optimizer, cap {cap} evaluations. To a level: evaluations, mean/median, censored at "
            f"{cap + 1} (never: seeds that did not reach it); regret, best found: mean/median;"
        )
        lines.append(
            "  evals: mean evaluations made (under the cap when a search stopped early); misses: graphs not in the "
            "table / evaluations looked up"
        )
        header = (
            f"  {'optimizer':<24} {'to 95%':>11} {'never':>5} {'to optimum':>11} {'never':>5} "
            + " ".join(f"{'regret@' + str(k):>13}" for k in at)
            + f" {'best found':>11} {'evals':>5} {'misses':>9}"
        )
        lines += [header, "  " + "-" * (len(header) - 2)]
        for row in rep.rows.values():
            lines.append(
                f"  {row.variant:<24} {_mean_median(row.to_near, '.1f'):>11} {row.never(row.to_near):>5} "
                f"{_mean_median(row.to_optimum, '.1f'):>11} {row.never(row.to_optimum):>5} "
                + " ".join(f"{_mean_median(row.regret[k], '.3f'):>13}" for k in at)
                + f" {_mean_median(row.best, '.3f'):>11} {statistics.fmean(row.evaluations):>5.1f}"
                + f" {f'{row.misses}/{row.lookups}':>9}"
            )
        for row in rep.rows.values():
            if row.updates == ["textual"]:
                lines.append(
                    f"  {row.variant}: {row.textual_steps} of {row.steps} updates written by {OPTIMIZER_LLM}, "
                    f"{row.steps - row.textual_steps} numeric after invalid replies "
                    f"({row.steps / len(row.to_near):.1f} updates per search)"
                )
        for agent in (a for a in AGENT_LABELS if a in rep.rows):
            parts = [f"/ {peer}: {rep.ratio(agent, peer):.2f}x" for peer in ("random", "tpe") if peer in rep.rows]
            met = "random" in rep.rows and rep.ratio(agent, "random") <= TARGET
            lines.append(
                f"  {agent} {', '.join(parts)} (mean evaluations to 95 %; target <= {TARGET} vs random: "
                f"{'met' if met else 'NOT met'}); {load}"
            )
        lines.append(f"  ground truth {rep.truth_s:.0f} s, searches {rep.search_s:.0f} s")
        lines.append("")
    names = set.intersection(*(set(r.rows) for r in reports)) if reports else set()
    for agent in (a for a in AGENT_LABELS if a in names):
        parts = [f"/ {peer}: {pooled_ratio(reports, agent, peer):.2f}x" for peer in ("random", "tpe") if peer in names]
        wins = sum(r.ratio(agent, "random") <= TARGET for r in reports) if "random" in names else 0
        lines.append(
            f"all tasks: {agent} met the target on {wins} of {len(reports)} tasks; pooled over tasks and seeds "
            f"{', '.join(parts)}; {load}"
        )
    return lines


def targets_met(reports: Sequence[TaskReport]) -> bool:
    """Every agent-reinforce variant needs at most TARGET × random's mean evaluations to 95 % on every task."""
    agents = [a for a in AGENT_LABELS if all(a in r.rows for r in reports)]
    has_random = all("random" in r.rows for r in reports)
    return bool(agents) and has_random and all(r.ratio(a, "random") <= TARGET for r in reports for a in agents)


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20, help="seeds per optimizer (0 … N-1)")
    parser.add_argument("--cap", type=int, default=40, help="evaluations per search")
    parser.add_argument("--dev", type=int, default=40, help="dev examples every graph is scored on")
    parser.add_argument("--tasks", default="math500,mmlu_pro,countdown", help="comma-separated: " + ", ".join(cases(1)))
    parser.add_argument("--at", default="5,10,20", help="evaluation counts the regret is reported at")
    parser.add_argument(
        "--optimizers",
        default=",".join(v.label.replace(" ", ":") for v in VARIANTS),
        help="comma-separated (agent-reinforce variants as agent-reinforce:numeric, agent-reinforce:textual)",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=cache_dir() / "bench-search-efficiency",
        help="the call cache and exhaustive searches, kept between runs of the benchmark",
    )
    args = parser.parse_args(argv)
    available = cases(args.dev)
    names = [t.strip() for t in args.tasks.split(",") if t.strip()]
    unknown = [t for t in names if t not in available]
    if unknown:
        parser.error(f"unknown task(s) {', '.join(unknown)}; choose from {', '.join(available)}")
    by_label = {v.label.replace(" ", ":"): v for v in VARIANTS}
    picked = [o.strip() for o in args.optimizers.split(",") if o.strip()]
    if any(o not in by_label for o in picked):
        parser.error(f"--optimizers: choose from {', '.join(by_label)}")
    at = _ints(args.at)
    if args.seeds < 1 or args.cap < 1 or any(not 1 <= k <= args.cap for k in at):
        parser.error("--seeds and --cap must be at least 1, and every --at count within 1 … --cap")
    reports = asyncio.run(
        benchmark(
            [available[n] for n in names],
            seeds=args.seeds,
            cap=args.cap,
            at=at,
            work=args.cache_dir,
            variants=[by_label[o] for o in picked],
            progress=True,
        )
    )
    for line in format_report(reports, at):
        print(line)
    ok = targets_met(reports)
    print("target met on every task" if ok else "target NOT met on every task (see the ratios above)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
