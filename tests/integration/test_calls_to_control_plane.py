"""Calls meet the control plane: a real call's telemetry lands in analytics and its usage in billing; an agent
joins a real room.

The engine (real aiortc peers on loopback) reports through the gRPC reporter with its disk journal; the
control plane runs on SQLite, the embedded default.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from control_plane.billing.metering import Period
from control_plane.state import app_state
from pipeline.calls.client import ToneTrack
from telemetry.grpc_reporter import GrpcTelemetryReporter
from telemetry.records import QualitySample, UsageEvent
from tests.pipeline.calls.stages import CAPTION_PIPELINE
from tests.support.control_plane import ControlPlane
from tests.support.engine import ROOM_PIPELINE, Engine, engine_reporting_to
from tests.support.paths import EXAMPLES, SPEECH_SAMPLE
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow


@pytest.fixture
def room_pipeline() -> Path:
    """What the engine runs on each publisher's audio (a test may parametrize another)."""
    return ROOM_PIPELINE


@pytest.fixture
async def reporting_engine(
    control_plane: ControlPlane, engine_secret: str, tmp_path: Path, room_pipeline: Path
) -> AsyncIterator[tuple[Engine, GrpcTelemetryReporter]]:
    key, journal = control_plane.acme.key("telemetry"), tmp_path / "journal.sqlite3"
    async with engine_reporting_to(control_plane.telemetry_target, key, journal, engine_secret, room_pipeline) as both:
        yield both


async def test_a_real_call_shows_up_in_the_organisations_analytics(
    control_plane: ControlPlane, reporting_engine: tuple[Engine, GrpcTelemetryReporter]
) -> None:
    engine, reporter = reporting_engine
    await engine.create_room("weekly")
    alice, bob = engine.client("weekly", "alice"), engine.client("weekly", "bob")
    assert (await alice.join("/rooms/weekly/join", publish=ToneTrack(440))).status_code == 201
    assert (await bob.join("/rooms/weekly/join", publish=ToneTrack(660))).status_code == 201
    await eventually(
        lambda: {s.participant for s in engine.reporter.of_type(QualitySample)} >= {"alice", "bob"},
        what="quality samples for both",
    )
    assert await alice.leave() == 204
    assert await bob.leave() == 204
    await eventually(lambda: not engine.server.rooms["weekly"].participants, what="everyone gone")
    assert await asyncio.to_thread(reporter.flush, 15), "the engine's journal did not drain"

    overview = control_plane.acme.client.get("/analytics/overview").json()
    assert overview["calls"] == 1 and overview["participants"] == 2
    samples = len(engine.reporter.of_type(QualitySample))
    assert overview["quality"]["samples"] == samples
    assert 4.0 < overview["quality"]["avg_mos"] <= 4.5
    quality = control_plane.acme.client.get("/analytics/quality", params={"participant": "alice"}).json()
    assert quality["summary"]["samples"] == len(
        [s for s in engine.reporter.of_type(QualitySample) if s.participant == "alice"]
    )


@pytest.mark.parametrize("room_pipeline", [EXAMPLES / "room_captions.yaml"])
async def test_a_real_calls_minutes_and_stt_seconds_are_billed(
    control_plane: ControlPlane, reporting_engine: tuple[Engine, GrpcTelemetryReporter], tmp_path: Path
) -> None:
    """A participant speaks a real recording through the bundled captions pipeline (faster-whisper), leaves,
    and the organisation's usage shows the call's length and the audio transcribed."""
    engine, reporter = reporting_engine
    await engine.create_room("billed")
    speaker = engine.client("billed", "speaker")
    assert (await speaker.join("/rooms/billed/join", publish=str(SPEECH_SAMPLE))).status_code == 201
    await speaker.connected()
    connected = time.monotonic()
    await eventually(
        lambda: any(m["type"] == "transcript" for m in speaker.messages), timeout_s=60, what="captions of the speech"
    )
    await asyncio.sleep(max(0.0, connected + 7.5 - time.monotonic()))  # the 7 s recording has played
    length = time.monotonic() - connected  # the call ends as the DELETE goes out (its drain is not billed)
    assert await speaker.leave() == 204
    assert await asyncio.to_thread(reporter.flush, 15), "the engine's journal did not drain"

    period = str(Period.containing(dt.datetime.now(dt.UTC)))
    acme = control_plane.acme.client
    used = acme.get("/billing/usage", params={"period": period}).json()
    assert abs(used["call_minutes"] * 60 - length) <= 1.0, (used, length)
    assert 3.0 < used["stt_audio_seconds"] <= length + 1.0, (used, length)
    assert used["ai_calls"] == (2 if used["translation_characters"] else 1)  # recognition, and translation
    calls = acme.get("/billing/usage/records", params={"period": period, "metric": "call_seconds"}).json()
    assert [(r["participant"], r["feature"]) for r in calls] == [("speaker", "call")]

    replay = GrpcTelemetryReporter(
        control_plane.telemetry_target, control_plane.acme.key("telemetry"), tmp_path / "replay"
    )
    for record in engine.reporter.of_type(UsageEvent):  # an engine resending all of it: nothing counts twice
        replay.report(record)
    assert await asyncio.to_thread(replay.flush, 15)
    await replay.aclose()
    assert acme.get("/billing/usage", params={"period": period}).json() == used


async def test_an_agent_sent_by_the_control_plane_captions_a_real_room(
    control_plane: ControlPlane, reporting_engine: tuple[Engine, GrpcTelemetryReporter], captioner: None
) -> None:
    engine, _ = reporting_engine
    state = app_state(control_plane.app.state)
    state.settings = state.settings.model_copy(update={"engine_url": engine.url})
    await engine.create_room("standup")
    speaker = engine.client("standup", "speaker")
    assert (await speaker.join("/rooms/standup/join", publish=ToneTrack())).status_code == 201

    acme = control_plane.acme
    agent = acme.client.post("/agents", json={"name": "scribe", "pipeline": CAPTION_PIPELINE, "languages": ["en"]})
    assert agent.status_code == 201, agent.text
    joined = await asyncio.to_thread(
        acme.client.post, f"/agents/{agent.json()['id']}/join", json={"room": "standup", "identity": "scribe"}
    )
    assert joined.status_code == 201, joined.text

    await eventually(
        lambda: any(m["type"] == "transcript" and m["final"] and m["speaker"] == "scribe" for m in speaker.messages),
        what="the agent's captions at the speaker",
    )
