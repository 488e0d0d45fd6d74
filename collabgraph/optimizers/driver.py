"""The search driver: evaluates what an optimizer asks for on the dev split, logs every trial, resumes, scores the
best graph on the test split and writes the search's files.

A search directory (``runs/search/<space>-<optimizer>-s<seed>-<key>`` unless ``out`` is given) holds
``manifest.json``, ``events.jsonl`` (append-only, each line flushed: calibration, every trial, every optimizer
update, every model call, the test run), ``best.yaml`` (the best graph, runnable by ``collabgraph run``),
``pareto.csv``, ``trials.csv``, ``best_so_far.png``, ``pareto.png`` and ``summary.json``.

Resuming: the driver replays the log into a fresh optimizer with the same seed. Optimizers are deterministic given
what they are told, so they ask for the same designs; a trial already in the log is told back from it and never
run again. An evaluation cut short by a crash is run again from its start, and the gateway's call cache serves
every call it had already paid for. Running a finished search again evaluates nothing (``new_evaluations: 0``).
"""

from __future__ import annotations

import csv
import os
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from collabgraph.errors import CollabgraphError
from collabgraph.graphs import dump
from collabgraph.graphs.result import GraphExampleResult
from collabgraph.graphs.runtime import run_graph
from collabgraph.graphs.spec import GraphSpec
from collabgraph.models.cache import CallCache
from collabgraph.models.gateway import CallRecord, Gateway
from collabgraph.models.pool import ModelPool
from collabgraph.optimizers.base import Measures, Optimizer, Priors, Trial
from collabgraph.optimizers.budget import BudgetError, CostModel, Observation, alone, measure, repair
from collabgraph.optimizers.design import Design
from collabgraph.optimizers.pareto import FrontPoint, pareto_front, plot_best_so_far, plot_front, write_front_csv
from collabgraph.optimizers.space import OptimizerName, SearchSpace
from collabgraph.runs.rundir import RunDir, RunDirError, public_model_entry, read_jsonl, run_key, slug
from collabgraph.tasks import get_task
from collabgraph.tasks.types import Example, Task

__all__ = ["BestGraph", "Evaluation", "SearchResult", "SearchSettings", "optimize", "search_dir", "splits"]

SEARCH_MANIFEST = "collabgraph.search-run/v1"
DEFAULT_ROOT = Path("runs") / "search"
_CODE_TASKS = frozenset({"humaneval", "swe_mini"})  # tasks that run code: they take the space's sandbox
_CALIBRATION_EXAMPLES = 5
_MAX_IDLE_ASKS = 50  # asks in a row that bring no new evaluation before the search stops (space used up)
_TRIAL: ContextVar[int | None] = ContextVar("collabgraph_search_trial", default=None)


class BestGraph(BaseModel):
    """The best graph found: where its file is and what it scored and cost per query (dev split)."""

    model_config = ConfigDict(frozen=True)
    graph: str
    key: str
    description: str
    dev_accuracy: float
    dev_examples: int
    test_accuracy: float | None
    test_examples: int
    mean_cost_usd: float
    mean_latency_s: float
    mean_flops: float
    mean_tokens: float
    reproduce: str


class SearchResult(BaseModel):
    """What a search reports (``collabgraph optimize --format json`` prints it; ``summary.json`` holds it)."""

    model_config = ConfigDict(frozen=True)
    space: str
    task: str
    optimizer: OptimizerName
    update: str = Field(description="agent-reinforce: textual or numeric; others: the optimizer's own rule")
    seed: int
    evaluations: int = Field(description="distinct graphs evaluated on the dev split, in all runs of this search")
    new_evaluations: int = Field(description="evaluations paid for in this invocation")
    trials: int = Field(description="designs proposed, repeats and rejections included")
    rejected: int
    repaired: int
    over_budget: int = Field(description="evaluated graphs whose measured cost exceeded the budget")
    budget: dict[str, float]
    cheapest: dict[str, Any]
    best: BestGraph | None
    pareto_axis: str
    pareto: list[FrontPoint]
    best_so_far: list[float | None]
    run_dir: str
    resumed: bool


@dataclass(frozen=True)
class Evaluation:
    """What evaluating one design on the dev split gave: its accuracy, mean cost per query, what the cost model
    learns from it, and how many examples ran and failed."""

    accuracy: float
    measured: Measures
    observations: tuple[Observation, ...]
    examples: int
    errors: int = 0


