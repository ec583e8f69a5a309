"""A cluster registry on the real Redis, under a key prefix of its own per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from pipeline.cluster.registry import ClusterRegistry
from tests.support.databases import REDIS_URL, RUN_ID
from tests.support.engine import loopback_only

__all__ = ["loopback_only"]


@pytest.fixture
def key_prefix() -> str:
    return f"auralink-test-{RUN_ID}-{uuid.uuid4().hex[:8]}:"


@pytest.fixture
async def registry(key_prefix: str) -> AsyncIterator[ClusterRegistry]:
    found = ClusterRegistry.from_url(REDIS_URL, key_prefix)
    try:
        yield found
    finally:
        await forget_keys(found.client, key_prefix)
        await found.aclose()


async def forget_keys(client: aioredis.Redis, key_prefix: str) -> None:
    keys = [key async for key in client.scan_iter(f"{key_prefix}*", count=1000)]
    for start in range(0, len(keys), 1000):
        await client.delete(*keys[start : start + 1000])
