"""Run a graph on a task into a run directory, resuming what an earlier run of the same command left.

``prepare_run`` works out which run this is (graph hash, task, split, limit, seed and the model entries used),
finds or creates its directory (``runs/<graph>-<task>-<key>`` by default), writes the manifest, and reads back the
examples already finished. ``execute_run`` runs the rest, at most ``concurrency`` at once, appending each result
to ``results.jsonl`` and every model call and example start / finish to ``events.jsonl`` as they happen, then
writes ``summary.json``. ``run_graph_to_dir`` does both.

Resuming pays for nothing twice: finished examples are not run again; an example cut short is re-run from its
start, and the gateway's call cache serves every call it had already paid for (the runtime numbers each call of
each node run, so the re-run asks exactly the same calls).
"""

from __future__ import annotations

import asyncio
import os
import platform
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

import collabgraph
from collabgraph.graphs import GraphSpec, to_data
from collabgraph.graphs.compile import CompiledGraph, compile_graph, graph_hash
from collabgraph.graphs.result import GraphExampleResult
from collabgraph.graphs.runtime import run_example
from collabgraph.models.cache import CallCache
from collabgraph.models.gateway import CallRecord, ChatMessage, Gateway
from collabgraph.models.pool import ModelPool, default_pool
from collabgraph.models.types import Completion, OfflineMeta
from collabgraph.runs.aliases import used_models
from collabgraph.runs.report import GraphRunSummary, summarize_graph_run
from collabgraph.runs.rundir import RunDir, RunDirError, public_model_entry, run_key, slug
from collabgraph.tasks.types import Example, Split, Task

__all__ = [
    "MANIFEST_SCHEMA",
    "GraphRun",
    "PreparedRun",
    "build_manifest",
    "default_run_dir",
    "execute_run",
    "prepare_run",
    "run_graph_to_dir",
    "run_identity",
]

MANIFEST_SCHEMA = "collabgraph.run/v1"
DEFAULT_ROOT = Path("runs")
_PACKAGES = ("litellm", "langgraph", "pydantic")

_CALL_META: ContextVar[OfflineMeta | None] = ContextVar("collabgraph_call_meta", default=None)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def run_identity(
    spec: GraphSpec, task: str, split: str, limit: int | None, seed: int, pool: ModelPool
) -> dict[str, Any]:
    """What makes two runs the same run: the graph (by hash, so ``--set`` overrides count), the task, split,
    limit and seed, and the pool entries of the models it calls (a changed endpoint or price is another run)."""
    return {
        "graph_hash": graph_hash(spec),
        "task": task,
        "split": split,
        "limit": limit,
        "seed": seed,
        "models": {name: public_model_entry(entry) for name, entry in used_models(spec, pool).items()},
    }


def default_run_dir(spec: GraphSpec, task: str, key: str, root: Path = DEFAULT_ROOT) -> Path:
    """``<root>/<graph name>-<task>-<run key>``: the same command always finds the same directory."""
    return root / f"{slug(spec.name)}-{slug(task)}-{key}"


def _versions() -> dict[str, str]:
    out = {"collabgraph": collabgraph.__version__, "python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def build_manifest(
    spec: GraphSpec,
    identity: Mapping[str, Any],
    *,
    key: str,
    n_examples: int,
    command: Sequence[str],
) -> dict[str, Any]:
    """The manifest of a run: versions, platform, seed, task, split, limit, the graph (name, hash and the spec
    itself), the pool entries used (``api_key_env`` names only, never a key), the command line and start time."""
    return {
        "schema": MANIFEST_SCHEMA,
        "run_key": key,
        "versions": _versions(),
        "platform": platform.platform(),
        "started_at": _now(),
        "command": list(command),
        "seed": identity["seed"],
        "task": identity["task"],
        "split": identity["split"],
        "limit": identity["limit"],
        "n_examples": n_examples,
        "graph": {"name": spec.name, "hash": identity["graph_hash"], "spec": to_data(spec)},
        "models": identity["models"],
    }