@dataclass(frozen=True)
class SearchSettings:
    """How to run a search: which optimizer, how many evaluations, its seed and where to write."""

    optimizer: OptimizerName
    evaluations: int
    seed: int = 0
    batch: int | None = None
    out: Path | None = None
    root: Path = DEFAULT_ROOT
    data_dir: Path | None = None
    command: Sequence[str] = ()
    gateway_options: Mapping[str, Any] = field(default_factory=dict)
    evaluator: Callable[[Design], Awaitable[Evaluation | None]] | None = None
    """Answers evaluations it already knows (a benchmark's table of an exhaustive run); None → run the graph."""
    test_best: bool = True
    """Score the best graph on the test split (benchmarks comparing optimizers on dev skip it)."""


def _identity(space: SearchSpace, pool: ModelPool, settings: SearchSettings) -> dict[str, Any]:
    models = {m: public_model_entry(pool.get(m)) for m in {*space.models, *filter(None, [space.optimizer.model])}}
    return {
        "space": space.model_dump(mode="json", by_alias=True),
        "models": models,
        "optimizer": settings.optimizer,
        "seed": settings.seed,
        "batch": settings.batch or space.optimizer.batch,
    }


def search_dir(space: SearchSpace, pool: ModelPool, settings: SearchSettings) -> tuple[Path, str]:
    """The search's directory and its run key (the key covers the space, the models' entries, the optimizer, its
    seed and batch — not the number of evaluations, so asking for more continues the same search)."""
    key = run_key(_identity(space, pool, settings))
    if settings.out is not None:
        return settings.out, key
    return settings.root / f"{slug(space.name)}-{settings.optimizer}-s{settings.seed}-{key[:8]}", key


def splits(task: Task, space: SearchSpace) -> tuple[list[Example], list[Example], str, str]:
    """Dev and test examples, and the ``collabgraph run`` options that select each. Tasks with a dev split use it
    and their test split; test-only tasks split one shuffled order (first ``dev``, then the next ``test``)."""
    t = space.task
    try:
        dev = task.examples("dev", limit=t.dev, seed=t.seed)
        test = task.examples("test", limit=t.test, seed=t.seed)
        return dev, test, f"--split dev --limit {t.dev}", f"--split test --limit {t.test}"
    except CollabgraphError:
        items = task.examples("test", limit=t.dev + t.test, seed=t.seed)
        if len(items) <= t.dev:
            raise CollabgraphError(
                f"task {t.name} has {len(items)} examples and no dev split: task.dev ({t.dev}) must leave some for test"
            ) from None
        return items[: t.dev], items[t.dev :], f"--split test --limit {t.dev}", ""


@dataclass(frozen=True)
class _Search:
    """What every stage of one search invocation shares: the space and pool, the settings, the task and its
    examples, the ``collabgraph run`` options selecting them, the directory, its log and the gateway."""

    space: SearchSpace
    pool: ModelPool
    settings: SearchSettings
    task: Task
    dev: Sequence[Example]
    test: Sequence[Example]
    dev_opts: str
    test_opts: str
    run_dir: RunDir
    log: _Log
    gateway: Gateway
    resumed: bool


class _Log:
    """The search's events.jsonl: what earlier runs recorded, and appends for this one."""

    def __init__(self, run_dir: RunDir) -> None:
        self.records = read_jsonl(run_dir.events_path) if run_dir.events_path.exists() else []
        self.trials = {r["number"]: r for r in self.records if r.get("event") == "trial"}
        self.calibration = {r["model"]: r for r in self.records if r.get("event") == "calibration"}
        # The last optimizer step logged: a replay writes only the steps after it.
        self.updates = max((int(r.get("step", 0)) for r in self.records if r.get("event") == "optimizer"), default=0)
        self.tests = {r["key"]: r for r in self.records if r.get("event") == "test"}
        from collabgraph.runs.rundir import JsonlWriter

        self.writer = JsonlWriter(run_dir.events_path)

    def write(self, record: dict[str, Any]) -> None:
        self.writer.write({"t": round(time.time(), 3), **record})


def _call_event(record: CallRecord) -> dict[str, Any]:
    return {"event": "call", "trial": _TRIAL.get(), **record.model_dump(mode="json")}


def _observations(raw: Sequence[Sequence[Any]]) -> list[Observation]:
    return [Observation(str(m), str(k), float(p), float(r), float(c), float(t)) for m, k, p, r, c, t in raw]


