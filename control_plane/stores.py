"""Rate limits, on Redis (shared by every replica) or in process, through the ``limits`` library.

The strategy is ``limits``' sliding window counter: a key may make ``limit`` hits in any
``window_s`` (the previous window's hits weighted by how much of it still overlaps), so a caller
cannot burst twice the budget across a window boundary as with a fixed window, while each key
costs two counters (a moving window keeps a timestamp per hit). Refused hits are not counted.

Redis keys carry the configured prefix so that several deployments (or test runs) share one
Redis without touching each other's keys.
"""

from __future__ import annotations

import time

import redis
from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import SlidingWindowCounterRateLimiter


def memory_storage() -> MemoryStorage:
    """Limits kept in this process (the embedded default: one replica)."""
    return MemoryStorage()


def redis_storage(client: redis.Redis, prefix: str) -> RedisStorage:
    """Limits shared by every replica through ``client``'s Redis, under ``{prefix}rate:``."""
    pool = client.connection_pool
    return RedisStorage("redis://", connection_pool=pool, key_prefix=f"{prefix}rate")


class RateLimiter:
    """``limit`` hits per ``window_s`` for each key."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.strategy = SlidingWindowCounterRateLimiter(storage)

    def retry_after(self, key: str, limit: int, window_s: int = 60) -> float | None:
        """Count one hit for ``key``: None while it is within its budget, else the seconds to wait."""
        item = RateLimitItemPerSecond(limit, window_s)
        if self.strategy.hit(item, key):
            return None
        reset_at = self.strategy.get_window_stats(item, key).reset_time
        return max(reset_at - time.time(), 1.0)
