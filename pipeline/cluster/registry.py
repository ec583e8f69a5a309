"""The cluster's shared state in Redis: workers' heartbeats and the room → worker map.

Keys (under ``prefix``, the settings' ``redis_key_prefix`` + ``cluster:``):

* ``worker:{id}``: a hash (url, pid, state, participants, rooms, cpu, seen_ms) whose TTL is
  :data:`DEAD_AFTER_MS`; every heartbeat renews it, so a worker silent for 5 s has no hash and is dead.
* ``workers``: the ids ever seen (pruned when their hash is gone), for listing.
* ``serving``: a sorted set of the serving workers by load (rooms placed on it + participants);
  draining and dead workers leave it.
* ``rooms:{id}``: the rooms placed on a worker; ``room:{name}``: the worker a room lives on;
  ``room-size:{name}``: the ``max_participants`` it was created with, for when it is opened again elsewhere.

A front places a room *pending*: ``room:{name}`` lives :data:`PENDING_PLACEMENT_MS` until the worker opens
the room and confirms it (:meth:`ClusterRegistry.confirm`), so a placement nobody acts on (a WHIP offer
answered with a 307 the client never follows) is forgotten, and each heartbeat drops such rooms from the
worker's ``rooms:{id}``. A worker that exits takes everything of its own with it: its rooms close (each
released), and :meth:`ClusterRegistry.retire` removes its hash, its rooms' set and its place in ``serving``
and ``workers``. A crashed worker's ``room:{name}`` keys stay, as each is how its room is placed again, but only
for :data:`DEAD_ROOMS_TTL_MS` after a listing of the workers finds it dead; a room placed again keeps its key.

Every change that must not interleave with another front's is one Lua script, run atomically by Redis:
placing a room reads the map, checks the worker, picks the least-loaded serving one and records it in
one step, so two fronts over one Redis never put a room on two workers. Nothing here elects or agrees:
Redis is the single source of truth (no home-made consensus).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Literal

import redis.asyncio as aioredis
from redis.exceptions import RedisError

WorkerState = Literal["serving", "draining"]
DEAD_AFTER_MS = 5000
"""A worker whose last heartbeat is older than this is dead (its hash has expired)."""
MAX_CONNECTIONS = 32
HEARTBEAT_S = 1.0
"""How often a worker beats: well under :data:`DEAD_AFTER_MS`, so one late beat is not a death."""
DEAD_ROOMS_TTL_MS = 3_600_000
"""How long a dead worker's rooms stay known (each is placed again on its next request) once it is seen dead."""
PENDING_PLACEMENT_MS = 30_000
"""How long a room a front placed stays recorded before its worker opens it (a followed 307 takes ms)."""

_HEARTBEAT = """
local prefix, id = ARGV[1], ARGV[2]
local worker = prefix .. 'worker:' .. id
redis.call('HSET', worker, 'id', id, 'url', ARGV[3], 'pid', ARGV[4], 'state', ARGV[5],
           'participants', ARGV[6], 'rooms', ARGV[7], 'cpu', ARGV[8], 'seen_ms', ARGV[9])
redis.call('PEXPIRE', worker, ARGV[10])
redis.call('SADD', prefix .. 'workers', id)
local rooms = prefix .. 'rooms:' .. id
for _, room in ipairs(redis.call('SMEMBERS', rooms)) do
  -- a pending placement that expired unconfirmed (or a room moved away) no longer counts on this worker
  if redis.call('GET', prefix .. 'room:' .. room) ~= id then redis.call('SREM', rooms, room) end
end
if ARGV[5] == 'serving' then
  local load = redis.call('SCARD', prefix .. 'rooms:' .. id) + tonumber(ARGV[6])
  redis.call('ZADD', prefix .. 'serving', load, id)
else
  redis.call('ZREM', prefix .. 'serving', id)
end
return 1
"""