async def _run(
    spec: GraphSpec,
    space: SearchSpace,
    task: Task,
    examples: Sequence[Example],
    gateway: Gateway,
    pool: ModelPool,
) -> list[GraphExampleResult]:
    """``spec`` on ``examples`` as every evaluation of the search runs: the space's seed and concurrency."""
    return await run_graph(
        spec,
        task=task,
        examples=examples,
        gateway=gateway,
        pool=pool,
        seed=space.task.seed,
        concurrency=space.concurrency,
    )


def _priors(space: SearchSpace, pool: ModelPool, measured: Mapping[str, float]) -> Priors:
    accuracy: dict[str, float] = {}
    source: dict[str, Literal["pool", "measured"]] = {}
    for m in space.models:
        published = pool.get(m).scores.get(space.task.name)
        if published is not None:
            accuracy[m], source[m] = published.accuracy, "pool"
        else:
            accuracy[m], source[m] = measured[m], "measured"
    return Priors(
        accuracy=accuracy,
        source=source,
        params_b={m: pool.get(m).params_b for m in space.models},
        family={m: pool.get(m).family for m in space.models},
    )


def _best(trials: Sequence[Trial]) -> Trial | None:
    ok = [t for t in trials if t.status == "ok" and t.accuracy is not None and t.measured is not None]
    if not ok:
        return None
    # Highest accuracy; among equals the cheapest (dollars, then FLOPs, then latency), then the first found.
    return min(
        ok,
        key=lambda t: (-(t.accuracy or 0.0), t.measured.usd, t.measured.flops, t.measured.latency_s, t.number),  # type: ignore[union-attr]
    )


def _point(t: Trial, description: str) -> FrontPoint:
    assert t.measured is not None and t.key is not None
    m = t.measured
    return FrontPoint(
        number=t.number,
        key=t.key,
        accuracy=t.accuracy or 0.0,
        flops=m.flops,
        usd=m.usd,
        tokens=m.tokens,
        latency_s=m.latency_s,
        description=description,
    )


def _axis(space: SearchSpace) -> str:
    if space.objective == "accuracy_latency":
        return "latency_s"
    limits = space.budget.limits()
    return next(iter(limits), "usd") if limits else "usd"


def _make_optimizer(
    space: SearchSpace, settings: SearchSettings, priors: Priors, gateway: Gateway, pool: ModelPool
) -> Optimizer:
    from collabgraph.optimizers.registry import make_optimizer

    return make_optimizer(
        settings.optimizer,
        space,
        seed=settings.seed,
        batch=settings.batch or space.optimizer.batch,
        priors=priors,
        gateway=gateway,
        pool=pool,
    )


async def optimize(
    space: SearchSpace,
    pool: ModelPool,
    settings: SearchSettings,
    *,
    cache: CallCache | Literal["default"] | None = "default",
    on_trial: Callable[[Trial, float | None, int], None] | None = None,
) -> SearchResult:
    """Run (or resume) the search ``settings`` describes over ``space``; see the module docstring. ``on_trial`` is
    called after every trial with the trial, the best feasible dev accuracy so far and the evaluations so far.
    Raises ``BudgetError`` when no graph of the space fits the budget."""
    task_options: dict[str, Any] = {}
    if space.task.name in _CODE_TASKS:
        from collabgraph.sandbox import available_sandbox

        task_options["sandbox"] = available_sandbox(space.sandbox)
    task = get_task(space.task.name, settings.data_dir, **task_options)
    dev, test, dev_opts, test_opts = splits(task, space)
    path, key = search_dir(space, pool, settings)
    run_dir = RunDir(path)
    manifest = {
        "schema": SEARCH_MANIFEST,
        "run_key": key,
        **_identity(space, pool, settings),
        "command": list(settings.command),
        "dev_examples": [e.id for e in dev],
        "test_examples": [e.id for e in test],
        "python": sys.version.split()[0],
    }
    resumed = run_dir.start(manifest)
    log = _Log(run_dir)
    log.write({"event": "search_resume" if resumed else "search_start", "pid": os.getpid()})
    gateway = Gateway(pool, cache=cache, on_call=lambda r: log.write(_call_event(r)), **dict(settings.gateway_options))
    try:
        async with gateway:
            run = _Search(space, pool, settings, task, dev, test, dev_opts, test_opts, run_dir, log, gateway, resumed)
            return await _search(run, on_trial)
    finally:
        log.writer.close()


