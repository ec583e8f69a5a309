"""Clients that vanish are cleaned up; 200 join/leave cycles leave nothing behind."""

from __future__ import annotations

import asyncio
import gc
import secrets
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aioice.ice
import pytest

from pipeline.calls.client import CallClient, ToneTrack
from pipeline.calls.http import create_engine_app
from pipeline.calls.server import CallServer
from pipeline.calls.serving import serving
from telemetry.records import CallEvent, MemoryReporter
from tests.support.engine import Engine, engine_options
from tests.support.paths import REPO
from tests.support.waiting import eventually


@pytest.fixture
async def impatient_engine() -> AsyncIterator[Engine]:
    """An engine that gives a session 1 s to connect."""
    secret = secrets.token_urlsafe(32)
    reporter = MemoryReporter()
    server = CallServer(engine_options(secret, connect_timeout_s=1.0), reporter)
    async with serving(create_engine_app(server)) as url:
        yield Engine(url, server, reporter, secret)


def left(engine: Engine, identity: str) -> list[CallEvent]:
    return [e for e in engine.reporter.of_type(CallEvent) if e.type == "participant-left" and e.participant == identity]


async def test_a_client_that_never_connects_is_ended_after_the_connect_timeout(impatient_engine: Engine) -> None:
    engine = impatient_engine
    await engine.create_room("ghosts")
    ghost = engine.client("ghosts", "ghost")
    response = await ghost.join("/rooms/ghosts/join", publish=ToneTrack())
    assert response.status_code == 201
    await ghost.pc.close()  # before ICE could finish: the engine never hears from it again
    await eventually(lambda: bool(left(engine, "ghost")), timeout_s=5, what="the ghost's session to end")
    assert not engine.server.peers and not engine.server.sessions


@pytest.mark.slow
async def test_a_killed_client_is_cleaned_up_by_ice_consent_and_the_call_goes_on(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(aioice.ice, "CONSENT_INTERVAL", 0.2)  # RFC 7675 checks every 5 s; 30 s to notice
    await engine.create_room("crash")
    stayer = engine.client("crash", "stayer")
    assert (await stayer.join("/rooms/crash/join", publish=ToneTrack())).status_code == 201
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.pipeline.calls.vanishing_client",
        engine.url,
        engine.token("crash", "doomed"),
        "crash",
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        assert (await asyncio.wait_for(process.stdout.readline(), 20)).strip() == b"connected"
    finally:
        process.kill()
        await process.wait()
    await eventually(lambda: bool(left(engine, "doomed")), timeout_s=20, what="the killed client's session to end")
    reason = left(engine, "doomed")[0].attributes["reason"]
    assert reason in ("connection failed", "connection closed"), reason
    before = stayer.audio.frames
    await eventually(lambda: stayer.audio.frames > before + 25, what="the other call to go on")


def open_fds() -> int:
    return sum(1 for _ in Path("/proc/self/fd").iterdir())


async def cycle(engine: Engine, index: int) -> None:
    client = CallClient(engine.url, engine.token("churn", f"p{index % 7}"))
    response = await client.join("/rooms/churn/join", publish=ToneTrack())
    assert response.status_code == 201, response.text
    await client.connected()
    await client.leave(say_goodbye=index % 2 == 0)  # every other one just closes its connection


async def settled(engine: Engine) -> tuple[int, int, int]:
    await eventually(lambda: not engine.server.sessions, timeout_s=20, what="every session to end")
    await asyncio.sleep(0.3)
    gc.collect()
    return len(engine.server.peers), len(asyncio.all_tasks()), open_fds()


@pytest.mark.slow
async def test_200_join_leave_cycles_leave_peers_tasks_and_fds_flat(engine: Engine) -> None:
    await engine.create_room("churn", max_participants=50)
    for index in range(10):
        await cycle(engine, index)
    peers0, tasks0, fds0 = await settled(engine)
    for index in range(10, 210):
        await cycle(engine, index)
    peers, tasks, fds = await settled(engine)
    assert peers == peers0 == 0
    assert tasks <= tasks0 + 2, f"tasks grew from {tasks0} to {tasks}"
    assert fds <= fds0 + 4, f"file descriptors grew from {fds0} to {fds}"
    joined = [e for e in engine.reporter.of_type(CallEvent) if e.type == "participant-joined"]
    gone = [e for e in engine.reporter.of_type(CallEvent) if e.type == "participant-left"]
    assert len(joined) == len(gone) == 210