# Returns {worker id or '', 1 when placed now, the dead worker it was on or '', 1 when the room is known}.
# ARGV[3] '0' finds a room without creating it: an unknown room is {'', 0, '', 0}. A room whose worker died is
# still known when no worker can take it now, so that it is placed on a later request. ARGV[4] > 0 records a
# new placement for that many ms only, until the worker confirms it.
_PLACE = """
local prefix, room, create, pending_ms = ARGV[1], ARGV[2], ARGV[3] == '1', tonumber(ARGV[4])
local key = prefix .. 'room:' .. room
local current = redis.call('GET', key)
local previous = ''
if current then
  if redis.call('EXISTS', prefix .. 'worker:' .. current) == 1 then
    return {current, 0, '', 1}
  end
  previous = current
  redis.call('SREM', prefix .. 'rooms:' .. current, room)
  redis.call('PERSIST', prefix .. 'room-size:' .. room)  -- it lives again: no longer a dead worker's
elseif not create then
  return {'', 0, '', 0}
end
while true do
  local best = redis.call('ZRANGE', prefix .. 'serving', 0, 0)
  if #best == 0 then
    return {'', 0, previous, 1}
  end
  local id = best[1]
  local state = redis.call('HGET', prefix .. 'worker:' .. id, 'state')
  if state == 'serving' then
    if pending_ms > 0 then redis.call('SET', key, id, 'PX', pending_ms) else redis.call('SET', key, id) end
    redis.call('SADD', prefix .. 'rooms:' .. id, room)
    redis.call('ZINCRBY', prefix .. 'serving', 1, id)
    return {id, 1, previous, 1}
  end
  redis.call('ZREM', prefix .. 'serving', id)
  if not state then redis.call('DEL', prefix .. 'rooms:' .. id) end
end
"""

_RELEASE = """
local prefix, room, id = ARGV[1], ARGV[2], ARGV[3]
local key = prefix .. 'room:' .. room
if redis.call('GET', key) ~= id then return 0 end
redis.call('DEL', key, prefix .. 'room-size:' .. room)
redis.call('SREM', prefix .. 'rooms:' .. id, room)
if redis.call('ZSCORE', prefix .. 'serving', id) then
  redis.call('ZINCRBY', prefix .. 'serving', -1, id)
end
return 1
"""

_RETIRE = """
local prefix, id = ARGV[1], ARGV[2]
redis.call('DEL', prefix .. 'worker:' .. id)
redis.call('ZREM', prefix .. 'serving', id)
redis.call('SREM', prefix .. 'workers', id)
redis.call('DEL', prefix .. 'rooms:' .. id)
return 1
"""

# The worker has opened the room: its placement stays. 1 when the room is (now) recorded on this worker, 0 when
# another worker holds it (it was placed again elsewhere after its pending placement expired).
_CONFIRM = """
local prefix, room, id = ARGV[1], ARGV[2], ARGV[3]
local key = prefix .. 'room:' .. room
local current = redis.call('GET', key)
if current and current ~= id and redis.call('EXISTS', prefix .. 'worker:' .. current) == 1 then return 0 end
redis.call('SET', key, id)
if redis.call('SADD', prefix .. 'rooms:' .. id, room) == 1 and redis.call('ZSCORE', prefix .. 'serving', id) then
  redis.call('ZINCRBY', prefix .. 'serving', 1, id)
end
return 1
"""


# A worker found dead (its hash expired): its rooms stay known for ARGV[3] ms more, then nothing of it is left.
_FORGET_DEAD = """
local prefix, id, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('EXISTS', prefix .. 'worker:' .. id) == 1 then return 0 end
local rooms = prefix .. 'rooms:' .. id
for _, room in ipairs(redis.call('SMEMBERS', rooms)) do
  local key = prefix .. 'room:' .. room
  if redis.call('GET', key) == id then
    if redis.call('PTTL', key) == -1 then redis.call('PEXPIRE', key, ttl) end
    local size = prefix .. 'room-size:' .. room
    if redis.call('PTTL', size) == -1 then redis.call('PEXPIRE', size, ttl) end
  end
end
if redis.call('PTTL', rooms) == -1 then redis.call('PEXPIRE', rooms, ttl) end
redis.call('SREM', prefix .. 'workers', id)
return 1
"""


class ClusterUnavailableError(Exception):
    """The cluster's Redis cannot be reached or refused a command; the message says which and why."""


