"""Run a compiled graph: on one example (``run_example``), or on many with bounded concurrency (``run_graph``).

With a checkpointer (``open_checkpointer``: LangGraph's ``AsyncSqliteSaver`` on a file) each example is a thread
``<graph hash>:<example id>:<seed>``, saved after every super-step before the next one starts: a run that stopped
(Ctrl-C, a crash) at any point resumes at the super-step where it stopped, without re-running the node runs that had
finished (so without asking any model call twice); an example already finished is read back without running
anything; one that failed runs again (the gateway's call cache serves the calls it had paid for).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from collabgraph.agents.types import NodeOutput
from collabgraph.graphs.compile import CompiledGraph, ModelGateway, RunContext, compile_graph
from collabgraph.graphs.result import GraphExampleResult, node_totals
from collabgraph.graphs.spec import GraphSpec
from collabgraph.graphs.state import STATE_TYPES, run_latency, state_runs
from collabgraph.models.pool import ModelPool
from collabgraph.models.types import Usage
from collabgraph.tasks.extract import format_answer
from collabgraph.tasks.types import Example, Task

__all__ = ["open_checkpointer", "run_example", "run_graph", "thread_id"]


def thread_id(graph_hash: str, example_id: str, seed: int) -> str:
    """The checkpoint thread of one example: ``<graph hash>:<example id>:<seed>``."""
    return f"{graph_hash}:{example_id}:{seed}"


@asynccontextmanager
async def open_checkpointer(path: str | Path) -> AsyncIterator[Any]:
    """A LangGraph ``AsyncSqliteSaver`` on the SQLite file ``path`` (created with its folder when missing),
    deserializing only the classes a run's state holds."""
    import aiosqlite
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    serde = JsonPlusSerializer(allowed_msgpack_modules=[(cls.__module__, cls.__name__) for cls in STATE_TYPES])
    async with aiosqlite.connect(str(file)) as conn:
        saver = AsyncSqliteSaver(conn, serde=serde)
        await saver.setup()
        yield saver


async def run_example(
    compiled: CompiledGraph,
    *,
    task: Task,
    example: Example,
    gateway: ModelGateway,
    seed: int = 0,
    sandbox: Any = None,
    checkpointer: Any = None,
) -> GraphExampleResult:
    """Run ``compiled`` on ``example`` and score its final answer. Never raises for what happened inside the graph:
    a model that failed for good, a node that raised, the recursion limit — each fails this example with the error
    in its result (``error``), keeping the usage and trace of what ran."""
    rc = RunContext(task=task, example=example, gateway=gateway, seed=seed, sandbox=sandbox)
    graph = compiled.with_checkpointer(checkpointer)
    thread = thread_id(compiled.hash, example.id, seed)
    config = compiled.config(thread if checkpointer is not None else None)
    state: Mapping[str, Any] = {}
    failure: str | None = None
    try:
        start: dict[str, Any] | None = {}
        if checkpointer is not None:
            snapshot = await graph.aget_state(config)
            values = snapshot.values or {}
            if values.get("error") is not None:
                await checkpointer.adelete_thread(thread)  # it failed: run it again (the call cache has its calls)
            elif values.get("final") is not None and not snapshot.next:
                return await _result(compiled, values, task, example, seed, None)
            elif snapshot.metadata is not None:
                # It stopped mid-run. ``snapshot.next`` may be empty even so (the last checkpoint's tasks had all
                # written, the next step's checkpoint was not saved): resuming applies those writes and goes on.
                start = None
                done = int(snapshot.metadata.get("step", -1)) + 2
                config["recursion_limit"] = max(1, compiled.recursion_limit - done)
        # With a checkpointer, each super-step is saved before the next starts: a stop loses no finished step.
        durability = "sync" if checkpointer is not None else None
        async for values in graph.astream(start, config, context=rc, stream_mode="values", durability=durability):
            state = values
    except Exception as exc:  # the recursion limit, or a bug outside any node: this example fails, the run goes on
        failure = _failure(exc, compiled)
    return await _result(compiled, state, task, example, seed, failure)


def _failure(exc: Exception, compiled: CompiledGraph) -> str:
    from langgraph.errors import GraphRecursionError

    if isinstance(exc, GraphRecursionError):
        # Worded here, not by LangGraph: a resumed run is given only what is left of the limit.
        return (
            f"recursion limit of {compiled.recursion_limit} super-steps reached before the graph ended "
            "(raise limits.recursion_limit, or lower the loops' max_rounds)"
        )
    return f"{type(exc).__name__}: {exc}"


async def _result(
    compiled: CompiledGraph,
    state: Mapping[str, Any],
    task: Task,
    example: Example,
    seed: int,
    failure: str | None,
) -> GraphExampleResult:
    trace = [run.output for run in state_runs(state)]
    final, error = state.get("final"), state.get("error")
    message = failure or (error.message if error is not None else None)
    answer = correct = None
    detail = ""
    if final is not None and message is None:
        text = _final_text(final.output, task)
        if text is not None:
            try:
                score = await task.score(text, example)
            except Exception as exc:  # scoring runs code for code tasks; a failure there is this example's
                message = f"scoring failed: {type(exc).__name__}: {exc}"
            else:
                answer, correct, detail = score.extracted, score.correct, score.detail
        else:
            detail = "the final node gave no answer"
    return GraphExampleResult(
        example_id=example.id,
        seed=seed,
        answer=answer,
        correct=bool(correct) and message is None,
        final_node=final.key if final is not None else None,
        score_detail=detail,
        usage=sum((o.usage for o in trace), Usage()),
        calls=sum(o.calls for o in trace),
        latency_s=run_latency(state),
        nodes=node_totals(trace, compiled.spec.node_ids),
        trace=trace,
        error=message,
    )


def _final_text(output: NodeOutput, task: Task) -> str | None:
    """The text scored: the node's answer in the task's answer format, else its first sample's text."""
    if output.answer is not None:
        return format_answer(task.answer_format, output.answer)
    return output.texts[0] if output.texts else None


async def run_graph(
    spec: GraphSpec,
    *,
    task: Task,
    examples: Sequence[Example],
    gateway: ModelGateway,
    pool: ModelPool | None = None,
    seed: int = 0,
    concurrency: int = 8,
    sandbox: Any = None,
    checkpoint_path: str | Path | None = None,
    on_result: Callable[[GraphExampleResult], None] | None = None,
) -> list[GraphExampleResult]:
    """Compile ``spec`` (checked against ``pool``) and run it on ``examples``, at most ``concurrency`` at once.
    Results come back in example order; ``on_result`` is called with each as it finishes. With
    ``checkpoint_path``, every example is checkpointed there and a re-run resumes (see ``run_example``)."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    compiled = compile_graph(spec, pool)
    limit = asyncio.Semaphore(concurrency)

    async def run(example: Example, checkpointer: Any) -> GraphExampleResult:
        async with limit:
            result = await run_example(
                compiled,
                task=task,
                example=example,
                gateway=gateway,
                seed=seed,
                sandbox=sandbox,
                checkpointer=checkpointer,
            )
        if on_result is not None:
            on_result(result)
        return result

    if checkpoint_path is None:
        return list(await asyncio.gather(*(run(ex, None) for ex in examples)))
    async with open_checkpointer(checkpoint_path) as saver:
        return list(await asyncio.gather(*(run(ex, saver) for ex in examples)))
