"""Per-endpoint concurrency limits: one budget per (provider, api_base), sized by the pool, per event loop."""

from __future__ import annotations

import asyncio

from collabgraph.models.limits import IN_PROCESS_LIMIT, ConcurrencyLimits
from collabgraph.models.pool import ModelSpec

SERVER = "http://127.0.0.1:8000/v1"


def spec(name: str, api_base: str | None = SERVER, limit: int = 2) -> ModelSpec:
    return ModelSpec(litellm_id=f"hosted_vllm/{name}", api_base=api_base, max_concurrency=limit)


async def peak(sem: asyncio.Semaphore, tasks: int) -> int:
    """The most tasks that held ``sem`` at once when ``tasks`` tasks all wanted it."""
    held = top = 0

    async def one() -> None:
        nonlocal held, top
        async with sem:
            held += 1
            top = max(top, held)
            await asyncio.sleep(0.001)
            held -= 1

    await asyncio.gather(*(one() for _ in range(tasks)))
    return top


async def test_models_on_one_server_share_its_budget() -> None:
    limits = ConcurrencyLimits()
    a, b = limits.slot(spec("a", limit=2)), limits.slot(spec("b", limit=5))
    assert a is b  # the first entry seen sizes the endpoint's budget
    assert await peak(a, 10) == 2
    assert limits.slot(spec("a", api_base="http://127.0.0.1:8001/v1")) is not a


async def test_in_process_providers_get_a_wide_limit() -> None:
    sem = ConcurrencyLimits().slot(ModelSpec(litellm_id="sim/x", max_concurrency=1), in_process=True)
    assert await peak(sem, 50) == 50 <= IN_PROCESS_LIMIT


def test_limits_follow_the_gateway_into_a_new_event_loop() -> None:
    limits = ConcurrencyLimits()

    async def contend() -> tuple[asyncio.Semaphore, int]:
        sem = limits.slot(spec("a", limit=1))
        return sem, await peak(sem, 3)

    first, first_peak = asyncio.run(contend())
    second, second_peak = asyncio.run(contend())  # a semaphore of the old loop would raise here
    assert first is not second and first_peak == second_peak == 1
