"""Fixtures for calls: an engine on loopback (real uvicorn, real aiortc), tokens, clients."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.engine import Engine, captioner, loopback_only, running_engine


@pytest.fixture
async def engine() -> AsyncIterator[Engine]:
    async with running_engine() as running:
        yield running


__all__ = ["captioner", "loopback_only"]
