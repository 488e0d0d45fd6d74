"""Fixtures of the node-kind tests: real tasks on the shared data, the real gateway over the sim pool and the
local sandbox."""

from __future__ import annotations

import pytest

from collabgraph.agents import CallFn, NodeContext
from collabgraph.models import Gateway, default_pool
from collabgraph.sandbox import LocalSandbox
from collabgraph.settings import offline_env
from collabgraph.tasks import GSM8KTask, HumanEvalTask
from collabgraph.tasks.types import Example, Task
from tests.agents.helpers import GatewayCall, MakeCtx

offline_env()


@pytest.fixture(scope="session")
def sandbox() -> LocalSandbox:
    return LocalSandbox()


@pytest.fixture(scope="session")
def gsm8k() -> GSM8KTask:
    return GSM8KTask()


@pytest.fixture(scope="session")
def humaneval(sandbox: LocalSandbox) -> HumanEvalTask:
    return HumanEvalTask(sandbox=sandbox)


@pytest.fixture
def gateway() -> Gateway:
    """The real gateway over the built-in pools, without a cache (one per test: it binds to the test's loop)."""
    return Gateway(pool=default_pool(), cache=None)


@pytest.fixture
def make_ctx(gateway: Gateway, sandbox: LocalSandbox) -> MakeCtx:
    """``make_ctx(node_id, task, example, seed=0, call=None)``: a node context over the real gateway."""

    def make(node_id: str, task: Task, example: Example, *, seed: int = 0, call: CallFn | None = None) -> NodeContext:
        return NodeContext(
            node_id=node_id,
            task=task,
            example=example,
            call=call if call is not None else GatewayCall(gateway, seed=seed),
            seed=seed,
            sandbox=sandbox,
        )

    return make
