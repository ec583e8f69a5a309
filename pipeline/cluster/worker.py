"""An engine worker's membership of a cluster: its heartbeat, its rooms in Redis, and draining.

The worker beats every :data:`~pipeline.cluster.registry.HEARTBEAT_S` with its URL, pid, state and load
(participants, rooms, the CPU its process used since the last beat). When a room closes it tells the
registry, so the room's name can be placed afresh; when it opens one it confirms the front's pending
placement, which would otherwise expire. :meth:`ClusterMembership.drain` (SIGTERM) takes the worker out of
placement and lets the calls in progress finish; then its rooms close and it leaves the cluster, keeping
nothing in Redis.

A drain does not move calls: on a rolling update each worker waits (up to ``cluster_drain_timeout_s``) for
its calls to end. A call still going at the timeout is cut; a client that reconnects (the call page, the
demo client, ``CallClient(reconnect=True)``) offers again through the front and is placed on a serving
worker, as after a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from typing import TYPE_CHECKING

from pipeline.cluster.registry import HEARTBEAT_S, ClusterRegistry, ClusterUnavailableError, WorkerLoad, WorkerState
from pipeline.webrtc.tasks import BackgroundTasks

if TYPE_CHECKING:
    from pipeline.calls.server import CallServer

log = logging.getLogger(__name__)

DRAIN_POLL_S = 0.2


class CpuMeter:
    """The share of one core this process used between two readings (user + system time)."""

    def __init__(self) -> None:
        self._last = self._now()

    @staticmethod
    def _now() -> tuple[float, float]:
        times = os.times()
        return times.user + times.system, time.monotonic()

    def percent(self) -> float:
        (cpu0, wall0), (cpu1, wall1) = self._last, self._now()
        self._last = (cpu1, wall1)
        return 100 * (cpu1 - cpu0) / (wall1 - wall0) if wall1 > wall0 else 0.0


class ClusterMembership:
    """Keeps one call server registered in the cluster while it runs."""

    def __init__(
        self,
        registry: ClusterRegistry,
        server: CallServer,
        worker_id: str,
        url: str,
        heartbeat_s: float = HEARTBEAT_S,
    ) -> None:
        self.registry = registry
        self.server = server
        self.worker_id = worker_id
        self.url = url
        self.heartbeat_s = heartbeat_s
        self.state: WorkerState = "serving"
        self._cpu = CpuMeter()
        self._task: asyncio.Task[None] | None = None
        self._pending = BackgroundTasks(log, "could not tell the cluster about a room")

    async def start(self) -> None:
        """Beat once (so a Redis that is not there fails the start), then every ``heartbeat_s``."""
        await self.beat()
        self.server.room_opened_listeners.append(self._room_opened)
        self.server.room_closed_listeners.append(self._room_closed)
        self._task = asyncio.get_running_loop().create_task(self._beat_forever(), name="cluster-heartbeat")

    def load(self) -> WorkerLoad:
        return WorkerLoad(len(self.server.sessions), len(self.server.rooms), self._cpu.percent())

    async def beat(self) -> None:
        await self.registry.heartbeat(self.worker_id, self.url, self.state, self.load())

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            try:
                await self.beat()
            except ClusterUnavailableError as error:  # the calls go on; the fronts see us dead until Redis is back
                log.warning("cluster heartbeat failed: %s", error)

    def _room_opened(self, room: str) -> None:
        self._pending.spawn(self._confirm(room))

    async def _confirm(self, room: str) -> None:
        if not await self.registry.confirm(room, self.worker_id):
            log.warning("room %s was opened here but the cluster has placed it on another worker", room)

    def _room_closed(self, room: str) -> None:
        self._pending.spawn(self.registry.release(room, self.worker_id))

    async def drain(self, timeout_s: float) -> int:
        """Take no new rooms, wait up to ``timeout_s`` for the sessions in progress to end; returns how many
        were still going at the end."""
        self.state = "draining"
        with contextlib.suppress(ClusterUnavailableError):
            await self.beat()
        deadline = time.monotonic() + timeout_s
        while self.server.sessions and time.monotonic() < deadline:  # noqa: ASYNC110 - sessions end on their own
            await asyncio.sleep(DRAIN_POLL_S)
        return len(self.server.sessions)

    async def aclose(self) -> None:
        """Stop beating and leave the cluster (its rooms are placed again on their next request)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self._pending.wait()
        with contextlib.suppress(ClusterUnavailableError):
            await self.registry.retire(self.worker_id)