async def _search(run: _Search, on_trial: Callable[[Trial, float | None, int], None] | None) -> SearchResult:
    space, pool, settings, task, dev = run.space, run.pool, run.settings, run.task, run.dev
    log, gateway, run_dir = run.log, run.gateway, run.run_dir
    costs = CostModel(space, pool)
    limits = space.budget.limits()
    new_evaluations = 0

    async def evaluate(design: Design) -> Evaluation:
        if settings.evaluator is not None:
            known = await settings.evaluator(design)
            if known is not None:
                return known
        spec = design.to_graph(space)
        results = await _run(spec, space, task, dev, gateway, pool)
        return Evaluation(
            accuracy=sum(r.correct for r in results) / max(1, len(results)),
            measured=measure(results),
            observations=tuple(CostModel(space, pool).observe(spec, results)),
            examples=len(results),
            errors=sum(r.error is not None for r in results),
        )

    # Calibration: each model alone on a few dev examples measures its prompt and answer lengths, so that estimates
    # are grounded before the first candidate runs. Where the pool publishes no score for the task, the model alone
    # is evaluated on the whole dev split instead, and that accuracy is its prior.
    measured_prior: dict[str, float] = {}
    for model in space.models:
        record = log.calibration.get(model)
        if record is None:
            needs_prior = space.task.name not in pool.get(model).scores
            examples = dev if needs_prior else dev[:_CALIBRATION_EXAMPLES]
            token = _TRIAL.set(None)
            try:
                spec = alone(space, model).to_graph(space)
                results = await _run(spec, space, task, examples, gateway, pool)
            finally:
                _TRIAL.reset(token)
            obs = costs.observe(spec, results)
            record = {
                "event": "calibration",
                "model": model,
                "examples": len(results),
                "accuracy": sum(r.correct for r in results) / max(1, len(results)),
                "measured": measure(results).model_dump(),
                "observations": [list(o) for o in obs],
            }
            log.write(record)
        else:
            costs.apply(_observations(record["observations"]))
        if record["examples"] == len(dev):
            measured_prior[model] = float(record["accuracy"])
    priors = _priors(space, pool, measured_prior)

    cheapest, cheapest_cost = costs.cheapest()
    if cheapest_cost.over(limits):
        over = ", ".join(f"{k} {v:.4g} > {limits[k]:.4g}" for k, v in cheapest_cost.over(limits).items())
        raise BudgetError(
            f"no graph of {space.name!r} fits the budget: the cheapest, {cheapest.canonical().describe()}, is estimated at "
            f"{_fmt_measures(cheapest_cost)} per query ({over}); raise the budget or add cheaper models"
        )

    optimizer = _make_optimizer(space, settings, priors, gateway, pool)
    optimizer.preview = lambda design: _preview(design, space, costs, priors)
    trials: list[Trial] = []
    evaluated: dict[str, Trial] = {}
    curve: list[float | None] = []
    best_acc: float | None = None
    number = 0
    idle = 0
    step = 0
    while len(evaluated) < settings.evaluations and not optimizer.exhausted and idle < _MAX_IDLE_ASKS:
        batch = optimizer.ask()
        if not batch:
            break
        told: list[Trial] = []
        stop = False
        before = len(evaluated)
        for design in batch:
            logged = log.trials.get(number)
            if logged is not None:
                trial = Trial.model_validate(logged["trial"])
                if trial.design.key() != design.key():
                    raise RunDirError(
                        f"{run_dir.path}: trial {number} in the log is {trial.design.describe()!r} but the optimizer "
                        f"now asks for {design.describe()!r} (the optimizer or the space changed); start a new search "
                        "with another --out, or delete that directory"
                    )
                if trial.key is not None and trial.key not in evaluated and logged.get("observations"):
                    costs.apply(_observations(logged["observations"]))
            else:
                is_new = _will_evaluate(design, space, costs, priors, evaluated)
                if is_new and len(evaluated) >= settings.evaluations:
                    stop = True
                    break
                trial, obs = await _trial(number, design, space, evaluate, costs, priors, evaluated)
                new_evaluations += trial.key is not None and trial.key not in evaluated and trial.status != "rejected"
                log.write(
                    {
                        "event": "trial",
                        "number": number,
                        "trial": trial.model_dump(mode="json"),
                        "observations": [list(o) for o in obs],
                    }
                )
            if trial.key is not None and trial.status != "rejected" and trial.key not in evaluated:
                evaluated[trial.key] = trial
                if trial.status == "ok" and trial.accuracy is not None:
                    best_acc = trial.accuracy if best_acc is None else max(best_acc, trial.accuracy)
                curve.append(best_acc)
            trials.append(trial)
            told.append(trial)
            number += 1
            if on_trial is not None:
                on_trial(trial, best_acc, len(evaluated))
        if stop:
            break
        idle = idle + 1 if len(evaluated) == before else 0
        await optimizer.tell(told)
        step += 1
        for event in optimizer.drain_events():
            if step > log.updates:
                log.write({**event, "event": "optimizer", "type": event.get("event", "update"), "step": step})
    return await _finish(
        run,
        trials,
        evaluated,
        curve,
        new_evaluations,
        optimizer,
        cheapest,
        cheapest_cost,
    )


