"""A call engine on loopback for tests: its URL, server, reporter and secret, and clients that join it."""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipeline.calls.client import CallClient
from pipeline.calls.http import create_engine_app
from pipeline.calls.server import CallServer, CallServerOptions
from pipeline.calls.serving import serving
from pipeline.calls.tokens import Grant, mint_join_token
from pipeline.webrtc.ice import IcePolicy, apply_host_addresses
from telemetry.grpc_reporter import GrpcTelemetryReporter
from telemetry.records import FanOutReporter, MemoryReporter
from tests.pipeline.calls.stages import captioner_registered
from tests.support.paths import EXAMPLES

LOOPBACK_ICE = IcePolicy.from_settings([], None, None, ["127.0.0.1"], ["127.0.0.0/8"])
ROOM_PIPELINE = EXAMPLES / "room_levels.yaml"
ALL_GRANTS = frozenset({Grant.PUBLISH, Grant.SUBSCRIBE, Grant.DATA})


@dataclass
class Engine:
    url: str
    server: CallServer
    reporter: MemoryReporter
    secret: str
    clients: list[CallClient] = field(default_factory=list)

    def token(self, room: str, identity: str, grants: frozenset[Grant] = ALL_GRANTS, ttl_s: float = 600) -> str:
        return mint_join_token(self.secret, room, identity, grants, ttl_s)

    def client(self, room: str, identity: str, grants: frozenset[Grant] = ALL_GRANTS) -> CallClient:
        client = CallClient(self.url, self.token(room, identity, grants))
        self.clients.append(client)
        return client

    async def create_room(self, room: str, max_participants: int | None = None) -> None:
        async with httpx.AsyncClient(base_url=self.url) as http:
            response = await http.post(
                "/rooms",
                json={"room": room, "max_participants": max_participants},
                headers={"Authorization": f"Bearer {self.token(room, 'creator')}"},
            )
        assert response.status_code in (200, 201), response.text


AGENT = frozenset({Grant.AGENT})


async def request(
    engine: Engine, method: str, path: str, token: str, body: dict[str, Any] | None = None
) -> httpx.Response:
    """One HTTP request to ``engine`` with ``token`` as its bearer."""
    async with httpx.AsyncClient(base_url=engine.url) as http:
        return await http.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})


def engine_options(secret: str, room_pipeline: Path | None = ROOM_PIPELINE, **changes: float) -> CallServerOptions:
    return CallServerOptions(
        secret=secret,
        ice=LOOPBACK_ICE,
        room_pipeline=room_pipeline,
        quality_interval_s=0.5,
        **changes,  # type: ignore[arg-type]
    )


@pytest.fixture(autouse=True)
def loopback_only() -> Iterator[None]:
    """Host candidates on 127.0.0.1 only, for every test here (aioice's hook is process-wide)."""
    apply_host_addresses(["127.0.0.1"])
    yield
    apply_host_addresses([])


@pytest.fixture
def captioner() -> Iterator[None]:
    """Register the ``test_captioner`` stage for one test."""
    with captioner_registered():
        yield


@asynccontextmanager
async def running_engine(
    room_pipeline: Path | None = ROOM_PIPELINE, secret: str | None = None, **changes: float
) -> AsyncIterator[Engine]:
    """A call engine served on loopback with a memory reporter (and a fresh secret unless given); its clients
    leave at the end."""
    secret = secret or secrets.token_urlsafe(32)
    reporter = MemoryReporter()
    server = CallServer(engine_options(secret, room_pipeline=room_pipeline, **changes), reporter)
    async with serving(create_engine_app(server)) as url:
        running = Engine(url, server, reporter, secret)
        try:
            yield running
        finally:
            for client in running.clients:
                await client.leave(say_goodbye=False)


@asynccontextmanager
async def engine_reporting_to(
    target: str, api_key: str, journal: Path, secret: str, room_pipeline: Path | None = ROOM_PIPELINE
) -> AsyncIterator[tuple[Engine, GrpcTelemetryReporter]]:
    """A call engine that reports to the control plane at ``target`` over gRPC (and keeps every record in its
    memory reporter too); its clients leave and its reporter delivers what it can at the end."""
    memory = MemoryReporter()
    reporter = GrpcTelemetryReporter(target, api_key, journal)
    server = CallServer(engine_options(secret, room_pipeline=room_pipeline), FanOutReporter(memory, reporter))
    async with serving(create_engine_app(server)) as url:
        engine = Engine(url, server, memory, secret)
        try:
            yield engine, reporter
        finally:
            for client in engine.clients:
                await client.leave(say_goodbye=False)
            await reporter.aclose()


@contextmanager
def engine_in_a_thread(secret: str | None = None, room_pipeline: Path | None = ROOM_PIPELINE) -> Iterator[Engine]:
    """:func:`running_engine` on an event loop of its own in a thread, for tests without one (the control
    plane's, whose test client is synchronous). Read its server's state from the test; change it through HTTP."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="test-engine", daemon=True)
    thread.start()
    running = running_engine(room_pipeline, secret=secret)
    try:
        yield asyncio.run_coroutine_threadsafe(running.__aenter__(), loop).result(30)
    finally:
        asyncio.run_coroutine_threadsafe(running.__aexit__(None, None, None), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