@dataclass(frozen=True)
class WorkerLoad:
    """What a worker reports in each heartbeat."""

    participants: int = 0
    rooms: int = 0
    cpu_percent: float = 0.0


@dataclass(frozen=True)
class Worker:
    """A live worker as the registry sees it."""

    id: str
    url: str
    pid: int
    state: WorkerState
    participants: int
    rooms: list[str]
    cpu_percent: float
    load: float
    """The placement score: rooms placed on it plus its participants."""

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "pid": self.pid,
            "state": self.state,
            "rooms": self.rooms,
            "participants": self.participants,
            "load": self.load,
            "cpu_percent": self.cpu_percent,
        }


@dataclass(frozen=True)
class Placement:
    """Where a room lives: ``worker`` is ``None`` when no serving worker can take it."""

    room: str
    worker: str | None
    placed: bool
    """Placed by this call (a new room, or one moved off a dead worker)."""
    moved_from: str | None
    """The dead worker the room was on before, when it was moved."""
    known: bool = True
    """``False`` for a room placed with ``create=False`` that no worker holds or held (it never existed, or closed)."""


def new_worker_id() -> str:
    return f"{os.uname().nodename}-{os.getpid()}-{os.urandom(3).hex()}"


class ClusterRegistry:
    """The cluster's state in one Redis, for workers (heartbeats) and fronts (placement, routing)."""

    def __init__(
        self,
        client: aioredis.Redis,
        prefix: str,
        dead_after_ms: int = DEAD_AFTER_MS,
        dead_rooms_ttl_ms: int = DEAD_ROOMS_TTL_MS,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.dead_after_ms = dead_after_ms
        """The TTL of each heartbeat this registry writes (tests shorten it)."""
        self.dead_rooms_ttl_ms = dead_rooms_ttl_ms
        self._forget_dead = client.register_script(_FORGET_DEAD)
        self._heartbeat = client.register_script(_HEARTBEAT)
        self._place = client.register_script(_PLACE)
        self._release = client.register_script(_RELEASE)
        self._retire = client.register_script(_RETIRE)
        self._confirm = client.register_script(_CONFIRM)

    @classmethod
    def from_url(cls, url: str, key_prefix: str) -> ClusterRegistry:
        """A registry on ``url`` (``redis://host:port/db``) under ``key_prefix`` + ``cluster:``."""
        try:
            # a blocking pool: a burst of requests waits for a connection rather than failing
            pool = aioredis.BlockingConnectionPool.from_url(
                url, max_connections=MAX_CONNECTIONS, timeout=5, socket_timeout=5, socket_connect_timeout=5
            )
        except ValueError as error:
            raise ClusterUnavailableError(f"the cluster's Redis URL {url!r} is not valid: {error}") from None
        return cls(aioredis.Redis(connection_pool=pool), f"{key_prefix}cluster:")

    async def check(self) -> None:
        """Raise :class:`ClusterUnavailableError` unless Redis answers."""
        await self._call(self.client.ping())

    async def aclose(self) -> None:
        await self.client.aclose(close_connection_pool=True)

    async def _call(self, pending: Any) -> Any:
        try:
            return await pending
        except (RedisError, OSError) as error:
            where = self.client.connection_pool.connection_kwargs
            address = f"{where.get('host', '?')}:{where.get('port', '?')}"
            raise ClusterUnavailableError(
                f"the cluster's Redis at {address} is unreachable or refused: {type(error).__name__}: {error}"
            ) from None

    # -- workers ------------------------------------------------------------------------
    async def heartbeat(
        self, worker_id: str, url: str, state: WorkerState, load: WorkerLoad, pid: int | None = None
    ) -> None:
        """Renew ``worker_id``'s record for ``dead_after_ms``; a serving worker (re)enters placement."""
        args: list[str | int | float] = [
            self.prefix, worker_id, url, os.getpid() if pid is None else pid, state, load.participants,
            load.rooms, round(load.cpu_percent, 1), int(time.time() * 1000), self.dead_after_ms,
        ]  # fmt: skip
        await self._call(self._heartbeat(keys=[], args=args))

    async def retire(self, worker_id: str) -> None:
        """Forget a worker now (it exits, or cannot be reached): its rooms are placed again on their next request."""
        await self._call(self._retire(keys=[], args=[self.prefix, worker_id]))

    async def workers(self) -> list[Worker]:
        """Every live worker, serving or draining, with its rooms."""
        ids = sorted(x.decode() for x in await self._call(self.client.smembers(f"{self.prefix}workers")))
        found: list[Worker] = []
        for worker_id in ids:
            fields = await self._call(self.client.hgetall(f"{self.prefix}worker:{worker_id}"))
            if not fields:  # dead: its rooms stay placeable for a while, then nothing of it is left
                await self._call(self._forget_dead(keys=[], args=[self.prefix, worker_id, self.dead_rooms_ttl_ms]))
                continue
            found.append(await self._worker(worker_id, {k.decode(): v.decode() for k, v in fields.items()}))
        return found

    async def _worker(self, worker_id: str, fields: dict[str, str]) -> Worker:
        rooms = sorted(x.decode() for x in await self._call(self.client.smembers(f"{self.prefix}rooms:{worker_id}")))
        score = await self._call(self.client.zscore(f"{self.prefix}serving", worker_id))
        participants = int(fields.get("participants", 0))
        state: WorkerState = "draining" if fields.get("state") == "draining" else "serving"
        return Worker(
            id=worker_id,
            url=fields.get("url", ""),
            pid=int(fields.get("pid", 0)),
            state=state,
            participants=participants,
            rooms=rooms,
            cpu_percent=float(fields.get("cpu", 0.0)),
            load=float(score) if score is not None else float(len(rooms) + participants),
        )

    async def worker_url(self, worker_id: str) -> str | None:
        """A live worker's URL; ``None`` when it is dead."""
        url = await self._call(self.client.hget(f"{self.prefix}worker:{worker_id}", "url"))
        return url.decode() if url is not None else None

    # -- rooms ----------------------------------------------------------------------------
    async def place(self, room: str, create: bool = True, pending_ms: int = 0) -> Placement:
        """The worker ``room`` lives on: where it is, when that worker is alive; else the least-loaded
        serving worker, recorded atomically (one script: no two fronts can disagree). With ``create`` off a
        room the registry does not know is not placed (``known`` is ``False``); one whose worker died still is.
        With ``pending_ms``, a new placement is forgotten after that long unless its worker confirms it
        (:meth:`confirm`)."""
        args = [self.prefix, room, "1" if create else "0", pending_ms]
        worker, placed, previous, known = await self._call(self._place(keys=[], args=args))
        return Placement(
            room=room,
            worker=worker.decode() or None,
            placed=bool(placed),
            moved_from=previous.decode() or None,
            known=bool(known),
        )

    async def least_loaded_worker(self) -> str | None:
        """The serving worker a new room would go to now (nothing is recorded); ``None`` when none serves."""
        best = await self._call(self.client.zrange(f"{self.prefix}serving", 0, 0))
        return best[0].decode() if best else None

    async def confirm(self, room: str, worker_id: str) -> bool:
        """``worker_id`` has opened ``room``: keep its placement for good; ``False`` when another worker holds it."""
        return bool(await self._call(self._confirm(keys=[], args=[self.prefix, room, worker_id])))

    async def release(self, room: str, worker_id: str) -> bool:
        """Forget that ``room`` lives on ``worker_id`` (it closed there); ``False`` when it had moved."""
        return bool(await self._call(self._release(keys=[], args=[self.prefix, room, worker_id])))

    async def remember_room_size(self, room: str, max_participants: int) -> None:
        """Keep the size a room was created with, so that it comes back with it on another worker."""
        await self._call(self.client.set(f"{self.prefix}room-size:{room}", max_participants))

    async def room_size(self, room: str) -> int | None:
        found = await self._call(self.client.get(f"{self.prefix}room-size:{room}"))
        return int(found) if found is not None else None

    async def room_worker(self, room: str) -> str | None:
        found = await self._call(self.client.get(f"{self.prefix}room:{room}"))
        return found.decode() if found is not None else None