def _preview(design: Design, space: SearchSpace, costs: CostModel, priors: Priors) -> str | None:
    """The key of the graph that would run for ``design``: repaired to fit the budget; None when it would be
    rejected (outside the limits, or over budget with only its output left)."""
    if design.within_limits(space):
        return None
    fit = repair(design, costs, priors)
    return fit.design.key() if fit.design is not None else None


def _will_evaluate(
    design: Design, space: SearchSpace, costs: CostModel, priors: Priors, evaluated: Mapping[str, Trial]
) -> bool:
    if design.within_limits(space):
        return False
    fit = repair(design, costs, priors)
    return fit.design is not None and fit.design.key() not in evaluated


async def _trial(
    number: int,
    design: Design,
    space: SearchSpace,
    evaluate: Callable[[Design], Awaitable[Evaluation]],
    costs: CostModel,
    priors: Priors,
    evaluated: Mapping[str, Trial],
) -> tuple[Trial, list[Observation]]:
    broken = design.within_limits(space)
    if broken:
        return Trial(
            number=number, design=design, status="rejected", reason="outside the limits: " + ", ".join(broken)
        ), []
    fit = repair(design, costs, priors)
    if fit.design is None:
        over = ", ".join(f"{k} {v:.4g}" for k, v in fit.over.items())
        return (
            Trial(
                number=number,
                design=design,
                status="rejected",
                repaired=fit.repaired,
                estimate=fit.estimate,
                reason=f"estimated over budget ({over}) even with only the output node",
            ),
            [],
        )
    key = fit.design.key()
    reason = f"repaired: dropped {', '.join(fit.dropped)} to fit the budget" if fit.repaired else ""
    seen = evaluated.get(key)
    if seen is not None:  # the same graph ran before: its result is told again, nothing runs or is paid
        return seen.model_copy(
            update={"number": number, "design": design, "repaired": fit.repaired, "reason": reason}
        ), []
    token = _TRIAL.set(number)
    try:
        ev = await evaluate(fit.design)
    finally:
        _TRIAL.reset(token)
    costs.apply(ev.observations)
    measured = ev.measured
    exceeded = measured.over(space.budget.limits())
    if exceeded:
        reason = (
            (reason + "; " if reason else "")
            + "measured over budget: "
            + ", ".join(f"{k} {v:.4g}" for k, v in exceeded.items())
        )
    trial = Trial(
        number=number,
        design=design,
        evaluated=fit.design,
        key=key,
        status="over_budget" if exceeded else "ok",
        repaired=fit.repaired,
        reason=reason,
        estimate=fit.estimate,
        measured=measured,
        accuracy=ev.accuracy,
        examples=ev.examples,
        errors=ev.errors,
    )
    return trial, list(ev.observations)


def _fmt_measures(m: Measures) -> str:
    return f"{m.flops:.3g} FLOPs, ${m.usd:.3g}, {m.tokens:.0f} tokens, {m.latency_s:.2f} s"


