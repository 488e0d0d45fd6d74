"""Compile a validated ``GraphSpec`` into a LangGraph ``StateGraph`` that runs it on one example.

Each control node becomes a LangGraph node. It runs its kind (``collabgraph.agents``, via ``dispatch``) on inputs
resolved from the state (``collabgraph.graphs.state``), then control goes on: a plain node fires every out-edge
(plain LangGraph edges, a parallel fan-out when there are several); a router takes the first conditional edge whose
condition holds and whose loop budget is not spent, else its fallback; a spawn sends (``Send``) to each child. A
router or spawn writes its decision to ``routes`` and its conditional edge follows it, so the loop round counters
are updated by the node that takes the loop edge. After a failure, every node that still runs ends the graph.

Nodes that wait for every incoming branch (aggregators, ``join: all``) are deferred (LangGraph ``defer=True``).
LangGraph releases all deferred nodes at once when nothing else is runnable, and ``Send`` tasks do not hold that
release back; so a waiting node also checks ``pending`` (triggers each node has received and not yet consumed)
and, while a node upstream of it is still pending, re-arms itself instead of running.

The k-th model call of a node run is numbered by (node, round, branch, k) (``call_seed``): a re-run asks the
gateway exactly the same calls, so a resumed run, or its cache, pays for nothing twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from collabgraph.agents.types import NodeContext, NodeOutput
from collabgraph.errors import ConfigError, ModelCallError
from collabgraph.graphs.analysis import ControlFlow, analyze, recursion_limit
from collabgraph.graphs.conditions import (
    AllOf,
    AnswersAgree,
    AnyOf,
    Condition,
    NotCondition,
    Passed,
    RoundBelow,
    VerdictIs,
)
from collabgraph.graphs.dispatch import NodeInputs, run_kind, unrunnable
from collabgraph.graphs.ids import END, ref_ids
from collabgraph.graphs.nodes import Node, SpawnNode, SubgraphRef
from collabgraph.graphs.spec import GraphSpec
from collabgraph.graphs.state import (
    STATE_TYPES,
    ChildInput,
    GraphState,
    RunError,
    RunRecord,
    run_latency,
    state_runs,
)
from collabgraph.graphs.validate import check
from collabgraph.models.pool import ModelPool
from collabgraph.models.types import Completion, OfflineMeta, Usage
from collabgraph.tasks.types import Example, Message, Task

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig
    from langgraph.runtime import Runtime
    from langgraph.types import Send

__all__ = ["CompiledGraph", "ModelGateway", "RunContext", "call_seed", "compile_graph", "graph_hash"]

NodeFn = Callable[..., Awaitable[dict[str, Any]]]


class ModelGateway(Protocol):
    """What a run needs of ``collabgraph.models.Gateway``."""

    async def complete(
        self,
        model: str,
        messages: Sequence[Message],
        *,
        n: int = 1,
        temperature: float = 0.0,
        max_tokens: int | None = None,
        seed: int = 0,
        first_sample: int = 0,
        meta: OfflineMeta | None = None,
    ) -> list[Completion]: ...


@dataclass(frozen=True)
class RunContext:
    """What a run on one example needs besides the graph (the LangGraph run context). ``scope`` prefixes node
    ids in call numbering inside a spawn's inline subgraph; ``subtask`` is that child's planned subtask."""

    task: Task
    example: Example
    gateway: ModelGateway
    seed: int = 0
    sandbox: Any = None
    scope: str = ""
    subtask: str | None = None


def call_seed(seed: int, scope: str, node_id: str, round: int, branch: int | None, k: int) -> int:
    """The gateway seed of the ``k``-th call of a node run: the same on every re-run (so the call cache hits) and
    distinct per node, round, branch and call (so two nodes asking one model the same prompt draw fresh samples,
    as they would from a real provider)."""
    text = f"{seed}:{scope}{node_id}:{round}:{'' if branch is None else branch}:{k}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") & 0x7FFFFFFF


class _Caller:
    """The ``CallFn`` of one node run: numbers its calls, keeps the ledger of what they cost and remembers a model
    that failed for good (the kind turns that into its output's error; the runtime fails the example)."""

    def __init__(self, rc: RunContext, node_id: str, round: int, branch: int | None) -> None:
        self._rc = rc
        self._where = (node_id, round, branch)
        self.calls = 0
        self.usage = Usage()
        self.failure: ModelCallError | None = None

    async def __call__(
        self,
        model: str,
        messages: Sequence[Message],
        *,
        meta: OfflineMeta,
        n: int = 1,
        temperature: float = 0.0,
        max_tokens: int | None = None,
    ) -> list[Completion]:
        node_id, round, branch = self._where
        k = self.calls
        self.calls += 1  # numbered before awaiting: concurrent calls of one node keep their start order
        seed = call_seed(self._rc.seed, self._rc.scope, node_id, round, branch, k)
        try:
            completions = await self._rc.gateway.complete(
                model, messages, n=n, temperature=temperature, max_tokens=max_tokens, seed=seed, meta=meta
            )
        except ModelCallError as exc:
            self.failure = self.failure or exc
            raise
        self.usage = sum((c.usage for c in completions), self.usage)
        return completions


def graph_hash(spec: GraphSpec) -> str:
    """sha256 of the spec's canonical JSON (sorted keys, defaults included): equal specs hash equal."""
    data = spec.model_dump(mode="json", by_alias=True)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class CompiledGraph:
    """A spec compiled to LangGraph, ready to run on any example (``collabgraph.graphs.runtime.run_example``)."""

    spec: GraphSpec
    flow: ControlFlow = field(repr=False)
    builder: Any = field(repr=False)
    """The ``langgraph.graph.StateGraph``."""
    graph: Any = field(repr=False)
    """The compiled graph, without a checkpointer."""
    hash: str
    recursion_limit: int
    max_concurrency: int
    _saved: dict[int, tuple[Any, Any]] = field(default_factory=dict, repr=False)

    def config(self, thread_id: str | None = None) -> dict[str, Any]:
        """The invoke config: ``recursion_limit`` and ``max_concurrency`` always set, and the thread if any."""
        config: dict[str, Any] = {"recursion_limit": self.recursion_limit, "max_concurrency": self.max_concurrency}
        if thread_id is not None:
            config["configurable"] = {"thread_id": thread_id}
        return config

    def with_checkpointer(self, checkpointer: Any) -> Any:
        """The graph compiled with ``checkpointer`` (once per checkpointer), its deserialization allow-list
        extended to the state's classes; the plain graph for None."""
        if checkpointer is None:
            return self.graph
        if id(checkpointer) not in self._saved:
            saver = checkpointer.with_allowlist([(cls.__module__, cls.__name__) for cls in STATE_TYPES])
            self._saved[id(checkpointer)] = (
                checkpointer,
                self.builder.compile(checkpointer=saver, name=self.spec.name),
            )
        return self._saved[id(checkpointer)][1]


def compile_graph(spec: GraphSpec, pool: ModelPool | None = None) -> CompiledGraph:
    """Compile ``spec``, checked first against ``pool`` (default: the built-in pool). Raises ``ConfigError`` for
    an invalid graph, or one with a node this version cannot run (an unresolvable custom kind), each error at its
    location."""
    source = f"graph {spec.name!r}"
    check(spec, pool, source)
    errors = unrunnable(spec.nodes)
    for i, node in enumerate(spec.nodes):
        if isinstance(node, SpawnNode) and isinstance(node.child, SubgraphRef):
            errors += unrunnable(node.child.graph.nodes, ("nodes", i, "child", "graph"))
    if errors:
        raise ConfigError(source, errors)
    return _Compiler(spec, {}).compile()


def _latest(runs: Sequence[RunRecord]) -> RunRecord | None:
    return runs[-1] if runs else None


class _Compiler:
    def __init__(self, spec: GraphSpec, aliases: Mapping[str, str]) -> None:
        self.spec = spec
        self.aliases = {**aliases, **spec.models}
        self.flow = analyze(spec)
        self.child_keys: dict[str, str] = {}
        self.children: dict[str, CompiledGraph] = {}
        for node in spec.nodes:
            if isinstance(node, SpawnNode):
                self.child_keys[node.id] = node.child if isinstance(node.child, str) else f"{node.id}.child"
                if isinstance(node.child, SubgraphRef):
                    self.children[node.id] = _Compiler(node.child.graph, self.aliases).compile()
        self.control_ids = [n.id for n in spec.nodes if n.id not in self.flow.templates]
        self.out_edges = {n: self.flow.out_edges(n) for n in self.control_ids}
        self.routers = {n for n in self.control_ids if self.flow.is_router(n)}
        self.upstream = self._upstream()

    def _upstream(self) -> dict[str, frozenset[str]]:
        """Per waiting node, the keys it must not run before: its forward ancestors and their spawns' children."""
        import networkx as nx

        out: dict[str, frozenset[str]] = {}
        for node_id in self.control_ids:
            if self.flow.waits(node_id):
                ancestors = set(nx.ancestors(self.flow.dag, node_id)) - {END}
                ancestors |= {self.child_keys[a] for a in ancestors if a in self.child_keys}
                out[node_id] = frozenset(ancestors)
        return out

    def model_of(self, node: Node) -> str | None:
        name = node.model_name
        return self.aliases.get(name, name) if name is not None else None

    def next_of(self, node_id: str) -> tuple[str, ...]:
        return tuple(self.spec.edges[k].to for k in self.out_edges[node_id])

    def routes_itself(self, node_id: str) -> bool:
        """Whether the node decides at run time where control goes (router, spawn, waiting node); the others
        always fire every out-edge and are wired with plain LangGraph edges."""
        return node_id in self.routers or node_id in self.child_keys or node_id in self.upstream

    # -- wiring --------------------------------------------------------------------------------------------------

    def compile(self) -> CompiledGraph:
        from langgraph.graph import END as LANGGRAPH_END
        from langgraph.graph import START, StateGraph

        builder: Any = StateGraph(GraphState, context_schema=RunContext)
        for node_id in self.control_ids:
            node = self.spec.node(node_id)
            waits = self.flow.waits(node_id)
            builder.add_node(node_id, self._node_fn(node), defer=waits, input_schema=GraphState)
            if not self.routes_itself(node_id):
                for target in self.next_of(node_id):
                    builder.add_edge(node_id, LANGGRAPH_END if target == END else target)
                continue
            targets = {*self.next_of(node_id), END, *([node_id] if waits else [])}
            if node_id in self.child_keys:
                targets.add(self.child_keys[node_id])
            path_map = {t: (LANGGRAPH_END if t == END else t) for t in sorted(targets)}
            builder.add_conditional_edges(node_id, self._path_fn(node), path_map)
        for spawn_id, key in self.child_keys.items():
            spawn = self.spec.node(spawn_id)
            assert isinstance(spawn, SpawnNode)
            builder.add_node(key, self._child_fn(spawn), input_schema=ChildInput)
            for target in self.next_of(spawn_id):
                builder.add_edge(key, target)
        for entry in self.spec.entries:  # several entries start together, in the first super-step
            builder.add_edge(START, entry)
        return CompiledGraph(
            spec=self.spec,
            flow=self.flow,
            builder=builder,
            graph=builder.compile(name=self.spec.name),
            hash=graph_hash(self.spec),
            recursion_limit=recursion_limit(self.spec),
            max_concurrency=self.spec.limits.max_concurrency,
        )

    def _path_fn(self, node: Node) -> Callable[[GraphState], Awaitable[list[Any]]]:
        node_id = node.id

        # Async, because LangGraph runs a sync path function in a thread pool: a thread hop per node run.
        async def route(state: GraphState) -> list[Any]:
            targets = list(state.get("routes", {}).get(node_id, (END,)))
            if isinstance(node, SpawnNode) and self.child_keys[node_id] in targets:
                return self._sends(node, state)
            return targets

        return route

    def _sends(self, spawn: SpawnNode, state: GraphState) -> list[Send]:
        from langgraph.types import Send

        outputs = state.get("outputs", {})
        run = _latest(outputs.get(spawn.id, []))
        assert run is not None
        reads: dict[str, list[RunRecord]] = {spawn.id: [run]}
        if isinstance(spawn.child, str):
            for _, ids in self.spec.node(spawn.child).inputs():
                reads.update({i: outputs[i] for i in ids if i in outputs and i != spawn.id})
        key = self.child_keys[spawn.id]
        return [
            Send(key, ChildInput(spawn=spawn.id, round=run.round, branch=i, subtask=sub, outputs=reads))
            for i, sub in enumerate(_subtasks(spawn, run.output))
        ]

    # -- node functions ------------------------------------------------------------------------------------------

    def _node_fn(self, node: Node) -> NodeFn:
        node_id = node.id
        upstream = self.upstream.get(node_id)
        routed = self.routes_itself(node_id)

        async def run(state: GraphState, config: RunnableConfig, runtime: Runtime[RunContext]) -> dict[str, Any]:
            if state.get("error") is not None:  # the example failed: end here (plain edges lead to nodes that do)
                return {"routes": {node_id: (END,)}} if routed else {}
            pending = state.get("pending", {})
            if upstream is not None and any(pending.get(k, 0) > 0 for k in upstream):
                return {"routes": {node_id: (node_id,)}}  # an upstream branch is still running: wait for it
            rc = runtime.context
            outputs = state.get("outputs", {})
            step = int(config["metadata"]["langgraph_step"])
            round = len(outputs.get(node_id, [])) + 1
            output, failed = await self._execute(node, rc, round, None, self._inputs(node, outputs), rc.subtask)
            run = RunRecord(key=node_id, round=round, step=step, output=output)
            update: dict[str, Any] = {}
            if failed:
                targets: tuple[str, ...] = (END,)
                update["error"] = RunError(step=step, node_id=run.name, message=output.error or "failed")
            elif isinstance(node, SpawnNode):
                width = len(_subtasks(node, output))
                targets = (self.child_keys[node_id],) * width if width else self.next_of(node_id)
            else:
                targets, loop_edge = self._decide(
                    node, {**outputs, node_id: [*outputs.get(node_id, []), run]}, state, rc
                )
                if loop_edge is not None:
                    update["rounds"] = {str(loop_edge): 1}
            delta = {node_id: -pending.get(node_id, 0)}
            for t in targets:
                if t != END:
                    delta[t] = delta.get(t, 0) + 1
            run = run.model_copy(update={"next": targets})
            update.update(outputs={node_id: [run]}, pending=delta)
            if routed:
                update["routes"] = {node_id: targets}
            if END in targets and not failed:
                update["final"] = run
            return update

        return run

    def _child_fn(self, spawn: SpawnNode) -> NodeFn:
        key = self.child_keys[spawn.id]
        targets = self.next_of(spawn.id)

        async def run(payload: ChildInput, config: RunnableConfig, runtime: Runtime[RunContext]) -> dict[str, Any]:
            rc = runtime.context
            step = int(config["metadata"]["langgraph_step"])
            round, branch, subtask = payload["round"], payload["branch"], payload["subtask"]
            if isinstance(spawn.child, str):
                template = self.spec.node(spawn.child)
                inputs = self._inputs(template, payload["outputs"])
                output, failed = await self._execute(template, rc, round, branch, inputs, subtask)
            else:
                output, failed = await self._run_subgraph(spawn, rc, round, branch, subtask)
            run = RunRecord(key=key, round=round, branch=branch, step=step, output=output, next=targets)
            update: dict[str, Any] = {"outputs": {key: [run]}, "pending": {key: -1, **dict.fromkeys(targets, 1)}}
            if failed:
                update["error"] = RunError(step=step, node_id=run.name, message=output.error or "failed")
            return update

        return run

    async def _execute(
        self, node: Node, rc: RunContext, round: int, branch: int | None, inputs: NodeInputs, subtask: str | None
    ) -> tuple[NodeOutput, bool]:
        """Run the node's kind: (its output, whether the example fails). A model that failed for good, or an
        exception from a kind, fails the example; a failure the kind records itself and that involves no failed
        model (an output still malformed after its retry) only marks this node's output."""
        caller = _Caller(rc, node.id, round, branch)
        ctx = NodeContext(
            node_id=node.id,
            task=rc.task,
            example=rc.example,
            call=caller,
            seed=rc.seed,
            round=round,
            model=self.model_of(node),
            subtask=subtask,
            sandbox=rc.sandbox,
        )
        try:
            output = await run_kind(node, ctx, inputs)
        except Exception as exc:
            message = f"{node.id}: {type(exc).__name__}: {exc}"
            failed = NodeOutput(node_id=node.id, kind=node.kind, round=round, error=message)
            return failed.model_copy(update={"usage": caller.usage, "calls": caller.calls}), True
        # What was paid is the ledger of calls made through ctx.call; the node's latency is the kind's to say.
        usage = caller.usage.model_copy(update={"latency_s": output.latency_s})
        output = output.model_copy(update={"node_id": node.id, "round": round, "usage": usage, "calls": caller.calls})
        if caller.failure is not None:
            return output.model_copy(update={"error": output.error or str(caller.failure)}), True
        return output, False

    async def _run_subgraph(
        self, spawn: SpawnNode, rc: RunContext, round: int, branch: int, subtask: str | None
    ) -> tuple[NodeOutput, bool]:
        """Run the inline child graph as one node: the parent sees its final output, carrying the usage, calls and
        trace of every node inside and the child's critical-path latency. A failure inside fails the example."""
        child = self.children[spawn.id]
        key = self.child_keys[spawn.id]
        scope = f"{rc.scope}{spawn.id}#{round}.{branch}/"
        context = RunContext(rc.task, rc.example, rc.gateway, rc.seed, rc.sandbox, scope, subtask)
        try:
            state = await child.graph.ainvoke({}, child.config(), context=context)
        except Exception as exc:  # the child's own recursion limit, say
            message = f"{key}: {type(exc).__name__}: {exc}"
            return NodeOutput(node_id=key, kind="subgraph", round=round, error=message), True
        runs = state_runs(state)
        final, error = state.get("final"), state.get("error")
        base = final.output if final is not None else NodeOutput(node_id=key, kind="subgraph")
        latency = run_latency(state)
        output = base.model_copy(
            update={
                "node_id": key,
                "round": round,
                "usage": sum((r.output.usage for r in runs), Usage()).model_copy(update={"latency_s": latency}),
                "calls": sum(r.output.calls for r in runs),
                "latency_s": latency,
                "trace": [t for r in runs for t in r.output.trace],
                "error": error.message if error is not None else base.error,
            }
        )
        return output, error is not None

    # -- inputs and routing --------------------------------------------------------------------------------------

    def _outputs_of(self, node_id: str, outputs: Mapping[str, list[RunRecord]]) -> list[NodeOutput]:
        """The latest output of a node; for a spawn, the outputs of its latest round of children, by branch."""
        run = _latest(outputs.get(node_id, []))
        if run is None:
            return []
        key = self.child_keys.get(node_id)
        if key is None:
            return [run.output]
        return [c.output for c in outputs.get(key, []) if c.round == run.round]

    def _inputs(self, node: Node, outputs: Mapping[str, list[RunRecord]]) -> NodeInputs:
        reads = {r: self._outputs_of(r, outputs) for r in node.reads}
        history = {
            r: [run.output for run in outputs.get(r, [])] if r not in self.child_keys else reads[r] for r in node.reads
        }
        roles: dict[str, NodeOutput | None] = {}
        for name, ref in node.role_refs().items():
            # The most recent among the ids: the latest step; on a tie, the first listed.
            latest = [
                (run.step, -i, run.output) for i, r in enumerate(ref_ids(ref)) if (run := _latest(outputs.get(r, [])))
            ]
            roles[name] = max(latest, key=lambda t: t[:2])[2] if latest else None
        return NodeInputs(reads=reads, history=history, roles=roles)

    def _decide(
        self, node: Node, outputs: Mapping[str, list[RunRecord]], state: GraphState, rc: RunContext
    ) -> tuple[tuple[str, ...], int | None]:
        """Where control goes after ``node`` (``outputs`` include its new run): (targets, loop edge taken)."""
        edges = self.out_edges[node.id]
        if node.id not in self.routers:
            return self.next_of(node.id), None
        rounds = state.get("rounds", {})
        fallback = next(k for k in edges if self.spec.edges[k].when is None)  # validation: exactly one
        for k in edges:
            edge = self.spec.edges[k]
            if edge.when is None:
                continue
            budget = self.flow.round_budget(k)
            if budget is not None and rounds.get(str(k), 0) >= budget:
                continue
            if self._holds(edge.when, node.id, outputs, rc):
                return (edge.to,), (k if budget is not None else None)
        return (self.spec.edges[fallback].to,), None

    def _holds(self, cond: Condition, source: str, outputs: Mapping[str, list[RunRecord]], rc: RunContext) -> bool:
        if isinstance(cond, AllOf):
            return all(self._holds(c, source, outputs, rc) for c in cond.all_)
        if isinstance(cond, AnyOf):
            return any(self._holds(c, source, outputs, rc) for c in cond.any_)
        if isinstance(cond, NotCondition):
            return not self._holds(cond.not_, source, outputs, rc)
        if isinstance(cond, RoundBelow):
            return len(outputs.get(cond.of or source, [])) < cond.round_lt
        if isinstance(cond, VerdictIs):
            latest = self._outputs_of(cond.of, outputs)
            return bool(latest) and latest[-1].verdict == cond.verdict
        if isinstance(cond, Passed):
            latest = self._outputs_of(cond.of, outputs)
            return bool(latest) and latest[-1].passed is cond.passed
        assert isinstance(cond, AnswersAgree)
        return _agree([self._outputs_of(r, outputs) for r in cond.of], rc) is cond.agree


def _agree(outputs: Sequence[Sequence[NodeOutput]], rc: RunContext) -> bool:
    """Whether every answer of these outputs (every sample) was found and all are the same (``task.same``)."""
    answers = [a for outs in outputs for o in outs for a in (o.answers or [o.answer])]
    if not answers or any(a is None for a in answers):
        return False
    first = answers[0]
    assert first is not None
    return all(a is not None and rc.task.same(first, a, rc.example) for a in answers[1:])


def _subtasks(spawn: SpawnNode, output: NodeOutput) -> list[str | None]:
    """One entry per child to spawn: the planned subtasks (at most ``width``), or ``width`` replicas; none when
    the spawn failed (planning found no subtasks)."""
    if output.error is not None:
        return []
    if spawn.mode == "planned":
        return list(output.subtasks[: spawn.width])
    return [None] * spawn.width
