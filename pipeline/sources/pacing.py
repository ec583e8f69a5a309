"""Real-time pacing for sources that read faster than the world speaks."""

from __future__ import annotations

import asyncio
import time


class Pacer:
    """Sleeps so that media time ``pts_ns`` is released no earlier than wall time."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._start_ns: int | None = None

    async def wait_until(self, pts_ns: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic_ns()
        if self._start_ns is None:
            self._start_ns = now
        delay_ns = self._start_ns + pts_ns - now
        if delay_ns > 0:
            await asyncio.sleep(delay_ns / 1e9)
