"""The rate limiter (the ``limits`` library's sliding window counter), in process and on Redis."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from control_plane.stores import RateLimiter, memory_storage, redis_storage
from tests.support.databases import REDIS_URL, RUN_ID


@pytest.fixture(params=["memory", "redis"])
def limiter(request: pytest.FixtureRequest) -> Iterator[RateLimiter]:
    if request.param == "memory":
        yield RateLimiter(memory_storage())
        return
    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"auralink-test-{RUN_ID}-{uuid.uuid4().hex[:8]}:"
    try:
        yield RateLimiter(redis_storage(client, prefix))
    finally:
        keys = list(client.scan_iter(f"{prefix}*"))
        assert keys, "the limits live under the configured prefix"
        client.delete(*keys)
        client.close()


def test_a_key_gets_its_budget_then_waits_at_least_a_second(limiter: RateLimiter) -> None:
    waits = [limiter.retry_after("login:a", 3) for _ in range(5)]
    assert waits[:3] == [None, None, None]
    assert all(w is not None and 1.0 <= w <= 60 for w in waits[3:])
    assert limiter.retry_after("login:b", 3) is None  # every key has its own budget


def test_the_budget_comes_back_as_the_window_slides(limiter: RateLimiter) -> None:
    assert [limiter.retry_after("key:1", 2, window_s=1) for _ in range(2)] == [None, None]
    assert limiter.retry_after("key:1", 2, window_s=1) is not None
    time.sleep(2.1)  # the hits have left the window (and the one before it)
    assert limiter.retry_after("key:1", 2, window_s=1) is None
