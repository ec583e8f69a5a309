import numpy as np
import pytest

from engine.caps import ANY_AUDIO, Caps, audio
from engine.frames import AudioFrame, EventFrame, FrameKind
from engine.harness import run_stage
from pipeline.stages.level_meter import LevelMeter, LevelMeterSettings
from pipeline.stages.resample import Resample, ResampleSettings
from tests.support.frames import frames_of
from tests.support.media import dominant_frequency, tone


async def test_resample_converts_rate_channels_and_keeps_the_pitch() -> None:
    stereo = tone(1.0, 48000, 2, frequency=1000)
    stage = Resample("rs", ResampleSettings(sample_rate=16000, channels=1, format="s16"))
    collected = await run_stage(stage, frames_of(stereo, 48000, 960))
    out = collected.of_type(AudioFrame)
    samples = np.concatenate([frame.samples for frame in out])
    assert {frame.sample_rate for frame in out} == {16000} and samples.shape[1] == 1
    assert samples.shape[0] == pytest.approx(16000, abs=32)  # the flush at end-of-stream keeps the tail
    assert dominant_frequency(samples, 16000) == pytest.approx(1000, abs=5)
    pts = [frame.pts_ns for frame in out]
    assert pts == sorted(pts)


async def test_resample_to_float_scales_to_unit_range() -> None:
    stage = Resample("rs", ResampleSettings(sample_rate=16000, channels=1, format="f32"))
    out = (await run_stage(stage, frames_of(tone(0.2, 16000, 1, level=0.5), 16000, 320))).of_type(AudioFrame)
    samples = np.concatenate([frame.samples for frame in out])
    assert samples.dtype == np.float32
    assert np.abs(samples).max() == pytest.approx(0.5, abs=0.01)


async def test_resample_passes_matching_audio_through_untouched() -> None:
    frames = frames_of(tone(0.1, 16000, 1), 16000, 320)
    out = (await run_stage(Resample("rs", ResampleSettings()), frames)).of_type(AudioFrame)
    assert [frame.samples is original.samples for frame, original in zip(out, frames, strict=True)] == [True] * 5


def test_resample_declares_its_output_caps() -> None:
    stage = Resample("rs", ResampleSettings(sample_rate=8000, channels=2))
    caps = stage.output_caps(Caps.of(audio(rate=44100)))
    assert caps.structure(FrameKind.AUDIO) == audio(rate=8000, channels=2, sample_format="s16")
    assert stage.accepted_caps() == ANY_AUDIO


async def test_level_meter_reports_rms_and_peak_per_interval_and_passes_audio() -> None:
    samples = tone(1.0, 16000, 1, frequency=500, level=0.5)  # peak -6 dBFS, RMS -9 dBFS
    frames = frames_of(samples, 16000, 320)
    collected = await run_stage(LevelMeter("meter", LevelMeterSettings(interval_ms=200)), frames)
    events = collected.of_type(EventFrame)
    assert len(collected.of_type(AudioFrame)) == 50
    assert len(events) == 5
    assert all(event.data["peak_dbfs"] == pytest.approx(-6.02, abs=0.1) for event in events)
    assert all(event.data["rms_dbfs"] == pytest.approx(-9.03, abs=0.1) for event in events)
    assert [event.pts_ns for event in events] == [i * 200_000_000 for i in range(5)]
    assert not any(event.data["silent"] for event in events)


async def test_level_meter_flags_silence_and_clipping() -> None:
    quiet = frames_of(np.zeros((1600, 1), np.int16), 16000, 320)
    loud = frames_of(np.full((1600, 1), 32767, np.int16), 16000, 320)
    meter = LevelMeter("m", LevelMeterSettings(interval_ms=100))
    events = (await run_stage(meter, quiet)).of_type(EventFrame)
    assert events[0].data == {"rms_dbfs": -120.0, "peak_dbfs": -120.0, "clipped_samples": 0, "silent": True}
    events = (await run_stage(LevelMeter("m", LevelMeterSettings(interval_ms=100)), loud)).of_type(EventFrame)
    assert events[0].data["clipped_samples"] == 1600 and events[0].data["peak_dbfs"] == pytest.approx(0, abs=0.01)
