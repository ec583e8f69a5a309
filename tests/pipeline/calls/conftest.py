"""Fixtures for calls: an engine on loopback (real uvicorn, real aiortc), tokens, clients."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pipeline.calls.client import CallClient
from pipeline.calls.http import create_engine_app
from pipeline.calls.server import CallServer, CallServerOptions
from pipeline.calls.serving import serving
from pipeline.calls.tokens import Grant, mint_join_token
from pipeline.webrtc.ice import IcePolicy, apply_host_addresses
from telemetry.records import MemoryReporter
from tests.support.paths import EXAMPLES

LOOPBACK_ICE = IcePolicy.from_settings([], None, None, ["127.0.0.1"], ["127.0.0.0/8"])
ROOM_PIPELINE = EXAMPLES / "room_levels.yaml"
ALL_GRANTS = frozenset({Grant.PUBLISH, Grant.SUBSCRIBE, Grant.DATA})


@pytest.fixture(autouse=True)
def loopback_only() -> Iterator[None]:
    """Host candidates on 127.0.0.1 only, for every test here (aioice's hook is process-wide)."""
    apply_host_addresses(["127.0.0.1"])
    yield
    apply_host_addresses([])


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
        import httpx

        async with httpx.AsyncClient(base_url=self.url) as http:
            response = await http.post(
                "/rooms",
                json={"room": room, "max_participants": max_participants},
                headers={"Authorization": f"Bearer {self.token(room, 'creator')}"},
            )
        assert response.status_code in (200, 201), response.text


def engine_options(secret: str, room_pipeline: Path | None = ROOM_PIPELINE, **changes: float) -> CallServerOptions:
    return CallServerOptions(
        secret=secret,
        ice=LOOPBACK_ICE,
        room_pipeline=room_pipeline,
        quality_interval_s=0.5,
        **changes,  # type: ignore[arg-type]
    )


@pytest.fixture
async def engine() -> AsyncIterator[Engine]:
    secret = secrets.token_urlsafe(32)
    reporter = MemoryReporter()
    server = CallServer(engine_options(secret), reporter)
    async with serving(create_engine_app(server)) as url:
        running = Engine(url, server, reporter, secret)
        try:
            yield running
        finally:
            for client in running.clients:
                await client.leave(say_goodbye=False)


@pytest.fixture
def captioner() -> Iterator[None]:
    """Register the ``test_captioner`` stage for one test."""
    from tests.pipeline.calls.stages import captioner_registered

    with captioner_registered():
        yield
