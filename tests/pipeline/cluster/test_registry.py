"""The cluster registry on real Redis: heartbeats, death by silence, placement, release, racing fronts."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest

from pipeline.cluster.registry import ClusterRegistry, ClusterUnavailableError, WorkerLoad
from tests.support.databases import REDIS_URL


async def _beat(registry: ClusterRegistry, worker: str, participants: int = 0, state: str = "serving") -> None:
    await registry.heartbeat(worker, f"http://{worker}", state, WorkerLoad(participants=participants), pid=1)  # type: ignore[arg-type]


async def test_a_heartbeat_lists_the_worker_with_its_load(registry: ClusterRegistry) -> None:
    await registry.heartbeat("w1", "http://127.0.0.1:9001", "serving", WorkerLoad(3, 1, 12.5), pid=4242)
    placed = await registry.place("standup")

    [worker] = await registry.workers()
    assert placed.worker == "w1" and placed.placed
    assert worker.describe() == {
        "id": "w1",
        "url": "http://127.0.0.1:9001",
        "pid": 4242,
        "state": "serving",
        "rooms": ["standup"],
        "participants": 3,
        "load": 4.0,
        "cpu_percent": 12.5,
    }


async def test_a_silent_worker_is_dead_and_its_rooms_move(key_prefix: str, registry: ClusterRegistry) -> None:
    short_lived = ClusterRegistry(registry.client, registry.prefix, dead_after_ms=200)
    await _beat(short_lived, "mortal")
    assert (await registry.place("r1")).worker == "mortal"
    await _beat(registry, "steady", participants=50)  # busier, but alive

    await asyncio.sleep(0.3)

    moved = await registry.place("r1")
    assert (moved.worker, moved.placed, moved.moved_from) == ("steady", True, "mortal")
    assert [w.id for w in await registry.workers()] == ["steady"]
    assert await registry.worker_url("mortal") is None


async def test_a_new_room_goes_to_the_least_loaded_serving_worker(registry: ClusterRegistry) -> None:
    await _beat(registry, "busy", participants=10)
    await _beat(registry, "idle", participants=0)
    await _beat(registry, "leaving", participants=0, state="draining")

    placed = [(await registry.place(f"room-{i}")).worker for i in range(14)]

    # idle takes rooms until it is as loaded as busy (10), then they alternate; the draining worker takes none
    assert placed[:10] == ["idle"] * 10
    assert Counter(placed[10:]) == {"idle": 2, "busy": 2}


async def test_a_room_stays_on_its_worker_while_it_drains(registry: ClusterRegistry) -> None:
    await _beat(registry, "w1")
    assert (await registry.place("ongoing")).worker == "w1"
    await _beat(registry, "w2")
    await _beat(registry, "w1", state="draining")

    again = await registry.place("ongoing")
    fresh = await registry.place("fresh")

    assert (again.worker, again.placed) == ("w1", False)
    assert fresh.worker == "w2"


async def test_no_serving_worker_means_no_placement(registry: ClusterRegistry) -> None:
    await _beat(registry, "leaving", state="draining")
    placed = await registry.place("nowhere")
    assert placed.worker is None and not placed.placed
    assert await registry.room_worker("nowhere") is None


async def test_finding_a_room_without_creating_it_places_only_rooms_the_cluster_knows(
    registry: ClusterRegistry,
) -> None:
    await _beat(registry, "w1")
    unknown = await registry.place("ghost", create=False)
    assert (unknown.known, unknown.worker, unknown.placed) == (False, None, False)
    assert await registry.room_worker("ghost") is None
    [worker] = await registry.workers()
    assert worker.rooms == [] and worker.load == 0

    await registry.place("real")
    await registry.retire("w1")
    stranded = await registry.place("real", create=False)  # its worker died and nobody serves yet
    assert (stranded.known, stranded.worker, stranded.moved_from) == (True, None, "w1")
    await _beat(registry, "w2")
    moved = await registry.place("real", create=False)
    assert (moved.known, moved.worker, moved.placed) == (True, "w2", True)
    assert await registry.least_loaded_worker() == "w2"


async def test_release_forgets_only_the_workers_own_room(registry: ClusterRegistry) -> None:
    await _beat(registry, "w1")
    await registry.place("room")
    await registry.remember_room_size("room", 4)

    assert not await registry.release("room", "someone-else")
    assert await registry.room_size("room") == 4
    assert await registry.release("room", "w1")
    assert await registry.room_worker("room") is None
    assert await registry.room_size("room") is None
    [worker] = await registry.workers()
    assert worker.rooms == [] and worker.load == 0


async def test_retire_removes_a_worker_at_once(registry: ClusterRegistry) -> None:
    await _beat(registry, "w1")
    await _beat(registry, "w2", participants=5)
    await registry.place("room")
    await registry.retire("w1")

    moved = await registry.place("room")

    assert (moved.worker, moved.moved_from) == ("w2", "w1")


async def test_two_fronts_racing_never_put_a_room_on_two_workers(registry: ClusterRegistry) -> None:
    other_front = ClusterRegistry.from_url(REDIS_URL, registry.prefix.removesuffix("cluster:"))
    try:
        for index in range(8):
            await _beat(registry, f"w{index}")
        rooms = [f"room-{i}" for i in range(300)]
        order = rooms * 2
        random.Random(7).shuffle(order)

        # both fronts place every room at once, interleaved, over their own connections
        answers = await asyncio.gather(
            *(front.place(room) for room, front in zip(order, [registry, other_front] * len(order), strict=False))
        )

        chosen: dict[str, set[str | None]] = {}
        for placement in answers:
            chosen.setdefault(placement.room, set()).add(placement.worker)
        assert all(len(workers) == 1 for workers in chosen.values())
        assert sum(p.placed for p in answers) == len(rooms)  # each room placed once, found once
        listed = [room for worker in await registry.workers() for room in worker.rooms]
        assert sorted(listed) == sorted(rooms)
    finally:
        await other_front.aclose()


async def test_an_unreachable_redis_is_a_clear_error() -> None:
    registry = ClusterRegistry.from_url("redis://127.0.0.1:1/0", "nowhere:")
    with pytest.raises(ClusterUnavailableError, match=r"Redis at 127\.0\.0\.1:1 is unreachable"):
        await registry.check()
    await registry.aclose()


def test_a_malformed_redis_url_is_a_clear_error() -> None:
    with pytest.raises(ClusterUnavailableError, match="is not valid"):
        ClusterRegistry.from_url("http://example.com", "x:")


async def test_a_pending_placement_its_worker_never_opens_is_forgotten(registry: ClusterRegistry) -> None:
    """A front places pending (a 307 may never be followed); only the rooms the worker opened stay."""
    await _beat(registry, "w1")
    assert (await registry.place("lost", pending_ms=200)).worker == "w1"
    assert (await registry.place("kept", pending_ms=200)).worker == "w1"
    assert await registry.confirm("kept", "w1")

    await asyncio.sleep(0.3)
    await _beat(registry, "w1")

    assert await registry.room_worker("lost") is None
    assert not (await registry.place("lost", create=False)).known
    assert await registry.room_worker("kept") == "w1"
    [worker] = await registry.workers()
    assert (worker.rooms, worker.load) == (["kept"], 1.0)


async def test_a_worker_confirms_only_a_room_no_other_worker_holds(registry: ClusterRegistry) -> None:
    await _beat(registry, "w1")
    await registry.place("late", pending_ms=100)  # the client takes longer than the placement waits
    await asyncio.sleep(0.2)
    await _beat(registry, "w2")
    await _beat(registry, "w1", participants=5)
    assert (await registry.place("late")).worker == "w2"

    assert not await registry.confirm("late", "w1")
    assert await registry.room_worker("late") == "w2"
    assert await registry.confirm("opened-here", "w1")  # a room nobody placed is recorded where it opened
    assert await registry.room_worker("opened-here") == "w1"
    assert {w.id: w.rooms for w in await registry.workers()} == {"w1": ["opened-here"], "w2": ["late"]}


async def test_a_worker_that_released_its_rooms_and_retired_leaves_no_key(registry: ClusterRegistry) -> None:
    await _beat(registry, "w1")
    await registry.place("room", pending_ms=5000)
    await registry.confirm("room", "w1")
    await registry.remember_room_size("room", 4)

    assert await registry.release("room", "w1")
    await registry.retire("w1")

    assert [key async for key in registry.client.scan_iter(f"{registry.prefix}*")] == []


async def test_a_dead_workers_rooms_stay_placeable_for_a_while_then_nothing_of_it_is_left(
    registry: ClusterRegistry,
) -> None:
    mortal = ClusterRegistry(registry.client, registry.prefix, dead_after_ms=200, dead_rooms_ttl_ms=600)
    await _beat(mortal, "crashed")
    await registry.place("forgotten")
    await registry.place("wanted")
    await registry.remember_room_size("forgotten", 4)
    await asyncio.sleep(0.3)  # its heartbeat expired: dead, never retired

    assert [w.id for w in await mortal.workers()] == []  # the listing finds it dead
    await _beat(registry, "survivor")
    moved = await registry.place("wanted", create=False)  # still placeable after its worker's death
    assert (moved.worker, moved.moved_from) == ("survivor", "crashed")
    await asyncio.sleep(0.7)

    assert not (await registry.place("forgotten", create=False)).known
    assert await registry.room_worker("wanted") == "survivor"  # placed again: its key no longer expires
    keys = sorted([key.decode() async for key in registry.client.scan_iter(f"{registry.prefix}*")])
    assert [key.removeprefix(registry.prefix) for key in keys] == [
        "room:wanted", "rooms:survivor", "serving", "worker:survivor", "workers",
    ]  # fmt: skip
