"""The one retry loop every model call goes through: exponential backoff with full jitter for transport errors,
timeouts, 429 and 5xx; any other 4xx (and any error an offline pool raises on purpose) fails at once."""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from collabgraph.errors import CollabgraphError, ModelCallError

__all__ = ["DEFAULT_MAX_RETRIES", "Failure", "RetryPolicy", "classify", "retry_after_s", "with_retries"]

T = TypeVar("T")

_MAX_MESSAGE = 500


DEFAULT_MAX_RETRIES = 10
"""Enough that a server failing 30 % of requests at random (``serve-sim --fail-rate 0.3``) loses about one
call in 560,000 (0.3¹¹), so an evaluation of tens of thousands of calls still completes every one; with the
default backoff (0.5 s doubling, capped at 20 s, full jitter) a call that needs every retry waits about a
minute on average and under two at most."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait. ``max_retries`` counts retries, so a call makes at most
    ``max_retries + 1`` attempts; a server's Retry-After is obeyed up to ``retry_after_max_s``."""

    max_retries: int = DEFAULT_MAX_RETRIES
    backoff_base_s: float = 0.5
    backoff_max_s: float = 20.0
    retry_after_max_s: float = 60.0

    def delay(self, retry: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before retry number ``retry`` (0-based): the server's Retry-After when it sent one,
        else a uniform draw from [0, min(backoff_max_s, backoff_base_s·2^retry)] (full jitter)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_max_s)
        return rng.uniform(0.0, min(self.backoff_max_s, self.backoff_base_s * 2.0**retry))


@dataclass(frozen=True)
class Failure:
    """What went wrong in one attempt and whether trying again can help."""

    retryable: bool
    message: str
    status: int | None = None
    retry_after: float | None = None


def _permanent_cause(exc: BaseException) -> CollabgraphError | None:
    """A collabgraph error anywhere in the chain: an offline pool refusing a request (say, a question the replay
    pool has no record of). litellm wraps it in an APIConnectionError, which would otherwise look transient."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, CollabgraphError):
            return cur
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return None


def retry_after_s(headers: Mapping[str, str] | None) -> float | None:
    """Seconds a server asked us to wait (``retry-after-ms``, or ``retry-after`` as seconds or an HTTP date)."""
    if not headers:
        return None
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    if "retry-after-ms" in lowered:
        try:
            return float(lowered["retry-after-ms"]) / 1000.0
        except ValueError:
            pass
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        parsed = email.utils.parsedate_tz(raw)
        return None if parsed is None else max(0.0, email.utils.mktime_tz(parsed) - time.time())


def _headers_of(exc: BaseException) -> Mapping[str, str] | None:
    # litellm keeps the provider's headers on the exception; which attribute depends on the provider path.
    headers: Any = getattr(exc, "litellm_response_headers", None)
    if not headers:
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", None)
    return headers if isinstance(headers, Mapping) or hasattr(headers, "items") else None


def classify(exc: BaseException) -> Failure:
    """Decide whether an attempt's exception is worth retrying."""
    message = f"{type(exc).__name__}: {exc}"[:_MAX_MESSAGE]
    if isinstance(exc, TimeoutError):
        return Failure(True, "timed out" + (f" ({exc})" if str(exc) else ""))
    cause = _permanent_cause(exc)
    if cause is not None:
        return Failure(False, str(cause)[:_MAX_MESSAGE])
    status = getattr(exc, "status_code", None)
    status = status if isinstance(status, int) else None
    name = type(exc).__name__
    # litellm reports a refused connection or a read timeout with a 5xx/408 status; the class says what it was.
    if name in ("APIConnectionError", "Timeout", "APITimeoutError") or isinstance(exc, ConnectionError):
        return Failure(True, message, status, retry_after_s(_headers_of(exc)))
    if status is not None:
        retryable = status == 429 or status >= 500
        return Failure(retryable, message, status, retry_after_s(_headers_of(exc)) if retryable else None)
    if isinstance(exc, OSError):
        return Failure(True, message)
    return Failure(False, message)


async def with_retries(
    model: str,
    attempt: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    rng: random.Random,
    *,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    secrets: Sequence[str] = (),
) -> tuple[T, int]:
    """Run ``attempt`` until it succeeds; returns its result and how many attempts it took.

    Raises ModelCallError (with the attempt count and the last HTTP status) on a permanent failure or when
    ``policy.max_retries`` retries are spent. Any of ``secrets`` (the API key sent) that a provider echoed in
    its error message is masked, since the message ends up in run logs."""
    attempts = 0
    while True:
        attempts += 1
        try:
            return await attempt(), attempts
        except Exception as exc:  # cancellation is a BaseException and passes straight through
            failure = classify(exc)
            if not failure.retryable or attempts > policy.max_retries:
                leaked = [secret for secret in secrets if secret and secret in failure.message]
                message = failure.message
                for secret in leaked:
                    message = message.replace(secret, "<redacted>")
                error = ModelCallError(model, message, status=failure.status, attempts=attempts)
                # The provider's own exception would carry the key into any traceback: leave it out then.
                raise error from (None if leaked else exc)
            await sleep(policy.delay(attempts - 1, failure.retry_after, rng))
