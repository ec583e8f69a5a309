"""Streaming speech-to-text on real recordings through the real tiny.en model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.frames import EventFrame, TextFrame, TextRole
from engine.harness import run_stage
from engine.runner import GraphRunner
from pipeline.config import ConfigError, load_pipeline
from pipeline.speech.streaming import StreamingOptions, StreamingTranscriber
from pipeline.speech.stt_stage import SpeechToText, SttSettings
from pipeline.speech.usage import usage_record
from pipeline.speech.whisper import WhisperEngine
from tests.support.frames import pcm_frames
from tests.support.recordings import asterisk_clips, librivox_clips, read_mono, wer


def stream(engine: WhisperEngine, audio: np.ndarray, options: StreamingOptions | None = None) -> StreamingTranscriber:
    transcriber = StreamingTranscriber(engine, options)
    for start in range(0, len(audio), 320):
        transcriber.push(audio[start : start + 320])
    transcriber.finish()
    return transcriber


@pytest.mark.slow
def test_streamed_librivox_meets_the_wer_bound_and_matches_offline_transcription(tiny: WhisperEngine) -> None:
    references, streamed, offline = [], [], []
    for clip in librivox_clips():
        audio = read_mono(clip.path)
        references.append(clip.transcript)
        streamed.append(stream(tiny, audio).committed_text())
        offline.append(" ".join(word.text for word in tiny.transcribe(audio, language="en").words))
    joined = " ".join(references)
    assert wer(joined, " ".join(offline)) <= 0.15
    assert wer(joined, " ".join(streamed)) <= 0.20, streamed
    assert wer(" ".join(offline), " ".join(streamed)) <= 0.15, (offline, streamed)


def test_what_is_committed_does_not_depend_on_how_the_audio_was_chunked(tiny: WhisperEngine) -> None:
    # a caller that fell behind passes a second at once: it must get the decodes of the same audio as one
    # passing 20 ms packets (decodes are timed by the stream's audio, not by the chunks)
    audio = read_mono(librivox_clips()[1].path)
    steady = StreamingOptions(max_compute_share=100.0)
    packets = stream(tiny, audio, steady)
    chunked = StreamingTranscriber(tiny, steady)
    sizes = np.random.default_rng(17).integers(80, 20000, size=len(audio) // 80)
    for start, end in zip(np.cumsum(sizes) - sizes, np.cumsum(sizes), strict=True):
        if start >= len(audio):
            break
        chunked.push(audio[start:end])
    chunked.finish()
    assert chunked.decodes == packets.decodes
    assert chunked.policy.committed == packets.policy.committed, (chunked.committed_text(), packets.committed_text())


async def test_the_stage_emits_partials_and_finals_and_never_changes_what_it_committed(tiny: WhisperEngine) -> None:
    clip = librivox_clips()[0]
    collected = await run_stage(SpeechToText("stt", SttSettings(model="tiny.en")), pcm_frames(read_mono(clip.path)))
    assert collected.result.ok, collected.errors
    texts = collected.of_type(TextFrame)
    finals = [frame for frame in texts if frame.is_final]
    partials = [frame for frame in texts if not frame.is_final]
    assert finals and partials and all(frame.role is TextRole.TRANSCRIPT for frame in texts)
    transcript = " ".join(frame.text for frame in finals)
    assert wer(clip.transcript, transcript) <= 0.2, transcript
    words = [word for frame in finals for word in frame.attributes["words"]]
    starts = [word["start"] for word in words]
    assert starts == sorted(starts), "a final went back in time (re-committed audio)"
    assert " ".join(word["word"] for word in words) == " ".join(frame.text for frame in finals)
    first = finals[0]
    assert first.language == "en" and first.attributes["model"] == "whisper-tiny.en"
    assert 0 < first.attributes["confidence"] <= 1 and first.attributes["type"] == "final"
    assert first.attributes["language_probability"] == 1.0  # tiny.en: English, not detected
    assert finals[-1].attributes["utterance_end"] is True
    usage = [usage_record(event) for event in collected.events if event.name == "usage"]
    assert sum(record.quantity for record in usage if record) == pytest.approx(len(read_mono(clip.path)) / 16000, 0.01)
    assert {record.provider for record in usage if record} == {"whisper-tiny.en"}
    latency = [event for event in collected.events if event.name == "stt-latency"]
    assert latency and all(isinstance(event, EventFrame) and event.data["latency_ms"] >= 0 for event in latency)
    assert {event.data["reason"] for event in latency} <= {"agreement", "pause", "buffer", "end"}


def test_silence_and_noise_produce_no_text_and_cost_no_decode(tiny: WhisperEngine) -> None:
    rng = np.random.default_rng(3)
    for audio in (np.zeros(16000 * 6, np.float32), (rng.standard_normal(16000 * 6) * 0.05).astype(np.float32)):
        transcriber = stream(tiny, audio)
        assert transcriber.committed_text() == "" and transcriber.decodes == 0
        assert transcriber.buffer_seconds <= 0.5


def test_the_buffer_stays_bounded_by_trimming_at_commits(tiny: WhisperEngine) -> None:
    audio = np.concatenate([read_mono(clip.path) for clip in librivox_clips()[:3]])
    options = StreamingOptions(vad=False, trim_after_s=4.0, max_buffer_s=8.0, step_s=1.0)
    transcriber = StreamingTranscriber(tiny, options)
    longest = 0.0
    for start in range(0, len(audio), 1600):
        transcriber.push(audio[start : start + 1600])
        longest = max(longest, transcriber.buffer_seconds)
    transcriber.finish()
    assert longest <= 8.0 + 1.0
    reference = " ".join(clip.transcript for clip in librivox_clips()[:3])
    assert wer(reference, transcriber.committed_text()) <= 0.3


def _pipeline(tmp_path: Path, audio: Path, resample: bool) -> Path:
    chain = "  - {name: to16k, type: resample, settings: {sample_rate: 16000, channels: 1}}\n" if resample else ""
    links = "  - src -> to16k\n  - to16k -> stt\n" if resample else "  - src -> stt\n"
    path = tmp_path / "p.yaml"
    path.write_text(
        "version: 1\nname: t\nstages:\n"
        f"  - {{name: src, type: file_source, settings: {{path: {audio}}}}}\n{chain}"
        "  - {name: stt, type: stt, settings: {model: tiny.en}}\n"
        f"  - {{name: out, type: jsonl_sink, settings: {{path: {tmp_path / 'out.jsonl'}}}}}\n"
        f"links:\n{links}  - stt -> out\n"
    )
    return path


async def test_telephone_speech_at_8khz_is_resampled_and_transcribed(tmp_path: Path, tiny: WhisperEngine) -> None:
    import json

    clips = asterisk_clips(["agent-alreadyon", "conf-onlyperson"])
    for clip in clips:
        result = await GraphRunner(load_pipeline(_pipeline(tmp_path, clip.path, resample=True)).graph).run()
        assert result.ok, result.error
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    heard = " ".join(line["text"] for line in lines if line.get("final"))
    assert wer(" ".join(clip.transcript for clip in clips), heard) <= 0.25, heard


def test_a_wrong_sample_rate_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    clip = asterisk_clips(["agent-alreadyon"])[0]
    with pytest.raises(ConfigError) as caught:
        load_pipeline(_pipeline(tmp_path, clip.path, resample=False))
    assert "stt" in str(caught.value) and "rate" in str(caught.value)
