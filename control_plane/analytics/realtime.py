"""Live call metrics per organisation, kept current by telemetry ingestion.

In Redis when one is configured (shared by every replica), in this process otherwise.
A participant who stops reporting for :data:`STALE_AFTER_S` no longer counts, so an
engine that dies without saying goodbye does not leave ghosts behind.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Protocol

import redis

STALE_AFTER_S = 300.0
MOS_BUCKETS = [(1.0, "1-2"), (2.0, "2-3"), (3.0, "3-3.5"), (3.5, "3.5-4"), (4.0, "4-4.5")]


@dataclass
class LiveParticipant:
    mos: float | None = None
    frames_per_second: float = 0.0
    seen_at: float = field(default_factory=time.time)


@dataclass
class RealtimeSnapshot:
    active_calls: int
    participants: int
    mos_distribution: dict[str, int]
    frames_per_second: float
    backend: str


class RealtimeStore(Protocol):
    backend: str

    def room_opened(self, organization_id: int, room: str) -> None: ...
    def room_closed(self, organization_id: int, room: str) -> None: ...
    def joined(self, organization_id: int, room: str, identity: str) -> None: ...
    def left(self, organization_id: int, room: str, identity: str) -> None: ...
    def sample(self, organization_id: int, room: str, identity: str, mos: float, frames_per_second: float) -> None: ...
    def snapshot(self, organization_id: int) -> RealtimeSnapshot: ...
    def forget(self, identities: Collection[str]) -> int:
        """Drop every live participant with one of these identities, in any organisation (an erasure)."""
        ...


def summarise(rooms: set[str], participants: dict[str, LiveParticipant], backend: str) -> RealtimeSnapshot:
    fresh = {key: p for key, p in participants.items() if time.time() - p.seen_at < STALE_AFTER_S}
    distribution = {label: 0 for _, label in MOS_BUCKETS}
    for participant in fresh.values():
        if participant.mos is not None:
            label = next(label for floor, label in reversed(MOS_BUCKETS) if participant.mos >= floor or floor == 1.0)
            distribution[label] += 1
    live_rooms = rooms | {key.split("\x1f", 1)[0] for key in fresh}
    return RealtimeSnapshot(
        active_calls=len(live_rooms),
        participants=len(fresh),
        mos_distribution=distribution,
        frames_per_second=round(sum(p.frames_per_second for p in fresh.values()), 3),
        backend=backend,
    )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _key(room: str, identity: str) -> str:
    return f"{room}\x1f{identity}"


def _identity(key: str) -> str:
    return key.rpartition("\x1f")[2]


class MemoryRealtimeStore:
    backend = "memory"

    def __init__(self) -> None:
        self._rooms: dict[int, set[str]] = {}
        self._participants: dict[int, dict[str, LiveParticipant]] = {}
        self._lock = threading.Lock()

    def room_opened(self, organization_id: int, room: str) -> None:
        with self._lock:
            self._rooms.setdefault(organization_id, set()).add(room)

    def room_closed(self, organization_id: int, room: str) -> None:
        with self._lock:
            self._rooms.get(organization_id, set()).discard(room)
            live = self._participants.get(organization_id, {})
            for key in [k for k in live if k.startswith(room + "\x1f")]:
                del live[key]

    def joined(self, organization_id: int, room: str, identity: str) -> None:
        with self._lock:
            self._participants.setdefault(organization_id, {})[_key(room, identity)] = LiveParticipant()

    def left(self, organization_id: int, room: str, identity: str) -> None:
        with self._lock:
            self._participants.get(organization_id, {}).pop(_key(room, identity), None)

    def sample(self, organization_id: int, room: str, identity: str, mos: float, frames_per_second: float) -> None:
        with self._lock:
            live = self._participants.setdefault(organization_id, {})
            live[_key(room, identity)] = LiveParticipant(mos, frames_per_second)

    def snapshot(self, organization_id: int) -> RealtimeSnapshot:
        with self._lock:
            rooms = set(self._rooms.get(organization_id, set()))
            participants = dict(self._participants.get(organization_id, {}))
        return summarise(rooms, participants, self.backend)

    def forget(self, identities: Collection[str]) -> int:
        forgotten = 0
        with self._lock:
            for live in self._participants.values():
                for key in [k for k in live if _identity(k) in identities]:
                    del live[key]
                    forgotten += 1
        return forgotten


class RedisRealtimeStore:
    """Two keys per organisation: a set of open rooms and a hash of live participants."""

    backend = "redis"

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def _rooms(self, organization_id: int) -> str:
        return f"{self.prefix}realtime:{organization_id}:rooms"

    def _participants(self, organization_id: int) -> str:
        return f"{self.prefix}realtime:{organization_id}:participants"

    def room_opened(self, organization_id: int, room: str) -> None:
        self.client.sadd(self._rooms(organization_id), room)

    def room_closed(self, organization_id: int, room: str) -> None:
        name = self._participants(organization_id)
        keys = [k for k in self.client.hkeys(name) if _text(k).startswith(room + "\x1f")]
        pipe = self.client.pipeline()
        pipe.srem(self._rooms(organization_id), room)
        if keys:
            pipe.hdel(name, *keys)
        pipe.execute()

    def joined(self, organization_id: int, room: str, identity: str) -> None:
        self._put(organization_id, room, identity, LiveParticipant())

    def left(self, organization_id: int, room: str, identity: str) -> None:
        self.client.hdel(self._participants(organization_id), _key(room, identity))

    def sample(self, organization_id: int, room: str, identity: str, mos: float, frames_per_second: float) -> None:
        self._put(organization_id, room, identity, LiveParticipant(mos, frames_per_second))

    def _put(self, organization_id: int, room: str, identity: str, participant: LiveParticipant) -> None:
        value = json.dumps([participant.mos, participant.frames_per_second, participant.seen_at])
        self.client.hset(self._participants(organization_id), _key(room, identity), value)

    def snapshot(self, organization_id: int) -> RealtimeSnapshot:
        rooms = {_text(r) for r in self.client.smembers(self._rooms(organization_id))}
        participants = {}
        for key, raw in self.client.hgetall(self._participants(organization_id)).items():
            mos, fps, seen = json.loads(raw)
            participants[_text(key)] = LiveParticipant(mos, fps, seen)
        return summarise(rooms, participants, self.backend)

    def forget(self, identities: Collection[str]) -> int:
        forgotten = 0
        for name in self.client.scan_iter(f"{self.prefix}realtime:*:participants"):
            keys = [k for k in self.client.hkeys(name) if _identity(_text(k)) in identities]
            if keys:
                forgotten += int(self.client.hdel(name, *keys))
        return forgotten
