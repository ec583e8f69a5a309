"""An engine cluster for tests: real ``auralink serve engine`` worker processes on loopback, registered in the
real Redis under a prefix of the test's own, and a front served in the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from pipeline.calls.client import CallClient
from pipeline.calls.serving import serving
from pipeline.calls.tokens import Grant, mint_join_token
from pipeline.cluster.front import Front, create_front_app
from pipeline.cluster.registry import PENDING_PLACEMENT_MS, ClusterRegistry
from tests.support.databases import REDIS_URL, RUN_ID
from tests.support.engine import ALL_GRANTS, ROOM_PIPELINE
from tests.support.paths import REPO
from tests.support.waiting import eventually

WORKER_START_S = 90.0


@dataclass
class WorkerProcess:
    process: asyncio.subprocess.Process
    data_dir: Path

    @property
    def log(self) -> str:
        return (self.data_dir / "worker.log").read_text(errors="replace")


@dataclass
class Cluster:
    url: str
    registry: ClusterRegistry
    secret: str
    key_prefix: str
    workers: list[WorkerProcess]
    clients: list[CallClient] = field(default_factory=list)

    def token(self, room: str, identity: str, grants: frozenset[Grant] = ALL_GRANTS) -> str:
        return mint_join_token(self.secret, room, identity, grants, 600)

    def client(self, room: str, identity: str, grants: frozenset[Grant] = ALL_GRANTS) -> CallClient:
        client = CallClient(self.url, self.token(room, identity, grants), reconnect=True)
        self.clients.append(client)
        return client

    async def create_room(self, room: str, max_participants: int | None = None) -> httpx.Response:
        """``POST /rooms`` through the front, as the room's organiser (joins need the room, as on one engine)."""
        async with httpx.AsyncClient(base_url=self.url) as http:
            return await http.post(
                "/rooms",
                json={"room": room, "max_participants": max_participants},
                headers={"Authorization": f"Bearer {self.token(room, 'organiser')}"},
            )

    async def worker_of(self, room: str) -> WorkerProcess:
        """The worker process ``room`` is placed on."""
        worker_id = await self.registry.room_worker(room)
        for worker in await self.registry.workers():
            if worker.id == worker_id:
                return next(w for w in self.workers if w.process.pid == worker.pid)
        raise AssertionError(f"room {room} is on no live worker ({worker_id})")

    async def serving_workers(self) -> int:
        return sum(worker.state == "serving" for worker in await self.registry.workers())


async def start_worker(
    tmp_path: Path, key_prefix: str, secret: str, room_pipeline: Path, extra_env: dict[str, str]
) -> WorkerProcess:
    data_dir = tmp_path / f"worker-{uuid.uuid4().hex[:6]}"
    data_dir.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "AURALINK_CLUSTER_REDIS_URL": REDIS_URL,
        "AURALINK_REDIS_KEY_PREFIX": key_prefix,
        "AURALINK_JOIN_TOKEN_SECRET": secret,
        "AURALINK_DATA_DIR": str(data_dir),
        "AURALINK_ICE_HOST_ADDRESSES": '["127.0.0.1"]',
        "AURALINK_ICE_REMOTE_NETWORKS": '["127.0.0.0/8"]',
        "AURALINK_ROOM_PIPELINE": str(room_pipeline),
        "AURALINK_QUALITY_INTERVAL_S": "1",
        "AURALINK_USAGE_CHECKPOINT_S": "1",
        **extra_env,
    }
    log = (data_dir / "worker.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "auralink", "serve", "engine", "--host", "127.0.0.1", "--port", "0",
        env=env, cwd=REPO, stdout=log, stderr=log,
    )  # fmt: skip
    log.close()
    return WorkerProcess(process, data_dir)


@asynccontextmanager
async def running_cluster(
    tmp_path: Path,
    workers: int = 2,
    room_pipeline: Path = ROOM_PIPELINE,
    extra_env: dict[str, str] | None = None,
    secret: str | None = None,
    whip_redirect: bool = False,
    pending_placement_ms: int = PENDING_PLACEMENT_MS,
) -> AsyncIterator[Cluster]:
    """``workers`` engine processes and a front; every client leaves and every process ends at the end."""
    key_prefix = f"auralink-test-{RUN_ID}-{uuid.uuid4().hex[:8]}:"
    secret = secret or secrets.token_urlsafe(32)
    registry = ClusterRegistry.from_url(REDIS_URL, key_prefix)
    started = [await start_worker(tmp_path, key_prefix, secret, room_pipeline, extra_env or {}) for _ in range(workers)]
    front = Front(registry, secret, whip_redirect=whip_redirect, pending_placement_ms=pending_placement_ms)
    try:
        async with serving(create_front_app(front)) as url:
            cluster = Cluster(url, registry, secret, key_prefix, started)
            try:
                await _until_serving(cluster, workers)
                yield cluster
            finally:
                for client in cluster.clients:
                    await client.leave(say_goodbye=False)
    finally:
        for worker in started:
            with contextlib.suppress(ProcessLookupError):
                worker.process.send_signal(signal.SIGKILL)
            await worker.process.wait()
        keys = [key async for key in registry.client.scan_iter(f"{key_prefix}*")]
        if keys:
            await registry.client.delete(*keys)
        await registry.aclose()


async def _until_serving(cluster: Cluster, count: int) -> None:
    serving_now = 0

    async def poll() -> None:
        nonlocal serving_now
        while True:
            serving_now = await cluster.serving_workers()
            if serving_now >= count:
                return
            for worker in cluster.workers:
                if worker.process.returncode is not None:
                    raise AssertionError(f"a worker exited with {worker.process.returncode}:\n{worker.log}")
            await asyncio.sleep(0.2)

    try:
        await asyncio.wait_for(poll(), WORKER_START_S)
    except TimeoutError:
        logs = "\n".join(worker.log[-2000:] for worker in cluster.workers)
        raise AssertionError(f"{serving_now} of {count} workers serving after {WORKER_START_S} s:\n{logs}") from None


__all__ = ["Cluster", "WorkerProcess", "eventually", "running_cluster"]
