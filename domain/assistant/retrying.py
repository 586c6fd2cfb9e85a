"""Sending one request to a model provider, again when it is worth it.

Retried: HTTP 429 and every 5xx, and a request that got no answer at all (a refused or
dropped connection, a read that timed out). Nothing else: a 4xx other than 429 will be
refused again.

The wait before retry n (from 0) is the provider's Retry-After when it sends one (seconds,
or an HTTP date), else an exponential backoff with full jitter: a random time up to
`base * 2**n`, at most `BACKOFF_MAX`. Every wait stays within the call's deadline (the
assistant's time limit, ASSISTANT_TIMEOUT_SECONDS): when the next wait would end past it,
or the retries are used up (ASSISTANT_RETRIES), the last answer is returned as it is (the
caller fails on it) rather than waiting for nothing.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final

import httpx

BACKOFF_MAX: Final = 8.0


def retryable(status: int) -> bool:
    return status == 429 or 500 <= status <= 599


def retry_after(response: httpx.Response, *, now: datetime | None = None) -> float | None:
    """The seconds the provider asks us to wait, if it says (and says it readably)."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff(attempt: int, base: float) -> float:
    return random.uniform(0, min(BACKOFF_MAX, base * 2**attempt))


async def with_retries(
    send: Callable[[], Awaitable[httpx.Response]], *, retries: int, deadline: float,
    base: float, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> httpx.Response:
    """`send()`'s answer, retried by the module's rules; a transport error with no retry
    left is raised. `deadline` is a `time.monotonic()` instant."""
    attempt = 0
    while True:
        try:
            response = await send()
        except (httpx.TransportError, httpx.TimeoutException):
            if attempt >= retries:
                raise
            wait = backoff(attempt, base)
            if time.monotonic() + wait >= deadline:
                raise
        else:
            if not retryable(response.status_code) or attempt >= retries:
                return response
            asked = retry_after(response)
            wait = asked if asked is not None else backoff(attempt, base)
            if time.monotonic() + wait >= deadline:
                return response
            await response.aclose()
        attempt += 1
        await sleep(wait)
