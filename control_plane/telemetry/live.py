"""What each organisation's room pipelines are doing now: their stage stats and last captions, for Live.

Engines send these over ``LiveTelemetry.ReportLive`` (``control_plane.telemetry.live_grpc``); nothing here is
stored in the database. Per organisation and room the store keeps the latest stats of each pipeline and the
last :data:`CAPTIONS_PER_ROOM` captions, for :data:`KEEP_S` after the last report; a pipeline silent for
:data:`STALE_AFTER_S` is no longer shown. In Redis when one is configured (every replica sees what any
replica was told), in this process otherwise. The organisation is always the one of the engine's API key,
so one organisation's captions can never be filed under another's.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections import deque
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import redis

from telemetry.records import Caption, LiveRecord, PipelineStats, StageLiveStats

CAPTIONS_PER_ROOM = 30
STALE_AFTER_S = 10.0
"""A pipeline's stats older than this are not shown (its engine stopped reporting)."""
KEEP_S = 600.0
"""A room nobody reported about for this long is forgotten."""
MAX_ROOMS_PER_ORGANIZATION = 500
"""In memory, beyond this the room reported about longest ago is forgotten (Redis keys expire instead)."""


@dataclass(frozen=True)
class RoomLive:
    """One room's live pipeline view: the fresh pipelines' stats and the latest captions, oldest first."""

    pipelines: list[PipelineStats]
    captions: list[Caption]

    @staticmethod
    def of(pipelines: Iterable[PipelineStats], captions: Iterable[Caption], since: float) -> RoomLive:
        """What is worth showing: pipelines fresh now, captions from ``since`` (the call's start) on."""
        fresh = time.time() - STALE_AFTER_S
        shown = sorted((p for p in pipelines if p.at >= fresh), key=lambda p: (p.participant, p.pipeline))
        return RoomLive(shown, [c for c in captions if c.at >= since])


class LivePipelineStore(Protocol):
    backend: str

    def add(self, organization_id: int, records: Iterable[LiveRecord]) -> None: ...
    def room(self, organization_id: int, room: str, since: float = 0.0) -> RoomLive: ...
    def forget(self, identities: Collection[str]) -> int:
        """Drop every caption by, and every pipeline of, one of these identities (an erasure)."""
        ...


def to_json(record: LiveRecord) -> str:
    return json.dumps(dataclasses.asdict(record))


def caption_from_json(raw: bytes | str) -> Caption:
    return Caption(**json.loads(raw))


def pipeline_from_json(raw: bytes | str) -> PipelineStats:
    fields: dict[str, Any] = json.loads(raw)
    fields["stages"] = tuple(StageLiveStats(**stage) for stage in fields["stages"])
    return PipelineStats(**fields)


@dataclass
class _Room:
    captions: deque[Caption] = field(default_factory=lambda: deque(maxlen=CAPTIONS_PER_ROOM))
    pipelines: dict[tuple[str, str], PipelineStats] = field(default_factory=dict)
    touched: float = field(default_factory=time.time)


class MemoryLivePipelineStore:
    backend = "memory"

    def __init__(self) -> None:
        self._rooms: dict[int, dict[str, _Room]] = {}
        self._lock = threading.Lock()

    def add(self, organization_id: int, records: Iterable[LiveRecord]) -> None:
        now = time.time()
        with self._lock:
            rooms = self._rooms.setdefault(organization_id, {})
            for record in records:
                room = rooms.get(record.room)
                if room is None:
                    room = rooms[record.room] = _Room()
                room.touched = now
                if isinstance(record, Caption):
                    room.captions.append(record)
                else:
                    room.pipelines[(record.participant, record.pipeline)] = record
            self._prune(rooms, now)

    @staticmethod
    def _prune(rooms: dict[str, _Room], now: float) -> None:
        for name in [name for name, room in rooms.items() if now - room.touched > KEEP_S]:
            del rooms[name]
        while len(rooms) > MAX_ROOMS_PER_ORGANIZATION:
            del rooms[min(rooms, key=lambda name: rooms[name].touched)]

    def room(self, organization_id: int, room: str, since: float = 0.0) -> RoomLive:
        with self._lock:
            found = self._rooms.get(organization_id, {}).get(room)
            if found is None:
                return RoomLive([], [])
            return RoomLive.of(list(found.pipelines.values()), list(found.captions), since)

    def forget(self, identities: Collection[str]) -> int:
        forgotten = 0
        with self._lock:
            for rooms in self._rooms.values():
                for room in rooms.values():
                    kept = [c for c in room.captions if c.speaker not in identities]
                    forgotten += len(room.captions) - len(kept)
                    room.captions = deque(kept, maxlen=CAPTIONS_PER_ROOM)
                    for key in [key for key in room.pipelines if key[0] in identities]:
                        del room.pipelines[key]
                        forgotten += 1
        return forgotten


class RedisLivePipelineStore:
    """Per organisation and room: a capped list of captions and a hash of pipelines' stats, both expiring."""

    backend = "redis"

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def _key(self, organization_id: int, room: str, what: str) -> str:
        return f"{self.prefix}live:{organization_id}:{what}:{room}"

    def add(self, organization_id: int, records: Iterable[LiveRecord]) -> None:
        pipe = self.client.pipeline(transaction=False)
        touched: set[str] = set()
        for record in records:
            if isinstance(record, Caption):
                key = self._key(organization_id, record.room, "captions")
                pipe.rpush(key, to_json(record))
                pipe.ltrim(key, -CAPTIONS_PER_ROOM, -1)
            else:
                key = self._key(organization_id, record.room, "pipelines")
                pipe.hset(key, f"{record.participant}\x1f{record.pipeline}", to_json(record))
            touched.add(key)
        for key in touched:
            pipe.expire(key, int(KEEP_S))
        pipe.execute()

    def room(self, organization_id: int, room: str, since: float = 0.0) -> RoomLive:
        pipe = self.client.pipeline(transaction=False)
        pipe.hvals(self._key(organization_id, room, "pipelines"))
        pipe.lrange(self._key(organization_id, room, "captions"), 0, -1)
        pipelines, captions = pipe.execute()
        return RoomLive.of(
            (pipeline_from_json(raw) for raw in pipelines), (caption_from_json(raw) for raw in captions), since
        )

    def forget(self, identities: Collection[str]) -> int:
        forgotten = 0
        for key in self.client.scan_iter(f"{self.prefix}live:*:captions:*", _type="list"):
            for raw in self.client.lrange(key, 0, -1):
                if caption_from_json(raw).speaker in identities:
                    forgotten += int(self.client.lrem(key, 0, _text(raw)))
        for key in self.client.scan_iter(f"{self.prefix}live:*:pipelines:*", _type="hash"):
            fields = [f for f in self.client.hkeys(key) if _text(f).partition("\x1f")[0] in identities]
            if fields:
                forgotten += int(self.client.hdel(key, *fields))
        return forgotten


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
