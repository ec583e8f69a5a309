"""Small shared stores: counters for rate limits, on Redis or in process.

Redis keys carry the configured prefix so that several deployments (or test runs)
share one Redis without touching each other's keys.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

import redis


class Counters(Protocol):
    """Fixed-window counters."""

    def hit(self, key: str, window_s: int) -> tuple[int, float]:
        """Count one hit in the current window; returns the count so far and seconds until the window ends."""
        ...


class MemoryCounters:
    """Counters in this process (the embedded default: one replica)."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, window_s: int) -> tuple[int, float]:
        now = time.monotonic()
        with self._lock:
            ends, count = self._windows.get(key, (0.0, 0))
            if now >= ends:
                ends, count = now + window_s, 0
                if len(self._windows) > 100_000:  # forget finished windows now and then
                    self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
            self._windows[key] = (ends, count + 1)
            return count + 1, ends - now


class RedisCounters:
    """Counters shared by every replica through Redis."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def hit(self, key: str, window_s: int) -> tuple[int, float]:
        name = f"{self.prefix}rate:{key}"
        pipe = self.client.pipeline()
        pipe.incr(name)
        pipe.expire(name, window_s, nx=True)
        pipe.pttl(name)
        count, _, ttl_ms = pipe.execute()
        return int(count), max(int(ttl_ms), 0) / 1000


class RateLimiter:
    """``limit`` hits per ``window_s`` for each key."""

    def __init__(self, counters: Counters) -> None:
        self.counters = counters

    def retry_after(self, key: str, limit: int, window_s: int = 60) -> float | None:
        """None while ``key`` is within its budget, else the seconds to wait."""
        count, remaining = self.counters.hit(key, window_s)
        return None if count <= limit else max(remaining, 1.0)
