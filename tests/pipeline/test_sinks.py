import json
from pathlib import Path

import numpy as np
import pytest

from engine.frames import EventFrame, TextFrame, TextRole, now_ns
from engine.harness import run_stage
from pipeline.sinks.file import FileSink, FileSinkSettings
from pipeline.sinks.jsonl import JsonlSink, JsonlSinkSettings
from pipeline.sinks.speaker import SpeakerSink, SpeakerSinkSettings
from tests.support.frames import frames_of
from tests.support.media import read_audio, tone


@pytest.mark.parametrize("suffix", [".wav", ".flac"])
async def test_file_sink_records_losslessly(tmp_path: Path, suffix: str) -> None:
    samples = tone(0.5, 22050, 2, frequency=300)
    path = tmp_path / f"out{suffix}"
    collected = await run_stage(FileSink("rec", FileSinkSettings(path=path)), frames_of(samples, 22050, 441))
    assert collected.result.ok
    written, rate = read_audio(path)
    assert rate == 22050 and np.array_equal(written, samples)


async def test_file_sink_refuses_a_stream_that_changes_format(tmp_path: Path) -> None:
    frames = frames_of(tone(0.1, 16000, 1), 16000, 320) + frames_of(tone(0.1, 48000, 1), 48000, 960)
    collected = await run_stage(FileSink("rec", FileSinkSettings(path=tmp_path / "x.wav")), frames)
    assert collected.result.error == (
        "stage 'rec' failed: audio changed from (16000, 1, 's16') to (48000, 1, 's16') mid-stream; "
        "put a resample stage before"
    )


async def test_file_sink_names_a_missing_directory(tmp_path: Path) -> None:
    target = tmp_path / "no" / "x.wav"
    collected = await run_stage(
        FileSink("rec", FileSinkSettings(path=target)), frames_of(tone(0.1, 16000, 1), 16000, 320)
    )
    assert collected.result.error == (
        f"stage 'rec' failed: cannot write '{target}': directory '{target.parent}' does not exist"
    )


async def test_jsonl_sink_writes_one_object_per_frame_with_latency(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    frames = [
        TextFrame(pts_ns=5_000_000, ingest_ns=now_ns(), text="hello", role=TextRole.TRANSCRIPT, language="en"),
        EventFrame(pts_ns=0, ingest_ns=now_ns(), name="audio-level", source="meter", data={"rms_dbfs": -20.0}),
    ]
    await run_stage(JsonlSink("log", JsonlSinkSettings(path=path)), frames)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["text"] == "hello" and lines[0]["role"] == "transcript" and lines[0]["pts_ms"] == 5.0
    assert lines[1]["event"] == "audio-level" and lines[1]["data"] == {"rms_dbfs": -20.0}
    assert all(line["latency_ms"] >= 0 for line in lines)


async def test_speaker_without_a_device_fails_with_a_clear_message() -> None:
    collected = await run_stage(SpeakerSink("out", SpeakerSinkSettings()), frames_of(tone(0.1, 16000, 1), 16000, 320))
    assert collected.result.error in {
        "stage 'out' failed: no audio output device found on this machine; use file_sink instead",
        "stage 'out' failed: the PortAudio library is missing, so no sound device can be opened "
        "(on Debian or Ubuntu: apt-get install libportaudio2)",
    }