@dataclass
class PreparedRun:
    """A run whose directory and manifest exist, with what is already done and what is left."""

    spec: GraphSpec
    task: Task
    split: Split
    limit: int | None
    seed: int
    pool: ModelPool
    examples: list[Example]
    run_dir: RunDir
    key: str
    graph_hash: str
    resumed: bool
    compiled: CompiledGraph
    done: dict[str, GraphExampleResult] = field(default_factory=dict)

    @property
    def pending(self) -> list[Example]:
        """Examples without a recorded result, in example order."""
        return [ex for ex in self.examples if ex.id not in self.done]


@dataclass(frozen=True)
class GraphRun:
    """A finished run: its summary and every result, in example order."""

    summary: GraphRunSummary
    results: list[GraphExampleResult]
    run_dir: Path


def _load_done(run_dir: RunDir, examples: Sequence[Example]) -> dict[str, GraphExampleResult]:
    wanted = {ex.id for ex in examples}
    done: dict[str, GraphExampleResult] = {}
    for example_id, record in run_dir.completed().items():
        if example_id not in wanted:
            continue
        try:
            done[example_id] = GraphExampleResult.model_validate(record)
        except ValidationError as exc:
            raise RunDirError(
                f"{run_dir.results_path}: the result of {example_id!r} does not read back "
                f"({exc.error_count()} error(s), first: {exc.errors()[0]['msg']}); it was written by another "
                "version of collabgraph: delete the run directory or choose another --out"
            ) from None
    return done


def prepare_run(
    spec: GraphSpec,
    task: Task,
    *,
    split: Split = "test",
    limit: int | None = None,
    seed: int = 0,
    pool: ModelPool | None = None,
    out: Path | None = None,
    root: Path = DEFAULT_ROOT,
    command: Sequence[str] | None = None,
) -> PreparedRun:
    """Compile the graph, then find or create the run directory of this run (``out``, else under ``root``) and read
    what is done. Raises ``ConfigError`` for a graph that cannot run (before anything is written) and
    ``RunDirError`` when ``out`` holds a different run."""
    pool = pool if pool is not None else default_pool()
    compiled = compile_graph(spec, pool)
    examples = task.examples(split, limit, seed)
    identity = run_identity(spec, task.name, split, limit, seed, pool)
    key = run_key(identity)
    path = out if out is not None else default_run_dir(spec, task.name, key, root)
    run_dir = RunDir(path)
    manifest = build_manifest(spec, identity, key=key, n_examples=len(examples), command=command or _argv())
    resumed = run_dir.start(manifest)
    done = _load_done(run_dir, examples) if resumed else {}
    return PreparedRun(
        spec=spec,
        task=task,
        split=split,
        limit=limit,
        seed=seed,
        pool=pool,
        examples=examples,
        run_dir=run_dir,
        key=key,
        graph_hash=identity["graph_hash"],
        resumed=resumed,
        compiled=compiled,
        done=done,
    )


def _argv() -> list[str]:
    return ["collabgraph", *sys.argv[1:]] if sys.argv else []


class _RunGateway(Gateway):
    """The gateway with each call's offline metadata in a context variable while the call runs, so that its
    ``CallRecord`` (reported inside the call) is logged with the example and role it served."""

    async def complete(
        self,
        model: str,
        messages: Sequence[ChatMessage | Mapping[str, str]],
        *,
        n: int = 1,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        seed: int = 0,
        first_sample: int = 0,
        meta: OfflineMeta | None = None,
        api_base: str | None = None,
    ) -> list[Completion]:
        token = _CALL_META.set(meta)
        try:
            return await super().complete(
                model,
                messages,
                n=n,
                temperature=temperature,
                max_tokens=max_tokens,
                seed=seed,
                first_sample=first_sample,
                meta=meta,
                api_base=api_base,
            )
        finally:
            _CALL_META.reset(token)


def _call_event(record: CallRecord) -> dict[str, Any]:
    meta = _CALL_META.get()
    return {
        "event": "call",
        "t": _now(),
        "example_id": meta.example_id if meta is not None else None,
        "role": meta.role if meta is not None else None,
        **record.model_dump(mode="json"),
    }


def _finish_event(result: GraphExampleResult) -> dict[str, Any]:
    return {
        "event": "example_finish",
        "t": _now(),
        "example_id": result.example_id,
        "correct": result.correct,
        "answer": result.answer,
        "error": result.error,
        "calls": result.calls,
        "latency_s": result.latency_s,
        "usage": result.usage.model_dump(mode="json"),
    }


