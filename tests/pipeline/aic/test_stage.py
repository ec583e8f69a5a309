"""The ``aic`` stage in a real graph: frames come out as a receiver decodes them; ratio, quality and usage events."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.aic_media import ssim_y
from engine.frames import AudioFrame, EventFrame, VideoFrame, now_ns
from engine.harness import run_stage
from kernels.colour import Planes
from pipeline.speech.usage import usage_record
from pipeline.stages.aic import AICSettings, AICStage
from tests.support.frames import audio_frames


def _video(pictures: list[Planes], fps: int = 25) -> list[VideoFrame]:
    return [
        VideoFrame(index * 1_000_000_000 // fps, now_ns(), picture, picture[0].shape[1], picture[0].shape[0])
        for index, picture in enumerate(pictures)
    ]


async def test_video_passes_through_as_the_receiver_sees_it_with_events(carphone: list[Planes]) -> None:
    stage = AICStage("aic", AICSettings(mode="adaptive", latency_cap_ms=1000, usage_interval_s=0.5))
    collected = await run_stage(stage, _video(carphone[:30]))
    assert not collected.errors
    out = collected.of_type(VideoFrame)
    assert len(out) == 30
    for source, frame in zip(carphone, out, strict=False):
        assert ssim_y(source[0], frame.planes[0]) >= 0.85
    frame_events = [e for e in collected.events if e.name == "aic-frame"]
    assert len(frame_events) == 30
    first = frame_events[0].data
    assert first["media"] == "video" and first["frame_kind"] == "intra" and first["ratio"] > 5
    assert {"encode_ms", "quality_ms", "total_ms"} <= set(first["latency_ms"])
    usage = [e.data for e in collected.events if e.name == "usage"]
    assert len(usage) >= 2
    assert all(
        u["record"] == "UsageEvent" and u["metric"] == "aic_bytes_saved" and u["feature"] == "aic" for u in usage
    )
    saved = sum(e.data["original_bytes"] - e.data["compressed_bytes"] for e in frame_events)
    assert sum(u["quantity"] for u in usage) == pytest.approx(saved)
    assert len({u["idempotency_key"] for u in usage}) == len(usage)
    forwarded = [usage_record(e, "room", "caller") for e in collected.events if e.name == "usage"]
    assert [(r.metric, r.quantity, r.idempotency_key) for r in forwarded if r is not None] == [
        (u["metric"], u["quantity"], u["idempotency_key"]) for u in usage
    ]  # billed under the stage's own key, so a replay is not counted twice


async def test_audio_is_lossless_through_the_stage() -> None:
    frames = audio_frames(20)
    expected = [frame.samples.copy() for frame in frames]
    collected = await run_stage(AICStage("aic", AICSettings()), frames)
    out = collected.of_type(AudioFrame)
    assert [frame.pts_ns for frame in out] == [frame.pts_ns for frame in frames]
    assert all(np.array_equal(a.samples, b) for a, b in zip(out, expected, strict=True))
    assert all(e.data["status"] in ("success", "timeout") for e in collected.events if e.name == "aic-frame")


async def test_an_uncodable_frame_is_a_stage_error_naming_the_problem() -> None:
    tiny = (np.zeros((8, 8), np.uint8), np.zeros((4, 4), np.uint8), np.zeros((4, 4), np.uint8))
    collected = await run_stage(AICStage("aic", AICSettings()), _video([tiny]))
    assert collected.errors
    assert "unsupported picture size 8x8" in str(collected.errors[0].data)


async def test_the_speech_aic_example_records_the_speech_and_reports_usage(in_tmp: Path) -> None:
    from engine.runner import GraphRunner
    from pipeline.config import load_pipeline
    from tests.support.media import read_audio
    from tests.support.paths import EXAMPLES

    runner = GraphRunner(load_pipeline(EXAMPLES / "speech_aic.yaml").graph)
    events: list[EventFrame] = []
    runner.bus.subscribe(events.append)
    assert (await runner.run()).ok
    recorded, rate = read_audio(in_tmp / "speech-aic.wav")
    assert rate == 16000 and recorded.shape == (113_600, 1)
    usage = [e.data for e in events if getattr(e, "name", "") == "usage"]
    assert len(usage) >= 7 and all(u["metric"] == "aic_bytes_saved" and u["quantity"] > 0 for u in usage)
