"""Fixtures for calls: an engine on loopback (real uvicorn, real aiortc), tokens, clients."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest

from pipeline.calls.http import create_engine_app
from pipeline.calls.server import CallServer
from pipeline.calls.serving import serving
from telemetry.records import MemoryReporter
from tests.support.engine import Engine, captioner, engine_options, loopback_only


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


__all__ = ["captioner", "loopback_only"]