async def _finish(
    run: _Search,
    trials: Sequence[Trial],
    evaluated: Mapping[str, Trial],
    curve: list[float | None],
    new_evaluations: int,
    optimizer: Optimizer,
    cheapest: Design,
    cheapest_cost: Measures,
) -> SearchResult:
    space, pool, settings, task, test = run.space, run.pool, run.settings, run.task, run.test
    log, gateway, path = run.log, run.gateway, run.run_dir.path
    axis = _axis(space)
    unique = list(evaluated.values())
    points = [_point(t, t.evaluated.canonical().describe() if t.evaluated else "") for t in unique if t.status == "ok"]
    front = pareto_front(points, axis)
    write_front_csv(path / "pareto.csv", front)
    _write_trials_csv(path / "trials.csv", trials)
    best_trial = _best(unique)
    best: BestGraph | None = None
    if best_trial is not None and best_trial.evaluated is not None and best_trial.measured is not None:
        spec = best_trial.evaluated.to_graph(space, name=f"{space.name}-best")
        test_record = log.tests.get(best_trial.key or "")
        if test_record is None and not settings.test_best:
            test_record = {"examples": 0, "accuracy": None}
        elif test_record is None:
            results = await _run(spec, space, task, test, gateway, pool) if test else []
            test_record = {
                "event": "test",
                "key": best_trial.key,
                "examples": len(results),
                "accuracy": sum(r.correct for r in results) / len(results) if results else None,
                "measured": measure(results).model_dump() if results else None,
                "correct": {r.example_id: r.correct for r in results},
            }
            log.write(test_record)
        reproduce = f"collabgraph run {path / 'best.yaml'} --task {space.task.name} {run.test_opts or run.dev_opts} --seed {space.task.seed}"
        header = (
            f"# Found by `collabgraph optimize` ({settings.optimizer}, seed {settings.seed}) over {space.name!r}:\n"
            f"# {best_trial.evaluated.canonical().describe()}\n"
            f"# dev accuracy {best_trial.accuracy:.4f} on {best_trial.examples} examples"
            + (
                f"; test accuracy {test_record['accuracy']:.4f} on {test_record['examples']}"
                if test_record["accuracy"] is not None
                else ""
            )
            + f"\n# reproduce: {reproduce}\n"
        )
        (path / "best.yaml").write_text(header + dump(spec), encoding="utf-8")
        m = best_trial.measured
        best = BestGraph(
            graph=str(path / "best.yaml"),
            key=best_trial.key or "",
            description=best_trial.evaluated.canonical().describe(),
            dev_accuracy=best_trial.accuracy or 0.0,
            dev_examples=best_trial.examples,
            test_accuracy=test_record["accuracy"],
            test_examples=int(test_record["examples"]),
            mean_cost_usd=m.usd,
            mean_latency_s=m.latency_s,
            mean_flops=m.flops,
            mean_tokens=m.tokens,
            reproduce=reproduce,
        )
    title = f"{space.name} · {settings.optimizer} · seed {settings.seed}"
    plot_best_so_far(path / "best_so_far.png", curve, title)
    plot_front(path / "pareto.png", points, front, axis, space.budget.limits().get(axis), title)
    result = SearchResult(
        space=space.name,
        task=space.task.name,
        optimizer=settings.optimizer,
        update=getattr(optimizer, "update_kind", settings.optimizer),
        seed=settings.seed,
        evaluations=len(evaluated),
        new_evaluations=new_evaluations,
        trials=len(trials),
        rejected=sum(t.status == "rejected" for t in trials),
        repaired=sum(t.repaired for t in trials),
        over_budget=sum(t.status == "over_budget" for t in unique),
        budget=space.budget.limits(),
        cheapest={"graph": cheapest.canonical().describe(), **cheapest_cost.model_dump()},
        best=best,
        pareto_axis=axis,
        pareto=front,
        best_so_far=curve,
        run_dir=str(path),
        resumed=run.resumed,
    )
    run.run_dir.write_summary(result.model_dump(mode="json"))
    log.write({"event": "search_finish", "evaluations": len(evaluated), "new_evaluations": new_evaluations})
    return result


def _write_trials_csv(path: Path, trials: Sequence[Trial]) -> None:
    fields = [
        "number",
        "status",
        "key",
        "accuracy",
        "flops",
        "usd",
        "tokens",
        "latency_s",
        "est_flops",
        "est_usd",
        "est_latency_s",
        "repaired",
        "reason",
        "design",
    ]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(fields)
        for t in trials:
            m, e = t.measured, t.estimate
            writer.writerow(
                [
                    t.number,
                    t.status,
                    t.key or "",
                    "" if t.accuracy is None else t.accuracy,
                    *(["", "", "", ""] if m is None else [m.flops, m.usd, m.tokens, m.latency_s]),
                    *(["", "", ""] if e is None else [e.flops, e.usd, e.latency_s]),
                    t.repaired,
                    t.reason,
                    (t.evaluated or t.design).describe(),
                ]
            )
