"""While a call lasts, each room pipeline's stage stats and its captions go to the reporter's live channel:
stats every interval from every running pipeline (a participant's and an agent's), captions as the pipeline's
sinks receive them (finals all, partials thinned), and nothing more once the pipeline has stopped.

The room pipeline is the test captioner (a partial then a final transcript every 25 audio frames)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pipeline.calls.client import ToneTrack
from telemetry.records import Caption, PipelineStats
from tests.pipeline.calls.stages import CAPTION_PIPELINE
from tests.support.engine import AGENT, Engine, request, running_engine
from tests.support.waiting import eventually


@pytest.fixture
async def captioning_engine(tmp_path: Path, captioner: None) -> AsyncIterator[Engine]:
    pipeline = tmp_path / "captions.yaml"
    pipeline.write_text(CAPTION_PIPELINE)
    async with running_engine(pipeline, live_interval_s=0.25) as running:
        yield running


def stats_of(engine: Engine, participant: str) -> list[PipelineStats]:
    return [r for r in engine.reporter.live if isinstance(r, PipelineStats) and r.participant == participant]


def captions_of(engine: Engine, speaker: str) -> list[Caption]:
    return [r for r in engine.reporter.live if isinstance(r, Caption) and r.speaker == speaker]


async def test_a_participants_pipeline_reports_its_stages_and_captions_live(captioning_engine: Engine) -> None:
    engine = captioning_engine
    await engine.create_room("standup")
    alice = engine.client("standup", "alice")
    assert (await alice.join("/rooms/standup/join", publish=ToneTrack())).status_code == 201
    await eventually(lambda: len([c for c in captions_of(engine, "alice") if c.final]) >= 3, what="final captions")
    await eventually(lambda: len(stats_of(engine, "alice")) >= 3, what="stats reports")

    latest = stats_of(engine, "alice")[-1]
    assert latest.room == "standup" and latest.pipeline == "test-captions"
    stages = {stage.stage: stage for stage in latest.stages}
    assert set(stages) == {"room", "captioner", "out"}
    assert stages["room"].type == "webrtc_source" and stages["captioner"].type == "test_captioner"
    assert stages["captioner"].frames_in >= 50 and stages["out"].frames_in >= 2  # a report lags by an interval
    assert stages["captioner"].processing_p50_ms is not None and stages["out"].latency_p95_ms is not None
    assert stages["captioner"].dropped == 0 and stages["captioner"].errors == 0
    first, last = stats_of(engine, "alice")[0], latest
    assert sum(s.frames_in for s in last.stages) > sum(s.frames_in for s in first.stages)  # live, not one report

    captions = captions_of(engine, "alice")
    finals = [c for c in captions if c.final]
    assert [c.text for c in finals[:3]] == ["heard block 1", "heard block 2", "heard block 3"]
    assert all(c.room == "standup" and c.language == "en" and c.confidence == 0.9 for c in captions)
    assert all(c.latency_ms is not None and c.latency_ms >= 0 for c in captions)

    assert await alice.leave() == 204
    await eventually(lambda: not engine.server.rooms["standup"].participants, what="alice gone")
    await asyncio.sleep(0.6)  # two intervals
    reported = len(stats_of(engine, "alice"))
    await asyncio.sleep(0.6)
    assert len(stats_of(engine, "alice")) == reported, "a stopped pipeline is no longer reported"


async def test_an_agents_pipeline_is_reported_too(captioning_engine: Engine) -> None:
    engine = captioning_engine
    await engine.create_room("studio")
    speaker = engine.client("studio", "speaker")
    assert (await speaker.join("/rooms/studio/join", publish=ToneTrack())).status_code == 201
    token = engine.token("studio", "control-plane", AGENT)
    body = {"identity": "scribe", "pipeline": CAPTION_PIPELINE, "languages": ["en"]}
    assert (await request(engine, "POST", "/rooms/studio/agents", token, body)).status_code == 201
    await eventually(lambda: bool(stats_of(engine, "scribe")) and bool(captions_of(engine, "scribe")), what="agent")
    assert stats_of(engine, "scribe")[-1].pipeline == "test-captions"
