"""A simulated cluster in real Redis: many workers with varied load, for the placement test and benchmark."""

from __future__ import annotations

import random
from dataclasses import dataclass

from pipeline.cluster.registry import ClusterRegistry, WorkerLoad


@dataclass(frozen=True)
class SimulatedCluster:
    serving: dict[str, int]
    """Serving workers and the participants each reported."""
    draining: set[str]
    dead: set[str]

    def ideal_load(self, rooms: int) -> float:
        """The water level: the load every worker below it would reach if ``rooms`` were spread perfectly."""
        low, high = 0.0, float(max(self.serving.values()) + rooms)
        for _ in range(60):
            level = (low + high) / 2
            if sum(max(0.0, level - p) for p in self.serving.values()) < rooms:
                low = level
            else:
                high = level
        return high


async def register_simulated_workers(
    registry: ClusterRegistry, count: int, seed: int = 15, max_participants: int = 60
) -> SimulatedCluster:
    """``count`` workers: 90 % serving with 0..``max_participants`` participants, 5 % draining, 5 % dead
    (their heartbeat expired at once, so they linger in the load index with a tempting load of 0)."""
    rng = random.Random(seed)
    expired = ClusterRegistry(registry.client, registry.prefix, dead_after_ms=1)
    serving: dict[str, int] = {}
    draining: set[str] = set()
    dead: set[str] = set()
    for index in range(count):
        worker = f"sim-{index:05d}"
        kind = rng.random()
        if kind < 0.05:
            await expired.heartbeat(worker, f"http://{worker}", "serving", WorkerLoad(), pid=index)
            dead.add(worker)
        elif kind < 0.10:
            await registry.heartbeat(worker, f"http://{worker}", "draining", WorkerLoad(), pid=index)
            draining.add(worker)
        else:
            participants = rng.randint(0, max_participants)
            await registry.heartbeat(worker, f"http://{worker}", "serving", WorkerLoad(participants), pid=index)
            serving[worker] = participants
    return SimulatedCluster(serving, draining, dead)
