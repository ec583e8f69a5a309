"""Toward internet scale, simulated: 1,000 workers with varied load in real Redis, 100,000 rooms placed.

The time one placement takes is a benchmark (``benchmarks/test_cluster_placement.py``); this test is about
where the rooms go.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from benchmarks.cluster_simulation import register_simulated_workers
from pipeline.cluster.registry import ClusterRegistry

WORKERS = 1000
ROOMS = 100_000
CONCURRENT = 32


@pytest.mark.slow
async def test_100k_rooms_on_1000_workers_avoid_the_dead_and_draining_and_spread_evenly(
    registry: ClusterRegistry,
) -> None:
    lasting = ClusterRegistry(registry.client, registry.prefix, dead_after_ms=600_000)  # outlives the test
    cluster = await register_simulated_workers(lasting, WORKERS)
    rooms = iter(range(ROOMS))
    placed: Counter[str | None] = Counter()

    async def front() -> None:
        for index in rooms:
            placed[(await lasting.place(f"room-{index}")).worker] += 1

    await asyncio.gather(*(front() for _ in range(CONCURRENT)))

    assert sum(placed.values()) == ROOMS
    assert not set(placed) & (cluster.dead | cluster.draining | {None})
    ideal = cluster.ideal_load(ROOMS)
    loads = {worker: participants + placed[worker] for worker, participants in cluster.serving.items()}
    below = [load for worker, load in loads.items() if cluster.serving[worker] < ideal]
    assert max(loads.values()) <= 1.1 * ideal
    assert min(below) >= 0.9 * ideal
    assert all(placed[w] == 0 for w, participants in cluster.serving.items() if participants >= ideal + 1)
