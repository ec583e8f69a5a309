"""What a call uses reaches the reporter: each participant's call seconds once, and its pipeline's usage.

The room pipeline here is the test captioner with usage on: it posts ``stt_audio_seconds`` events on its
graph's bus the way the real ``stt`` stage does, and the call server must forward them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pipeline.calls.client import CallClient, ToneTrack
from pipeline.calls.tokens import Grant
from telemetry.records import UsageEvent
from tests.pipeline.calls.stages import METERED_CAPTION_PIPELINE
from tests.support.engine import AGENT, Engine, request, running_engine
from tests.support.waiting import eventually


@pytest.fixture
async def metered_engine(tmp_path: Path, captioner: None) -> AsyncIterator[Engine]:
    """An engine whose room pipeline reports the audio it hears as STT usage."""
    pipeline = tmp_path / "metered.yaml"
    pipeline.write_text(METERED_CAPTION_PIPELINE)
    async with running_engine(pipeline) as running:
        yield running


def usage(engine: Engine, metric: str, participant: str) -> list[UsageEvent]:
    return [u for u in engine.reporter.of_type(UsageEvent) if u.metric == metric and u.participant == participant]


async def on_call(engine: Engine, room: str, identity: str, path: str | None = None) -> tuple[CallClient, float]:
    """``identity`` joined and connected, publishing a tone; with the monotonic time it connected."""
    client = engine.client(room, identity)
    response = await client.join(path or f"/rooms/{room}/join", publish=ToneTrack())
    assert response.status_code == 201, response.text
    await client.connected()
    return client, time.monotonic()


async def test_a_participant_who_leaves_is_billed_their_call_seconds_once_and_their_stt_audio(
    metered_engine: Engine,
) -> None:
    engine = metered_engine
    await engine.create_room("billed")
    alice, connected = await on_call(engine, "billed", "alice")
    await eventually(lambda: bool(usage(engine, "stt_audio_seconds", "alice")), what="alice's STT usage")
    await asyncio.sleep(1.0)
    length = time.monotonic() - connected
    assert await alice.leave() == 204

    [call] = usage(engine, "call_seconds", "alice")
    assert call.room == "billed" and call.feature == "call" and call.provider == "room"
    assert abs(call.quantity - length) < 0.5, (call.quantity, length)
    stt = usage(engine, "stt_audio_seconds", "alice")
    assert all(u.room == "billed" and u.feature == "stt" for u in stt)
    assert sum(u.quantity for u in stt) > 0.5
    assert len({u.idempotency_key for u in engine.reporter.of_type(UsageEvent)}) == len(
        engine.reporter.of_type(UsageEvent)
    )

    await engine.server.close_room("billed")
    assert len(usage(engine, "call_seconds", "alice")) == 1  # the room closing does not count her again


async def test_call_seconds_are_reported_when_the_connection_drops_and_when_the_room_closes(
    metered_engine: Engine,
) -> None:
    engine = metered_engine
    await engine.create_room("ends")
    dropped, _ = await on_call(engine, "ends", "dropped")
    _, stayed_from = await on_call(engine, "ends", "stayer")
    await dropped.pc.close()  # no DELETE: the engine sees the connection close
    await eventually(lambda: bool(usage(engine, "call_seconds", "dropped")), what="the dropped participant's seconds")

    await asyncio.sleep(0.5)
    await engine.server.close_room("ends")
    length = time.monotonic() - stayed_from
    [stayed] = usage(engine, "call_seconds", "stayer")
    assert abs(stayed.quantity - length) < 0.5, (stayed.quantity, length)
    assert len(usage(engine, "call_seconds", "dropped")) == 1


async def test_a_whip_publisher_and_an_agent_are_billed_too(metered_engine: Engine) -> None:
    engine = metered_engine
    await engine.create_room("studio")
    publisher = engine.client("studio", "encoder", frozenset({Grant.PUBLISH}))
    assert (
        await publisher.join("/whip/studio", publish=ToneTrack(), receive_audio=False, data_channel=False)
    ).status_code == 201
    await publisher.connected()
    token = engine.token("studio", "control-plane", AGENT)
    body = {"identity": "scribe", "pipeline": METERED_CAPTION_PIPELINE, "languages": ["en"]}
    assert (await request(engine, "POST", "/rooms/studio/agents", token, body)).status_code == 201
    started = time.monotonic()
    await eventually(
        lambda: bool(usage(engine, "stt_audio_seconds", "encoder") and usage(engine, "stt_audio_seconds", "scribe")),
        what="STT usage of the publisher's pipeline and of the agent",
    )
    agent_length = time.monotonic() - started
    assert (await request(engine, "DELETE", "/rooms/studio/agents/scribe", token)).status_code == 204
    assert await publisher.leave() == 204

    [agent] = usage(engine, "call_seconds", "scribe")
    assert agent.provider == "agent" and abs(agent.quantity - agent_length) < 0.5
    [whip] = usage(engine, "call_seconds", "encoder")
    assert whip.provider == "whip" and whip.quantity > agent.quantity
    assert all(u.room == "studio" for u in engine.reporter.of_type(UsageEvent))


async def test_an_engine_shutting_down_reports_the_calls_still_on(metered_engine: Engine) -> None:
    engine = metered_engine
    await engine.create_room("late")
    await on_call(engine, "late", "night-owl")
    await asyncio.sleep(0.5)
    await engine.server.aclose()  # what the engine app's shutdown runs, before the reporter is closed
    [call] = usage(engine, "call_seconds", "night-owl")
    assert call.quantity >= 0.4 and call.idempotency_key.startswith("call-seconds-")


async def test_a_long_call_is_reported_in_checkpoints_so_a_crash_loses_at_most_one(
    tmp_path: Path, captioner: None
) -> None:
    pipeline = tmp_path / "metered.yaml"
    pipeline.write_text(METERED_CAPTION_PIPELINE)
    async with running_engine(pipeline, usage_checkpoint_s=0.3) as engine:
        await engine.create_room("marathon")
        runner, connected = await on_call(engine, "marathon", "runner")
        await eventually(lambda: len(usage(engine, "call_seconds", "runner")) >= 3, what="three checkpoints")
        # what an engine killed now would already have journalled: all but the last 0.3 s
        so_far = sum(u.quantity for u in usage(engine, "call_seconds", "runner"))
        assert time.monotonic() - connected - so_far < 0.3 + 0.2
        assert await runner.leave() == 204
        length = time.monotonic() - connected

    segments = usage(engine, "call_seconds", "runner")
    assert len({u.idempotency_key for u in segments}) == len(segments)
    assert abs(sum(u.quantity for u in segments) - length) < 0.5, (segments, length)
    assert all(u.quantity <= 0.3 + 0.2 for u in segments)
