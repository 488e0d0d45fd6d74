"""The retry loop in isolation: which errors are retried, how long it waits, and what it reports when it gives up."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from litellm import exceptions as llm

from collabgraph.errors import CollabgraphError, ModelCallError
from collabgraph.models.retry import RetryPolicy, classify, retry_after_s, with_retries

REQUEST = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")


def response(status: int, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, headers=headers, request=REQUEST)


def litellm_error(status: int) -> Exception:
    kinds: dict[int, Any] = {
        400: llm.BadRequestError,
        401: llm.AuthenticationError,
        404: llm.NotFoundError,
        429: llm.RateLimitError,
        500: llm.InternalServerError,
        503: llm.ServiceUnavailableError,
    }
    error: Exception = kinds[status](message="boom", llm_provider="openai", model="m", response=response(status))
    return error


@pytest.mark.parametrize(
    ("status", "retryable"), [(400, False), (401, False), (404, False), (429, True), (500, True), (503, True)]
)
def test_litellm_errors_are_classified_by_status(status: int, retryable: bool) -> None:
    failure = classify(litellm_error(status))
    assert failure.retryable is retryable and failure.status == status


def test_transport_errors_and_timeouts_are_retried() -> None:
    assert classify(llm.APIConnectionError(message="refused", llm_provider="openai", model="m")).retryable
    assert classify(llm.Timeout(message="slow", model="m", llm_provider="openai")).retryable
    assert classify(TimeoutError()).retryable
    assert classify(ConnectionResetError("reset")).retryable


def test_an_offline_refusal_inside_a_litellm_error_is_permanent() -> None:
    try:
        try:
            raise CollabgraphError("no record for question 'gsm8k/test/3'")
        except CollabgraphError as inner:
            raise llm.APIConnectionError(message=str(inner), llm_provider="replay", model="m") from None
    except llm.APIConnectionError as outer:
        failure = classify(outer)
    assert not failure.retryable and failure.message == "no record for question 'gsm8k/test/3'"


def test_programming_errors_are_not_retried() -> None:
    assert not classify(TypeError("bad argument")).retryable


def test_retry_after_is_read_from_the_error() -> None:
    error = llm.RateLimitError(
        message="slow down", llm_provider="openai", model="m", response=response(429, {"Retry-After": "7"})
    )
    assert classify(error).retry_after == 7.0


def test_retry_after_formats() -> None:
    assert retry_after_s({"retry-after": "3"}) == 3.0
    assert retry_after_s({"Retry-After": "1.5"}) == 1.5
    assert retry_after_s({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after_s({"x-other": "1"}) is None
    assert retry_after_s(None) is None
    assert retry_after_s({"retry-after": "soon"}) is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (retry_after_s({"retry-after": later}) or 0) <= 31


@given(retry=st.integers(0, 30), seed=st.integers(0, 1000))
def test_backoff_is_full_jitter_under_the_cap(retry: int, seed: int) -> None:
    policy = RetryPolicy(backoff_base_s=0.5, backoff_max_s=20.0)
    delay = policy.delay(retry, None, random.Random(seed))
    assert 0.0 <= delay <= min(20.0, 0.5 * 2**retry)


def test_retry_after_wins_over_backoff_up_to_its_cap() -> None:
    policy = RetryPolicy(backoff_base_s=0.001, retry_after_max_s=10.0)
    rng = random.Random(0)
    assert policy.delay(0, 4.0, rng) == 4.0
    assert policy.delay(0, 3600.0, rng) == 10.0
    assert policy.delay(0, -5.0, rng) == 0.0


async def test_it_retries_until_success_and_counts_attempts() -> None:
    outcomes: list[Exception | str] = [litellm_error(429), litellm_error(500), "done"]
    waits: list[float] = []

    async def attempt() -> str:
        result = outcomes.pop(0)
        if isinstance(result, Exception):
            raise result
        return result

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    result, attempts = await with_retries("m", attempt, RetryPolicy(), random.Random(0), sleep=sleep)
    assert (result, attempts) == ("done", 3)
    assert len(waits) == 2 and 0 <= waits[0] <= 0.5 and 0 <= waits[1] <= 1.0


async def test_it_gives_up_after_max_retries_with_the_last_status() -> None:
    calls = 0

    async def attempt() -> str:
        nonlocal calls
        calls += 1
        raise litellm_error(503)

    async def sleep(seconds: float) -> None:
        return None

    with pytest.raises(ModelCallError, match=r"'m' failed after 3 attempt\(s\) \(HTTP 503\)") as info:
        await with_retries("m", attempt, RetryPolicy(max_retries=2), random.Random(0), sleep=sleep)
    assert calls == 3 and info.value.attempts == 3 and info.value.status == 503