async def execute_run(
    prepared: PreparedRun,
    *,
    concurrency: int = 8,
    cache: CallCache | Literal["default"] | None = "default",
    data_dir: Path | None = None,
    gateway_options: Mapping[str, Any] | None = None,
    sandbox: Any = None,
    on_result: Callable[[GraphExampleResult], None] | None = None,
) -> GraphRun:
    """Run the pending examples of ``prepared`` (``concurrency`` at once) through a gateway on its pool (``cache``:
    the call cache, default the user's; ``gateway_options``: timeout and retry settings), logging as it goes, and
    write the summary. ``on_result`` is called with each new result as it finishes. An interrupted run keeps
    everything logged so far; running the same command again resumes it."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    run_dir = prepared.run_dir
    pending = prepared.pending
    fresh: dict[str, GraphExampleResult] = {}
    started = time.perf_counter()
    with run_dir.event_log() as events, run_dir.result_log() as results:
        events.write(
            {
                "event": "run_resume" if prepared.resumed else "run_start",
                "t": _now(),
                "pid": os.getpid(),
                "examples": len(prepared.examples),
                "done": len(prepared.done),
                "pending": len(pending),
            }
        )
        gateway = _RunGateway(
            prepared.pool,
            cache=cache,
            on_call=lambda record: events.write(_call_event(record)),
            data_dir=data_dir,
            **dict(gateway_options or {}),
        )
        limit = asyncio.Semaphore(concurrency)

        async def run_one(example: Example) -> None:
            async with limit:
                events.write({"event": "example_start", "t": _now(), "example_id": example.id})
                result = await run_example(
                    prepared.compiled,
                    task=prepared.task,
                    example=example,
                    gateway=gateway,
                    seed=prepared.seed,
                    sandbox=sandbox,
                )
            results.write(result.model_dump(mode="json"))
            events.write(_finish_event(result))
            fresh[example.id] = result
            if on_result is not None:
                on_result(result)

        try:
            async with gateway, asyncio.TaskGroup() as group:
                for example in pending:
                    group.create_task(run_one(example))
        except BaseException as exc:
            events.write({"event": "run_stop", "t": _now(), "reason": f"{type(exc).__name__}: {exc}"})
            raise
        everything = {**prepared.done, **fresh}
        ordered = [everything[ex.id] for ex in prepared.examples]
        summary = summarize_graph_run(
            prepared.spec,
            ordered,
            graph_hash=prepared.graph_hash,
            task=prepared.task.name,
            split=prepared.split,
            seed=prepared.seed,
            limit=prepared.limit,
            new_examples=len(fresh),
            resumed=prepared.resumed,
            run_dir=str(run_dir.path),
        )
        run_dir.write_summary(summary.to_json())
        events.write(
            {
                "event": "run_finish",
                "t": _now(),
                "n": summary.n,
                "accuracy": summary.accuracy,
                "new_examples": len(fresh),
                "errors": summary.errors,
                "wall_s": round(time.perf_counter() - started, 3),
            }
        )
    return GraphRun(summary=summary, results=ordered, run_dir=run_dir.path)


async def run_graph_to_dir(
    spec: GraphSpec,
    task: Task,
    *,
    split: Split = "test",
    limit: int | None = None,
    seed: int = 0,
    pool: ModelPool | None = None,
    out: Path | None = None,
    root: Path = DEFAULT_ROOT,
    command: Sequence[str] | None = None,
    concurrency: int = 8,
    cache: CallCache | Literal["default"] | None = "default",
    data_dir: Path | None = None,
    gateway_options: Mapping[str, Any] | None = None,
    sandbox: Any = None,
    on_result: Callable[[GraphExampleResult], None] | None = None,
) -> GraphRun:
    """``prepare_run`` then ``execute_run``: run ``spec`` on ``task`` into its run directory, resuming it."""
    prepared = prepare_run(
        spec, task, split=split, limit=limit, seed=seed, pool=pool, out=out, root=root, command=command
    )
    return await execute_run(
        prepared,
        concurrency=concurrency,
        cache=cache,
        data_dir=data_dir,
        gateway_options=gateway_options,
        sandbox=sandbox,
        on_result=on_result,
    )
